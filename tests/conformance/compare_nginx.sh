#!/bin/bash
# Runs the conformance cases against httpserver and against nginx and prints, for each case,
# what the RFC expects, what we do and what nginx does. By hand, not in CI:
#
#   tests/conformance/compare_nginx.sh [BUILD_DIR]      (default /tmp/hard-build)
#
# Needs nginx (Debian: apt-get install nginx-light). nginx runs in the foreground as one
# process on a free 127.0.0.1 port with the config nginx.conf.in, and is stopped (by its PID)
# when the script ends. BYTES=1 also compares the byte-at-a-time variant of every case.
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-/tmp/hard-build}
test_bin=$build/tests/conformance/conformance_test
server=$build/src/httpserver
nginx=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$test_bin" ] && [ -x "$server" ] || { echo "build first: ninja -C $build" >&2; exit 2; }
[ -x "$nginx" ] || { echo "nginx is not installed (apt-get install nginx-light)" >&2; exit 2; }

dir=$(mktemp -d /tmp/conformance-nginx.XXXXXX)
nginx_pid=
cleanup() {
  if [ -n "$nginx_pid" ]; then
    kill "$nginx_pid" 2>/dev/null
    wait "$nginx_pid" 2>/dev/null
  fi
  rm -rf "$dir"
}
trap cleanup EXIT

listening() {  # is something listening on 127.0.0.1:$1?
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

port=
for attempt in 1 2 3 4 5; do
  candidate=$((20000 + RANDOM % 40000))
  listening "$candidate" && continue
  sed -e "s|@DIR@|$dir|g" -e "s|@PORT@|$candidate|g" "$here/nginx.conf.in" >"$dir/nginx.conf"
  "$nginx" -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" &
  nginx_pid=$!
  for i in $(seq 1 50); do
    listening "$candidate" && { port=$candidate; break; }
    kill -0 "$nginx_pid" 2>/dev/null || break
    sleep 0.1
  done
  [ -n "$port" ] && break
  kill "$nginx_pid" 2>/dev/null; wait "$nginx_pid" 2>/dev/null; nginx_pid=
done
[ -n "$port" ] || { echo "nginx did not start:" >&2; cat "$dir/error.log" >&2; exit 1; }

filter='Whole/*'
[ "${BYTES:-0}" = 1 ] && filter='*'
CONFORMANCE_TABLE=1 HTTPSERVER="$server" "$test_bin" --gtest_filter="$filter" \
  | grep '^OBSERVED' >"$dir/ours.txt"
NGINX_PORT=$port "$test_bin" --gtest_filter="$filter" | grep '^OBSERVED' >"$dir/nginx.txt"

echo "nginx $("$nginx" -v 2>&1 | sed 's|.*/||') on 127.0.0.1:$port"
awk -F'\t' '
  NR == FNR { ours[$2] = $5; next }
  {
    mark = (ours[$2] == $5) ? "" : "  <-- differs"
    printf "%-52s %-30s %-22s %-16s %-16s%s\n", $2, $3, $4, ours[$2], $5, mark
  }' "$dir/ours.txt" "$dir/nginx.txt" >"$dir/table.txt"
printf "%-52s %-30s %-22s %-16s %-16s\n" "case" "section" "expected" "ours" "nginx"
cat "$dir/table.txt"
echo
echo "$(wc -l <"$dir/table.txt") cases, $(grep -c 'differs' "$dir/table.txt") differ"
