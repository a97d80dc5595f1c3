#!/usr/bin/env bash
# Files benchmark: httpserver --root against nginx serving the same files, on loopback.
#
#   bench/load/files.sh [BUILD_DIR]        (default build-test; about 1 min)
#
# Files of 1 KiB, 64 KiB and 1 MiB; wrk -t1 -c$CONNS keep-alive, one request in flight per
# connection, $DURATION per run, each server pinned to CPU $SERVER_CPU and wrk to CPU
# $CLIENT_CPU. httpserver logs its uri: line (text, to a file); nginx has sendfile on,
# tcp_nodelay on and a buffered access log (as bench/load/nginx.conf's nginx-log). Per run:
# requests/s and bytes/s from wrk, the server's CPU share (utime+stime from /proc over wall
# time) and both per server core. Syscalls per request from a shorter run under strace -c -f
# (STRACE=0 skips it). Servers are stopped by their PIDs.
#
# Environment: DURATION [5s] CONNS [16] SERVER_CPU [0] CLIENT_CPU [1] STRACE [1]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build-test}
server_bin=$build/src/httpserver
nginx=$(command -v nginx || echo /usr/sbin/nginx)
DURATION=${DURATION:-5s}
CONNS=${CONNS:-16}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
STRACE=${STRACE:-1}
for c in wrk taskset "$nginx" "$server_bin"; do
  command -v "$c" >/dev/null || { echo "missing: $c" >&2; exit 2; }
done

dir=$(mktemp -d /tmp/files-bench.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
mkdir -p "$dir/site" "$dir/nginx"
head -c 1024 /dev/urandom >"$dir/site/1k.bin"
head -c 65536 /dev/urandom >"$dir/site/64k.bin"
head -c 1048576 /dev/urandom >"$dir/site/1m.bin"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

ours_port=$(free_port)
taskset -c "$SERVER_CPU" "$server_bin" --address 127.0.0.1 --port "$ours_port" --root "$dir/site" \
  2>"$dir/ours.log" &
ours_pid=$!
pids+=("$ours_pid")

nginx_port=$(free_port)
cat >"$dir/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
master_process off;
pid $dir/nginx/nginx.pid;
error_log $dir/nginx/error.log warn;
events { worker_connections 4096; use epoll; multi_accept on; }
http {
    client_body_temp_path $dir/nginx/body;
    proxy_temp_path $dir/nginx/proxy;
    fastcgi_temp_path $dir/nginx/fastcgi;
    uwsgi_temp_path $dir/nginx/uwsgi;
    scgi_temp_path $dir/nginx/scgi;
    access_log $dir/nginx/access.log combined buffer=64k flush=1s;
    sendfile on;
    tcp_nodelay on;
    keepalive_requests 2000000000;
    server {
        listen 127.0.0.1:$nginx_port backlog=4096;
        root $dir/site;
        location / { }
    }
}
CONF
taskset -c "$SERVER_CPU" "$nginx" -p "$dir/nginx" -c "$dir/nginx/nginx.conf" -e "$dir/nginx/error.log" &
nginx_pid=$!
pids+=("$nginx_pid")
wait_port "$ours_port" && wait_port "$nginx_port" || { echo "a server did not start" >&2; exit 1; }

hz=$(getconf CLK_TCK)
secs=${DURATION%s}
printf '%-12s %-6s %12s %12s %9s %14s %14s %10s\n' server file 'req/s' 'MB/s' 'cpu' 'req/s/core' 'MB/s/core' 'sys/req'
for file in 1k.bin 64k.bin 1m.bin; do
  for who in httpserver nginx; do
    if [ "$who" = httpserver ]; then port=$ours_port; pid=$ours_pid; else port=$nginx_port; pid=$nginx_pid; fi
    url=http://127.0.0.1:$port/$file
    taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNS" -d1s "$url" >/dev/null  # warm-up
    t0=$(cpu_ticks "$pid"); w0=$(date +%s.%N)
    out=$(taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNS" -d"$DURATION" "$url")
    t1=$(cpu_ticks "$pid"); w1=$(date +%s.%N)
    rps=$(sed -n 's/^Requests\/sec: *//p' <<<"$out")
    bytes=$(sed -n 's/^Transfer\/sec: *//p' <<<"$out")
    mbs=$(python3 -c "
import re,sys; v,u=re.match(r'([0-9.]+)([KMG]?B)','$bytes').groups()
print('%.1f' % (float(v)*{'B':1,'KB':1024,'MB':1<<20,'GB':1<<30}[u]/(1<<20)))")
    cpu=$(python3 -c "print('%.2f' % (($t1-$t0)/$hz/($w1-$w0)))")
    sys_req=-
    if [ "$STRACE" = 1 ] && command -v strace >/dev/null; then
      strace -c -f -q -p "$pid" -o "$dir/strace.$who.$file" &
      spid=$!
      sleep 0.5
      sout=$(taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNS" -d2s "$url")
      kill -INT "$spid"; wait "$spid" 2>/dev/null || true
      sreq=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' <<<"$sout")
      calls=$(awk '$NF == "total" {print $(NF-2)}' "$dir/strace.$who.$file")
      [ -n "$calls" ] && [ "${sreq:-0}" -gt 0 ] && sys_req=$(python3 -c "print('%.2f' % ($calls/$sreq))")
    fi
    python3 -c "
rps=float('$rps'); mbs=float('$mbs'); cpu=max(float('$cpu'), 0.01)
print('%-12s %-6s %12.0f %12.1f %9s %14.0f %14.1f %10s' % ('$who', '${file%.bin}', rps, mbs, '$cpu', rps/cpu, mbs/cpu, '$sys_req'))"
  done
done
echo "wrk -t1 -c$CONNS -d$DURATION, keep-alive; servers on CPU $SERVER_CPU, wrk on CPU $CLIENT_CPU;" \
  "$(nproc) CPUs, $(uname -r), commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo ?)"
