#!/usr/bin/env bash
# A drain delay under load, end to end: what a Kubernetes rollout does to a pod.
#   - 8 keep-alive clients send requests back to back (bounded: 3 s, 20,000 requests each at
#     most) while a prober reads /readyz every 2 ms;
#   - SIGTERM comes after 0.7 s; with --drain-delay 800ms the server must turn /readyz to 503
#     at once (the first probe sent after the signal says 503), keep serving during the delay,
#     then shut down gracefully and exit 0;
#   - no request that reached the server is lost: every request the handler saw (its "uri:"
#     line on stderr) got its complete response, and responses kept coming during the delay.
#
# usage: drain_test.sh  (HTTPSERVER names the binary)
set -euo pipefail
source "$(dirname "$0")/serve.sh"

start_server --workers 2 --drain-delay 800ms --shutdown-timeout 5s

"$py" - "$app" "$admin" "$pid" >"$dir/result" <<'EOF' || fail "drain under load: $(cat "$dir/result")"
import os, signal, socket, sys, threading, time

app_host, app_port = sys.argv[1].rsplit(":", 1)
admin_host, admin_port = sys.argv[2].rsplit(":", 1)
server_pid = int(sys.argv[3])
REQUEST = b"GET /load HTTP/1.1\r\nHost: a\r\n\r\n"
lock = threading.Lock()
answered = 0          # complete responses received
after_term = 0        # of those, sent after SIGTERM
term_at = None        # time.monotonic() of the signal
stop = threading.Event()

def read_response(s, buf):
    """One response (Content-Length framed) from s; returns (status, rest) or (None, b"")."""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            return None, b""
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(rest) < length:
        chunk = s.recv(65536)
        if not chunk:
            return None, b""
        rest += chunk
    return int(head.split()[1]), rest[length:]

def client():
    global answered, after_term
    deadline = time.monotonic() + 3.0
    sent = 0
    while not stop.is_set() and time.monotonic() < deadline and sent < 20000:
        try:
            s = socket.create_connection((app_host, int(app_port)), timeout=5)
        except OSError:
            return  # the listener is closed: the server is shutting down
        buf = b""
        with s:
            while not stop.is_set() and time.monotonic() < deadline and sent < 20000:
                sent_at = time.monotonic()
                try:
                    s.sendall(REQUEST)
                    sent += 1
                    status, buf = read_response(s, buf)
                except OSError:
                    status = None
                if status is None:
                    break  # closed between requests: reconnect (or find it shut)
                assert status == 200, status
                with lock:
                    answered += 1
                    if term_at is not None and sent_at > term_at:
                        after_term += 1

def probe(code):
    s = socket.create_connection((admin_host, int(admin_port)), timeout=2)
    with s:
        s.sendall(b"GET /readyz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        return read_response(s, b"")[0]

threads = [threading.Thread(target=client) for _ in range(8)]
for t in threads:
    t.start()
time.sleep(0.7)
assert probe(None) == 200, "not ready before SIGTERM"
term_at = time.monotonic()
os.kill(server_pid, signal.SIGTERM)
first = probe(None)  # sent right after the signal
ready_during = []
while time.monotonic() - term_at < 0.6:
    ready_during.append(probe(None))
    time.sleep(0.002)
for t in threads:
    t.join(10)
stop.set()
print(f"answered={answered} after_term={after_term} first_probe={first} "
      f"probes_during={len(ready_during)} all_503={set(ready_during) == {503}}")
if first != 503 or set(ready_during) != {503}:
    sys.exit("readiness did not turn 503 at once")
if after_term == 0:
    sys.exit("nothing was served during the drain delay")
EOF
rc=0
wait "$pid" || rc=$?
pid=
[ "$rc" = 0 ] || fail "exit status $rc after the drain"
read -r result <"$dir/result"
answered=$(sed -n 's/.*answered=\([0-9]*\).*/\1/p' <<<"$result")
seen=$(grep -c 'msg="uri: /load"' "$dir/err" || true)
# Every request the handler saw was answered to the client, and the other way round.
[ "$seen" = "$answered" ] ||
  fail "the handler saw $seen requests, the clients got $answered responses ($result)"
echo "ok: $result; handler saw $seen: none lost"
