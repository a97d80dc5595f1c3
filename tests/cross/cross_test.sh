#!/usr/bin/env bash
# Builds the project from the Meson wraps alone (subprojects/packagecache, no system llhttp,
# GoogleTest or Benchmark) for one target and runs its tests there:
#
#   cross_test.sh TARGET SOURCE_ROOT BUILD_DIR
#     TARGET  native-wraps         this machine, --wrap-mode=forcefallback: the unit suite, and
#                                  the benchmark library built and linked (suite wraps-native)
#             aarch64-linux-gnu    cross/TARGET.txt: the library (static and shared), the static
#             arm-linux-gnueabihf  binary and the unit and integration suites, run under
#                                  qemu-user (suites cross-aarch64, cross-armhf)
#
# Then prints the figures docs/boards.md describes: library and binary sizes, and the bytes an idle
# keep-alive connection costs (bench/footprint/conns.py against the binary, under qemu-user
# for a cross target).
#
# Skips (exit 77, one line saying what is missing) when the cross compiler or qemu-user is not
# there and cannot be installed (apt-get, as root), or when the wraps' tarballs are neither in
# the wrap cache nor downloadable (subprojects/wraps-available.sh: one try, no retries).
# binfmt_misc is not needed: Meson runs every target program through the cross file's
# exe_wrapper (qemu-ARCH-static -L /usr/TRIPLET).
# Reruns are cheap: BUILD_DIR is kept (ninja rebuilds what changed), and compiles go through
# ccache in /var/cache/httpserver-ct/ccache when ccache is installed (root), so that a fresh
# build directory on the same machine compiles from the cache.
set -uo pipefail

target=${1:?usage: cross_test.sh TARGET SOURCE_ROOT BUILD_DIR}
src=$(cd "${2:?no source root}" && pwd) || exit 1
build=${3:?no build dir}
cache_root=/var/cache/httpserver-ct

case $target in
  native-wraps) arch=native qemu="" ;;
  aarch64-linux-gnu) arch=aarch64 qemu=qemu-aarch64-static ;;
  arm-linux-gnueabihf) arch=armhf qemu=qemu-arm-static ;;
  *) echo "FAIL: unknown target $target"; exit 1 ;;
esac
now_ms() { date +%s%3N; }
secs() { awk -v ms="$1" 'BEGIN { printf "%.1f s", ms / 1000 }'; }
figure() { echo "FIGURE $arch: $*"; }
t_start=$(now_ms)
command -v ccache >/dev/null && [ -d "$cache_root/ccache" ] && CCACHE_DIR=$cache_root/ccache ccache -z >/dev/null 2>&1

# --- 1. the wraps' tarballs, from the wrap cache (before any install: without them, nothing)
# Asked once: where they can be neither copied nor downloaded, skip now rather than leave
# Meson to retry its downloads for minutes before failing.
if ! why=$(bash "$src/subprojects/wraps-available.sh"); then
  echo "SKIP: $target is built from the wraps: $why"
  exit 77
fi

# --- 2. tools ------------------------------------------------------------------------------
need=()
if [ "$target" != native-wraps ]; then
  command -v "$target-g++" >/dev/null || need+=("g++-$target")
  command -v "$qemu" >/dev/null || need+=(qemu-user-static)
fi
command -v python3 >/dev/null || need+=(python3)
if [ "${#need[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing ${need[*]}"
    { DEBIAN_FRONTEND=noninteractive timeout --foreground 300 apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive timeout --foreground 900 apt-get install -y -qq \
        --no-install-recommends "${need[@]}"; } >"/tmp/cross-test-apt.$$.log" 2>&1
    tail -n 5 "/tmp/cross-test-apt.$$.log"
    rm -f "/tmp/cross-test-apt.$$.log"
  fi
  missing=()
  for p in "${need[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p"); done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "SKIP: $target needs ${missing[*]} (apt-get install as root; Debian 12 or 13 ships them)"
    exit 77
  fi
fi
if [ -n "$qemu" ] && ! "$qemu" --version >/dev/null 2>&1; then
  echo "SKIP: $qemu does not run here"
  exit 77
fi

# ccache for every compiler, the cross compilers too: Meson puts ccache in front of the
# compilers it finds itself, not of those a cross file names, so a second cross file adds it.
extra=()
if command -v ccache >/dev/null && mkdir -p "$cache_root/ccache" 2>/dev/null && [ -w "$cache_root/ccache" ]; then
  # NOHASHDIR: a checkout elsewhere (a CI clone in another directory) hits the same entries;
  # Meson passes sources and include directories as paths relative to the build directory.
  export CCACHE_DIR=$cache_root/ccache CCACHE_NOHASHDIR=1 CCACHE_BASEDIR=$src
  if [ "$target" != native-wraps ]; then
    mkdir -p "$build.conf"
    printf "[binaries]\nc = ['ccache', '%s-gcc']\ncpp = ['ccache', '%s-g++']\n" "$target" "$target" \
      > "$build.conf/ccache.txt"
    extra+=(--cross-file "$build.conf/ccache.txt")
  fi
