#!/usr/bin/env bash
# The binary's sockets, end to end: --listen given twice (TCP and a unix socket with
# --unix-mode), a unix socket file left by a killed run replaced, the file removed on a clean
# exit, and systemd socket activation through systemd-socket-activate (Debian's systemd
# package) for a TCP and a unix socket, one and two workers. Loopback and /tmp only.
#
# usage: sockets_test.sh  (HTTPSERVER names the binary)
set -euo pipefail
source "$(dirname "$0")/serve.sh"
command -v curl >/dev/null || { echo "SKIP: curl missing"; exit 77; }

# stop: SIGTERM, and the exit status must be 0 within 5 s.
stop() {
  kill -TERM "$pid"
  local rc=0
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  wait "$pid" || rc=$?
  pid=
  [ "$rc" = 0 ] || fail "exit status $rc after SIGTERM"
}
body_tcp() { curl -sS --max-time 5 "http://$1/x"; }
body_unix() { curl -sS --max-time 5 --unix-socket "$1" "http://localhost/y"; }
expected="package main #14"

echo "== --listen 127.0.0.1:0 --listen unix:... --unix-mode 0600"
sock=$dir/h.sock
"$bin" --listen 127.0.0.1:0 --listen "unix:$sock" --unix-mode 0600 2>"$dir/err" &
pid=$!
wait_for "listening on 127.0.0.1:[0-9]*, unix:$sock"
port=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\),.*/\1/p' "$dir/err")
[ "$(body_tcp "127.0.0.1:$port")" = "$expected" ] || fail "TCP socket not served"
[ "$(body_unix "$sock")" = "$expected" ] || fail "unix socket not served"
[ "$(stat -c %a "$sock")" = 600 ] || fail "mode $(stat -c %a "$sock"), not 600"
grep -q 'uri: /y' "$dir/err" || fail "the unix request was not logged"
stop
[ ! -e "$sock" ] || fail "the socket file outlived a clean exit"
echo "ok: both served, mode 600, file removed on exit"

echo "== a socket file left by a killed run is replaced"
"$bin" --listen "unix:$sock" 2>"$dir/err" &
pid=$!
wait_for "listening on unix:$sock"
kill -KILL "$pid"; wait "$pid" 2>/dev/null || true; pid=
[ -S "$sock" ] || fail "SIGKILL should have left the socket file"
"$bin" --listen "unix:$sock" 2>"$dir/err" &
pid=$!
wait_for "listening on unix:$sock"
[ "$(body_unix "$sock")" = "$expected" ] || fail "the replaced socket is not served"
echo "== while it runs, a second server on the same path is refused, and the first keeps it"
rc=0
timeout 5 "$bin" --listen "unix:$sock" 2>"$dir/err2" || rc=$?
[ "$rc" != 0 ] && grep -q "another server is listening" "$dir/err2" ||
  { cat "$dir/err2" >&2; fail "a second server on a live socket: exit $rc"; }
[ "$(body_unix "$sock")" = "$expected" ] || fail "the first server lost its socket"
stop
echo "ok: stale file replaced, live one refused"

if ! command -v systemd-socket-activate >/dev/null; then
  echo "SKIP: systemd-socket-activate missing (Debian's systemd package): socket activation untested"
  exit 77
fi
ephemeral_low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
[ "$ephemeral_low" -gt 11000 ] || ephemeral_low=32768
for workers in 1 2; do
  echo "== systemd-socket-activate -l 127.0.0.1:PORT -l unix, --workers $workers"
  started=
  for _ in 1 2 3 4 5; do
    # Below the ephemeral range: a port there may be held by a client connection or sit in
    # TIME_WAIT after one, and systemd-socket-activate does not set SO_REUSEADDR.
    port=$((10000 + RANDOM % (ephemeral_low - 10000)))
    rm -f "$dir/act.sock"
    systemd-socket-activate -l "127.0.0.1:$port" -l "$dir/act.sock" \
      "$bin" --workers "$workers" 2>"$dir/err" &
    pid=$!
    # It binds at once and starts the program on the first connection.
    for _ in $(seq 30); do grep -q "Listening on $dir/act.sock" "$dir/err" && break; sleep 0.1; done
    if grep -q "Listening on $dir/act.sock" "$dir/err"; then started=1; break; fi
    sed 's/^/  systemd-socket-activate| /' "$dir/err"
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    pid=
  done
  [ -n "$started" ] || fail "systemd-socket-activate did not start"
  # The first connection starts the program; give it a moment under a loaded host.
  first=
  for _ in 1 2 3 4 5; do
    first=$(body_tcp "127.0.0.1:$port" 2>&1) && break
    sleep 0.2
  done
  [ "$first" = "$expected" ] || { cat "$dir/err" >&2; fail "activated TCP socket not served: $first"; }
  wait_for "listening on 127.0.0.1:$port, unix:$dir/act.sock"
  [ "$(body_unix "$dir/act.sock")" = "$expected" ] || fail "activated unix socket not served"
  for i in 1 2 3 4; do
    [ "$(body_tcp "127.0.0.1:$port")" = "$expected" ] || fail "request $i on the TCP socket"
  done
  stop
  echo "ok: both inherited sockets served"
done
echo "PASS"
