#!/usr/bin/env bash
# --root through the binary with real clients, on loopback:
#   - curl: whole files compared with cmp, -r ranges (first-last, suffix, open), -C - resuming
#     a download cut in half, -z (If-Modified-Since) 304 for a current copy and 200 for an old
#     one, HEAD (-I), a directory without its slash redirected and followed (-L);
#   - wget: a whole file, and -c continuing a partial one;
#   - Python's http.client: GET, HEAD, Range and If-None-Match on one keep-alive connection;
#   - --precompressed: curl --compressed gets app.js.gz for app.js (Content-Encoding gzip,
#     Vary, the original's type) and decodes it to app.js; without it, app.js itself;
#   - --dir-listing: a directory without an index lists its names, escaped;
#   - the uri: line of every request is still logged;
#   - a --root that is missing or not a directory stops the binary at start, exit 1, naming it.
#
# usage: files_clients_test.sh  (HTTPSERVER names the binary)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/serve.sh"
for tool in curl wget; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool missing"; exit 77; }
done

site=$dir/site
mkdir -p "$site/docs"
head -c 300000 /dev/urandom >"$site/data.bin"
printf '<!DOCTYPE html><p>home</p>\n' >"$site/index.html"
printf 'docs\n' >"$site/docs/index.html"
printf 'body { color: red }\n' >"$site/style.css"
touch -d '2020-01-02 03:04:05 UTC' "$site/data.bin"
mkdir -p "$site/list"
printf 'x' >"$site/list/a&b.txt"
printf 'x' >"$site/list/<i>.txt"
for i in $(seq 200); do echo "console.log('line $i of a script worth compressing');"; done \
  >"$site/app.js"
gzip -9 -k "$site/app.js"

start_server --root "$site" --precompressed --dir-listing
base=http://$app
out=$dir/out
mkdir -p "$out"

# The image's health check against a site without a healthz file: the binary answers it.
[ ! -e "$site/healthz" ] || fail "the site has a healthz file"
timeout 5 "$bin" --healthcheck --listen "$app" || fail "--healthcheck with --root: unhealthy"
[ "$(curl -fsS "$base/healthz")" = ok ] || fail "/healthz with --root is not the binary's answer"

# curl: whole, ranges, resume, If-Modified-Since
curl -fsS -o "$out/whole" "$base/data.bin"
cmp "$out/whole" "$site/data.bin" || fail "curl: the whole file differs"
curl -fsS -r 1000-1999 -o "$out/range" "$base/data.bin"
cmp "$out/range" <(tail -c +1001 "$site/data.bin" | head -c 1000) || fail "curl -r 1000-1999"
curl -fsS -r -500 -o "$out/suffix" "$base/data.bin"
cmp "$out/suffix" <(tail -c 500 "$site/data.bin") || fail "curl -r -500"
curl -fsS -r 299000- -o "$out/open" "$base/data.bin"
cmp "$out/open" <(tail -c 1000 "$site/data.bin") || fail "curl -r 299000-"
code=$(curl -sS -r 400000- -o /dev/null -w '%{http_code}' "$base/data.bin")
[ "$code" = 416 ] || fail "curl -r past the end: $code, not 416"

head -c 150000 "$site/data.bin" >"$out/resumed"
curl -fsS -C - -o "$out/resumed" "$base/data.bin"
cmp "$out/resumed" "$site/data.bin" || fail "curl -C - did not complete the file"

code=$(curl -sS -z "$site/data.bin" -o "$out/z" -w '%{http_code}' "$base/data.bin")
[ "$code" = 304 ] || fail "curl -z with a current copy: $code, not 304"
code=$(curl -sS -z 'Jan 1 2019' -o "$out/z" -w '%{http_code}' "$base/data.bin")
[ "$code" = 200 ] && cmp -s "$out/z" "$site/data.bin" || fail "curl -z with an old date: $code"

head=$(curl -fsS -I "$base/data.bin" | tr -d '\r')
grep -qi '^content-length: 300000$' <<<"$head" || fail "HEAD: $head"
grep -qi '^last-modified: Thu, 02 Jan 2020 03:04:05 GMT$' <<<"$head" || fail "HEAD: $head"
grep -qi '^accept-ranges: bytes$' <<<"$head" || fail "HEAD: $head"
grep -qi '^content-type: application/octet-stream$' <<<"$head" || fail "HEAD: $head"
[ "$(curl -fsS "$base/style.css" -o /dev/null -w '%{content_type}')" = 'text/css; charset=utf-8' ] ||
  fail "style.css's type"
[ "$(curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' "$base/docs?a=1")" = \
  "301 $base/docs/?a=1" ] || fail "a directory without its slash is not redirected"
