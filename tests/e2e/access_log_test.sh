#!/usr/bin/env bash
# --access-log and --request-id through the binary, on loopback:
#   - without them: only the uri: line, and no X-Request-Id field;
#   - with them (text, two workers): one access line per response, after it, with method,
#     target, proto, status, bytes (the response's, to the byte), duration_us, remote and
#     request_id; X-Request-Id echoed: the client's when sane (quotes and backslashes
#     included), else 32 hex digits made up, distinct across requests and workers;
#   - hostile targets and ids (quotes, backslashes, bytes that are not UTF-8, control bytes,
#     129-byte ids) give lines that a real logfmt parser reads (go-logfmt, Debian's
#     golang-github-go-logfmt-logfmt-dev, built here) and, with --log-format json, that jq
#     reads; a restart makes up ids with another prefix.
#
# usage: access_log_test.sh  (HTTPSERVER names the binary)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/serve.sh"
command -v jq >/dev/null || { echo "SKIP: jq missing (./dev test installs it)"; exit 77; }
gocode=/usr/share/gocode
if ! command -v go >/dev/null || [ ! -d "$gocode/src/github.com/go-logfmt/logfmt" ]; then
  echo "SKIP: go or go-logfmt missing (./dev test installs golang-go and"
  echo "      golang-github-go-logfmt-logfmt-dev)"
  exit 77
fi
(cd "$here" && GOPATH=$gocode GO111MODULE=off GOFLAGS='' GOCACHE="$dir/gocache" \
  go build -o "$dir/logfmt_records" logfmt_records.go) || fail "logfmt_records did not build"

cat >"$dir/client.py" <<'PY'
"""send APP OUT: sends the requests, records what came back; check OUT RECORDS [PREFIX_FILE]:
compares the access records (one JSON object a line) with it."""
import json, re, socket, sys

def exchange(host, port, data):
    s = socket.create_connection((host, port), timeout=10)
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    got = b""
    while chunk := s.recv(65536):
        got += chunk
    s.close()
    return got

def responses(raw):
    out = []
    while raw:
        head, _, rest = raw.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        fields = {}
        for line in lines[1:]:
            k, _, v = line.partition(b":")
            fields[k.strip().lower().decode()] = v.strip().decode("latin-1")
        length = int(fields.get("content-length", 0))
        out.append({"status": int(lines[0].split()[1]), "bytes": len(head) + 4 + length,
                    "id": fields.get("x-request-id")})
        raw = rest[length:]
    return out

def request(target, rid=None, method=b"GET", body=b"", close=False):
    r = method + b" " + target + b" HTTP/1.1\r\nHost: a\r\n"
    if rid is not None:
        r += b"X-Request-Id: " + rid + b"\r\n"
    if body:
        r += b"Content-Length: %d\r\n" % len(body)
    if close:
        r += b"Connection: close\r\n"
    return r + b"\r\n" + body

CASES = [  # (request bytes, target as logged, id sent when it is to be kept, method, status)
    (request(b"/plain", b"plain-1", close=True), "/plain", "plain-1", "GET", 200),
    (request(b"/quoted", b'q"uo\\te', close=True), "/quoted", 'q"uo\\te', "GET", 200),
    (request(b"/long", b"x" * 129, close=True), "/long", None, "GET", 200),
    (request(b"/long-ok", b"y" * 128, close=True), "/long-ok", "y" * 128, "GET", 200),
    (request(b"/obs", b"caf\xe9", close=True), "/obs", None, "GET", 200),
    (request(b'/t\xff\xfe"\\<x>', close=True), '/t\ufffd\ufffd"\\<x>', None, "GET", 200),
    (request(b"/post", b"p-1", method=b"POST", body=b"hello", close=True), "/post", "p-1",
     "POST", 200),
    # Refused: the target and id as far as the parser took them (not the refused byte).
    (b"GET /ctl\x01 HTTP/1.1\r\nHost: a\r\n\r\n", "", None, "GET", 400),
    (b"GET /hdr HTTP/1.1\r\nHost: a\r\nX-Request-Id: a\x01b\r\n\r\n", "/hdr", "a", "GET", 400),
]
PIPELINED = 10

def send(app, out):
    host, port = app.rsplit(":", 1)
    port = int(port)
    sent = []
    for data, target, rid, method, status in CASES:
        got = responses(exchange(host, port, data))
        assert len(got) == 1 and got[0]["status"] == status, (data, got)
        sent.append({"target": target, "rid": rid, "method": method, **got[0]})
    batch = b"".join(request(b"/p%d" % i, close=i == PIPELINED - 1) for i in range(PIPELINED))
    for i, got in enumerate(responses(exchange(host, port, batch))):
        sent.append({"target": f"/p{i}", "rid": None, "method": "GET", **got})
    json.dump(sent, open(out, "w"))

