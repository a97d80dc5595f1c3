#!/usr/bin/env bash
# Load benchmark: a real client (wrk) against httpserver, the syscall-floor server
# (bench/floor), nginx and the Go tutorial server, side by side, on loopback only.
#
#   bench/load/run.sh                 3 rounds of 5 s per target and scenario (about 8 min)
#   QUICK=1 bench/load/run.sh         1 round of 2 s, short syscall runs (smoke test, ~2.5 min)
#
# Every server is pinned to CPU $SERVER_CPU (0) and wrk to CPU $CLIENT_CPU (1) with taskset,
# each server on its own free 127.0.0.1 port. Scenarios:
#   keepalive  wrk -t1 -c64: 64 keep-alive connections, one request in flight on each
#   pipeline   the same 64 connections, 16 requests per write (pipeline.lua)
#   close      a new connection per request (Connection: close): connections/s
# Targets: floor, httpserver-nolog (--log-format=none), httpserver-log (text log to a file),
# nginx (one worker, access_log off), nginx-log (access log to a file, buffered),
# go-tutorial (net/http + logrus, logs to a file); a target whose binary is missing is skipped.
# Not in the default list, for taking httpserver's gap to the floor apart: floor-same-bytes
# (the floor sending httpserver's exact response bytes: Server and Date too) and
# floor-same-bytes-log (and writing httpserver's log line per request to a file, once per
# loop iteration); see bench/floor/floor.c; httpserver-log-noserver (httpserver-log with
# --server-name=: no Server field, the bytes Go's net/http sends); httpserver-admin
# (httpserver-nolog with --admin-address: /metrics' request timing on); httpserver-accesslog
# (httpserver-log with --access-log: an access line after each uri: line).
#
# Rounds alternate the targets (A B C A B C ...) and the table shows medians over rounds:
# the machine is shared and noisy. Per run: requests/s and p50/p99 from wrk, the server's
# CPU share (utime+stime from /proc/PID/stat over wall time) and requests/s per server core.
# Syscalls per request come from one extra, shorter run per target and scenario under
# `strace -c -f` (strace slows the server; the count per request is what is kept).
#
# Environment (defaults in brackets):
#   DURATION [5s] ROUNDS [3] CONNS [64] DEPTH [16] WARMUP [1s]
#   STRACE [1] STRACE_DURATION [3s] STRACE_TRIES [3] (a stalled strace run is repeated)
#   TARGETS ["floor httpserver-nolog httpserver-log nginx nginx-log go-tutorial"]
#   SCENARIOS ["keepalive pipeline close"]   SERVER_CPU [0]   CLIENT_CPU [1]
#   BUILD_DIR [build-load]   RESULTS_JSON [bench/load/results/local/latest.json] (SVG beside it;
#   untracked: bench/load/publish.py copies a run into the docs)
#   INSTALL [1]: apt-get install what is missing   KEEP_TMP [0]: keep logs and raw output
#   NICE [unset]: nice value for servers and wrk (e.g. -15 as root on a busy shared machine)
#   REALTIME [0]: 1 runs servers and wrk SCHED_FIFO (chrt -f 10): takes the cores from others
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

QUICK=${QUICK:-0}
# SCENARIOS=all: round 1's and round 2's scenarios (scenarios/round2.sh), log-on targets,
# 3 s per run: about 13 minutes; with QUICK=1 about 4.
if [ "${SCENARIOS:-}" = all ]; then
  SCENARIOS="keepalive pipeline close browser upload-1k upload-64k upload-64k-chunked large-64k
large-1m many rate-max rate-50 rate-90 rate-90-ours"
  SCENARIOS=$(echo $SCENARIOS)
  ALL_TARGETS="floor httpserver-log nginx-log go-tutorial h2o-log"
  DURATION=${DURATION:-3s}
  STRACE_SCENARIOS=${STRACE_SCENARIOS:-"keepalive close browser"}
fi
if [ "$QUICK" = 1 ]; then
  DURATION=${DURATION:-2s}; ROUNDS=${ROUNDS:-1}; STRACE_DURATION=${STRACE_DURATION:-2s}
