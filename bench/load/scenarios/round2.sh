# The scenarios of the traffic users send, sourced by bench/load/run.sh (bash), which runs them
# with the same rounds, pinning, CPU accounting and report as keepalive/pipeline/close:
#
#   browser            wrk -c64, each request the next of 64 browser heads (browser.lua)
#   upload-1k          POST, Content-Length 1 KiB (upload.lua)
#   upload-64k         POST, Content-Length 64 KiB
#   upload-64k-chunked POST, 64 KiB chunked in 8 KiB chunks
#   large-64k          GET of a 64 KiB body from memory (bench_server: a sealed memfd sent with
#                      sendfile, or with bench-shared-log a string sent with send_shared;
#                      nginx and h2o: a file)
#   large-1m           GET of a 1 MiB body
#   many               wrk -c64 while holder.py keeps MANY_IDLE (9,936) more keep-alive
#                      connections open: the active rate, beside keepalive's, and the server's
#                      RSS with all of them
#   rate-max           rate.lua unpaced: the most this client gets from each server
#   rate-50, rate-90   rate.lua at 50 % and 90 % of each target's rate-max (this round's)
#   rate-90-ours       every target at 90 % of httpserver-log's rate-max: the same offered rate
#   close              (round 1's) a new connection per request; with h2o-log beside it
#
# Targets added here: h2o, h2o-log (Debian's h2o, one thread, access log to a file),
# bench-log and bench-stream-log (bench_server, its uploads buffered or through a BodyReader),
# bench-shared-log (bench_server, its large bodies from a string: Response::send_shared),
# floor-bodies (the floor reading and dropping bodies: the plain read loop), floor-defer (the
# floor with TCP_DEFER_ACCEPT on its listener, as h2o has: for the close scenario).
#
# Select scenarios by name (SCENARIOS="browser many" bench/load/run.sh: with TARGETS unset,
# the targets they need are added); SCENARIOS=all runs every scenario of both rounds. "many"
# is read against keepalive, and rate-50/90 need rate-max: run.sh adds those when missing.
# Environment (defaults in brackets): MANY_IDLE [9936]; MAX_CONNS [20000]: --max-connections
# of ours when "many" runs; STRACE_SCENARIOS ["keepalive pipeline close browser"]: the
# scenarios counted under strace (one short run each, as round 1's).

MANY_IDLE=${MANY_IDLE:-9936}
MAX_CONNS=${MAX_CONNS:-20000}
STRACE_SCENARIOS=${STRACE_SCENARIOS:-"keepalive pipeline close browser"}
ROUND2_SCENARIOS="browser upload-1k upload-64k upload-64k-chunked large-64k large-1m many
rate-max rate-50 rate-90 rate-90-ours"
ROUND2_SCENARIOS=$(echo $ROUND2_SCENARIOS)
BENCH_BIN=$BUILD_DIR/bench/bench_server

# The targets each scenario runs on (those of TARGETS that were started).
scenario_targets() {
  case $1 in
    keepalive|pipeline|close)
      echo "floor floor-defer floor-same-bytes floor-same-bytes-log httpserver-nolog httpserver-admin
            httpserver-log httpserver-log-noserver httpserver-accesslog nginx nginx-log
            go-tutorial h2o h2o-log" ;;
    browser) echo "floor httpserver-nolog httpserver-log nginx nginx-log h2o h2o-log" ;;
    upload-*) echo "floor-bodies bench-log bench-stream-log nginx-log" ;;
    large-*) echo "bench-log bench-shared-log nginx-log h2o-log" ;;
    many|rate-*) echo "httpserver-log nginx-log h2o-log" ;;
  esac
}
scenario_applies() {  # scenario_applies TARGET SCENARIO
  case " $(echo $(scenario_targets "$2")) " in *" $1 "*) return 0 ;; esac
  return 1
}

# With round-2 scenarios asked for and no TARGETS given, the targets they need.
round2_default_targets() {
  local s t all=""
  for s in $SCENARIOS; do
    case " $ROUND2_SCENARIOS " in *" $s "*) ;; *) continue ;; esac
    for t in $(scenario_targets "$s"); do
      case " $all $TARGETS " in *" $t "*) ;; *) all="$all $t" ;; esac
    done
  done
  echo "$all"
}
# What a scenario is read against runs first in each round.
case " $SCENARIOS " in
  *" rate-50 "*|*" rate-90 "*|*" rate-90-ours "*)
    case " $SCENARIOS " in *" rate-max "*) ;; *) SCENARIOS="rate-max $SCENARIOS" ;; esac ;;
esac
case " $SCENARIOS " in
  *" many "*) case " $SCENARIOS " in *" keepalive "*) ;; *) SCENARIOS="keepalive $SCENARIOS" ;; esac ;;
esac
if [ -z "${TARGETS_GIVEN:-}" ]; then TARGETS="$TARGETS $(round2_default_targets)"; fi

