#!/usr/bin/env bash
# CI: fuzz the connection's input path for a bounded time.
#
# Installs clang and its runtime (libFuzzer, sanitizers) from Debian if they are missing,
# configures a clang build dir with ASan+UBSan and coverage instrumentation of the library,
# builds only the fuzz target, replays the seed corpus, then fuzzes a copy of the corpus for
# FUZZ_SECONDS (nothing new is written into the repository). Prints libFuzzer's final stats,
# the last coverage line, and as its last line "fuzz: PASS ..." or "fuzz: FAIL ...".
#
# Environment:
#   FUZZ_SECONDS    fuzzing time, default 60
#   FUZZ_BUILD_DIR  build dir, default build-fuzz (relative to the repository root)
#   FUZZ_JOBS       ninja -j, default 2
#   FUZZ_KEEP       set: keep the scratch corpus (its path is printed)
# Crash inputs are copied to $FUZZ_BUILD_DIR/fuzz-artifacts/ and shown as a hex dump.
set -uo pipefail
cd "$(dirname "$0")/../.."
export DEBIAN_FRONTEND=noninteractive

seconds=${FUZZ_SECONDS:-60}
build=${FUZZ_BUILD_DIR:-build-fuzz}
jobs=${FUZZ_JOBS:-2}
target=tests/fuzz/connection_fuzz

fail() {
  echo "fuzz: FAIL $*"
  exit 1
}

# --- Toolchain: clang++ that can link -fsanitize=fuzzer,address,undefined ---------------
probe_dir=$(mktemp -d)
can_link_fuzzer() {
  command -v clang++ >/dev/null 2>&1 || return 1
  printf 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }\n' \
    >"$probe_dir/probe.cpp"
  clang++ -fsanitize=fuzzer,address,undefined "$probe_dir/probe.cpp" -o "$probe_dir/probe" \
    >/dev/null 2>&1
}
if ! can_link_fuzzer; then
  echo "fuzz: installing clang and libclang-rt-14-dev"
  if [ "$(id -u)" -eq 0 ]; then sudo=(); else sudo=(sudo); fi
  "${sudo[@]}" apt-get update -qq || fail "apt-get update failed"
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends clang libclang-rt-14-dev \
    || fail "apt-get install clang libclang-rt-14-dev failed"
  can_link_fuzzer || { rm -rf "$probe_dir"; fail "clang++ cannot link -fsanitize=fuzzer"; }
fi
rm -rf "$probe_dir"
echo "fuzz: $(clang++ --version | head -n 1)"

# --- Configure and build only the fuzz target --------------------------------------------
options=(-Dfuzz=true -Dtests=true -Dbench=false -Dcontainer_tests=false
         -Db_sanitize=address,undefined -Db_lundef=false
         -Dc_args=-fsanitize=fuzzer-no-link -Dcpp_args=-fsanitize=fuzzer-no-link)
setup_log=$(mktemp)
if [ -f "$build/build.ninja" ] &&
   grep -q '^C++ compiler for the host machine: clang++ ' "$build/meson-logs/meson-log.txt" 2>/dev/null; then
  # Reconfigure first, so that options added to meson_options.txt since are known, then set
  # them with meson configure: Meson 1.0 drops -Dcpp_args given to setup --reconfigure.
  { meson setup --reconfigure "$build" && meson configure "$build" "${options[@]}"; } >"$setup_log" 2>&1 \
    || { cat "$setup_log"; fail "meson configure failed"; }
else
  # A build dir made with another compiler cannot switch to clang: start it over (only if
  # it is a Meson build dir; anything else in the way is left alone).
  if [ -e "$build" ]; then
    [ -d "$build/meson-private" ] || fail "$build exists and is not a Meson build dir"
    rm -rf "$build"
  fi
  CC=clang CXX=clang++ meson setup "$build" "${options[@]}" >"$setup_log" 2>&1 \
    || { cat "$setup_log"; fail "meson setup failed"; }
fi
grep -iE '^(WARNING|ERROR)' "$setup_log"
rm -f "$setup_log"
ninja -C "$build" -j "$jobs" "$target" || fail "build of $target failed"
fuzzer="$build/$target"

export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1:allocator_may_return_null=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

# Known, unfixed bugs in src/ (tests/fuzz/known_bugs): relaxed for the fuzzing run only.
# A line is a name, then optionally "ubsan:CHECK:PATTERN" words: UBSan suppressions for it.
known=$(grep -vE '^[[:space:]]*(#|$)' tests/fuzz/known_bugs 2>/dev/null | awk '{print $1}' | paste -sd, -)
ubsan_suppressions=$(grep -vE '^[[:space:]]*(#|$)' tests/fuzz/known_bugs 2>/dev/null |
  tr ' ' '\n' | sed -n 's/^ubsan://p')
[ -n "$known" ] && echo "fuzz: known bugs in src/ tolerated while fuzzing: $known"

