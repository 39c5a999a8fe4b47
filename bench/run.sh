#!/usr/bin/env bash
# bench/run.sh: the side-by-side scenarios, otelcol-logx against
# syslog-ng on the same input, the same loopback sink and the same machine.
#
#   S1  unix stream socket -> rate limit per service -> 3 fields added ->
#       JSON lines over TCP to benchsink, as fast as the feeder can write.
#   S2  the same job fed through a FIFO at fixed rates (and maximum): CPU per
#       line, and whether the writer was ever blocked (> 100 ms writes).
#   S3  otelcol-logx only: fan-out to log-a and log-b (two benchsinks that
#       speak the cfjs1 ack protocol, as tier-2 receivers do), log-a
#       black-holed halfway: delivered, dead-lettered, lost, time to detect.
#
# Results go to bench/out/ and are appended, with the machine and the
# commit, to docs/performance.md. Scale and choice by environment:
#
#   LOGX_BENCH_LINES      input lines (default 200000; full scale is 2000000)
#   LOGX_BENCH_SCENARIOS  which to run (default "s1 s2 s3")
#   LOGX_BENCH_RATES      S2 rates in lines/s, "max" = unthrottled (default "10000 50000 max")
#   LOGX_BENCH_S3_RATE    S3 feed rate, lines/s (default 20000)
#   LOGX_BENCH_PROFILE    set to 1: CPU profile of otelcol-logx during S1 (bench/out/s1-cpu.pprof)
#   LOGX_BENCH_DOC        where to append the results (default docs/performance.md; "" = do not)
#   LOGX_BIN              the collector (default _build/otelcol-logx)
#   SYSLOG_NG             the syslog-ng binary (default: syslog-ng in PATH)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
LINES=${LOGX_BENCH_LINES:-200000}
SCENARIOS=${LOGX_BENCH_SCENARIOS:-s1 s2 s3}
RATES=${LOGX_BENCH_RATES:-10000 50000 max}
S3_RATE=${LOGX_BENCH_S3_RATE:-20000}
DOC=${LOGX_BENCH_DOC-docs/performance.md}
LOGX_BIN=${LOGX_BIN:-$ROOT/_build/otelcol-logx}
SYSLOG_NG=${SYSLOG_NG:-$(command -v syslog-ng || true)}
OUT=$ROOT/bench/out
TICK=$(getconf CLK_TCK)
GO=${GO:-go}
# The pprof extension of otelcol-logx; a fixed port only when profiling.
BENCH_PPROF=127.0.0.1:0
[ "${LOGX_BENCH_PROFILE:-0}" = 1 ] && BENCH_PPROF=${LOGX_BENCH_PPROF:-127.0.0.1:17777}

