#!/usr/bin/env bash
# The traffic figures of /metrics, end to end, read with a real Prometheus text parser
# (prometheus_client.parser, Debian's python3-prometheus-client) and checked against what a
# client sent over two workers:
#   - httpserver_responses_total{method,code}: GET/POST/HEAD/PUT/DELETE/OPTIONS/PATCH and an
#     unlisted method (other) answered 200 by the handler; 400 (no Host), 431 (a large
#     header), 408 (a head cut short) by the server itself, counted under GET; 501 for an
#     unknown method under other;
#   - httpserver_request_duration_seconds: count == requests_total, cumulative buckets
#     monotone, +Inf == count, a positive sum;
#   - httpserver_received_bytes_total / sent_bytes_total equal to the bytes the client sent
#     and received, to the byte;
#   - httpserver_timeouts_total{kind}: one header and one idle timeout.
#
# usage: metrics_test.sh  (HTTPSERVER names the binary)
set -euo pipefail
source "$(dirname "$0")/serve.sh"
"$py" -c 'import prometheus_client.parser' 2>/dev/null ||
  { echo "SKIP: python3-prometheus-client missing (./dev test installs it)"; exit 77; }

start_server --workers 2 --max-header-bytes 1KiB --header-timeout 1s --idle-timeout 1s

"$py" - "$app" "$admin" <<'EOF' || fail "metrics do not match the traffic"
import socket, sys, threading, time, urllib.request
from prometheus_client.parser import text_string_to_metric_families

app_host, app_port = sys.argv[1].rsplit(":", 1)
admin = sys.argv[2]
sent = 0      # bytes written to the app's port
received = 0  # bytes read from it
lock = threading.Lock()

def exchange(data, then_wait=0.0):
    """Sends `data`, shuts down writing (unless it waits for a deadline first), reads to EOF."""
    global sent, received
    s = socket.create_connection((app_host, int(app_port)), timeout=10)
    s.sendall(data)
    if then_wait:
        time.sleep(then_wait)
    else:
        s.shutdown(socket.SHUT_WR)
    got = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        got += chunk
    s.close()
    with lock:
        sent += len(data)
        received += len(got)
    return got

def statuses(raw, methods):
    """The status of each response in `raw`, framed by Content-Length (none after HEAD)."""
    out = []
    for method in methods:
        head, _, rest = raw.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        out.append(int(lines[0].split()[1]))
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        raw = rest[0 if method == "HEAD" else length:]
    assert raw == b"", raw
    return out

def request(method, body=b"", close=False, extra=b""):
    r = f"{method} /m HTTP/1.1\r\nHost: a\r\n".encode() + extra
    if body or method in ("POST", "PUT", "PATCH"):
        r += f"Content-Length: {len(body)}\r\n".encode()
    if close:
        r += b"Connection: close\r\n"
    return r + b"\r\n" + body

expected = {}
def expect(method, code, n=1):
    expected[(method, code)] = expected.get((method, code), 0) + n

# Handler answers (200), pipelined on a few connections, each ending with Connection: close.
gets = 20
assert statuses(exchange(b"".join(request("GET", close=i == gets - 1) for i in range(gets))),
                ["GET"] * gets) == [200] * gets
expect("GET", "2xx", gets)
posts = [request("POST", b"x" * (10 * i + 1), close=i == 4) for i in range(5)]
assert statuses(exchange(b"".join(posts)), ["POST"] * 5) == [200] * 5
expect("POST", "2xx", 5)
mixed = ["HEAD", "HEAD", "HEAD", "PUT", "DELETE", "DELETE", "OPTIONS", "PATCH", "PROPFIND"]
raw = exchange(b"".join(request(m, close=i == len(mixed) - 1) for i, m in enumerate(mixed)))
assert statuses(raw, mixed) == [200] * len(mixed)
for m in mixed:
    expect(m if m != "PROPFIND" else "other", "2xx")
handler_requests = gets + 5 + len(mixed)

# The server's own answers.
assert statuses(exchange(b"GET /m HTTP/1.1\r\n\r\n"), ["GET"]) == [400]
expect("GET", "4xx")
big = request("GET", extra=b"X-Big: " + b"y" * 2048 + b"\r\n")
assert statuses(exchange(big), ["GET"]) == [431]
expect("GET", "4xx")
assert statuses(exchange(b"BREW /m HTTP/1.1\r\nHost: a\r\n\r\n"), ["BREW"]) == [501]
expect("other", "5xx")

# Deadlines, side by side: a head cut short (408 after the 1 s header timeout) and a kept-alive
# connection left idle (closed silently after the 1 s idle timeout).
results = {}
def cut_short():
    results["header"] = exchange(b"GET /m HTTP/1.1\r\nHost: a\r\n", then_wait=0.1)
def idle():
    results["idle"] = exchange(request("GET"), then_wait=0.1)
threads = [threading.Thread(target=cut_short), threading.Thread(target=idle)]
for t in threads: t.start()
for t in threads: t.join(10)
assert statuses(results["header"], ["GET"]) == [408], results["header"]
assert statuses(results["idle"], ["GET"]) == [200], results["idle"]
expect("GET", "4xx")
expect("GET", "2xx")
handler_requests += 1

text = urllib.request.urlopen(f"http://{admin}/metrics", timeout=5).read().decode()
samples = {}
types = {}
for family in text_string_to_metric_families(text):
    types[family.name] = family.type
    for s in family.samples:
        samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
def value(name, **labels):
    return samples[(name, tuple(sorted(labels.items())))]

errors = []
def check(what, got, want):
    if got != want:
        errors.append(f"{what}: {got}, expected {want}")

methods = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "other"]
codes = ["1xx", "2xx", "3xx", "4xx", "5xx"]
check("responses_total type", types.get("httpserver_responses"), "counter")
for m in methods:
    for c in codes:
        check(f"responses_total{{method={m},code={c}}}",
              value("httpserver_responses_total", method=m, code=c), expected.get((m, c), 0))
check("requests_total", value("httpserver_requests_total"), handler_requests)

check("duration type", types.get("httpserver_request_duration_seconds"), "histogram")
count = value("httpserver_request_duration_seconds_count")
check("duration count", count, handler_requests)
buckets = sorted(((float(dict(k[1])["le"]), v) for k, v in samples.items()
                  if k[0] == "httpserver_request_duration_seconds_bucket"))
check("bucket count", len(buckets), 17)
check("buckets monotone", all(a[1] <= b[1] for a, b in zip(buckets, buckets[1:])), True)
check("+Inf bucket", buckets[-1], (float("inf"), count))
check("first bound", buckets[0][0], 0.0001)
total = value("httpserver_request_duration_seconds_sum")
check("duration sum positive", 0 < total < count * 10, True)

check("received bytes", value("httpserver_received_bytes_total"), sent)
check("sent bytes", value("httpserver_sent_bytes_total"), received)
check("header timeouts", value("httpserver_timeouts_total", kind="header"), 1)
check("idle timeouts", value("httpserver_timeouts_total", kind="idle"), 1)
for kind in ("body", "write", "linger"):
    check(f"{kind} timeouts", value("httpserver_timeouts_total", kind=kind), 0)

if errors:
    print("\n".join(errors), file=sys.stderr)
    print(text, file=sys.stderr)
    sys.exit(1)
print(f"ok: {handler_requests} requests timed, {sent} bytes in, {received} bytes out")
EOF
echo "PASS"
