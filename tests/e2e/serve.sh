# Sourced by the e2e scripts: a scratch directory, cleanup, fail/wait_for, and a server on free
# loopback ports.
#   start_server FLAGS...  starts $HTTPSERVER with an application and an admin listener on
#                          127.0.0.1, its stderr in $dir/err; sets pid, app and admin
#                          (HOST:PORT) once both are listening
#   fail MESSAGE           prints it and the server's stderr, exits 1
bin=${HTTPSERVER:?HTTPSERVER must name the httpserver binary}
# Debian's interpreter, where apt puts python3-prometheus-client (a python3 earlier in PATH
# may not have it).
py=/usr/bin/python3
[ -x "$py" ] || py=python3
dir=$(mktemp -d /tmp/httpserver-e2e.XXXXXX)
pid=
cleanup() {
  [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; sed 's/^/  server| /' "$dir/err" >&2 2>/dev/null; exit 1; }
wait_for() {
  for _ in $(seq 50); do grep -q "$1" "$dir/err" 2>/dev/null && return 0; sleep 0.1; done
  fail "no '$1' in the server's stderr"
}

start_server() {
  "$bin" --listen 127.0.0.1:0 --admin-address 127.0.0.1:0 "$@" 2>"$dir/err" &
  pid=$!
  wait_for "admin listening on"
  # msg="listening on ..." (text) or "msg":"listening on ..." (JSON)
  app=$(sed -n 's/.*[=:]"listening on \(127.0.0.1:[0-9]*\)".*/\1/p' "$dir/err")
  admin=$(sed -n 's/.*admin listening on \(127.0.0.1:[0-9]*\)".*/\1/p' "$dir/err")
  [ -n "$app" ] && [ -n "$admin" ] || fail "addresses not logged"
}
