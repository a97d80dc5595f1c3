#!/usr/bin/env bash
# CI: every test suite that runs the server's code, built with AddressSanitizer and
# UndefinedBehaviorSanitizer, so that any overflow, use-after-free, leak or UB fails.
#
# Configures a separate build dir (default build-asan) with
#   -Db_sanitize=address,undefined -Db_lundef=false -Dwerror=true -Dbench=false
#   -Dcontainer_tests=false (and -Dhardening_tests, see below)
# builds it, checks that LeakSanitizer can run here (it cannot under ptrace, e.g. inside
# strace/gdb or some sandboxes: then leak checking is reported OFF, not silently skipped),
# runs the unit, integration, e2e, conformance and hostile suites (those registered), and
# fails on any sanitizer report: each sanitized process, the servers the tests start
# included, writes its reports to $build/sanitizer-reports/, so a report on a stderr that a
# test reads and discards still counts. Prints meson's summary (the Ok:/Fail: lines, once)
# and, last, "sanitize: PASS ..." or "sanitize: FAIL ...".
#
# Environment:
#   SANITIZE_BUILD_DIR   default build-asan
#   SANITIZE_JOBS        ninja -j and meson test --num-processes, default 2
#   SANITIZE_TIMEOUT_MULTIPLIER  meson test -t, default 3 (sanitized code is 2-3x slower)
#   SANITIZE_SUITES      space-separated, default "unit integration e2e conformance hostile"
#   SANITIZE_HARDENING_TESTS=0  configure -Dhardening_tests=false: leaves out the conformance
#                        and hostile suites (registered by default)
set -uo pipefail
cd "$(dirname "$0")/../.."

build=${SANITIZE_BUILD_DIR:-build-asan}
jobs=${SANITIZE_JOBS:-2}
multiplier=${SANITIZE_TIMEOUT_MULTIPLIER:-3}
wanted=${SANITIZE_SUITES:-unit integration e2e conformance hostile}

fail() {
  echo "sanitize: FAIL $*"
  exit 1
}

# GCC 12 reports -Wmaybe-uninitialized false positives inside libstdc++'s <regex> (the
# std::function in a moved _State, GCC bug 105562) once -fsanitize=address changes what it
# inlines: kept as warnings, not errors, so that -Werror still holds for everything else.
# Clang has no such warning (and would reject the unknown option under -Werror).
#
# clang by default: GCC 12 takes over a minute for each test file that uses <regex> under
# -fsanitize=address at -O2 (clang: 20 s), which made this build most of CI's time.
# SANITIZE_CXX=g++ (with SANITIZE_CC=gcc) builds with GCC instead.
cxx=${SANITIZE_CXX:-clang++}
cc=${SANITIZE_CC:-clang}
if [ "$cxx" = clang++ ] && ! command -v clang++ >/dev/null 2>&1; then
  echo "sanitize: installing clang and libclang-rt-14-dev"
  if [ "$(id -u)" -eq 0 ]; then sudo=(); else sudo=(sudo); fi
  "${sudo[@]}" apt-get update -qq || fail "apt-get update failed"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    clang libclang-rt-14-dev || fail "apt-get install clang libclang-rt-14-dev failed"
fi
export CC=$cc CXX=$cxx
extra_cpp_args=()
if ! $CXX --version 2>/dev/null | grep -qi clang; then
  extra_cpp_args=(-Dcpp_args=-Wno-error=maybe-uninitialized)
fi
# The conformance and hostile suites are registered with -Dhardening_tests=true (the
# default): SANITIZE_HARDENING_TESTS=0 leaves them out.
hardening_args=()
if grep -q "option('hardening_tests'" meson_options.txt 2>/dev/null; then
  if [ "${SANITIZE_HARDENING_TESTS:-1}" = 1 ]; then
    hardening_args=(-Dhardening_tests=true)
  else
    hardening_args=(-Dhardening_tests=false)
  fi
fi
options=(-Db_sanitize=address,undefined -Db_lundef=false -Dwerror=true
         -Dbench=false -Dcontainer_tests=false -Dfuzz=false -Dtests=true
         "${extra_cpp_args[@]}" "${hardening_args[@]}")
setup_log=$(mktemp)
# A build dir made with another compiler cannot switch: start it over (a Meson one only).
if [ -e "$build" ] &&
   ! grep -q "^C++ compiler for the host machine: $CXX " "$build/meson-logs/meson-log.txt" 2>/dev/null; then
  [ -d "$build/meson-private" ] || fail "$build exists and is not a Meson build dir"
  rm -rf "$build"
fi
if [ -f "$build/build.ninja" ]; then
  # Reconfigure first, so that options added to meson_options.txt since are known, then set
  # them with meson configure: Meson 1.0 drops -Dcpp_args given to setup --reconfigure.
  { meson setup --reconfigure "$build" && meson configure "$build" "${options[@]}"; } >"$setup_log" 2>&1 \
    || { cat "$setup_log"; rm -f "$setup_log"; fail "meson configure failed"; }
else
  meson setup "$build" "${options[@]}" >"$setup_log" 2>&1 \
    || { cat "$setup_log"; rm -f "$setup_log"; fail "meson setup failed"; }
fi
grep -iE '^(WARNING|ERROR)|C\+\+ compiler for the host' "$setup_log"
rm -f "$setup_log"
ninja -C "$build" -j "$jobs" || fail "build failed (with -Dwerror=true)"

