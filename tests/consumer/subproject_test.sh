#!/usr/bin/env bash
# Subproject consumer test: builds tests/consumer/subproject_host, a separate Meson project
# whose dependency('httpserver') resolves to this source tree used as a subproject, then runs
# it: it must serve one request on 127.0.0.1 and shut down cleanly.
#
# usage: subproject_test.sh SOURCE_ROOT
# The copy of the host project and its subprojects/httpserver symlink live in a temporary
# directory: nothing is written to the source tree.
set -euo pipefail

source_root=$(cd "$1" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/httpserver-subproject.XXXXXX")
trap 'rm -rf "$work"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

mkdir -p "$work/host/subprojects"
cp "$source_root"/tests/consumer/subproject_host/{meson.build,main.cpp} "$work/host/"
ln -s "$source_root" "$work/host/subprojects/httpserver"

# Meson compiles through ccache when it is installed: paths in $work, which is new on every
# run, are hashed relative to it, so a second run finds the first one's objects.
export CCACHE_NOHASHDIR=1 CCACHE_BASEDIR=$work

echo "== meson setup (subprojects/httpserver -> $source_root)"
# --force-fallback-for: use the subproject even if an httpserver.pc is installed on this
# machine. The library picks llhttp as it always does (system package, Debian's sources, wrap).
meson setup "$work/build" "$work/host" --force-fallback-for=httpserver \
  >"$work/setup.log" 2>&1 || { cat "$work/setup.log" >&2; fail "meson setup"; }
grep -E 'Executing subproject|Dependency httpserver|llhttp' "$work/setup.log" | sed 's/^/  /'

echo "== ninja"
# Two jobs at most: the machine is shared.
nice ninja -C "$work/build" -j 2 >"$work/build.log" 2>&1 ||
  { cat "$work/build.log" >&2; fail "ninja"; }
tail -n 1 "$work/build.log" | sed 's/^/  /'

echo "== run"
rc=0
timeout 20 "$work/build/subproject_host" >"$work/run.out" 2>&1 || rc=$?
sed 's/^/  | /' "$work/run.out"
[ $rc -eq 0 ] || fail "subproject_host exited $rc"
grep -q '^subproject_host: ok$' "$work/run.out" || fail "no 'subproject_host: ok'"
echo "PASS: httpserver consumed as a Meson subproject"