# Ten thousand connections need the descriptors: raise the soft limit (to the hard one when
# 65536 is not allowed), before any server starts so that each inherits it.
HS_EXTRA=()
case " $SCENARIOS " in
  *" many "*)
    ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
    [ "$(ulimit -n)" -ge $((MANY_IDLE + 1000)) ] ||
      say "warning: ulimit -n is $(ulimit -n): too few descriptors for $MANY_IDLE idle connections"
    HS_EXTRA=(--max-connections "$MAX_CONNS")
    ;;
esac

# Files nginx and h2o serve for large-*, and h2o's answer to every other path: the bytes
# bench_server answers from memory. nginx.conf's root is PREFIX/../www, i.e. $TMP/www.
mkdir -p "$TMP/www/bytes"
printf 'package main #14' >"$TMP/www/body.txt"
python3 -c 'import sys
for name, size in (("64k", 65536), ("1m", 1 << 20)):
    open(sys.argv[1] + "/" + name, "wb").write(bytes(97 + i % 26 for i in range(size)))' \
  "$TMP/www/bytes"
# nginx's worker runs as nobody when started as root: let it through the temp dir (mode 700).
chmod go+rx "$TMP" "$TMP/www" "$TMP/www/bytes"
chmod go+r "$TMP/www/body.txt" "$TMP/www/bytes/"*

# start_round2_target TARGET PORT: starts it in the background (run.sh's start_target takes
# $! and waits until it answers). Returns 1 for a target it does not know.
start_round2_target() {
  local t=$1 port=$2 prefix
  case $t in
    floor-bodies)
      [ -n "$FLOOR_BIN" ] && [ -x "$FLOOR_BIN" ] || { say "skip $t: no floor binary"; return 2; }
      "${ON_SERVER_CPU[@]}" "$FLOOR_BIN" "$port" 127.0.0.1 bodies 2>>"$TMP/$t.stderr" &
      LOG_OF_NEW=$TMP/$t.stderr
      ;;
    floor-defer)
      [ -n "$FLOOR_BIN" ] && [ -x "$FLOOR_BIN" ] || { say "skip $t: no floor binary"; return 2; }
      "${ON_SERVER_CPU[@]}" "$FLOOR_BIN" "$port" 127.0.0.1 defer-accept 2>>"$TMP/$t.stderr" &
      LOG_OF_NEW=$TMP/$t.stderr
      ;;
    bench-log|bench-stream-log|bench-shared-log)
      [ -x "$BENCH_BIN" ] || { say "skip $t: $BENCH_BIN missing"; return 2; }
      LOG_OF_NEW=$TMP/$t.log
      "${ON_SERVER_CPU[@]}" "$BENCH_BIN" "$port" --log-format text "${HS_EXTRA[@]}" \
        2>>"$LOG_OF_NEW" &
      ;;
    h2o|h2o-log)
      command -v h2o >/dev/null 2>&1 || { say "skip $t: h2o not installed"; return 2; }
      prefix=$TMP/$t
      mkdir -p "$prefix"
      LOG_OF_NEW=$prefix/error.log
      local access="" user=""
      if [ "$t" = h2o-log ]; then
        LOG_OF_NEW=$prefix/access.log
        access="access-log: $LOG_OF_NEW"
      fi
      # As root, h2o would switch to "nobody", who may not write the temp dir.
      [ "$(id -u)" = 0 ] && user="user: root"
      cat >"$prefix/h2o.conf" <<EOF
# h2o peer for bench/load/run.sh: one thread, loopback only, generated per run.
$user
listen:
  host: 127.0.0.1
  port: $port
num-threads: 1
max-connections: 65536
http1-request-timeout: 120
pid-file: $prefix/h2o.pid
error-log: $prefix/error.log
$access
hosts:
  default:
    paths:
      /bytes:
        file.dir: $TMP/www/bytes
      /:
        file.file: $TMP/www/body.txt
EOF
      "${ON_SERVER_CPU[@]}" h2o -c "$prefix/h2o.conf" 2>>"$prefix/stderr" &
      ;;
    *) return 1 ;;
  esac
}

# scenario_wrk_args TARGET SCENARIO: sets WRK_ARGS (script, URL, headers) and WRK_ENV for a
# round-2 scenario; returns 1 for one it does not know.
scenario_wrk_args() {
  local t=$1 s=$2 base="http://127.0.0.1:${PORT[$t]}" path=/upload bytes=/bytes
  WRK_ENV=()
  [ "$t" = bench-stream-log ] && path=/upload-stream
  [ "$t" = bench-shared-log ] && bytes=/shared
  case $s in
    browser) WRK_ARGS=(-s "$HERE/scenarios/browser.lua" "$base/") ;;
    upload-1k) WRK_ARGS=(-s "$HERE/scenarios/upload.lua" "$base$path"); WRK_ENV=(WRK_UPLOAD_BYTES=1024) ;;
    upload-64k) WRK_ARGS=(-s "$HERE/scenarios/upload.lua" "$base$path"); WRK_ENV=(WRK_UPLOAD_BYTES=65536) ;;
    upload-64k-chunked)
      WRK_ARGS=(-s "$HERE/scenarios/upload.lua" "$base$path")
      WRK_ENV=(WRK_UPLOAD_BYTES=65536 WRK_UPLOAD_CHUNK=8192) ;;
    large-64k) WRK_ARGS=(-s "$HERE/stats.lua" "$base$bytes/64k") ;;
    large-1m) WRK_ARGS=(-s "$HERE/stats.lua" "$base$bytes/1m") ;;
    many) WRK_ARGS=(-s "$HERE/stats.lua" "$base/") ;;
    rate-*) WRK_ARGS=(-s "$HERE/scenarios/rate.lua" "$base/"); WRK_ENV=(WRK_RATE="$(offered_rate "$t" "$s")") ;;
    *) return 1 ;;
  esac
}

