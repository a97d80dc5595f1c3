#!/usr/bin/env bash
# Footprint figures for the embedding story: how big, how much memory, how many allocations.
# Prints a table; it is not a timed test and asserts nothing (the goals are printed next to
# the figures).
#
#   bench/footprint/footprint.sh
#
# Builds (incrementally, two jobs at most):
#   build-footprint        release, LTO, fully static httpserver (what the image ships)
#   build-footprint-bench  release, bench/hot_path_bench only (allocations per request)
#   minimal_host           bench/footprint/minimal_host.cpp, static, against build-footprint
#   go-tutorial            bench/load/go-tutorial/main.go, if golang and logrus are installed
# Measures, for httpserver, minimal_host, nginx (one worker; master + worker summed) and the
# Go tutorial server, each on its own free 127.0.0.1 port:
#   stripped binary size; RSS idle (VmRSS after start, before any request); RSS growth per
#   idle keep-alive connection: CONNS connections (default 10000), each makes one request,
#   reads the response and stays open (bench/footprint/conns.py). Kernel socket memory is
#   not in any process's RSS.
# Environment: CONNS, JOBS (ninja jobs, default 2), SKIP (names to leave out, e.g. "go nginx").
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$root/build-footprint
bench_build=$root/build-footprint-bench
conns=${CONNS:-10000}
jobs=${JOBS:-2}
skip=" ${SKIP:-} "
# Descriptors for a server (and the client) holding every connection, within the hard limit
# (raising the hard limit needs CAP_SYS_RESOURCE, which a container seldom has).
nofile=$((conns + 1000))
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$hard" -lt "$nofile" ]; then nofile=$hard; fi
if [ "$nofile" -lt $((conns + 100)) ]; then
  echo "footprint: the hard descriptor limit ($hard) is too low for CONNS=$conns" >&2
  exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/footprint.XXXXXX")
server_pid=
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

say() { echo "footprint: $*" >&2; }

# --- Builds ----------------------------------------------------------------------------------
if [ ! -f "$build/build.ninja" ]; then
  say "meson setup $build"
  meson setup "$build" "$root" --buildtype=release -Dstatic_binary=true -Db_lto=true \
    -Dtests=false -Dbench=false -Dcontainer_tests=false >"$work/setup.log" ||
    { cat "$work/setup.log" >&2; exit 1; }
fi
say "building httpserver (release, LTO, static)"
nice ninja -C "$build" -j "$jobs" src/httpserver src/libhttpserver.a >"$work/build.log" ||
  { cat "$work/build.log" >&2; exit 1; }

# The host program is built the way a host would: pkg-config (the build tree's uninstalled
# .pc), -static, the release flags of build-footprint.
minimal=$build/footprint/minimal_host
if [ ! -x "$minimal" ] || [ "$here/minimal_host.cpp" -nt "$minimal" ] ||
  [ "$build/src/libhttpserver.a" -nt "$minimal" ]; then
  say "building minimal_host"
  mkdir -p "$build/footprint"
  # shellcheck disable=SC2046
  nice "${CXX:-c++}" -std=c++20 -O3 -DNDEBUG -flto -static -o "$minimal" "$here/minimal_host.cpp" \
    $(PKG_CONFIG_PATH=$build/meson-uninstalled pkg-config --static --cflags --libs httpserver)
fi

if [ ! -f "$bench_build/build.ninja" ]; then
  say "meson setup $bench_build"
  meson setup "$bench_build" "$root" --buildtype=release -Dtests=false -Dbench=true \
    -Dcontainer_tests=false >"$work/setup-bench.log" ||
    { cat "$work/setup-bench.log" >&2; exit 1; }
fi
say "building hot_path_bench"
nice ninja -C "$bench_build" -j "$jobs" bench/hot_path_bench >"$work/build-bench.log" ||
  { cat "$work/build-bench.log" >&2; exit 1; }

go_src=$root/bench/load/go-tutorial/main.go
go_bin=$build/footprint/go-tutorial
go_why=
if [[ $skip == *" go "* ]]; then
  go_why="skipped (SKIP)"
elif ! command -v go >/dev/null; then
  go_why="skipped: golang not installed (apt-get install golang-go)"
