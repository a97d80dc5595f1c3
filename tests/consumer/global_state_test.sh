#!/usr/bin/env bash
# The library keeps no state of its own outside the objects a host creates: no thread_local,
# no mutable static. Two servers in one process, on one thread or two, share nothing. Reads
# the symbols of libhttpserver.a: any thread-local symbol fails, and so does any writable
# data symbol not listed below with the reason it is constant in effect.
#
# usage: global_state_test.sh LIBHTTPSERVER_A
set -euo pipefail
lib=$1
command -v nm >/dev/null && command -v readelf >/dev/null || { echo "SKIP: nm/readelf missing"; exit 77; }

fail=0
tls=$(readelf -sW "$lib" | awk '$4 == "TLS" {print $8}' | sort -u)
if [ -n "$tls" ]; then
  echo "FAIL: thread-local symbols in $lib:"; echo "$tls"; fail=1
fi

# Writable data (nm types b B d D), less what the compiler makes (type info, vtables, the
# personality reference) and these, written once before main and only read after:
#   kSettings  llhttp's callback table (connection.cpp): llhttp keeps a pointer to it
#   kNames     the level names of a log line (log.cpp): an array of pointers, relocated
allowed='::kSettings$|::kNames$'
writable=$(nm -C "$lib" 2>/dev/null | awk '$2 ~ /^[bBdD]$/' | cut -d' ' -f3- |
  grep -vE '^(typeinfo|vtable|DW\.ref\.)' | grep -vE "$allowed" || true)
if [ -n "$writable" ]; then
  echo "FAIL: writable static data in $lib (state shared by every server in the process):"
  echo "$writable"; fail=1
fi
[ "$fail" = 0 ] && echo "PASS: no thread-local or mutable static state in $(basename "$lib")"
exit "$fail"
