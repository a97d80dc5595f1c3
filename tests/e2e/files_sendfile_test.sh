#!/usr/bin/env bash
# Zero-copy, as strace sees it: the binary serving --root under strace, a 1 MiB file asked
# for whole and by range; the file's bytes leave through sendfile(2) (the system call shows
# the file descriptor and the counts) and are never read into the process (no read or pread
# of the file's descriptor). The client gets every byte.
#
# usage: files_sendfile_test.sh  (HTTPSERVER names the binary)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/serve.sh"
command -v strace >/dev/null || { echo "SKIP: strace missing (apt-get install strace)"; exit 77; }
command -v curl >/dev/null || { echo "SKIP: curl missing"; exit 77; }

site=$dir/site
mkdir -p "$site"
head -c 1048576 /dev/urandom >"$site/big.bin"
bin_real=$bin
bin=$dir/traced
# Under a sanitizer build, LeakSanitizer cannot run under ptrace: off for the traced server.
cat >"$bin" <<SH
#!/bin/sh
ASAN_OPTIONS="\${ASAN_OPTIONS:+\$ASAN_OPTIONS:}detect_leaks=0"
export ASAN_OPTIONS
exec strace -f -qq -o "$dir/trace" -e trace=openat,openat2,sendfile,read,pread64,readv,preadv "$bin_real" "\$@"
SH
chmod +x "$bin"
start_server --root "$site"
curl -fsS -o "$dir/whole" "http://$app/big.bin"
curl -fsS -r 1000-500999 -o "$dir/part" "http://$app/big.bin"
cmp "$dir/whole" "$site/big.bin" || fail "the whole file differs"
cmp "$dir/part" <(tail -c +1001 "$site/big.bin" | head -c 500000) || fail "the range differs"
# $pid is strace; the server is its child, and strace ends when the server does.
server_pid=$(cat "/proc/$pid/task/$pid/children")
kill -TERM $server_pid
wait "$pid" 2>/dev/null || true
pid=

# The descriptors the server opened big.bin as, then what was done with them.
fds=$(sed -n 's/.*openat2\?(.*"big.bin".* = \([0-9]*\)$/\1/p' "$dir/trace" | sort -u)
[ -n "$fds" ] || { cat "$dir/trace" >&2; fail "big.bin was never opened"; }
sent=0
for fd in $fds; do
  sent=$((sent + $(grep -cE "sendfile\([0-9]+, $fd, " "$dir/trace" || true)))
  if grep -qE "(read|pread64|readv|preadv)\($fd, " "$dir/trace"; then
    grep -E "(read|pread64|readv|preadv)\($fd, " "$dir/trace" | head -3 >&2
    fail "the file was read into the process"
  fi
done
[ "$sent" -gt 0 ] || { grep sendfile "$dir/trace" | head >&2; fail "no sendfile of big.bin"; }
bytes=$(grep -E 'sendfile\(' "$dir/trace" | sed -n 's/.* = \([0-9]*\)$/\1/p' | awk '{s += $1} END {print s + 0}')
echo "strace: $sent sendfile calls moved $bytes bytes of big.bin (whole 1048576 + range 500000)"
[ "$bytes" -ge 1548576 ] || fail "sendfile moved $bytes bytes, fewer than were asked for"
echo "PASS: file bodies leave through sendfile"
