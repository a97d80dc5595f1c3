#!/usr/bin/env bash
# The admin listener and the drain delay, end to end on loopback:
#   - /livez 200, /readyz 200, /metrics in Prometheus text format 0.0.4 (every sample after
#     its family's HELP and TYPE, counters counting what was served, summed over two workers),
#     404 elsewhere; the application's port keeps every path (its /livez is the tutorial's);
#   - --healthcheck probes /livez on the admin listener: 0 while up, 1 once gone;
#   - SIGTERM with --drain-delay: /readyz 503 at once, requests still served during the
#     delay, exit 0 after it (not before); a second SIGTERM skips the rest of the delay.
#
# usage: admin_test.sh  (HTTPSERVER names the binary)
set -euo pipefail
source "$(dirname "$0")/serve.sh"
command -v curl >/dev/null || { echo "SKIP: curl missing"; exit 77; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
status() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$1"; }

echo "== probes and metrics, two workers"
start_server --workers 2 --drain-delay 1500ms
[ "$(status "http://$admin/livez")" = 200 ] || fail "/livez"
[ "$(status "http://$admin/readyz")" = 200 ] || fail "/readyz before SIGTERM"
[ "$(status "http://$admin/nothing")" = 404 ] || fail "unknown admin path"
[ "$(curl -s "http://$app/livez")" = "package main #14" ] || fail "the app's /livez is not the app's"
for i in $(seq 10); do curl -s -o /dev/null "http://$app/r$i"; done
curl -s -o /dev/null -H 'Host:' "http://$app/no-host" || true  # a 400 the server writes itself
curl -s -D "$dir/metrics.head" "http://$admin/metrics" >"$dir/metrics"
grep -qi '^content-type: text/plain; version=0.0.4' "$dir/metrics.head" || fail "metrics content type"
# Text format 0.0.4: HELP then TYPE then the family's samples; names and values well formed.
awk '
  /^# HELP / { help[$3] = 1; next }
  /^# TYPE / { if (!help[$3]) { print "TYPE before HELP: " $3; bad = 1 }
               if ($4 !~ /^(counter|gauge|histogram)$/) { print "type: " $0; bad = 1 }
               type[$3] = $4; next }
  /^#/ { next }
  { name = $1; sub(/\{.*/, "", name); base = name; sub(/_(bucket|sum|count)$/, "", base)
    if (!(name in type) && !(base in type)) { print "sample without TYPE: " $0; bad = 1 }
    if (name !~ /^[a-zA-Z_:][a-zA-Z0-9_:]*$/ || $NF !~ /^[0-9.e+-]+$/) { print "malformed: " $0; bad = 1 }
    n++ }
  END { if (n < 10) { print "only " n " samples"; bad = 1 } exit bad }' "$dir/metrics" ||
  { cat "$dir/metrics" >&2; fail "metrics are not text format 0.0.4"; }
value() { awk -v n="$1" '$1 == n { print $2 }' "$dir/metrics"; }
[ "$(value httpserver_requests_total)" -ge 11 ] || fail "requests_total $(value httpserver_requests_total), expected 11 or more"
[ "$(value httpserver_client_errors_total)" -ge 1 ] || fail "client_errors_total not counted"
[ "$(value httpserver_workers)" = 2 ] || fail "workers $(value httpserver_workers)"
[ "$(value httpserver_ready)" = 1 ] || fail "ready gauge"
grep -q '^httpserver_build_info{version="[0-9.]*",llhttp="[0-9.]*"} 1$' "$dir/metrics" || fail "build_info"
"$bin" --admin-address "$admin" --healthcheck || fail "--healthcheck on a live admin listener"
echo "ok: probes, 404, metrics format and counts, healthcheck"

echo "== SIGTERM with --drain-delay 1500ms"
kill -TERM "$pid"
t0=$(now_ms)
wait_for "draining"
[ "$(status "http://$admin/readyz")" = 503 ] || fail "/readyz during the drain delay"
[ "$(status "http://$admin/livez")" = 200 ] || fail "/livez during the drain delay"
[ "$(curl -s --max-time 2 "http://$app/during")" = "package main #14" ] || fail "not serving during the delay"
rc=0
wait "$pid" || rc=$?
pid=
elapsed=$(($(now_ms) - t0))
[ "$rc" = 0 ] || fail "exit status $rc"
[ "$elapsed" -ge 1400 ] || fail "exited after $elapsed ms, before the 1500 ms drain delay"
[ "$elapsed" -le 4000 ] || fail "exited after $elapsed ms"
"$bin" --admin-address "$admin" --healthcheck 2>/dev/null && fail "--healthcheck passed with no server"
echo "ok: not ready at once, served during the delay, exit 0 after $elapsed ms"
echo "== a second SIGTERM skips the rest of a 30 s delay"
start_server --drain-delay 30s
kill -TERM "$pid"
wait_for "draining"
t0=$(now_ms)
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
pid=
elapsed=$(($(now_ms) - t0))
[ "$rc" = 0 ] || fail "exit status $rc"
[ "$elapsed" -le 2000 ] || fail "second SIGTERM: exit after $elapsed ms"
grep -q 'shutting down: SIGTERM' "$dir/err" || fail "no shutdown line"
echo "ok: exit $elapsed ms after the second SIGTERM"
echo "PASS"
