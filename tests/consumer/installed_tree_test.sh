#!/usr/bin/env bash
# Installed-tree consumer test: installs the build into a staging directory (meson install
# --destdir), then builds tests/consumer/host_loop.cpp against it with nothing but pkg-config,
# once linked to the shared library and once fully static, and runs both: each must serve one
# request on 127.0.0.1 from inside its own poll() loop. Also builds the README's example
# (hello_host.cpp) and finds the man page.
#
# usage: installed_tree_test.sh BUILD_ROOT SOURCE_ROOT [B_SANITIZE]
# CXX may name the compiler (meson.build passes the project's); TARGETS, see below.
set -euo pipefail

build_root=$1
source_root=$2
sanitize=${3:-none}
cxx=${CXX:-c++}

work=$(mktemp -d "${TMPDIR:-/tmp}/httpserver-consumer.XXXXXX")
trap 'rm -rf "$work"' EXIT
dest=$work/dest

fail() { echo "FAIL: $*" >&2; exit 1; }
# CXX may be ccache: paths in $work, new on every run, are hashed relative to it.
export CCACHE_NOHASHDIR=1 CCACHE_BASEDIR=$work

# meson test has built what this test depends on; install copies those binaries and the
# headers of the source tree. A library older than its headers (a source edited since the
# build) would give the consumer another layout of the same classes: refuse rather than
# rebuild here (a nested full build would also build every other suite, minutes of work).
# TARGETS, set by meson.build: the library's and binary's outputs, to check they are current.
if [ -n "${TARGETS:-}" ]; then
  relative=()
  for t in $TARGETS; do relative+=("${t#"$build_root"/}"); done
  if ! ninja -C "$build_root" -n "${relative[@]}" | grep -q 'no work to do'; then
    fail "the library is older than its sources (edited since meson test built it?): rebuild"
  fi
fi

echo "== meson install --destdir $dest"
meson install -C "$build_root" --no-rebuild --destdir "$dest" >"$work/install.log" 2>&1 ||
  { cat "$work/install.log" >&2; fail "meson install"; }

pc=$(find "$dest" -name httpserver.pc -print -quit)
[ -n "$pc" ] || fail "no httpserver.pc installed"
# The .pc file names the configured prefix (e.g. /usr/local). Point a copy at the staged tree:
# PKG_CONFIG_SYSROOT_DIR would do the same for this file, but it would also prefix the paths
# of any system package listed in Requires (Debian 13's libllhttp), and --define-variable
# would redefine their prefix as well.
prefix=$(sed -n 's/^prefix=//p' "$pc")
mkdir -p "$work/pkgconfig"
sed "s|^prefix=.*|prefix=$dest$prefix|" "$pc" >"$work/pkgconfig/httpserver.pc"
export PKG_CONFIG_PATH=$work/pkgconfig
libdir=$(pkg-config --variable=libdir httpserver)
echo "pkg-config --cflags --libs:          $(pkg-config --cflags --libs httpserver)"
echo "pkg-config --static --cflags --libs: $(pkg-config --static --cflags --libs httpserver)"

# Exactly the public headers are installed, under include/httpserver/: what a host uses, and
# nothing of the library's insides (connection, codec, buffers), whose changes would then be
# the host's ABI breaks.
includedir=$(pkg-config --variable=includedir httpserver)
expected="export.hpp files.hpp http.hpp log.hpp middleware.hpp options.hpp reactor.hpp router.hpp server.hpp version.hpp"
installed=$(cd "$includedir/httpserver" && ls | sort | tr '\n' ' ' | sed 's/ $//')
[ "$installed" = "$expected" ] ||
  fail "installed headers: '$installed'; expected exactly '$expected'"
other=$(find "$dest" -name '*.h' -o -name '*.hpp' | grep -v "^$includedir/httpserver/" || true)
[ -z "$other" ] || fail "headers installed elsewhere: $other"
case " $(pkg-config --cflags httpserver) " in
  *" -I$includedir "*) ;;
  *) fail "pkg-config --cflags does not point at $includedir (the parent of httpserver/)" ;;
esac