mkdir -p "$OUT/bin"
WORK=$(mktemp -d /tmp/logx-bench.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

log() { echo "bench: $*" >&2; }
die() { log "$*"; exit 1; }

[ -x "$LOGX_BIN" ] || die "no collector at $LOGX_BIN (make build)"
[ -n "$SYSLOG_NG" ] || die "syslog-ng not found (bash scripts/deps.sh installs syslog-ng-core)"

# wait_until SECONDS CMD...: poll CMD every 50 ms until it succeeds.
wait_until() {
  local deadline=$(( $(date +%s) + $1 )); shift
  until "$@"; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.05
  done
}

# cpu_seconds PID: user + system time of the whole process (all threads).
cpu_seconds() {
  sed 's/^.*) //' "/proc/$1/stat" | awk -v t="$TICK" '{printf "%.3f", ($12 + $13) / t}'
}
# peak_rss_mb PID: VmHWM, the process's peak resident set.
peak_rss_mb() { awk '/^VmHWM:/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }
now() { date +%s.%N; }
json() { # json FILE KEY: a number from a flat JSON object
  sed -n "s/.*\"$2\":\([-0-9.e+]*\).*/\1/p" "$1"
}

build_tools() {
  log "building benchgen, benchfeed, benchsink, benchids"
  $GO build -o "$OUT/bin/" ./bench/cmd/...
}

INPUT=$OUT/lines-$LINES.txt
gen_input() {
  [ -s "$INPUT" ] || "$OUT/bin/benchgen" -n "$LINES" -out "$INPUT" >&2
}

# start_sink NAME [FLAGS...]: a benchsink; sets SINK_PID and SINK_PORT.
start_sink() {
  local d=$WORK/sink-$1
  shift
  mkdir -p "$d"
  "$OUT/bin/benchsink" -listen 127.0.0.1:0 -addr-file "$d/addr" -stats "$d/stats.json" "$@" &
  SINK_PID=$!
  PIDS+=("$SINK_PID")
  wait_until 10 test -s "$d/addr" || die "sink $1 did not start"
  local addr
  addr=$(<"$d/addr")
  SINK_PORT=${addr##*:}
}

# stop PID: SIGTERM, then wait for it.
stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

# start_daemon KIND SOURCE INPUT SINKPORT: otelcol-logx or syslog-ng, reading
# a unix stream socket or a FIFO at INPUT; sets DAEMON_PID.
start_daemon() {
  local kind=$1 source=$2 input=$3 port=$4 d=$WORK/$1-$2
  mkdir -p "$d"
  rm -f "$input"
  case $kind in
  logx)
    local src=unixsocket
    [ "$source" = fifo ] && src=fifo
    BENCH_SOURCE=$src BENCH_INPUT=$input BENCH_SINK=127.0.0.1:$port BENCH_PPROF=$BENCH_PPROF \
      "$LOGX_BIN" --config "$ROOT/bench/configs/logx-edge.yaml" >"$d/log" 2>&1 &
    ;;
  syslog-ng)
    local srcdef flags
    if [ "$source" = fifo ]; then
      mkfifo -m 0600 "$input"
      # A FIFO writer must never block: no flow control, syslog-ng drops
      # (and counts) what its queue cannot hold, as otelcol-logx does.
      flags=""
      srcdef="pipe(\"$input\" log-iw-size(100000) log-fetch-limit(1000));"
    else
      srcdef="unix-stream(\"$input\" max-connections(16) log-iw-size(100000) log-fetch-limit(1000));"
      # S1 measures throughput with nothing dropped: flow control makes
      # syslog-ng slow the writer down instead of dropping.
      flags="flags(flow-control);"
    fi
    sed -e "s|@@SOURCE@@|$srcdef|" -e "s|@@SINK_PORT@@|$port|" -e "s|@@FLAGS@@|$flags|" \
      -e "s|@@FIFO_SIZE@@|100000|" "$ROOT/bench/configs/syslog-ng-edge.conf" >"$d/syslog-ng.conf"
    "$SYSLOG_NG" -F --no-caps -f "$d/syslog-ng.conf" -R "$d/persist" -p "$d/pid" -c "$d/ctl" >"$d/log" 2>&1 &
    ;;
  esac
  DAEMON_PID=$!
  PIDS+=("$DAEMON_PID")
  if [ "$source" = fifo ]; then
    wait_until 30 test -p "$input" || { cat "$d/log" >&2; die "$kind did not create $input"; }
  else
    wait_until 30 test -S "$input" || { cat "$d/log" >&2; die "$kind did not create $input"; }
  fi
  # Let the pipeline finish starting (externaljson's first fetch, outputs).
  sleep 1
  kill -0 "$DAEMON_PID" 2>/dev/null || { cat "$d/log" >&2; die "$kind exited"; }
}

# drain STATSFILE EXPECTED: wait until the sink has EXPECTED lines, or its
# count stood still for 3 s (what is missing then was dropped), at most 10 min.
drain() {
  local f=$1 want=$2 last=-1 still=0 n deadline=$(( $(date +%s) + 600 ))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    n=$(json "$f" lines 2>/dev/null || echo 0); n=${n:-0}
    [ "$n" -ge "$want" ] && return 0
    if [ "$n" = "$last" ]; then
      still=$((still + 1)); [ "$still" -ge 30 ] && return 0
    else still=0; last=$n; fi
    sleep 0.1
  done
}

RESULTS=$OUT/results-$(date -u +%Y%m%dT%H%M%SZ).tsv
printf 'scenario\tdaemon\trate\tfed\tdelivered\tlines_per_s\tcpu_s_per_mline\tpeak_rss_mb\tmax_write_ms\twrites_over_100ms\n' >"$RESULTS"

# run_pipe SCENARIO KIND SOURCE RATE: one feed through one daemon to one sink.
run_pipe() {
  local sc=$1 kind=$2 source=$3 rate=$4 input=$WORK/in-$2-$3
  start_sink "$sc-$kind-$rate"
  local sink=$SINK_PID stats=$WORK/sink-$sc-$kind-$rate/stats.json
  start_daemon "$kind" "$source" "$input" "$SINK_PORT"
  local pid=$DAEMON_PID prof=""
  if [ "$kind" = logx ] && [ "$sc" = s1 ] && [ "${LOGX_BENCH_PROFILE:-0}" = 1 ]; then
    local secs=$(( LINES / 100000 + 3 ))
    curl -s -o "$OUT/s1-cpu.pprof" "http://${BENCH_PPROF}/debug/pprof/profile?seconds=$secs" &
    prof=$!
  fi
  local flag=-unix r=0
  [ "$source" = fifo ] && flag=-fifo
  [ "$rate" = max ] || r=$rate
  local cpu0 t0 feed
  cpu0=$(cpu_seconds "$pid")
  t0=$(now)
  feed=$("$OUT/bin/benchfeed" -in "$INPUT" "$flag" "$input" -rate "$r")
  drain "$stats" "$LINES"
  local cpu1 rss
  cpu1=$(cpu_seconds "$pid")
  rss=$(peak_rss_mb "$pid")
  [ -n "$prof" ] && wait "$prof"
  stop "$pid"
  stop "$sink"
  local fed delivered last maxw over
  fed=$(echo "$feed" | sed -n 's/.*"lines":\([0-9]*\).*/\1/p')
  maxw=$(echo "$feed" | sed -n 's/.*"max_write_ms":\([0-9.e+-]*\).*/\1/p')
  over=$(echo "$feed" | sed -n 's/.*"writes_over_100ms":\([0-9]*\).*/\1/p')
  delivered=$(json "$stats" lines)
  last=$(json "$stats" last_at_unix)
  awk -v sc="$sc" -v k="$kind" -v rate="$rate" -v fed="$fed" -v d="$delivered" -v t0="$t0" -v last="$last" \
    -v c0="$cpu0" -v c1="$cpu1" -v rss="$rss" -v maxw="$maxw" -v over="$over" 'BEGIN {
      el = last - t0; lps = (d > 0 && el > 0) ? d / el : 0
      cpm = d > 0 ? (c1 - c0) / d * 1e6 : 0
      printf "%s\t%s\t%s\t%d\t%d\t%.0f\t%.2f\t%s\t%.1f\t%d\n", sc, k, rate, fed, d, lps, cpm, rss, maxw, over
    }' | tee -a "$RESULTS" >&2
}