elif [ ! -d /usr/share/gocode/src/github.com/sirupsen/logrus ]; then
  go_why="skipped: logrus not installed (apt-get install golang-github-sirupsen-logrus-dev)"
elif [ ! -f "$go_src" ]; then
  go_why="skipped: $go_src not found"
elif [ ! -x "$go_bin" ] || [ "$go_src" -nt "$go_bin" ]; then
  say "building go-tutorial"
  mkdir -p "$build/footprint"
  (cd "$(dirname "$go_src")" && GOPATH=/usr/share/gocode GO111MODULE=off \
    nice go build -o "$go_bin" main.go) >"$work/go.log" 2>&1 ||
    { cat "$work/go.log" >&2; go_why="skipped: go build failed"; }
fi

nginx_bin=$(command -v nginx || true)
nginx_why=
if [[ $skip == *" nginx "* ]]; then nginx_why="skipped (SKIP)"; fi
if [ -z "$nginx_bin" ]; then nginx_why="skipped: nginx not installed (apt-get install nginx-light)"; fi

# --- Sizes -----------------------------------------------------------------------------------
stripped_size() {
  strip -o "$work/stripped" "$1" 2>/dev/null || cp "$1" "$work/stripped"
  stat -c %s "$work/stripped"
}
# Bytes of the library's own symbols (hs:: and llhttp) in an unstripped binary.
own_code() {
  nm -S -C "$1" 2>/dev/null | python3 -c '
import re, sys
total = 0
for line in sys.stdin:
    f = line.split(None, 3)
    if len(f) == 4 and re.search(r"\bhs::|llhttp", f[3]):
        total += int(f[1], 16)
print(total)'
}
linkage() { if file -L "$1" | grep -q 'statically linked'; then echo static; else echo dynamic; fi; }

# --- Memory ----------------------------------------------------------------------------------
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# measure NAME PORT CMD...: starts CMD (the server, with a raised descriptor limit), runs the
# connection client against it, stops it. Leaves key=value lines in $work/NAME.mem.
measure() {
  local name=$1 port=$2
  shift 2
  say "measuring $name: $conns idle keep-alive connections"
  prlimit --nofile="$nofile:$nofile" -- "$@" >"$work/$name.out" 2>"$work/$name.err" &
  server_pid=$!
  if ! timeout 300 python3 "$here/conns.py" --port "$port" --pid "$server_pid" \
    --count "$conns" >"$work/$name.mem" 2>"$work/$name.client"; then
    say "$name: client failed: $(tail -n 3 "$work/$name.client" | tr '\n' ' ')"
    tail -n 5 "$work/$name.err" >&2 || true
  fi
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=
}
# A server that was skipped or failed has no .mem file: an empty value, not an error (set -e).
get() { if [ -f "$work/$1.mem" ]; then sed -n "s/^$2=//p" "$work/$1.mem"; fi; }

port=$(free_port)
measure httpserver "$port" "$build/src/httpserver" --address 127.0.0.1 --port "$port" \
  --max-connections $((conns * 2)) --idle-timeout 300s

port=$(free_port)
measure minimal_host "$port" "$minimal" "$port"

if [ -z "$nginx_why" ]; then
  port=$(free_port)
  prefix=$work/nginx
  mkdir -p "$prefix"
  cat >"$prefix/nginx.conf" <<EOF
# One worker; access_log off; keep-alive long enough for the measurement. nginx allocates
# and initializes its connection and event arrays for all worker_connections at start.
worker_processes 1;
daemon off;
master_process on;
pid $prefix/nginx.pid;
error_log $prefix/error.log warn;
worker_rlimit_nofile $nofile;
events { worker_connections $nofile; use epoll; }
http {
  client_body_temp_path $prefix/client_body;
  proxy_temp_path $prefix/proxy;
  fastcgi_temp_path $prefix/fastcgi;
  uwsgi_temp_path $prefix/uwsgi;
  scgi_temp_path $prefix/scgi;
  access_log off;
  keepalive_timeout 300s;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$port;
    location / { default_type text/plain; return 200 "package main #14"; }
  }
}
EOF
  measure nginx "$port" "$nginx_bin" -p "$prefix" -e "$prefix/error.log" -c "$prefix/nginx.conf"
