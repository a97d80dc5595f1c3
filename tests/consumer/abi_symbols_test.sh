#!/usr/bin/env bash
# The shared library's ABI, as a reviewed list: the symbols of namespace hs that
# libhttpserver.so exports (demangled, one per line, sorted) must equal
# src/lib/libhttpserver.symbols. An accidental export (an internal class without hidden
# visibility, a public function's changed signature) fails here; a deliberate one is the diff
# of that file in the same commit. Regenerate it with UPDATE=1.
#
# Symbols of the standard library's templates that the compiler chose to export (vague
# linkage) are not ours to promise and differ between compilers: left out.
#
# usage: abi_symbols_test.sh LIBHTTPSERVER_SO SOURCE_ROOT
set -euo pipefail
so=$1
list=$2/src/lib/libhttpserver.symbols
command -v nm >/dev/null && command -v c++filt >/dev/null || { echo "SKIP: nm/c++filt missing"; exit 77; }

actual=$(mktemp)
trap 'rm -f "$actual"' EXIT
nm -D --defined-only "$so" | cut -d' ' -f3- | c++filt |
  grep -E '^((typeinfo|typeinfo name|vtable|VTT) for )?hs::' | LC_ALL=C sort -u >"$actual"

if [ "${UPDATE:-0}" = 1 ]; then
  cp "$actual" "$list"
  echo "wrote $list: $(wc -l <"$list") symbols"
  exit 0
fi
all=$(nm -D --defined-only "$so" | wc -l)
if ! diff -u "$list" "$actual"; then
  echo "FAIL: the exported symbols of $(basename "$so") differ from src/lib/libhttpserver.symbols" \
    "(- listed, + exported). A deliberate API change: UPDATE=1 $0 $*"
  exit 1
fi
echo "PASS: $(wc -l <"$actual") symbols of hs exported, as listed ($all dynamic symbols in all)"