# S3: fan-out to log-a and log-b, log-a black-holed once it has half the lines.
run_s3() {
  start_sink s3-a -ack -ids "$WORK/sink-s3-a/ids"; local a=$SINK_PID pa=$SINK_PORT
  start_sink s3-b -ack -ids "$WORK/sink-s3-b/ids"; local b=$SINK_PID pb=$SINK_PORT
  local sa=$WORK/sink-s3-a/stats.json sb=$WORK/sink-s3-b/stats.json d=$WORK/logx-s3 input=$WORK/in-s3
  mkdir -p "$d"
  BENCH_INPUT=$input BENCH_LOG_A=127.0.0.1:$pa BENCH_LOG_B=127.0.0.1:$pb \
    "$LOGX_BIN" --config "$ROOT/bench/configs/logx-fanout.yaml" >"$d/log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  wait_until 30 test -S "$input" || { cat "$d/log" >&2; die "otelcol-logx (S3) did not start"; }
  sleep 1
  "$OUT/bin/benchfeed" -in "$INPUT" -unix "$input" -rate "$S3_RATE" >"$d/feed.json" &
  local feed=$!
  wait_until 600 sh -c "n=\$(sed -n 's/.*\"lines\":\([0-9]*\).*/\1/p' $sa 2>/dev/null); [ \"\${n:-0}\" -ge $((LINES / 2)) ]" ||
    die "log-a never got half the lines"
  kill -USR1 "$a"
  log "S3: log-a black-holed"
  wait "$feed"
  drain "$sb" $((2 * LINES))
  # Let log-a read what sits in its socket buffers, then settle.
  kill -USR2 "$a"
  drain "$sa" "$LINES"
  sleep 2
  stop "$pid"; stop "$a"; stop "$b"
  local ua ub
  ua=$("$OUT/bin/benchids" -want "$LINES" -direct "$WORK/sink-s3-a/ids" -dead "$WORK/sink-s3-b/ids")
  ub=$("$OUT/bin/benchids" -want "$LINES" -direct "$WORK/sink-s3-b/ids" -dead "$WORK/sink-s3-a/ids")
  S3_ROW=$(awk -v ua="$ua" -v ub="$ub" -v bh="$(json "$sa" blackholed_at_unix)" -v fd="$(json "$sb" first_dead_letter_at_unix)" \
    -v lines="$LINES" -v rate="$S3_RATE" 'BEGIN {
      split(ua, A, " "); split(ub, B, " ")
      det = (fd > 0 && bh > 0) ? sprintf("%.2f", fd - bh) : "n/a"
      # benchids prints: direct dead unique duplicates lost
      printf "| %d | %d | log-a | %d | %d | %d | %d | %s |\n", lines, rate, A[1], A[2], A[4], A[5], det
      printf "| %d | %d | log-b | %d | %d | %d | %d | — |\n", lines, rate, B[1], B[2], B[4], B[5]
    }')
  echo "$S3_ROW" >&2
}