fi
DURATION=${DURATION:-5s}
ROUNDS=${ROUNDS:-3}
CONNS=${CONNS:-64}
DEPTH=${DEPTH:-16}
WARMUP=${WARMUP:-1s}
STRACE=${STRACE:-1}
STRACE_DURATION=${STRACE_DURATION:-3s}
STRACE_TRIES=${STRACE_TRIES:-3}
TARGETS_GIVEN=${TARGETS:-}
TARGETS=${TARGETS:-${ALL_TARGETS:-"floor httpserver-nolog httpserver-log nginx nginx-log go-tutorial"}}
SCENARIOS=${SCENARIOS:-"keepalive pipeline close"}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
BUILD_DIR=${BUILD_DIR:-$ROOT/build-load}
RESULTS_JSON=${RESULTS_JSON:-$HERE/results/local/latest.json}
RESULTS_SVG=${RESULTS_SVG:-${RESULTS_JSON%.json}.svg}
INSTALL=${INSTALL:-1}
KEEP_TMP=${KEEP_TMP:-0}
NICE=${NICE:-}
REALTIME=${REALTIME:-0}

say() { echo "load: $*" >&2; }
die() { say "error: $*"; exit 1; }

# seconds SPEC: "5s" / "2m" / "5" -> integer seconds (for guards and the strace window)
seconds() {
  local v=${1%s}
  case $v in *m) echo $(( ${v%m} * 60 ));; *h) echo $(( ${v%h} * 3600 ));; *) echo "$v";; esac
}

# ---------------------------------------------------------------- processes and cleanup
TMP=$(mktemp -d "${TMPDIR:-/tmp}/httpserver-load.XXXXXX")
declare -A LIVE=()          # pid -> what, for every process this script started and not reaped

track() { LIVE[$1]=$2; }
reap() { wait "$1" 2>/dev/null || true; unset "LIVE[$1]"; }

stop_pid() {  # stop_pid PID: SIGTERM, then SIGKILL after 3 s; only our own pids
  local pid=$1 _
  [ -n "${LIVE[$pid]+x}" ] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 30); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  reap "$pid"
}