[ "$(curl -fsSL "$base/docs")" = docs ] || fail "curl -L to the directory's index"
[ "$(curl -fsS "$base/")" = '<!DOCTYPE html><p>home</p>' ] || fail "the root's index.html"

# wget: whole and continued
wget -q -O "$out/wget" "$base/data.bin" || fail "wget"
cmp "$out/wget" "$site/data.bin" || fail "wget: the file differs"
head -c 100000 "$site/data.bin" >"$out/wget-c"
(cd "$out" && wget -q -c -O wget-c "$base/data.bin") || fail "wget -c"
cmp "$out/wget-c" "$site/data.bin" || fail "wget -c did not complete the file"

# Python's http.client, one keep-alive connection
"$py" - "$app" "$site/data.bin" <<'PY' || fail "http.client"
import http.client, sys
host, port = sys.argv[1].split(":")
data = open(sys.argv[2], "rb").read()
c = http.client.HTTPConnection(host, int(port), timeout=10)
c.request("GET", "/data.bin")
r = c.getresponse(); body = r.read()
assert r.status == 200 and body == data, (r.status, len(body))
etag = r.getheader("ETag")
assert etag and etag.startswith('"'), etag
c.request("HEAD", "/data.bin")
r = c.getresponse(); r.read()
assert r.status == 200 and r.getheader("Content-Length") == str(len(data))
c.request("GET", "/data.bin", headers={"Range": "bytes=10-19"})
r = c.getresponse(); body = r.read()
assert r.status == 206 and body == data[10:20], (r.status, body)
assert r.getheader("Content-Range") == "bytes 10-19/%d" % len(data)
c.request("GET", "/data.bin", headers={"If-None-Match": etag})
r = c.getresponse(); body = r.read()
assert r.status == 304 and body == b"", r.status
c.request("GET", "/data.bin", headers={"Range": "bytes=0-0", "If-Range": '"stale"'})
r = c.getresponse(); body = r.read()
assert r.status == 200 and body == data, r.status
c.request("POST", "/data.bin", body=b"x")
r = c.getresponse(); r.read()
assert r.status == 405 and r.getheader("Allow") == "GET, HEAD", r.status
c.close()
print("http.client: 6 exchanges on one connection")
PY

# --precompressed
head=$(curl -fsS --compressed -D - -o "$out/app.js" "$base/app.js" | tr -d '\r')
cmp "$out/app.js" "$site/app.js" || fail "curl --compressed: app.js differs"
grep -qi '^content-encoding: gzip$' <<<"$head" || fail "no gzip sibling: $head"
grep -qi "^content-length: $(stat -c %s "$site/app.js.gz")$" <<<"$head" || fail "not the .gz's length: $head"
grep -qi '^vary: Accept-Encoding$' <<<"$head" || fail "no Vary: $head"
grep -qi '^content-type: text/javascript; charset=utf-8$' <<<"$head" || fail "type: $head"
head=$(curl -fsS -D - -o "$out/plain.js" "$base/app.js" | tr -d '\r')
cmp "$out/plain.js" "$site/app.js" || fail "app.js without Accept-Encoding differs"
grep -qi '^content-encoding' <<<"$head" && fail "encoded without Accept-Encoding: $head"
code=$(curl -sS -H 'Accept-Encoding: gzip;q=0' -o "$out/refused.js" -w '%{http_code}' "$base/app.js")
[ "$code" = 200 ] && cmp -s "$out/refused.js" "$site/app.js" || fail "gzip;q=0 still got gzip"

# --dir-listing
listing=$(curl -fsS "$base/list/")
grep -qF '<a href="./a%26b.txt">a&amp;b.txt</a>' <<<"$listing" || fail "listing: $listing"
grep -qF '<a href="./%3Ci%3E.txt">&lt;i&gt;.txt</a>' <<<"$listing" || fail "listing: $listing"
[ "$(curl -fsS "$base/list/a%26b.txt")" = x ] || fail "a listed name does not open"

grep -q 'msg="uri: /data.bin"' "$dir/err" || fail "no uri: line for /data.bin"
grep -q 'msg="uri: /docs?a=1"' "$dir/err" || fail "no uri: line for /docs?a=1"
for bad in "$dir/missing" "$site/data.bin"; do
  rc=0
  msg=$(timeout 5 "$bin" --listen 127.0.0.1:0 --root "$bad" 2>&1) || rc=$?
  [ "$rc" = 1 ] && grep -qF "open root $bad" <<<"$msg" || fail "--root $bad: exit $rc, '$msg'"
done
echo "PASS: curl, wget and http.client against --root"