# ---------------------------------------------------------------- rates
declare -A RATE_MAX=()  # target -> requests/s of its last rate-max run
offered_rate() {  # offered_rate TARGET SCENARIO: requests/s, 0 for unpaced
  local max
  case $2 in
    rate-max) echo 0; return ;;
    rate-90-ours) max=${RATE_MAX[httpserver-log]:-} ;;
    *) max=${RATE_MAX[$1]:-} ;;
  esac
  [ -n "$max" ] || { echo 0; return; }
  case $2 in
    rate-50) awk -v m="$max" 'BEGIN{printf "%.0f", m * 0.5}' ;;
    *) awk -v m="$max" 'BEGIN{printf "%.0f", m * 0.9}' ;;
  esac
}

# ---------------------------------------------------------------- around each run
# kib of resident memory of a process tree
rss_kib() {
  local total=0 p v
  for p in $(tree_pids "$1"); do
    v=$(awk '/^VmRSS:/{print $2}' /proc/"$p"/status 2>/dev/null) || continue
    total=$((total + ${v:-0}))
  done
  echo "$total"
}

HOLDER_PID=""
EXTRA_JSON=null
# scenario_before TARGET SCENARIO: what a run needs first (the idle connections of "many").
scenario_before() {
  local t=$1 s=$2 _
  EXTRA_JSON=null
  RSS_BEFORE=$(rss_kib "${PID[$t]}")
  [ "$s" = many ] || return 0
  local out=$TMP/holder-$t.out
  : >"$out"
  "${ON_CLIENT_CPU[@]}" python3 "$HERE/scenarios/holder.py" "${PORT[$t]}" "$MANY_IDLE" \
    $(( $(seconds "$DURATION") + 60 )) >"$out" 2>"$TMP/holder-$t.stderr" &
  HOLDER_PID=$!
  track "$HOLDER_PID" holder
  for _ in $(seq 600); do
    grep -q '^holding' "$out" && break
    kill -0 "$HOLDER_PID" 2>/dev/null || break
    sleep 0.1
  done
  sleep 0.5  # the server's last accepts and reads
  RSS_HELD=$(rss_kib "${PID[$t]}")
  say "many $t: $(head -1 "$out"), server RSS ${RSS_BEFORE} -> ${RSS_HELD} KiB"
}

# scenario_after TARGET SCENARIO RUN_OUTPUT: what a run measured besides wrk's line, as
# EXTRA_JSON (a JSON object or null).
scenario_after() {
  local t=$1 s=$2 out=$3 j r
  local rss_after
  rss_after=$(rss_kib "${PID[$t]}")
  case $s in
    many)
      kill -TERM "$HOLDER_PID" 2>/dev/null || true
      for _ in $(seq 100); do kill -0 "$HOLDER_PID" 2>/dev/null || break; sleep 0.1; done
      stop_pid "$HOLDER_PID"
      local held closed
      held=$(awk '/^holding/{print $2}' "$TMP/holder-$t.out")
      closed=$(awk '/^closed by server/{print $4}' "$TMP/holder-$t.out")
      EXTRA_JSON=$(printf '{"idle_held":%s,"idle_closed_by_server":%s,"rss_idle_kib":%s,"rss_held_kib":%s,"rss_after_kib":%s}' \
        "${held:-null}" "${closed:-null}" "$RSS_BEFORE" "$RSS_HELD" "$rss_after")
      ;;
    rate-*)
      r=$(grep -m1 '^RATEJSON ' "$out" | cut -c10-) || true
      j=$(grep -m1 '^WRKJSON ' "$out" | cut -c9-) || true
      if [ "$s" = rate-max ] && [ -n "$j" ]; then
        RATE_MAX[$t]=$(python3 -c 'import json,sys; w=json.loads(sys.argv[1])
print("%.0f" % (w["requests"] / (w["duration_us"] / 1e6)))' "$j")
      fi
      EXTRA_JSON=${r:-null}
      ;;
    *)
      EXTRA_JSON=$(printf '{"rss_before_kib":%s,"rss_after_kib":%s}' "$RSS_BEFORE" "$rss_after")
      ;;
  esac
}

strace_wanted() {  # strace_wanted SCENARIO
  case " $STRACE_SCENARIOS " in *" $1 "*) return 0 ;; esac
  return 1
}
