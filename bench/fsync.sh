#!/usr/bin/env bash
# bench/fsync.sh: what fsync: true on file_storage costs at S1 rates. S1's
# job (unix stream socket -> ratelimit -> externaljson -> cfjs1 to a counting
# benchsink) with the edge's persistent sending queue, once without and once
# with fsync, at each rate: lines delivered per second, CPU seconds of the
# collector per million lines, the longest write of the feeder; each of
# these also with a batch processor before the queue (one queue entry, so
# one sync, per 200 ms or 2,000 records instead of one per receiver read).
#
#   LOGX_BIN=_build/otelcol-logx LOGX_BENCH_LINES=300000 LOGX_BENCH_RATES="10000 50000" bash bench/fsync.sh
#
# The queue lives in a temporary directory under TMPDIR (default /tmp): put
# it on the disk whose fsync you mean to measure.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
LINES=${LOGX_BENCH_LINES:-300000}
RATES=${LOGX_BENCH_RATES:-10000 50000}
LOGX_BIN=${LOGX_BIN:-$ROOT/_build/otelcol-logx}
OUT=$ROOT/bench/out
TICK=$(getconf CLK_TCK)
W=$(mktemp -d "${TMPDIR:-/tmp}/logx-fsync.XXXXXX")
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$W"
}
trap cleanup EXIT
[ -x "$LOGX_BIN" ] || { echo "fsync: no collector at $LOGX_BIN (make build)" >&2; exit 1; }

mkdir -p "$OUT/bin"
go build -o "$OUT/bin/" ./bench/cmd/...
IN=$OUT/lines-$LINES.txt
[ -s "$IN" ] || "$OUT/bin/benchgen" -n "$LINES" -out "$IN" >&2

cpu() { sed 's/^.*) //' "/proc/$1/stat" | awk -v t="$TICK" '{printf "%.3f", ($12 + $13) / t}'; }
json() { sed -n "s/.*\"$2\":\([-0-9.e+]*\).*/\1/p" "$1"; }
# metric NAME: the sum of a metric's samples on the collector's endpoint.
metric() {
  curl -s "http://127.0.0.1:$PORT/metrics" | awk -v n="$1" '$1 == n || index($1, n "{") == 1 { s += $NF } END { printf "%d", s }'
}
PORT=${LOGX_BENCH_METRICS_PORT:-18888}
# wait_until SECONDS CMD...: poll CMD every 50 ms until it succeeds.
wait_until() {
  local deadline=$(( $(date +%s) + $1 )); shift
  until "$@"; do [ "$(date +%s)" -lt "$deadline" ] || return 1; sleep 0.05; done
}

printf 'batch\tfsync\trate\tfed\tdelivered\trefused\tdropped\tlines_per_s\tcpu_s_per_mline\tmax_write_ms\n'
for batch in no yes; do
  procs="[ratelimit, externaljson]"
  [ "$batch" = yes ] && procs="[ratelimit, externaljson, batch]"
for fs in false true; do
  for rate in $RATES; do
    w=$W/$batch-$fs-$rate
    mkdir -p "$w/state"
    "$OUT/bin/benchsink" -listen 127.0.0.1:0 -addr-file "$w/addr" -stats "$w/stats.json" &
    sink=$!; PIDS+=("$sink")
    wait_until 10 test -s "$w/addr"
    BENCH_PROCESSORS=$procs BENCH_STATE=$w/state FSYNC=$fs BENCH_METRICS_PORT=$PORT BENCH_INPUT=$w/in.sock BENCH_SINK=$(<"$w/addr") \
      "$LOGX_BIN" --config bench/configs/logx-fsync.yaml >"$w/log" 2>&1 &
    pid=$!; PIDS+=("$pid")
    wait_until 30 test -S "$w/in.sock" || { cat "$w/log" >&2; exit 1; }
    sleep 1 # externaljson's first fetch
    r=$rate; [ "$rate" = max ] && r=0
    c0=$(cpu "$pid"); t0=$(date +%s.%N)
    feed=$("$OUT/bin/benchfeed" -in "$IN" -unix "$w/in.sock" -rate "$r")
    # Until the sink has every line, or the queue is empty and the sink's
    # count stood still for 5 s (what is missing then was dropped).
    last=-1; still=0; deadline=$(( $(date +%s) + 600 ))
    while [ "$(date +%s)" -lt "$deadline" ]; do
      n=$(json "$w/stats.json" lines 2>/dev/null || echo 0); n=${n:-0}
      [ "$n" -ge "$LINES" ] && break
      if [ "$n" = "$last" ] && [ "$(metric otelcol_exporter_queue_size)" = 0 ]; then
        still=$((still + 1)); [ "$still" -ge 50 ] && break
      else still=0; last=$n; fi
      sleep 0.1
    done
    c1=$(cpu "$pid")
    refused=$(metric otelcol_receiver_refused_log_records)
    dropped=$(metric otelcol_logx_unixsocket_dropped_records)
    kill "$pid"; wait "$pid" || true; kill "$sink"; wait "$sink" || true
    awk -v fs="$fs" -v rate="$rate" -v t0="$t0" -v c0="$c0" -v c1="$c1" \
      -v fed="$(echo "$feed" | sed -n 's/.*"lines":\([0-9]*\).*/\1/p')" \
      -v d="$(json "$w/stats.json" lines)" -v last="$(json "$w/stats.json" last_at_unix)" \
      -v mw="$(echo "$feed" | sed -n 's/.*"max_write_ms":\([0-9.e+-]*\).*/\1/p')" -v rf="$refused" -v dr="$dropped" -v b="$batch" \
      'BEGIN { el = last - t0; printf "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%.0f\t%.2f\t%.1f\n", b, fs, rate, fed, d, rf, dr, (el > 0 ? d / el : 0), (d > 0 ? (c1 - c0) / d * 1e6 : 0), mw }'
  done
done
done