# The inputs that showed them (tests/fuzz/regressions/, named after the bug): one that now
# passes the strict checks means the bug looks fixed.
for input in tests/fuzz/regressions/*; do
  [ -f "$input" ] || continue
  if "$fuzzer" -runs=1 "$input" >/dev/null 2>&1; then
    echo "fuzz: regressions/$(basename "$input") passes strictly now: move it into corpus/ and drop its line from known_bugs"
  fi
done

# --- Seed corpus: every seed must pass the invariants ------------------------------------
meson test -C "$build" --no-rebuild --suite fuzz --print-errorlogs || fail "the seed corpus does not pass"

# --- Fuzz a scratch copy of the corpus ---------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/connection-fuzz.XXXXXX")
mkdir -p "$work/corpus" "$work/artifacts"
cp tests/fuzz/corpus/* "$work/corpus/"
log="$work/fuzz.log"
fuzz_ubsan_options=$UBSAN_OPTIONS
if [ -n "$ubsan_suppressions" ]; then
  echo "$ubsan_suppressions" >"$work/ubsan.supp"
  fuzz_ubsan_options=$UBSAN_OPTIONS:suppressions=$work/ubsan.supp
  echo "fuzz: UBSan suppressions for known bugs: $(paste -sd' ' "$work/ubsan.supp")"
fi
echo "fuzz: fuzzing for ${seconds}s in $work"
# -timeout: one input taking this long is a hang; the outer timeout bounds everything else.
CONNECTION_FUZZ_KNOWN_BUGS="$known" UBSAN_OPTIONS="$fuzz_ubsan_options" timeout -k 10 $((seconds + 300)) "$fuzzer" \
  -max_total_time="$seconds" -max_len=4096 -timeout=25 -rss_limit_mb=2048 \
  -print_final_stats=1 -artifact_prefix="$work/artifacts/" "$work/corpus" >"$log" 2>&1
rc=$?

# The fuzzer's own report (crash details), without the stream of NEW/REDUCE lines.
grep -vE '^#[0-9]+[[:space:]]+(NEW|REDUCE|pulse)' "$log" | tail -n 80
status_line=$(grep -E '^#[0-9]+[[:space:]].*cov: [0-9]+' "$log" | tail -n 1)
echo "fuzz: last status: ${status_line:-none}"
cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$status_line")
ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$status_line")
corp=$(sed -nE 's/.* corp: ([0-9]+)\/.*/\1/p' <<<"$status_line")
runs=$(sed -nE 's/^stat::number_of_executed_units:[[:space:]]*([0-9]+).*/\1/p' "$log" | tail -n 1)
rate=$(sed -nE 's/^stat::average_exec_per_sec:[[:space:]]*([0-9]+).*/\1/p' "$log" | tail -n 1)
echo "fuzz: runs=${runs:-?} exec/s=${rate:-?} cov=${cov:-?} ft=${ft:-?} corpus=${corp:-?} seconds=$seconds"

artifacts=("$work"/artifacts/*)
if [ -e "${artifacts[0]}" ]; then
  mkdir -p "$build/fuzz-artifacts"
  for a in "${artifacts[@]}"; do
    cp "$a" "$build/fuzz-artifacts/"
    echo "fuzz: artifact $build/fuzz-artifacts/$(basename "$a") ($(wc -c <"$a") bytes); reproduce:"
    echo "      CONNECTION_FUZZ_KNOWN_BUGS=$known UBSAN_OPTIONS=$fuzz_ubsan_options \\"
    echo "      $fuzzer $build/fuzz-artifacts/$(basename "$a")"
    od -A x -t x1z -v "$a" | head -n 40
  done
fi

reason=""
if grep -q 'LeakSanitizer has encountered a fatal error' "$log"; then
  reason="LeakSanitizer could not run here (ptrace/sandbox)"
elif grep -q 'INVARIANT VIOLATION' "$log"; then
  reason="invariant violation: $(grep -m1 'INVARIANT VIOLATION' "$log" | cut -c1-200)"
elif grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:' "$log"; then
  reason="$(grep -m1 -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:' "$log" | cut -c1-200)"
elif [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
  reason="the fuzzer did not stop in time"
elif [ "$rc" -ne 0 ]; then
  reason="the fuzzer exited with $rc"
elif [ -e "${artifacts[0]}" ]; then
  reason="the fuzzer left artifacts"
elif [ -z "$runs" ]; then
  reason="no final stats"
fi

if [ -n "$reason" ]; then
  echo "fuzz: scratch directory kept: $work"
  fail "$reason"
fi
if [ -n "${FUZZ_KEEP:-}" ]; then echo "fuzz: scratch directory kept: $work"; else rm -rf "$work"; fi
echo "fuzz: PASS (${runs} runs, ${rate} exec/s, cov: ${cov} ft: ${ft}, ${seconds}s${known:+; known bugs tolerated: $known})"
