#!/usr/bin/env bash
# --body-timeout and --max-requests-per-connection through the binary, on loopback:
#   - a body that stops mid-way gets 408 after the body timeout (1 s), well before the
#     header timeout (5 s), and /metrics counts it as a body timeout;
#   - with --max-requests-per-connection 2, three pipelined requests get two answers, the
#     second saying "Connection: close", then EOF;
#   - bad values exit 2 with a message naming the flag, and the usage.
#
# usage: limits_test.sh  (HTTPSERVER names the binary)
set -euo pipefail
source "$(dirname "$0")/serve.sh"

echo "== bad values"
for args in "--body-timeout 0" "--body-timeout 5d" "--max-requests-per-connection -1" \
            "--max-requests-per-connection=many"; do
  rc=0
  # shellcheck disable=SC2086
  "$bin" $args >/dev/null 2>"$dir/usage" || rc=$?
  [ "$rc" = 2 ] || fail "$args: exit $rc, expected 2"
  grep -q -- "${args%%[ =]*}" "$dir/usage" || fail "$args: the message does not name the flag"
  grep -q '^Usage: httpserver' "$dir/usage" || fail "$args: no usage"
done
echo "ok: bad values refused"

start_server --header-timeout 5s --body-timeout 1s --max-requests-per-connection 2

"$py" - "$app" "$admin" <<'PY' || fail "flags not applied"
import socket, sys, time, urllib.request
host, port = sys.argv[1].rsplit(":", 1)

def read_all(s):
    got = b""
    while chunk := s.recv(65536):
        got += chunk
    return got

s = socket.create_connection((host, int(port)), timeout=10)
start = time.monotonic()
s.sendall(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\npartial")
got = read_all(s)
waited = time.monotonic() - start
assert got.startswith(b"HTTP/1.1 408 "), got
assert 0.95 <= waited <= 2.8, f"408 after {waited:.2f} s: not the 1 s body timeout"
print(f"ok: 408 after {waited:.2f} s")

s = socket.create_connection((host, int(port)), timeout=10)
s.sendall(b"GET /1 HTTP/1.1\r\nHost: a\r\n\r\n" * 3)
got = read_all(s)
heads = [h for h in got.split(b"HTTP/1.1 ")[1:]]
assert len(heads) == 2, got
assert b"\r\nConnection: close\r\n" not in heads[0], got
assert b"\r\nConnection: close\r\n" in heads[1], got
print("ok: two answers, the second says close, then EOF")

metrics = urllib.request.urlopen(f"http://{sys.argv[2]}/metrics", timeout=5).read().decode()
assert 'httpserver_timeouts_total{kind="body"} 1\n' in metrics, metrics
assert 'httpserver_timeouts_total{kind="header"} 0\n' in metrics, metrics
PY
echo "PASS"