cleanup() {
  local rc=$? pid
  trap - EXIT INT TERM
  for pid in "${!LIVE[@]}"; do stop_pid "$pid"; done
  if [ "$KEEP_TMP" = 1 ] || [ "$rc" != 0 ]; then
    say "raw output kept in $TMP"
  else
    rm -rf "$TMP"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'say interrupted; exit 130' INT
trap 'say terminated; exit 143' TERM

# ---------------------------------------------------------------- packages
missing_pkgs=()
need_pkg() {  # need_pkg COMMAND PACKAGE...: the first package, when COMMAND is missing
  command -v "$1" >/dev/null 2>&1 || missing_pkgs+=("$2")
}
need_deb() {  # need_deb PACKAGE: when not installed
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed' || missing_pkgs+=("$1")
}
apt_install() {
  [ ${#missing_pkgs[@]} -eq 0 ] && return 0
  if [ "$INSTALL" != 1 ]; then say "missing (INSTALL=0): ${missing_pkgs[*]}"; return 0; fi
  local sudo=()
  [ "$(id -u)" = 0 ] || sudo=(sudo)
  say "installing ${missing_pkgs[*]}"
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing_pkgs[@]}" >&2 || say "apt-get install failed: going on with what is there"
  missing_pkgs=()
}

if command -v apt-get >/dev/null 2>&1; then
  need_pkg python3 python3
  need_pkg wrk wrk
  need_pkg strace strace
  need_pkg taskset util-linux
  need_pkg curl curl
  need_pkg h2o h2o
  need_pkg meson meson
  need_pkg ninja ninja-build
  need_pkg pkg-config pkg-config
  need_pkg g++ g++
  need_pkg cc gcc
  need_deb libbenchmark-dev
  if ! dpkg-query -W -f='${Status}' libllhttp-dev 2>/dev/null | grep -q 'ok installed'; then
    if apt-cache show libllhttp-dev >/dev/null 2>&1; then need_deb libllhttp-dev
    else need_deb node-llhttp; fi
  fi
  if ! command -v nginx >/dev/null 2>&1; then
    if apt-cache show nginx-light >/dev/null 2>&1; then missing_pkgs+=(nginx-light)
    else missing_pkgs+=(nginx); fi
  fi
  case " $TARGETS " in
    *" go-tutorial "*)
      need_pkg go golang-go
      [ -d /usr/share/gocode/src/github.com/sirupsen/logrus ] ||
        missing_pkgs+=(golang-github-sirupsen-logrus-dev)
      ;;
  esac
  apt_install
fi
for c in wrk taskset python3 curl; do
  command -v "$c" >/dev/null 2>&1 || die "$c is needed"
done
[ "$(nproc)" -ge 2 ] || say "warning: fewer than 2 CPUs: server and wrk share a core"

# ---------------------------------------------------------------- build
HS_BIN=$BUILD_DIR/src/httpserver
FLOOR_BIN=$BUILD_DIR/bench/floor/floor
GO_BIN=$BUILD_DIR/go-tutorial/go-tutorial

build() {
  if [ ! -f "$BUILD_DIR/build.ninja" ]; then
    say "meson setup $BUILD_DIR (release)"
    meson setup "$BUILD_DIR" "$ROOT" --buildtype=release -Dtests=false -Dbench=true \
      >"$TMP/meson-setup.log" 2>&1 || { say "meson setup failed (see below)"; tail -20 "$TMP/meson-setup.log" >&2; return 0; }
  fi
  say "ninja -C $BUILD_DIR src/httpserver bench/floor/floor"
  ninja -C "$BUILD_DIR" src/httpserver >"$TMP/ninja-httpserver.log" 2>&1 ||
    { say "httpserver did not build:"; tail -20 "$TMP/ninja-httpserver.log" >&2; }
  ninja -C "$BUILD_DIR" bench/floor/floor >"$TMP/ninja-floor.log" 2>&1 || true
  ninja -C "$BUILD_DIR" bench/bench_server >"$TMP/ninja-bench-server.log" 2>&1 || true
}
build
if [ ! -x "$FLOOR_BIN" ] && command -v cc >/dev/null 2>&1; then
  # bench/meson.build without subdir('floor'), or a tree that does not configure: build it alone
  FLOOR_BIN=$BUILD_DIR/floor-standalone
  mkdir -p "$BUILD_DIR"
  cc -std=gnu11 -D_GNU_SOURCE -O2 -Wall -Wextra -o "$FLOOR_BIN" "$ROOT/bench/floor/floor.c" ||
    FLOOR_BIN=
fi
if command -v go >/dev/null 2>&1 && [ -d /usr/share/gocode/src/github.com/sirupsen/logrus ]; then
  mkdir -p "$(dirname "$GO_BIN")"
  (cd "$HERE/go-tutorial" && GOPATH=/usr/share/gocode GO111MODULE=off GOFLAGS='' \
    GOCACHE="$BUILD_DIR/go-tutorial/cache" go build -o "$GO_BIN" main.go) ||
    say "go-tutorial did not build"
fi

# ---------------------------------------------------------------- targets
# Pinning, and with NICE set (e.g. NICE=-15, as root) a higher priority for the servers and
# wrk, so that other work on a shared machine takes less from the measured cores. With
# kernel.sched_autogroup_enabled=1 a process nice counts only inside its session's autogroup,
# so each server and wrk also gets a session (setsid) whose autogroup has that nice.
ON_SERVER_CPU=(taskset -c "$SERVER_CPU")
ON_CLIENT_CPU=(taskset -c "$CLIENT_CPU")
# strace stops the server at every syscall and lets it go on: the two never run at once, so
# the tracer shares the server's core (no cross-core wake-ups) and gets the same priority.
AS_TRACER=(taskset -c "$SERVER_CPU")
if [ -n "$NICE" ]; then
  prio=(setsid sh -c 'echo "$0" >/proc/self/autogroup 2>/dev/null; exec "$@"' "$NICE"
        nice -n "$NICE")
  ON_SERVER_CPU=("${prio[@]}" "${ON_SERVER_CPU[@]}")
  ON_CLIENT_CPU=("${prio[@]}" "${ON_CLIENT_CPU[@]}")
  AS_TRACER=("${prio[@]}" "${AS_TRACER[@]}")
fi
if [ "$REALTIME" = 1 ]; then
  # SCHED_FIFO: servers and wrk preempt everything else on their core, up to the kernel's RT
  # throttle (95 %): the cleanest numbers on a busy machine, at the cost of the other work.
  ON_SERVER_CPU+=(chrt -f 10)
  ON_CLIENT_CPU+=(chrt -f 10)
  AS_TRACER+=(chrt -f 10)
fi

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

declare -A PID=() PORT=() LOGFILE=()

# all pids of a process tree (nginx: master + worker)
tree_pids() {
  local p=$1 c
  echo "$p"
  for c in $(cat /proc/"$p"/task/*/children 2>/dev/null); do tree_pids "$c"; done
}

# clock ticks of user+system time of a process tree
cpu_ticks() {
  local total=0 p s f
  for p in $(tree_pids "$1"); do
    s=$(cat /proc/"$p"/stat 2>/dev/null) || continue
    s=${s##*) }
    read -r -a f <<<"$s"
    total=$(( total + f[11] + f[12] ))
  done
  echo "$total"
}
HZ=$(getconf CLK_TCK)

wait_ready() {  # wait_ready PID PORT
  local _
  for _ in $(seq 100); do
    kill -0 "$1" 2>/dev/null || return 1
    curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$2/ready" && return 0
    sleep 0.05
  done
  return 1
}

start_target() {
  local t=$1 port pid prefix log
  port=$(free_port)
  log=$TMP/$t.stderr
  case $t in
    floor)
      [ -n "$FLOOR_BIN" ] && [ -x "$FLOOR_BIN" ] || { say "skip $t: no floor binary"; return 1; }
      "${ON_SERVER_CPU[@]}" "$FLOOR_BIN" "$port" 127.0.0.1 2>>"$log" &
      ;;
    floor-same-bytes|floor-same-bytes-log)
      [ -n "$FLOOR_BIN" ] && [ -x "$FLOOR_BIN" ] || { say "skip $t: no floor binary"; return 1; }
      local modes=same-bytes
      if [ "$t" = floor-same-bytes-log ]; then modes=same-bytes,log; log=$TMP/$t.log; fi
      "${ON_SERVER_CPU[@]}" "$FLOOR_BIN" "$port" 127.0.0.1 "$modes" 2>>"$log" &
      ;;
    httpserver-nolog)
      [ -x "$HS_BIN" ] || { say "skip $t: $HS_BIN missing"; return 1; }
      "${ON_SERVER_CPU[@]}" "$HS_BIN" --port "$port" --address 127.0.0.1 \
        --log-format none "${HS_EXTRA[@]}" 2>>"$log" &
      ;;
    httpserver-admin)
      # httpserver-nolog plus the admin listener, which turns on the request timing.
      [ -x "$HS_BIN" ] || { say "skip $t: $HS_BIN missing"; return 1; }
      "${ON_SERVER_CPU[@]}" "$HS_BIN" --port "$port" --address 127.0.0.1 \
        --log-format none --admin-address 127.0.0.1:0 2>>"$log" &
      ;;
    httpserver-log|httpserver-log-noserver|httpserver-accesslog)
      [ -x "$HS_BIN" ] || { say "skip $t: $HS_BIN missing"; return 1; }
      log=$TMP/$t.log
      local name=()
      [ "$t" = httpserver-log-noserver ] && name=(--server-name=)
      [ "$t" = httpserver-accesslog ] && name=(--access-log)
      "${ON_SERVER_CPU[@]}" "$HS_BIN" --port "$port" --address 127.0.0.1 \
        --log-format text "${name[@]}" "${HS_EXTRA[@]}" 2>>"$log" &
      ;;
    nginx|nginx-log)
      command -v nginx >/dev/null 2>&1 || { say "skip $t: nginx not installed"; return 1; }
      prefix=$TMP/$t
      mkdir -p "$prefix"
      local access=off
      log=$prefix/stderr
      if [ "$t" = nginx-log ]; then
        log=$prefix/access.log
        access="$log combined buffer=64k flush=1s"
      fi
      sed -e "s#@PORT@#$port#g; s#@PREFIX@#$prefix#g; s#@ACCESS_LOG@#$access#g" \
        "$HERE/nginx.conf" >"$prefix/nginx.conf"
      "${ON_SERVER_CPU[@]}" nginx -p "$prefix" -e "$prefix/error.log" \
        -c "$prefix/nginx.conf" 2>>"$prefix/stderr" &
      ;;
    go-tutorial)
      [ -x "$GO_BIN" ] || { say "skip $t: no Go build (golang-go + golang-github-sirupsen-logrus-dev)"; return 1; }
      log=$TMP/$t.log
      PORT=$port "${ON_SERVER_CPU[@]}" "$GO_BIN" -addr "127.0.0.1:$port" 2>>"$log" &
      ;;
    *)
      start_round2_target "$t" "$port" || {
        [ $? = 1 ] && say "skip $t: unknown target"
        return 1
      }
      log=$LOG_OF_NEW
      ;;
  esac
  pid=$!
  track "$pid" "$t"
  if ! wait_ready "$pid" "$port"; then
    say "skip $t: did not answer on 127.0.0.1:$port"
    stop_pid "$pid"
    return 1
  fi
  PID[$t]=$pid
  PORT[$t]=$port
  LOGFILE[$t]=$log
  say "started $t: pid $pid, 127.0.0.1:$port, CPU $SERVER_CPU, output $log"
}

# The scenarios and targets of round 2 (browser heads, uploads, large responses, many
# connections, latency at fixed rates, h2o): see scenarios/round2.sh.
. "$HERE/scenarios/round2.sh"

ACTIVE=()
for t in $TARGETS; do
  if start_target "$t"; then ACTIVE+=("$t"); fi
done
[ ${#ACTIVE[@]} -gt 0 ] || die "no target could be started"

# ---------------------------------------------------------------- one wrk run
# run_wrk TARGET SCENARIO DURATION OUTFILE: wrk pinned to CLIENT_CPU, bounded by -d and timeout
run_wrk() {
  local t=$1 s=$2 d=$3 out=$4 url args guard pid
  url="http://127.0.0.1:${PORT[$t]}/"
  WRK_ENV=()
  args=(-t1 "-c$CONNS" "-d$d" --latency --timeout 5s)
  case $s in
    keepalive) args+=(-s "$HERE/stats.lua" "$url") ;;
    pipeline) args+=(-s "$HERE/pipeline.lua" "$url" -- "$DEPTH") ;;
    close) args+=(-s "$HERE/stats.lua" -H 'Connection: close' "$url") ;;
    *) scenario_wrk_args "$t" "$s" || die "unknown scenario $s"; args+=("${WRK_ARGS[@]}") ;;
  esac
  guard=$(( $(seconds "$d") + 30 ))
  env "${WRK_ENV[@]}" WRK_CONNECTIONS=$CONNS WRK_PIPELINE=$DEPTH \
    timeout -k 5 "$guard" "${ON_CLIENT_CPU[@]}" wrk "${args[@]}" >"$out" 2>&1 &
  pid=$!
  track "$pid" wrk
  wait "$pid" || say "wrk exited $? ($t $s)"
  unset "LIVE[$pid]"
}

truncate_logs() {
  local t
  for t in "${ACTIVE[@]}"; do
    case $t in *-log|go-tutorial) : >"${LOGFILE[$t]}" ;; esac
  done
}

alive() { kill -0 "${PID[$1]}" 2>/dev/null; }

RUNS=$TMP/runs.jsonl
SYSC=$TMP/syscalls.jsonl
: >"$RUNS"
: >"$SYSC"

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
STARTED_AT=$(date -u +%Y-%m-%dT%H:%M:%SZ)

say "warm-up: $WARMUP per target"
for t in "${ACTIVE[@]}"; do run_wrk "$t" keepalive "$WARMUP" "$TMP/warmup-$t.txt"; done

total=0
for s in $SCENARIOS; do
  for t in "${ACTIVE[@]}"; do scenario_applies "$t" "$s" && total=$((total + ROUNDS)); done
done
n=0
for r in $(seq "$ROUNDS"); do
  for s in $SCENARIOS; do
    for t in "${ACTIVE[@]}"; do
      scenario_applies "$t" "$s" || continue
      n=$((n + 1))
      if ! alive "$t"; then say "[$n/$total] $t has exited: skipped"; continue; fi
      truncate_logs
      out=$TMP/r$r-$s-$t.txt
      scenario_before "$t" "$s"
      c0=$(cpu_ticks "${PID[$t]}"); w0=$EPOCHREALTIME
      run_wrk "$t" "$s" "$DURATION" "$out"
      w1=$EPOCHREALTIME; c1=$(cpu_ticks "${PID[$t]}")
      scenario_after "$t" "$s" "$out"
      j=$(grep -m1 '^WRKJSON ' "$out" | cut -c9-) || true
      if [ -z "$j" ]; then say "[$n/$total] $t $s: no result (see $out)"; KEEP_TMP=1; continue; fi
      lines=null  # log lines written during the run: proof that logging was on
      case $t in *-log|go-tutorial) sleep 0.05; lines=$(wc -l <"${LOGFILE[$t]}") ;; esac
      printf '{"round":%d,"scenario":"%s","target":"%s","server_cpu_s":%s,"wall_s":%s,"log_lines":%s,"wrk":%s,"extra":%s}\n' \
        "$r" "$s" "$t" "$(awk -v a="$c0" -v b="$c1" -v hz="$HZ" 'BEGIN{printf "%.3f",(b-a)/hz}')" \
        "$(awk -v a="$w0" -v b="$w1" 'BEGIN{printf "%.3f",b-a}')" "$lines" "$j" "$EXTRA_JSON" >>"$RUNS"
      say "[$n/$total] round $r $s $t: $(tail -1 "$RUNS" | python3 -c '
import json,sys; d=json.load(sys.stdin); w=d["wrk"]; rps=w["requests"]/(w["duration_us"]/1e6)
print("%.0f req/s, server CPU %.2f, p99 %.2f ms%s" % (rps, d["server_cpu_s"]/d["wall_s"], w["p99_us"]/1000,
      "" if d["log_lines"] is None else ", %d log lines" % d["log_lines"]))')"
    done
  done
done

# ---------------------------------------------------------------- syscalls per request
# strace_run TARGET SCENARIO ATTEMPT: one run under strace -c -f; appends a line to $SYSC.
# Fails when the run was stalled by the machine (fewer than 10 latency samples, i.e. requests
# or pipelined batches, per connection: then the count is mostly connection set-up and
# stalls), so that the caller tries again; the report keeps the attempt that served most.
strace_run() {
  local t=$1 s=$2 a=$3 sout out pargs p spid j
  sout=$TMP/strace-$s-$t-$a.txt
  out=$TMP/strace-wrk-$s-$t-$a.txt
  pargs=()
  for p in $(tree_pids "${PID[$t]}"); do pargs+=(-p "$p"); done
  "${AS_TRACER[@]}" strace -c -f -o "$sout" "${pargs[@]}" 2>"$TMP/strace-$s-$t-$a.stderr" &
  spid=$!
  track "$spid" strace
  sleep 0.7  # attach to every thread before the load starts
  run_wrk "$t" "$s" "$STRACE_DURATION" "$out"
  sleep 0.2
  kill -INT "$spid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$spid" 2>/dev/null || break; sleep 0.1; done
  stop_pid "$spid"
  j=$(grep -m1 '^WRKJSON ' "$out" | cut -c9-) || true
  [ -n "$j" ] && [ -s "$sout" ] || { say "syscalls $s $t: no result"; return 1; }
  python3 - "$sout" "$s" "$t" "$j" "$a" >>"$SYSC" <<'EOF'
import json, sys
path, scenario, target, wrk, attempt = sys.argv[1:6]
wrk = json.loads(wrk)
calls, total = {}, None
for line in open(path):
    f = line.split()
    if len(f) >= 5 and f[-1] == "total":
        total = int(f[3])
    elif len(f) >= 5 and f[0][0].isdigit() and f[3].isdigit():
        calls[f[-1]] = int(f[3])
print(json.dumps({"scenario": scenario, "target": target, "attempt": int(attempt),
                  "calls": total, "by_syscall": calls, "wrk": wrk}))
EOF
  say "syscalls $s $t: $(tail -1 "$SYSC" | python3 -c '
import json,sys; d=json.load(sys.stdin); r=d["wrk"]["requests"]
print("%s calls / %d requests = %.2f per request" % (d["calls"], r, (d["calls"] or 0)/max(r,1)))')"
  [ "$(tail -1 "$SYSC" | python3 -c 'import json,sys; w=json.load(sys.stdin)["wrk"]
print(w.get("samples") or w["requests"] // w["pipeline"])')" -ge $(( 10 * CONNS )) ]
}

if [ "$STRACE" = 1 ] && command -v strace >/dev/null 2>&1; then
  for s in $SCENARIOS; do
    strace_wanted "$s" || continue
    for t in "${ACTIVE[@]}"; do
      scenario_applies "$t" "$s" || continue
      alive "$t" || continue
      truncate_logs
      for a in $(seq "$STRACE_TRIES"); do
        strace_run "$t" "$s" "$a" && break
        if [ "$a" -lt "$STRACE_TRIES" ]; then say "syscalls $s $t: stalled, again"; fi
      done
    done
  done
fi

LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- report
versions() {
  local v
  echo "wrk=$(wrk -v 2>&1 | head -1 | awk '{print $2}')"
  command -v nginx >/dev/null && echo "nginx=$(nginx -v 2>&1 | sed 's#.*nginx/##')"
  command -v go >/dev/null && echo "go=$(go version | awk '{print $3}')"
  command -v h2o >/dev/null && echo "h2o=$(h2o --version 2>/dev/null | awk 'NR==1{print $3}')"
  v=$(dpkg-query -W -f='${Version}' golang-github-sirupsen-logrus-dev 2>/dev/null) && echo "logrus=$v"
  v=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null) && echo "httpserver_commit=$v"
  v=$(git -C "$ROOT" status --porcelain -- src 2>/dev/null | wc -l) && echo "httpserver_src_uncommitted_files=$v"
  echo "kernel=$(uname -r)"
  echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
  echo "nproc=$(nproc)"
}
# Instructions per request (callgrind, deterministic) of wrk's GET and of the browser mix,
# through a real Connection on a socketpair (bench/instructions --socket): issue 23's "within
# 2 x" goal, beside the browser scenario's timings.
instructions_per_request() {  # instructions_per_request [--mix FILE]
  local bin=$BUILD_DIR/bench/instructions out=$TMP/instructions.cg requests ir
  [ -x "$bin" ] && command -v valgrind >/dev/null || return 0
  requests=$(valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$out" \
    "$bin" text 4 1000 --socket "$@" 2>/dev/null | awk '{print $1; exit}')
  ir=$(awk '/^totals:/ {print $2}' "$out")
  [ -n "$requests" ] && [ -n "$ir" ] && echo $(( ir / requests ))
}
case " $SCENARIOS " in
  *" browser "*)
    ninja -C "$BUILD_DIR" bench/instructions >"$TMP/ninja-instructions.log" 2>&1 || true
    INSTR_GET=$(instructions_per_request)
    INSTR_MIX=$(instructions_per_request --mix "$HERE/scenarios/browser_heads.txt")
    say "instructions per request: GET ${INSTR_GET:-?}, browser mix ${INSTR_MIX:-?}"
    ;;
esac

META=$TMP/meta.txt
{
  versions
  [ -n "${INSTR_GET:-}" ] && echo "instructions_get=$INSTR_GET"
  [ -n "${INSTR_MIX:-}" ] && echo "instructions_mix=$INSTR_MIX"
  echo "started=$STARTED_AT"
  echo "finished=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "duration=$DURATION"
  echo "rounds=$ROUNDS"
  echo "connections=$CONNS"
  echo "pipeline_depth=$DEPTH"
  echo "strace_duration=$STRACE_DURATION"
  echo "server_cpu=$SERVER_CPU"
  echo "client_cpu=$CLIENT_CPU"
  echo "nice=${NICE:-0}"
  echo "realtime=$REALTIME"
  echo "loadavg_start=$LOAD_START"
  echo "loadavg_end=$LOAD_END"
  echo "targets=${ACTIVE[*]}"
  echo "scenarios=$SCENARIOS"
  echo "many_idle=$MANY_IDLE"
  echo "nofile=$(ulimit -n)"
} >"$META"

mkdir -p "$(dirname "$RESULTS_JSON")" "$(dirname "$RESULTS_SVG")"
python3 "$HERE/report.py" --runs "$RUNS" --syscalls "$SYSC" --meta "$META" \
  --json "$RESULTS_JSON" --svg "$RESULTS_SVG"