fi

if [ -z "$go_why" ]; then
  port=$(free_port)
  measure go-tutorial "$port" "$go_bin" -addr "127.0.0.1:$port"
fi

# --- Allocations per request -----------------------------------------------------------------
say "hot_path_bench --benchmark_filter=OneRequest"
"$bench_build/bench/hot_path_bench" --benchmark_filter=OneRequest --benchmark_min_time=0.2 \
  --benchmark_format=json >"$work/bench.json" 2>/dev/null
allocs() {
  python3 - "$work/bench.json" "$1" <<'EOF'
import json, sys
for b in json.load(open(sys.argv[1]))["benchmarks"]:
    if b["name"].endswith("logging:" + sys.argv[2]):
        print(f'{b["allocs_per_request"]:g}')
EOF
}

# --- Table -----------------------------------------------------------------------------------
kib() { [ -n "$1" ] && awk -v b="$1" 'BEGIN { printf "%.0f KiB", b / 1024 }' || echo "-"; }
bytes() { [ -n "$1" ] && echo "$1 B" || echo "-"; }

names=(httpserver minimal_host)
declare -A bin=([httpserver]=$build/src/httpserver [minimal_host]=$minimal)
[ -z "$nginx_why" ] && { names+=(nginx); bin[nginx]=$nginx_bin; }
[ -z "$go_why" ] && { names+=(go-tutorial); bin[go-tutorial]=$go_bin; }

echo
echo "Footprint ($(date -u +%Y-%m-%dT%H:%M:%SZ), $(uname -r), $conns idle keep-alive connections)"
echo
row() { printf '| %-36s | %-13s | %-13s | %-15s | %-13s | %-11s |\n' "$@"; }
row "" "httpserver" "minimal_host" "nginx 1 worker" "go-tutorial" "goal"
row "------------------------------------" "-------------" "-------------" "---------------" \
  "-------------" "-----------"
line=("stripped binary")
for n in httpserver minimal_host nginx go-tutorial; do
  if [[ " ${names[*]} " == *" $n "* ]]; then
    line+=("$(kib "$(stripped_size "${bin[$n]}")") $(linkage "${bin[$n]}" | cut -c1-3)")
  else line+=("n/a"); fi
done
row "${line[@]}" "< 1536 KiB"
row "  of which hs:: + llhttp code" "$(kib "$(own_code "${bin[httpserver]}")")" \
  "$(kib "$(own_code "${bin[minimal_host]}")")" "-" "-" ""
for metric in "RSS idle (VmRSS)|idle_rss|kib|< 1024 KiB" "  of which anonymous (RssAnon)|idle_anon|kib|" \
  "RSS with $conns conns|loaded_rss|kib|" "per idle connection (VmRSS)|per_connection|bytes|< 1024 B" \
  "per idle connection (RssAnon)|per_connection_anon|bytes|" \
  "connections still open|still_open|raw|$conns"; do
  IFS='|' read -r label key unit goal <<<"$metric"
  line=("$label")
  for n in httpserver minimal_host nginx go-tutorial; do
    v=$(get "$n" "$key")
    case $unit in
      kib) line+=("$(kib "$v")") ;;
      bytes) line+=("$(bytes "$v")") ;;
      *) line+=("${v:--}") ;;
    esac
  done
  row "${line[@]}" "$goal"
done
row "allocs/request, warm (no log / log)" "$(allocs 0) / $(allocs 1)" "-" "-" "-" "0"
echo
cat <<EOF
minimal_host: bench/footprint/minimal_host.cpp, one handler, no logging. httpserver logs every
request (stderr to a file); nginx has access_log off; go-tutorial logs with logrus.
Sizes: sta(tic) or dyn(amic), shared libraries not counted. nginx: master + worker; its idle RSS
includes the connection and event arrays it preallocates for worker_connections ($nofile).
VmRSS counts the binary's pages mapped from the page cache (shared with every process running
it; for a static binary most of its text); RssAnon is the process's own memory. Kernel socket
memory (struct sock, socket buffers) is in no process's RSS.
EOF
[ -n "$nginx_why" ] && echo "nginx: $nginx_why"
[ -n "$go_why" ] && echo "go-tutorial: $go_why"
exit 0
