#!/usr/bin/env bash
# nginx as the oracle for --root: the same tree served by both, a table of range and
# conditional requests sent to each, and for every row the same status, Content-Range,
# Content-Length, ETag, Last-Modified and (for 200 and 206) the same body bytes. Rows where
# RFC 9110 leaves the choice open (or nginx departs from it) carry the reason we differ; they
# are printed and not compared.
#
# nginx (Debian's nginx-light) runs in the foreground as one process on a free loopback port
# and is stopped by its PID.
#
# usage: files_nginx_test.sh  (HTTPSERVER names the binary)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/serve.sh"
nginx=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$nginx" ] || { echo "SKIP: nginx missing (apt-get install nginx-light)"; exit 77; }

site=$dir/site
mkdir -p "$site/docs" "$site/empty"
head -c 300000 /dev/urandom >"$site/data.bin"
: >"$site/zero.bin"
printf 'docs\n' >"$site/docs/index.html"
touch -d '2020-01-02 03:04:05 UTC' "$site/data.bin" "$site/zero.bin"

nginx_port=$("$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$dir/nginx"
cat >"$dir/nginx/nginx.conf" <<CONF
daemon off;
master_process off;
worker_processes 1;
pid $dir/nginx/nginx.pid;
error_log $dir/nginx/error.log;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $dir/nginx/body;
    proxy_temp_path $dir/nginx/proxy;
    fastcgi_temp_path $dir/nginx/fastcgi;
    uwsgi_temp_path $dir/nginx/uwsgi;
    scgi_temp_path $dir/nginx/scgi;
    sendfile on;
    server {
        listen 127.0.0.1:$nginx_port;
        root $site;
        location / { }
    }
}
CONF
"$nginx" -p "$dir/nginx" -c "$dir/nginx/nginx.conf" -e "$dir/nginx/error.log" &
nginx_pid=$!
trap 'kill "$nginx_pid" 2>/dev/null; wait "$nginx_pid" 2>/dev/null; cleanup' EXIT
start_server --root "$site"
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$nginx_port") 2>/dev/null && break; sleep 0.1; done

"$py" - "$app" "127.0.0.1:$nginx_port" <<'PY'
import hashlib, http.client, sys

ours, theirs = sys.argv[1], sys.argv[2]
etag_probe = None

def ask(where, method, path, headers):
    host, port = where.split(":")
    c = http.client.HTTPConnection(host, int(port), timeout=10)
    c.request(method, path, headers=headers)
    r = c.getresponse()
    body = r.read()
    c.close()
    got = {"status": r.status}
    for name in ("Content-Range", "Content-Length", "ETag", "Last-Modified"):
        got[name] = r.getheader(name)
    if r.status in (200, 206):
        got["body"] = hashlib.sha256(body).hexdigest()[:12] + " (%d bytes)" % len(body)
    return got