fi

# --- 3. configure ----------------------------------------------------------------------------
common=(--wrap-mode=forcefallback -Dwerror=true -Dhardening_tests=false -Dcontainer_tests=false
        -Dcross_tests=false -Dfuzz=false)
if [ "$target" = native-wraps ]; then
  # What it proves is that the wraps build and the unit suite passes with them: no
  # optimisation and no debug info (buildtype plain) compiles this second native build of the
  # project, GoogleTest and Benchmark in about half the time of -O2 -g.
  opts=("${common[@]}" -Dbench=true --buildtype=plain)
else
  # What a small board runs: release (-O3), the static binary, the library both ways.
  # GCC 12 (Debian 12's cross compilers) warns -Wrestrict inside libstdc++'s std::string
  # (char_traits::copy, "accessing 9223372036854775810 or more bytes") when it inlines the
  # unit tests' string building at -O3 (chunked_decoder_test, http_test, log_test): a false
  # positive of that GCC's -Wrestrict on std::string known upstream, not a fault of ours. So it
  # stays a warning there, and only there: with a newer GCC, and in every native build, it is
  # an error as any other warning.
  opts=(--cross-file "$src/cross/$target.txt" "${extra[@]}" "${common[@]}" -Dbench=false
        --buildtype=release -Dstatic_binary=true -Dprefer_static=true)
  gcc_major=$("$target-g++" -dumpversion | cut -d. -f1)
  [ "${gcc_major:-0}" -le 12 ] && opts+=(-Dcpp_args=-Wno-error=restrict)
fi
t0=$(now_ms)
if [ -f "$build/build.ninja" ]; then
  setup=(meson setup --reconfigure "$build" "$src" "${opts[@]}")
else
  rm -rf "$build"
  setup=(meson setup "$build" "$src" "${opts[@]}")
fi
if ! timeout --foreground 600 "${setup[@]}" >"$build.setup.log" 2>&1; then
  tail -n 30 "$build.setup.log"
  if grep -qiE 'download|urlopen|could not resolve|name or service' "$build.setup.log"; then
    echo "SKIP: the wraps' tarballs are not in subprojects/packagecache and cannot be downloaded (WRAP_CACHE=DIR names a directory that holds them)"
    exit 77
  fi
  echo "FAIL: meson setup for $target"
  exit 1
fi
grep -E 'Using .* source from cache|found: (YES|NO)' "$build.setup.log" | sed 's/^/  /'
if grep -E 'Dependency (libllhttp|gtest|gtest_main|benchmark) found: YES' "$build.setup.log" | grep -qv overridden; then
  echo "FAIL: a dependency did not come from its wrap"
  exit 1
fi