# Each installed header compiles on its own, with only pkg-config's flags: none depends on
# another being included first, or on a header that is not installed (llhttp.h included).
# shellcheck disable=SC2046
for h in $expected; do
  printf '#include <httpserver/%s>\n' "$h" >"$work/one_header.cpp"
  $cxx -std=c++20 -Wall -Wextra -Wpedantic -Werror -fsyntax-only "$work/one_header.cpp" \
    $(pkg-config --cflags httpserver) || fail "<httpserver/$h> does not compile on its own"
done
echo "installed headers: $expected; each compiles alone with pkg-config flags only"

sanitize_flags=()
[ "$sanitize" != none ] && sanitize_flags=("-fsanitize=$sanitize")

# run_host NAME: runs the consumer and checks it answered its own request and logged it.
run_host() {
  local name=$1
  local rc=0
  timeout 20 "$work/$name" >"$work/$name.out" 2>"$work/$name.err" || rc=$?
  sed "s/^/  $name| /" "$work/$name.out" "$work/$name.err"
  [ $rc -eq 0 ] || fail "$name exited $rc"
  grep -q '^host_loop: ok$' "$work/$name.out" || fail "$name: no 'host_loop: ok'"
  grep -q 'level=info msg="uri: /hello"' "$work/$name.err" || fail "$name: request not logged"
}

echo "== shared: $cxx host_loop.cpp \$(pkg-config --cflags --libs httpserver)"
# shellcheck disable=SC2046
$cxx -std=c++20 -O2 -Wall -Wextra -Wpedantic -Werror "${sanitize_flags[@]}" -o "$work/host_loop_shared" \
  "$source_root/tests/consumer/host_loop.cpp" $(pkg-config --cflags --libs httpserver)
readelf -d "$work/host_loop_shared" | grep -q 'NEEDED.*libhttpserver\.so' ||
  fail "host_loop_shared does not load libhttpserver.so"
# The staged library, not one installed on this machine.
LD_LIBRARY_PATH=$libdir run_host host_loop_shared

if [ "$sanitize" = none ]; then
  echo "== static: $cxx -static host_loop.cpp \$(pkg-config --static --cflags --libs httpserver)"
  # shellcheck disable=SC2046
  $cxx -std=c++20 -O2 -Wall -Wextra -Wpedantic -Werror -static -o "$work/host_loop_static" \
    "$source_root/tests/consumer/host_loop.cpp" $(pkg-config --static --cflags --libs httpserver)
  if readelf -d "$work/host_loop_static" 2>/dev/null | grep -q NEEDED; then
    fail "host_loop_static is not static"
  fi
else
  # The sanitizer runtimes cannot be linked fully static: link our archive statically only.
  echo "== static archive (b_sanitize=$sanitize, dynamic libc)"
  # shellcheck disable=SC2046
  $cxx -std=c++20 -O2 -Wall -Wextra -Wpedantic -Werror "${sanitize_flags[@]}" -o "$work/host_loop_static" \
    "$source_root/tests/consumer/host_loop.cpp" $(pkg-config --cflags-only-I httpserver) \
    "$libdir/libhttpserver.a" $(pkg-config --static --libs-only-other --libs-only-l httpserver |
      sed 's/-lhttpserver//')
  if readelf -d "$work/host_loop_static" | grep -q 'NEEDED.*libhttpserver'; then
    fail "host_loop_static loads libhttpserver.so"
  fi
fi
run_host host_loop_static

# The README's example (the docs test checks that the README shows this file): it serves on
# port 8080 until stopped, so it is built and linked here, not run.
echo "== shared: $cxx hello_host.cpp"
# shellcheck disable=SC2046
$cxx -std=c++20 -O2 -Wall -Wextra -Wpedantic -Werror "${sanitize_flags[@]}" -o "$work/hello_host" \
  "$source_root/tests/consumer/hello_host.cpp" $(pkg-config --cflags --libs httpserver)

# The man page, made from the flag table, is installed where man looks for it.
page=$(find "$dest" -path '*/man1/httpserver.1' -print -quit)
[ -n "$page" ] || fail "no man1/httpserver.1 installed"
echo "man page installed: ${page#"$dest"}"

echo "PASS: installed tree consumed through pkg-config, shared and static"