def check(out, records_file, prefix_file=None):
    sent = json.load(open(out))
    records = [json.loads(l) for l in open(records_file)]
    access = [r for r in records if r.get("msg") == "access"]
    errors = []
    if len(access) != len(sent):
        errors.append(f"{len(access)} access lines for {len(sent)} responses")
    made = []
    for s in sent:
        # Each response's line, found by its echoed id, or by target and status for the 400s.
        match = [r for r in access if s["id"] is not None and r["request_id"] == s["id"]]
        if s["id"] is None:  # the server's own answers carry no X-Request-Id
            match = [r for r in access if str(r["status"]) == str(s["status"]) and
                     (s["target"] is None or r["target"] == s["target"])]
        if len(match) != 1:
            errors.append(f"{s}: {len(match)} lines")
            continue
        r = match[0]
        for key, want in (("method", s["method"]), ("status", s["status"]),
                          ("bytes", s["bytes"])):
            if str(r[key]) != str(want):
                errors.append(f"{s['target']}: {key} {r[key]!r}, expected {want!r}")
        if s["target"] is not None and r["target"] != s["target"]:
            errors.append(f"target {r['target']!r}, expected {s['target']!r}")
        if s["status"] == 200 and r["proto"] != "HTTP/1.1":
            errors.append(f"{s['target']}: proto {r['proto']!r}")
        if s["rid"] is not None and r["request_id"] != s["rid"]:
            errors.append(f"{s['target']}: id {r['request_id']!r}, expected {s['rid']!r}")
        if not re.fullmatch(r"127\.0\.0\.1:\d+", r["remote"]):
            errors.append(f"remote {r['remote']!r}")
        if not 0 <= int(r["duration_us"]) < 5_000_000:
            errors.append(f"duration_us {r['duration_us']!r}")
        if s["rid"] is None:
            if not re.fullmatch(r"[0-9a-f]{32}", r["request_id"]):
                errors.append(f"{s['target']}: made-up id {r['request_id']!r}")
            made.append(r["request_id"])
    if len(set(made)) != len(made):
        errors.append(f"made-up ids repeat: {made}")
    if prefix_file:
        prefixes = {m[:16] for m in made}
        try:
            before = set(json.load(open(prefix_file)))
            if prefixes & before:
                errors.append(f"a restart made up ids with the same prefix: {prefixes & before}")
        except FileNotFoundError:
            pass
        json.dump(sorted(prefixes), open(prefix_file, "w"))
    if errors:
        print("\n".join(errors), file=sys.stderr)
        sys.exit(1)
    print(f"ok: {len(access)} access lines match {len(sent)} responses, {len(made)} made-up ids")

if sys.argv[1] == "send":
    send(sys.argv[2], sys.argv[3])
else:
    check(*sys.argv[2:])
PY

stop_server() {
  kill -TERM "$pid"
  wait "$pid" || fail "exit status $?"
  pid=
}

echo "== off by default: the uri: line only, no X-Request-Id"
start_server
curl -s -D "$dir/head" -o /dev/null "http://$app/quiet"
stop_server
grep -qi '^x-request-id' "$dir/head" && fail "X-Request-Id without --request-id"
grep -q 'msg=access' "$dir/err" && fail "an access line without --access-log"
grep -q 'msg="uri: /quiet"' "$dir/err" || fail "no uri: line"
echo "ok"

echo "== text, two workers: every access line read by go-logfmt"
start_server --access-log --request-id --workers 2
"$py" "$dir/client.py" send "$app" "$dir/sent.json" || fail "requests"
stop_server
grep -c 'msg="uri: ' "$dir/err" >/dev/null || fail "the uri: lines are gone"
grep 'msg=access' "$dir/err" >"$dir/access.log"
"$dir/logfmt_records" <"$dir/access.log" >"$dir/records.jsonl" ||
  { cat "$dir/access.log" >&2; fail "go-logfmt refused an access line"; }
"$py" "$dir/client.py" check "$dir/sent.json" "$dir/records.jsonl" "$dir/prefixes.json" ||
  { cat "$dir/access.log" >&2; fail "access lines (text)"; }

echo "== json, after a restart: every line read by jq"
start_server --access-log --request-id --log-format json
"$py" "$dir/client.py" send "$app" "$dir/sent.json" || fail "requests"
stop_server
jq -c . "$dir/err" >"$dir/records.jsonl" || { cat "$dir/err" >&2; fail "jq refused a line"; }
[ "$(wc -l <"$dir/records.jsonl")" = "$(wc -l <"$dir/err")" ] || fail "jq read fewer lines"
"$py" "$dir/client.py" check "$dir/sent.json" "$dir/records.jsonl" "$dir/prefixes.json" ||
  { cat "$dir/err" >&2; fail "access lines (json)"; }
jq -se '[.[] | select(.msg == "access")] | length > 0 and
          all((.bytes | type) == "number" and (.status | type) == "number" and
              (.duration_us | type) == "number")' "$dir/err" >/dev/null ||
  fail "numbers are not JSON numbers"
echo "PASS"