# abort_on_error: a report kills the process with SIGABRT, which no test can mistake for a
# normal exit status. detect_leaks: LeakSanitizer at exit (on by default on x86_64 Linux;
# stated so that nobody's environment turns it off).
asan_options=abort_on_error=1:detect_leaks=1:detect_stack_use_after_return=1:strict_string_checks=1:check_initialization_order=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

# --- Can LeakSanitizer run here? -----------------------------------------------------------
# It stops the process's threads with ptrace-like machinery and dies with "LeakSanitizer has
# encountered a fatal error" where that is forbidden. Probe with a program that leaks on
# purpose, built by the same compiler the build dir uses.
leaks="on"
probe=$(mktemp -d)
printf '#include <cstdlib>\nvoid* volatile sink;\nint main() { sink = std::malloc(77); sink = nullptr; return 0; }\n' \
  >"$probe/leak.cpp"
if $CXX -fsanitize=address -g "$probe/leak.cpp" -o "$probe/leak" >/dev/null 2>&1; then
  ASAN_OPTIONS=detect_leaks=1 "$probe/leak" >"$probe/out" 2>&1
  if grep -q 'LeakSanitizer has encountered a fatal error\|LeakSanitizer does not work under ptrace' "$probe/out"; then
    leaks="OFF (LeakSanitizer cannot run here: $(grep -m1 -o 'LeakSanitizer[^.]*' "$probe/out"))"
    asan_options=${asan_options/detect_leaks=1/detect_leaks=0}
  elif ! grep -q 'ERROR: LeakSanitizer: detected memory leaks' "$probe/out"; then
    leaks="OFF (a leaking probe was not reported; LeakSanitizer unavailable)"
  fi
else
  leaks="unknown (could not build the probe with $CXX)"
fi
rm -rf "$probe"
# Every sanitized process (tests, and the servers they start, whose stderr a test may read
# and discard) writes its reports to a file of its own here, named by pid.
reports_dir="$(cd "$build" && pwd)/sanitizer-reports"
rm -rf "$reports_dir"
mkdir -p "$reports_dir"
export ASAN_OPTIONS=$asan_options:log_path=$reports_dir/asan
export UBSAN_OPTIONS=$UBSAN_OPTIONS:log_path=$reports_dir/ubsan
echo "sanitize: LeakSanitizer $leaks"
echo "sanitize: ASAN_OPTIONS=$ASAN_OPTIONS UBSAN_OPTIONS=$UBSAN_OPTIONS"

# --- Which of the wanted suites exist ------------------------------------------------------
existing=$(meson introspect --tests "$build" |
  python3 -c 'import json,sys; print(" ".join(sorted({s.split(":")[-1] for t in json.load(sys.stdin) for s in t["suite"]})))')
suite_args=()
ran=()
for s in $wanted; do
  if [[ " $existing " == *" $s "* ]]; then
    suite_args+=(--suite "$s")
    ran+=("$s")
  fi
done
[ ${#ran[@]} -gt 0 ] || fail "none of the suites ($wanted) exist (have: $existing)"
echo "sanitize: suites ${ran[*]} (all suites here: $existing)"

out=$(mktemp)
meson test -C "$build" --no-rebuild --print-errorlogs -t "$multiplier" \
  --num-processes "$jobs" "${suite_args[@]}" 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}

# Reports from processes whose exit status no test checks (a server a test started and
# killed) still count: every report file, and the test log for good measure.
testlog="$build/meson-logs/testlog.txt"
pattern='ERROR: (AddressSanitizer|LeakSanitizer)|SUMMARY: (AddressSanitizer|UndefinedBehaviorSanitizer)|runtime error:'
report_files=()
for f in "$reports_dir"/*; do [ -s "$f" ] && report_files+=("$f"); done
reports=$(grep -hE "$pattern" "${report_files[@]}" "$testlog" /dev/null 2>/dev/null |
  sed -E 's/==[0-9]+==/==PID==/' | sort | uniq -c | sort -rn | head -n 20)
lsan_broken=$(cat "${report_files[@]}" "$testlog" /dev/null 2>/dev/null |
  grep -c 'LeakSanitizer has encountered a fatal error')

# meson's summary is printed once, above (CI adds up the "Ok:" and "Fail:" lines).
echo "sanitize: meson summary: $(grep -E '^(Ok|Fail|Timeout|Skipped):' "$out" | awk '{printf "%s%s %s", sep, $1, $2; sep=", "}')"
rm -f "$out"

if [ "${lsan_broken:-0}" -gt 0 ]; then
  fail "LeakSanitizer could not run in $lsan_broken test(s) (ptrace/sandbox): see $testlog"
fi
if [ -n "$reports" ]; then
  echo "sanitize: sanitizer reports (${#report_files[@]} report files in $reports_dir):"
  echo "$reports"
  for f in "${report_files[@]:0:3}"; do
    echo "--- $f"
    head -n 40 "$f"
  done
  fail "sanitizer reports in the test output (see $testlog)"
fi
# No sanitizer report, yet tests failed: say so, as these failures are the tests' own.
[ "$rc" -eq 0 ] || fail "meson test exited with $rc, without any sanitizer report: failing tests: $(grep -E '^ *[0-9]+/[0-9]+ .* (FAIL|TIMEOUT) ' "$testlog" | awk '{print $2" "$4}' | sort -u | paste -sd, -)"
echo "sanitize: PASS (suites: ${ran[*]}; no sanitizer report; LeakSanitizer $leaks)"