machine() {
  echo "- machine: $(nproc) CPUs, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), kernel $(uname -r), load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  local c
  c=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
  [ -n "$(git status --porcelain 2>/dev/null)" ] && c="$c dirty"
  echo "- commit: $c; otelcol-logx $("$LOGX_BIN" --version 2>/dev/null | awk '{print $NF}'); $("$SYSLOG_NG" --version | head -1)"
  if awk -v n="$(nproc)" '{exit !($1 > n)}' /proc/loadavg; then
    echo "- **provisional**: the load average exceeded the number of CPUs when the run started; rerun on a quiet machine before quoting"
  fi
  echo "- input: $LINES lines from benchgen ($(awk '{n++; b+=length($0)+1} END {printf "%.0f", b/n}' "$INPUT") bytes/line, 50 services)"
}

build_tools
gen_input
MACHINE=$(machine)
log "$LINES lines; scenarios: $SCENARIOS"
for sc in $SCENARIOS; do
  case $sc in
  s1)
    run_pipe s1 logx unix max
    run_pipe s1 syslog-ng unix max
    ;;
  s2)
    for r in $RATES; do
      run_pipe s2 logx fifo "$r"
      run_pipe s2 syslog-ng fifo "$r"
    done
    ;;
  s3) run_s3 ;;
  *) die "unknown scenario $sc" ;;
  esac
done

# The report: tables from $RESULTS, appended to $DOC.
REPORT=$OUT/report.md
{
  echo
  echo "## Run of $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "$MACHINE"
  echo
  if grep -q '^s1' "$RESULTS"; then
    echo "### S1: unix stream socket, rate limit, 3 fields, JSON over TCP"
    echo
    echo "| daemon | fed | delivered | lines/s | CPU-s per M lines | peak RSS MB | longest write ms | writes > 100 ms |"
    echo "|---|---|---|---|---|---|---|---|"
    awk -F'\t' '$1=="s1" {printf "| %s | %d | %d | %d | %.2f | %s | %.1f | %d |\n", ($2 == "logx" ? "otelcol-logx" : $2), $4, $5, $6, $7, $8, $9, $10}' "$RESULTS"
    awk -F'\t' '$1=="s1" && $2=="logx" {l=$6; lc=$7; lr=$8} $1=="s1" && $2=="syslog-ng" {s=$6; sc=$7}
      END { if (s > 0 && lc > 0) printf "\nRatios: lines/s otelcol-logx / syslog-ng = **%.2f×** (goal ≥ 5×); CPU per line syslog-ng / otelcol-logx = **%.2f×** (goal ≥ 5×); otelcol-logx peak RSS %s MB (goal < 150).\n", l / s, sc / lc, lr }' "$RESULTS"
    echo
  fi
  if grep -q '^s2' "$RESULTS"; then
    echo "### S2: FIFO at fixed rates"
    echo
    echo "| daemon | rate (lines/s) | fed | delivered | achieved lines/s | CPU-s per M lines | peak RSS MB | longest write ms | writes > 100 ms |"
    echo "|---|---|---|---|---|---|---|---|---|"
    awk -F'\t' '$1=="s2" {printf "| %s | %s | %d | %d | %d | %.2f | %s | %.1f | %d |\n", ($2 == "logx" ? "otelcol-logx" : $2), $3, $4, $5, $6, $7, $8, $9, $10}' "$RESULTS"
    echo
  fi
  if [ -n "${S3_ROW:-}" ]; then
    echo "### S3: fan-out to log-a and log-b, log-a black-holed at half the input"
    echo
    echo "Per side: lines that reached it directly, as dead-letter copies on the other side, duplicates, lost (input lines that reached that side by neither way)."
    echo
    echo "| lines | feed lines/s | side | direct | dead-lettered | duplicates | lost | time to detect (s) |"
    echo "|---|---|---|---|---|---|---|---|"
    echo "$S3_ROW"
    echo
  fi
} >"$REPORT"
cat "$REPORT"
if [ -n "$DOC" ]; then
  cat "$REPORT" >>"$DOC"
  log "appended to $DOC"
fi
