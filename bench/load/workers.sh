#!/usr/bin/env bash
# Worker scaling: httpserver with --workers 1 against --workers 2, same client, loopback only.
#
#   bench/load/workers.sh                      3 rounds x 5 s, keepalive and pipeline, log on
#   ROUNDS=1 DURATION=2s bench/load/workers.sh   a quick look
#
# Unlike run.sh, nothing is pinned: two workers need two cores, and wrk (-t1) runs on the
# same cores, so the client takes CPU from the server it measures. On a 2-core machine the
# ratio is therefore a lower bound on what a second core gives; read it with the CPU shares
# printed beside it (server CPU is of all its threads, up to 2.00).
# Rounds alternate 1 and 2 workers; the table shows medians over rounds.
#
# Environment (defaults in brackets):
#   DURATION [5s] ROUNDS [3] CONNS [64] DEPTH [16] WARMUP [1s]
#   SCENARIOS ["keepalive pipeline"] LOG_FORMAT [text] (stderr to a file, as the binary logs)
#   WRK_THREADS [1]: wrk -t; one client thread saturates before two workers do on 2 cores
#   WORKER_COUNTS ["1 2"] BUILD_DIR [build-load] NICE [unset]: e.g. -15 as root
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
DURATION=${DURATION:-5s}
ROUNDS=${ROUNDS:-3}
CONNS=${CONNS:-64}
DEPTH=${DEPTH:-16}
WARMUP=${WARMUP:-1s}
SCENARIOS=${SCENARIOS:-"keepalive pipeline"}
LOG_FORMAT=${LOG_FORMAT:-text}
WORKER_COUNTS=${WORKER_COUNTS:-"1 2"}
BUILD_DIR=${BUILD_DIR:-$ROOT/build-load}
NICE=${NICE:-}
WRK_THREADS=${WRK_THREADS:-1}

say() { echo "workers: $*" >&2; }

HS_BIN=$BUILD_DIR/src/httpserver
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  meson setup "$BUILD_DIR" "$ROOT" --buildtype=release -Dtests=false -Dbench=true >/dev/null
fi
ninja -C "$BUILD_DIR" src/httpserver >/dev/null
command -v wrk >/dev/null || { say "wrk is needed"; exit 1; }

# As in run.sh: with kernel.sched_autogroup_enabled=1 a nice value counts only inside its
# session's autogroup, so each process also gets a session whose autogroup has that nice.
PRIO=()
if [ -n "$NICE" ]; then
  PRIO=(setsid sh -c 'echo "$0" >/proc/self/autogroup 2>/dev/null; exec "$@"' "$NICE"
        nice -n "$NICE")
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/httpserver-workers.XXXXXX")
declare -A PID=() PORT=()
cleanup() {
  local w
  for w in "${!PID[@]}"; do
    kill -TERM "${PID[$w]}" 2>/dev/null || true
    wait "${PID[$w]}" 2>/dev/null || true
  done
  rm -rf "$TMP"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# utime+stime clock ticks of the server, all threads
cpu_ticks() {
  local s
  s=$(cat /proc/"$1"/stat)
  s=${s##*) }
  read -r -a f <<<"$s"
  echo $((f[11] + f[12]))
}
HZ=$(getconf CLK_TCK)

for w in $WORKER_COUNTS; do
  port=$(free_port)
  "${PRIO[@]}" "$HS_BIN" --port "$port" --address 127.0.0.1 --workers "$w" \
    --log-format "$LOG_FORMAT" 2>>"$TMP/stderr-$w.log" &
  PID[$w]=$!
  PORT[$w]=$port
  for _ in $(seq 100); do
    curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$port/" && break
    sleep 0.05
  done
  say "started --workers $w: pid ${PID[$w]}, 127.0.0.1:$port"
done

# run_wrk WORKERS SCENARIO DURATION: prints the WRKJSON line
run_wrk() {
  local url="http://127.0.0.1:${PORT[$1]}/" args=("-t$WRK_THREADS" "-c$CONNS" "-d$3" --timeout 5s)
  case $2 in
    keepalive) args+=(-s "$HERE/stats.lua" "$url") ;;
    pipeline) args+=(-s "$HERE/pipeline.lua" "$url" -- "$DEPTH") ;;
  esac
  WRK_CONNECTIONS=$CONNS WRK_PIPELINE=$DEPTH timeout -k 5 60 "${PRIO[@]}" wrk "${args[@]}" |
    grep -m1 '^WRKJSON ' | cut -c9-
}

for w in $WORKER_COUNTS; do run_wrk "$w" keepalive "$WARMUP" >/dev/null; done
RUNS=$TMP/runs.jsonl
: >"$RUNS"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
for r in $(seq "$ROUNDS"); do
  for s in $SCENARIOS; do
    for w in $WORKER_COUNTS; do
      : >"$TMP/stderr-$w.log"  # the log file does not grow without bound
      c0=$(cpu_ticks "${PID[$w]}")
      j=$(run_wrk "$w" "$s" "$DURATION")
      c1=$(cpu_ticks "${PID[$w]}")
      [ -n "$j" ] || { say "round $r $s workers $w: no result"; continue; }
      printf '{"workers":%s,"scenario":"%s","cpu_s":%s,"wrk":%s}\n' "$w" "$s" \
        "$(awk -v a="$c0" -v b="$c1" -v hz="$HZ" 'BEGIN{printf "%.2f",(b-a)/hz}')" "$j" >>"$RUNS"
      say "round $r $s --workers $w: $(tail -1 "$RUNS" | python3 -c '
import json,sys; d=json.load(sys.stdin); w=d["wrk"]
print("%.0f req/s, server CPU %.2f s" % (w["requests"]/(w["duration_us"]/1e6), d["cpu_s"]))')"
    done
  done
done

python3 - "$RUNS" "$DURATION" "$ROUNDS" "$LOAD_START" "$(cut -d' ' -f1-3 /proc/loadavg)" "$(nproc)" \
  "$WRK_THREADS" "$CONNS" <<'EOF'
import json, statistics, sys
path, duration, rounds, load0, load1, cpus, threads, conns = sys.argv[1:9]
runs = [json.loads(l) for l in open(path)]
print(f"\nWorker scaling: median of {rounds} round(s) x {duration}, wrk -t{threads} -c{conns}, "
      f"nothing pinned, {cpus} CPUs shared by server and client; "
      f"load average {load0} -> {load1}\n")
print("| scenario  | workers |     req/s | server CPU | req/s per server core | wrk CPU | ÷1 worker |")
print("|-----------|--------:|----------:|-----------:|----------------------:|--------:|----------:|")
for s in dict.fromkeys(r["scenario"] for r in runs):
    base = None
    for w in sorted({r["workers"] for r in runs}):
        sel = [r for r in runs if r["scenario"] == s and r["workers"] == w]
        rps = statistics.median(r["wrk"]["requests"] / (r["wrk"]["duration_us"] / 1e6) for r in sel)
        wall = [r["wrk"]["duration_us"] / 1e6 for r in sel]
        cpu = statistics.median(r["cpu_s"] / t for r, t in zip(sel, wall))
        wcpu = statistics.median(r["wrk"]["wrk_cpu_s"] / t for r, t in zip(sel, wall))
        base = base or rps
        print(f"| {s:<9} | {w:>7} | {rps:>9,.0f} | {cpu:>10.2f} | {rps / cpu:>21,.0f} "
              f"| {wcpu:>7.2f} | {rps / base:>9.2f} |")
print("\nserver CPU: cores used by all its threads (up to 2.00); wrk CPU near 1.00 per wrk "
      "thread: the client was the limit.")
EOF