etag = ask(theirs, "GET", "/data.bin", {})["ETag"]
date = "Thu, 02 Jan 2020 03:04:05 GMT"
earlier = "Wed, 01 Jan 2020 00:00:00 GMT"
later = "Fri, 03 Jan 2020 00:00:00 GMT"
rows = [
    ("GET", "/data.bin", {}),
    ("HEAD", "/data.bin", {}),
    ("GET", "/data.bin", {"Range": "bytes=0-0"}),
    ("GET", "/data.bin", {"Range": "bytes=100-199"}),
    ("GET", "/data.bin", {"Range": "bytes=-500"}),
    ("GET", "/data.bin", {"Range": "bytes=299000-"}),
    ("GET", "/data.bin", {"Range": "bytes=299999-"}),
    ("GET", "/data.bin", {"Range": "bytes=0-999999"}),
    ("GET", "/data.bin", {"Range": "bytes=-999999"}),
    ("GET", "/data.bin", {"Range": "bytes=300000-"}),
    ("GET", "/data.bin", {"Range": "bytes=400000-500000"}),
    ("HEAD", "/data.bin", {"Range": "bytes=10-19"}),
    ("GET", "/data.bin", {"Range": "bytes=0-1,5-6"},
     "several pieces: nginx sends multipart/byteranges, we send the whole 200"),
    ("GET", "/data.bin", {"Range": "bytes=5-4"},
     "an invalid range: nginx answers 416, we ignore the field (RFC 9110 14.2 allows both)"),
    ("GET", "/data.bin", {"Range": "bytes=abc"},
     "an invalid range: nginx answers 416, we ignore the field (RFC 9110 14.2 allows both)"),
    ("GET", "/data.bin", {"Range": "items=0-1"}),
    ("GET", "/data.bin", {"If-None-Match": etag}),
    ("GET", "/data.bin", {"If-None-Match": "W/" + etag}),
    ("GET", "/data.bin", {"If-None-Match": '"other", ' + etag}),
    ("GET", "/data.bin", {"If-None-Match": '"other"'}),
    ("GET", "/data.bin", {"If-None-Match": "*"}),
    ("HEAD", "/data.bin", {"If-None-Match": etag}),
    ("GET", "/data.bin", {"If-Modified-Since": date}),
    ("GET", "/data.bin", {"If-Modified-Since": earlier}),
    ("GET", "/data.bin", {"If-Modified-Since": later},
     "a date after Last-Modified: nginx (if_modified_since exact) sends 200, RFC 9110 13.1.3 304"),
    ("GET", "/data.bin", {"If-Modified-Since": "not a date"}),
    ("GET", "/data.bin", {"If-None-Match": '"other"', "If-Modified-Since": date}),
    ("GET", "/data.bin", {"If-Match": etag}),
    ("GET", "/data.bin", {"If-Match": '"other"'}),
    ("GET", "/data.bin", {"If-Match": "*"}),
    ("GET", "/data.bin", {"If-Unmodified-Since": earlier}),
    ("GET", "/data.bin", {"If-Unmodified-Since": date}),
    ("GET", "/data.bin", {"Range": "bytes=10-19", "If-Range": etag}),
    ("GET", "/data.bin", {"Range": "bytes=10-19", "If-Range": '"stale"'}),
    ("GET", "/data.bin", {"Range": "bytes=10-19", "If-Range": date}),
    ("GET", "/data.bin", {"Range": "bytes=10-19", "If-Range": earlier}),
    ("GET", "/data.bin", {"Range": "bytes=10-19", "If-None-Match": etag}),
    ("GET", "/zero.bin", {}),
    ("GET", "/zero.bin", {"Range": "bytes=0-"}),
    ("GET", "/docs/", {}),
    ("GET", "/docs", {}),
    ("GET", "/missing", {}),
    ("GET", "/empty/", {}),
]
compare_keys = ("status", "Content-Range", "Content-Length", "ETag", "Last-Modified", "body")
failures = 0
allowed = 0
for method, path, headers, *why in rows:
    a, b = ask(ours, method, path, headers), ask(theirs, method, path, headers)
    if path == "/docs" or a["status"] >= 400:  # error pages and redirects' bodies are each one's
        keys = ("status", "Content-Range")
    else:
        keys = compare_keys
    same = all(a.get(k) == b.get(k) for k in keys)
    what = " ".join("%s: %s" % (k, v) for k, v in headers.items()) or "-"
    mark = "same" if same else ("differs, allowed: " + why[0] if why else "DIFFERENT")
    print("%-4s %-9s %-52s %3d %3d  %s" % (method, path, what[:52], a["status"], b["status"], mark))
    allowed += not same and bool(why)
    if not same and not why:
        failures += 1
        for k in keys:
            if a.get(k) != b.get(k):
                print("     %s: ours %r, nginx %r" % (k, a.get(k), b.get(k)))
print("%d rows: %d the same as nginx, %d allowed differences, %d failures"
      % (len(rows), len(rows) - failures - allowed, allowed, failures))
sys.exit(1 if failures else 0)
PY
echo "PASS: --root answers as nginx does"