# --- 4. build what the suites run --------------------------------------------------------------
if [ "$target" = native-wraps ]; then suites=(unit); else suites=(unit integration); fi
tests=$(meson introspect "$build" --tests | python3 -c '
import json, os, sys
build, wanted = os.path.abspath(sys.argv[1]), set(sys.argv[2:])
print(" ".join(sorted({os.path.relpath(t["cmd"][0], build) for t in json.load(sys.stdin)
      if any(s.split(":")[-1] in wanted for s in t["suite"]) and t["cmd"][0].startswith(build + "/")})))
' "$build" "${suites[@]}")
targets=(src/httpserver $tests)
if [ "$target" = native-wraps ]; then
  targets+=(bench/hot_path_bench)
else
  # The library's two files, as Meson names them (the .so carries the project's version).
  libs=$(meson introspect "$build" --targets | python3 -c '
import json, os, sys
build = os.path.abspath(sys.argv[1])
for t in json.load(sys.stdin):
    if t["name"] == "httpserver" and t["type"] in ("static library", "shared library"):
        print(t["type"].split()[0], os.path.relpath(t["filename"][0], build))
' "$build")
  lib_a=$(awk '$1 == "static" { print $2 }' <<<"$libs")
  lib_so=$(awk '$1 == "shared" { print $2 }' <<<"$libs")
  targets+=("$lib_a" "$lib_so")
fi
t0=$(now_ms)
if ! timeout --foreground 1800 ninja -C "$build" "${targets[@]}" >"$build.ninja.log" 2>&1; then
  grep -E 'error|FAILED' "$build.ninja.log" | head -n 40
  tail -n 20 "$build.ninja.log"
  echo "FAIL: build for $target"
  exit 1
fi
build_ms=$(( $(now_ms) - t0 ))
grep -E 'warning:' "$build.ninja.log" | sort -u | head -n 5 | sed 's/^/  /'
echo "built ${#targets[@]} targets in $(secs "$build_ms")"
[ -n "${CCACHE_DIR:-}" ] && ccache --print-stats 2>/dev/null |
  awk -F'\t' '$1 ~ /^(direct_cache_hit|preprocessed_cache_hit|cache_miss)$/ { printf "  ccache %s %s\n", $1, $2 }'

# --- 5. the suites -----------------------------------------------------------------------------
status=0
suite_args=()
for s in "${suites[@]}"; do suite_args+=(--suite "$s"); done
t0=$(now_ms)
# Under qemu-user every instruction is translated: the tests' own time limits get 4 times longer.
if ! timeout --foreground 1800 meson test -C "$build" --no-rebuild --print-errorlogs \
    --num-processes 2 --timeout-multiplier 4 "${suite_args[@]}" >"$build.test.log" 2>&1; then
  status=1
fi
grep -E '^ *[0-9]+/[0-9]+ .* (FAIL|TIMEOUT|ERROR) ' "$build.test.log"
grep -E '^(Ok|Fail|Skipped|Timeout):' "$build.test.log" | tr -s ' ' | paste -sd' ' | sed "s/^/  ${suites[*]}: /"
[ "$status" = 0 ] || { sed -n '/^Summary of Failures/,$p' "$build.test.log" | head -n 40; tail -n 60 "$build.test.log"; }
echo "ran ${suites[*]} in $(secs $(( $(now_ms) - t0 )))"

if [ "$target" = native-wraps ]; then
  # The benchmark wrap: the library links and its runner starts (no timing run here).
  if "$build/bench/hot_path_bench" --benchmark_list_tests >"$build.bench.log" 2>&1; then
    echo "hot_path_bench (benchmark from its wrap) lists $(wc -l <"$build.bench.log") benchmarks"
  else
    cat "$build.bench.log"
    echo "FAIL: hot_path_bench does not run"
    status=1
  fi
fi

# --- 6. figures --------------------------------------------------------------------------------
strip_tool=strip
[ "$target" != native-wraps ] && strip_tool=$target-strip
if [ "$target" != native-wraps ]; then
  tmp=$(mktemp -d)
  "$strip_tool" --strip-all -o "$tmp/httpserver" "$build/src/httpserver"
  "$strip_tool" --strip-unneeded -o "$tmp/libhttpserver.so" "$build/$lib_so"
  "$strip_tool" --strip-debug -o "$tmp/libhttpserver.a" "$build/$lib_a"
  figure "static binary, stripped: $(stat -c %s "$tmp/httpserver") B ($(file -b "$build/src/httpserver" | cut -d, -f1-2))"
  figure "libhttpserver.a (llhttp inside), debug info stripped: $(stat -c %s "$tmp/libhttpserver.a") B"
  figure "libhttpserver.so (llhttp inside), stripped: $(stat -c %s "$tmp/libhttpserver.so") B"
  rm -rf "$tmp"
fi
# Bytes per idle keep-alive connection: the server's anonymous memory before and after 10,000
# connections that each made one request and stay open (under qemu-user for a cross target:
# the guest's heap is the emulator's anonymous memory).
conns=10000
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
server=("$build/src/httpserver" --address 127.0.0.1 --port "$port" --max-connections $((conns * 2)) --idle-timeout 300s)
[ -n "$qemu" ] && server=("$qemu" -L "/usr/$target" "${server[@]}")
prlimit --nofile=$((conns + 500)):$((conns + 500)) -- "${server[@]}" >/dev/null 2>"$build.server.log" &
server_pid=$!
if timeout --foreground 240 python3 "$src/bench/footprint/conns.py" --port "$port" --pid "$server_pid" \
    --count "$conns" --deadline 200 >"$build.conns.log" 2>&1; then
  per=$(sed -n 's/^per_connection_anon=//p' "$build.conns.log")
  open=$(sed -n 's/^still_open=//p' "$build.conns.log")
  figure "bytes per idle keep-alive connection (RssAnon growth over $conns, $open still open): $per B"
else
  tail -n 5 "$build.conns.log" "$build.server.log"
  echo "FAIL: idle-connection measurement"
  status=1
fi
kill "$server_pid" 2>/dev/null
wait "$server_pid" 2>/dev/null

echo "$target: $( [ "$status" = 0 ] && echo PASS || echo FAIL ) in $(secs $(( $(now_ms) - t_start )))"
exit "$status"
