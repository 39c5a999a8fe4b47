#!/usr/bin/env bash
# bench/run.sh: the side-by-side scenarios, otelcol-logx against
# syslog-ng (and rsyslog on the datagram path) on the same input, the same
# loopback sink and the same machine.
#
#   S1  unix stream socket -> rate limit per service -> 3 fields added ->
#       JSON lines over TCP to benchsink, as fast as the feeder can write.
#   S1cap  otelcol-logx only: S1's job at fixed rates stepped up until
#       lines are lost: the zero-loss capacity, beside S1's unthrottled run.
#   S2  the same job fed through a FIFO at fixed rates (and maximum): CPU per
#       line, and whether the writer was ever blocked (> 100 ms writes).
#   S3  otelcol-logx only: fan-out to log-a and log-b (two benchsinks that
#       speak the cfjs1 ack protocol, as tier-2 receivers do), log-a
#       black-holed halfway: delivered, dead-lettered, lost, time to detect.
#   S4  the S1 job at the rates hosts really write (1k .. 100k lines/s), ONE
#       LINE PER write(2) or datagram, on a unix stream socket, a unix
#       datagram socket (/dev/log) and a FIFO; otelcol-logx, syslog-ng, and
#       rsyslog (imuxsock, datagram only; unpacked by bench/setup-rsyslog.sh).
#   idle  otelcol-logx: the shipped per-host config (configs/edge.yaml) with
#       its two tier-2 peers up and no input: CPU per second of wall time.
#   S5  otelcol-logx: the journal receiver over journal files written by
#       systemd-journal-remote (9 fields per entry) -> rate limit -> cfjs1;
#       a backlog read from the beginning (saturation), then entries
#       appended at fixed rates while it follows.
#
# CPU is utime + stime of the daemon's whole process tree (its threads, its
# live children such as S5's journalctl, and the children it has reaped),
# from /proc/<pid>/stat, between "ready" and "drained".
#
# Results (a Markdown report headed by machine, commit and date, and the raw
# TSV) go to _build/bench/; docs/performance.md is changed only when asked
# (LOGX_BENCH_DOC, or make bench-doc). Scale and choice by environment:
#
#   LOGX_BENCH_LINES      input lines of S1, S2, S3 (default 200000; full scale is 2000000)
#   LOGX_BENCH_SCENARIOS  which to run (default "s1 s1cap s2 s3 s4 idle s5")
#   LOGX_BENCH_S1_DAEMONS S1 daemons (default "logx syslog-ng")
#   LOGX_BENCH_RATES      S2 rates in lines/s, "max" = unthrottled (default "10000 50000 max")
#   LOGX_BENCH_S3_RATE    S3 feed rate, lines/s (default 20000)
#   LOGX_BENCH_S4_RATES   S4 rates in lines/s (default "1000 10000 50000 100000")
#   LOGX_BENCH_S4_INPUTS  S4 inputs (default "stream dgram fifo")
#   LOGX_BENCH_S4_SECONDS S4 feed time per rate (default 10)
#   LOGX_BENCH_S4_DAEMONS S4 daemons (default "logx syslog-ng rsyslog"; rsyslog on dgram only)
#   LOGX_BENCH_CAP_RATES  S1cap rates (default "100000 200000 300000 500000 700000 1000000")
#   LOGX_BENCH_CAP_SECONDS S1cap feed time per rate (default 5)
#   LOGX_BENCH_S5_ENTRIES S5 backlog entries (default 500000)
#   LOGX_BENCH_S5_RATES   S5 append rates, entries/s (default "10000 50000")
#   LOGX_BENCH_S5_SECONDS S5 append time per rate (default 10)
#   LOGX_BENCH_S5_SERVICES S5 services (units) interleaved at random in the journal (default 50)
#   LOGX_BENCH_S5_READERS  S5 journal receiver readers, each run in turn (default "direct journalctl")
#   LOGX_BENCH_IDLE_SECONDS idle: measured time (default 30, after 10 s to settle)
#   LOGX_BENCH_PROFILE    set to 1: CPU profiles of otelcol-logx (S1, S4 at 50000, S5) into bench/out/*-cpu.pprof
#   LOGX_BENCH_RESULTS    the report (default _build/bench/results-<UTC time>.md)
#   LOGX_BENCH_DOC        also append the report here (default: nowhere; make bench-doc: docs/performance.md)
#   LOGX_BIN              the collector (default _build/otelcol-logx)
#   SYSLOG_NG             the syslog-ng binary (default: syslog-ng in PATH)
#   RSYSLOG_DIR           unpacked rsyslog (default: bench/setup-rsyslog.sh's bench/out/rsyslog; "" = skip rsyslog)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
LINES=${LOGX_BENCH_LINES:-200000}
SCENARIOS=${LOGX_BENCH_SCENARIOS:-s1 s1cap s2 s3 s4 idle s5}
S1_DAEMONS=${LOGX_BENCH_S1_DAEMONS:-logx syslog-ng}
RATES=${LOGX_BENCH_RATES:-10000 50000 max}
S3_RATE=${LOGX_BENCH_S3_RATE:-20000}
IDLE_SECONDS=${LOGX_BENCH_IDLE_SECONDS:-30}
S4_RATES=${LOGX_BENCH_S4_RATES:-1000 10000 50000 100000}
S4_INPUTS=${LOGX_BENCH_S4_INPUTS:-stream dgram fifo}
S4_SECONDS=${LOGX_BENCH_S4_SECONDS:-10}
S4_DAEMONS=${LOGX_BENCH_S4_DAEMONS:-logx syslog-ng rsyslog}
CAP_RATES=${LOGX_BENCH_CAP_RATES:-100000 200000 300000 500000 700000 1000000}
CAP_SECONDS=${LOGX_BENCH_CAP_SECONDS:-5}
S5_ENTRIES=${LOGX_BENCH_S5_ENTRIES:-500000}
S5_RATES=${LOGX_BENCH_S5_RATES-10000 50000}
S5_SECONDS=${LOGX_BENCH_S5_SECONDS:-10}
S5_SERVICES=${LOGX_BENCH_S5_SERVICES:-50}
S5_READERS=${LOGX_BENCH_S5_READERS:-direct journalctl}
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
STARTED=$(date -u '+%Y-%m-%d %H:%M UTC')
REPORT=${LOGX_BENCH_RESULTS:-$ROOT/_build/bench/results-$STAMP.md}
DOC=${LOGX_BENCH_DOC-}
LOGX_BIN=${LOGX_BIN:-$ROOT/_build/otelcol-logx}
SYSLOG_NG=${SYSLOG_NG:-$(command -v syslog-ng || true)}
OUT=$ROOT/bench/out
TICK=$(getconf CLK_TCK)
GO=${GO:-go}
PROFILE=${LOGX_BENCH_PROFILE:-0}
# The pprof extension of otelcol-logx; a fixed port only when profiling.
BENCH_PPROF=127.0.0.1:0
[ "$PROFILE" = 1 ] && BENCH_PPROF=${LOGX_BENCH_PPROF:-127.0.0.1:17777}

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

# cpu_seconds PID: user + system time of the process tree under PID: every
# live descendant (all threads) plus the children PID has reaped (cutime,
# cstime), e.g. the journal receiver's journalctl.
cpu_seconds() {
  { cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk -v root="$1" -v t="$TICK" '{
      pid = $1; rest = $0; sub(/^.*\) /, "", rest); split(rest, f, " ")
      pp[pid] = f[2]; c[pid] = f[12] + f[13]
      if (pid == root) total += f[14] + f[15]
    } END {
      for (p in pp) {
        for (q = p; q != "" && q > 1; q = pp[q]) if (q == root) { total += c[p]; break }
      }
      printf "%.3f", total / t
    }'
}
# thread_cpu_seconds PID: the CPU time of PID's live threads, from their
# schedstat in nanoseconds (the clock ticks of /proc/PID/stat are too coarse
# for an idle process: 10 ms where it spends about 1 ms a second).
thread_cpu_seconds() { cat /proc/"$1"/task/*/schedstat | awk '{ns += $1} END {printf "%.6f", ns / 1e9}'; }
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
  "$OUT/bin/benchsink" -listen 127.0.0.1:0 -addr-file "$d/addr" -stats "$d/stats.json" -interval 20ms -latency "$@" &
  SINK_PID=$!
  PIDS+=("$SINK_PID")
  wait_until 10 test -s "$d/addr" || die "sink $1 did not start"
  local addr
  addr=$(<"$d/addr")
  SINK_PORT=${addr##*:}
}

# stop PID: SIGTERM, then wait for it.
stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

# rsyslog: unpacked by bench/setup-rsyslog.sh (it conflicts with syslog-ng
# as a package); RSYSLOG_DIR="" or a failed setup leaves it out.
RSYSLOG_LIB=
setup_rsyslog() {
  if [ -z "${RSYSLOG_DIR+x}" ]; then
    RSYSLOG_DIR=$(bash "$ROOT/bench/setup-rsyslog.sh" 2>"$WORK/rsyslog-setup.log") ||
      { log "rsyslog left out: $(tail -1 "$WORK/rsyslog-setup.log")"; RSYSLOG_DIR=; }
  fi
  [ -n "$RSYSLOG_DIR" ] || return 0
  RSYSLOG_LIB=$(dirname "$(find "$RSYSLOG_DIR/usr/lib" -name 'libestr.so.0' | head -1)")
  LD_LIBRARY_PATH=$RSYSLOG_LIB "$RSYSLOG_DIR/usr/sbin/rsyslogd" -v >/dev/null 2>&1 ||
    { log "rsyslog left out: $RSYSLOG_DIR/usr/sbin/rsyslogd does not run"; RSYSLOG_DIR=; }
}

# start_daemon KIND SOURCE INPUT SINKPORT [FLOW]: otelcol-logx, syslog-ng or
# rsyslog reading a unix stream socket ("unix"/"stream"), a unix datagram
# socket ("dgram") or a FIFO ("fifo") at INPUT; sets DAEMON_PID. FLOW=yes:
# syslog-ng's flow control on the stream source (S1).
start_daemon() {
  local kind=$1 source=$2 input=$3 port=$4 flow=${5:-no} d=$WORK/$1-$2
  mkdir -p "$d"
  rm -f "$input"
  case $kind in
  logx)
    local src=unixsocket transport=stream
    [ "$source" = fifo ] && src=fifo
    [ "$source" = dgram ] && transport=datagram
    BENCH_SOURCE=$src BENCH_TRANSPORT=$transport BENCH_INPUT=$input BENCH_SINK=127.0.0.1:$port BENCH_PPROF=$BENCH_PPROF \
      "$LOGX_BIN" --config "$ROOT/bench/configs/logx-edge.yaml" >"$d/log" 2>&1 &
    ;;
  syslog-ng)
    local srcdef flags=""
    case $source in
    fifo)
      mkfifo -m 0600 "$input"
      # A FIFO writer must never block: no flow control, syslog-ng drops
      # (and counts) what its queue cannot hold, as otelcol-logx does.
      srcdef="pipe(\"$input\" log-iw-size(100000) log-fetch-limit(1000));"
      ;;
    dgram)
      srcdef="unix-dgram(\"$input\" log-iw-size(100000) log-fetch-limit(1000));"
      ;;
    *)
      srcdef="unix-stream(\"$input\" max-connections(16) log-iw-size(100000) log-fetch-limit(1000));"
      # S1 measures throughput with nothing dropped: flow control makes
      # syslog-ng slow the writer down instead of dropping.
      [ "$flow" = yes ] && flags="flags(flow-control);"
      ;;
    esac
    sed -e "s|@@SOURCE@@|$srcdef|" -e "s|@@SINK_PORT@@|$port|" -e "s|@@FLAGS@@|$flags|" \
      -e "s|@@FIFO_SIZE@@|100000|" "$ROOT/bench/configs/syslog-ng-edge.conf" >"$d/syslog-ng.conf"
    "$SYSLOG_NG" -F --no-caps -f "$d/syslog-ng.conf" -R "$d/persist" -p "$d/pid" -c "$d/ctl" >"$d/log" 2>&1 &
    ;;
  rsyslog)
    [ "$source" = dgram ] || die "rsyslog runs on the datagram input only"
    sed -e "s|@@INPUT@@|$input|" -e "s|@@SINK_PORT@@|$port|" -e "s|@@WORK@@|$d|" \
      "$ROOT/bench/configs/rsyslog-edge.conf" >"$d/rsyslog.conf"
    LD_LIBRARY_PATH=$RSYSLOG_LIB "$RSYSLOG_DIR/usr/sbin/rsyslogd" -M "$RSYSLOG_LIB/rsyslog" -n \
      -f "$d/rsyslog.conf" -i "$d/pid" >"$d/log" 2>&1 &
    ;;
  esac
  DAEMON_PID=$!
  PIDS+=("$DAEMON_PID")
  local kindof=-S
  [ "$source" = fifo ] && kindof=-p
  wait_until 30 test "$kindof" "$input" || { cat "$d/log" >&2; die "$kind did not create $input"; }
  # Let the pipeline finish starting (externaljson's first fetch, outputs).
  sleep 1
  kill -0 "$DAEMON_PID" 2>/dev/null || { cat "$d/log" >&2; die "$kind exited"; }
}

# drain STATSFILE EXPECTED [STILL]: wait until the sink has EXPECTED lines,
# or its count stood still for STILL seconds (default 3: what is missing
# then was dropped), at most 10 min.
drain() {
  local f=$1 want=$2 limit=$(( ${3:-3} * 10 )) last=-1 still=0 n deadline=$(( $(date +%s) + 600 ))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    n=$(json "$f" lines 2>/dev/null || echo 0); n=${n:-0}
    [ "$n" -ge "$want" ] && return 0
    if [ "$n" = "$last" ]; then
      still=$((still + 1)); [ "$still" -ge "$limit" ] && return 0
    else still=0; last=$n; fi
    sleep 0.1
  done
}

mkdir -p "$(dirname "$REPORT")"
RESULTS=${REPORT%.md}.tsv
printf 'scenario\tdaemon\tinput\trate\tfed\tdelivered\tlines_per_s\tus_cpu_per_line\tpeak_rss_mb\tmax_write_ms\twrites_over_100ms\tp99_write_us\tfeed_lines_per_s\te2e_p50_ms\te2e_p99_ms\n' >"$RESULTS"

# profile_start NAME SECONDS: a CPU profile of otelcol-logx through its pprof
# extension into bench/out/NAME-cpu.pprof (LOGX_BENCH_PROFILE=1); sets PROF.
PROF=
profile_start() {
  PROF=
  [ "$PROFILE" = 1 ] || return 0
  curl -s -o "$OUT/$1-cpu.pprof" "http://${BENCH_PPROF}/debug/pprof/profile?seconds=$2" &
  PROF=$!
}
profile_wait() { [ -z "$PROF" ] || wait "$PROF" || true; PROF=; }

# row SC KIND INPUT RATE FED DELIVERED T0 LAST CPU0 CPU1 RSS MAXW OVER P99 FEEDLPS [E2E50 E2E99]:
# one line of the results: lines/s from T0 to the sink's last line, µs of
# CPU per delivered line, end-to-end latency (ms) when the lines were stamped.
row() {
  awk -v sc="$1" -v k="$2" -v inp="$3" -v rate="$4" -v fed="$5" -v d="$6" -v t0="$7" -v last="$8" \
    -v c0="$9" -v c1="${10}" -v rss="${11}" -v maxw="${12}" -v over="${13}" -v p99="${14}" -v flps="${15}" -v e50="${16:-0}" -v e99="${17:-0}" 'BEGIN {
      el = last - t0; lps = (d > 0 && el > 0) ? d / el : 0
      cpl = d > 0 ? (c1 - c0) / d * 1e6 : 0
      printf "%s\t%s\t%s\t%s\t%d\t%d\t%.0f\t%.2f\t%s\t%.1f\t%d\t%.0f\t%.0f\t%.2f\t%.2f\n", sc, k, inp, rate, fed, d, lps, cpl, rss, maxw, over, p99, flps, e50, e99
    }' | tee -a "$RESULTS" >&2
}

# run_pipe SCENARIO KIND SOURCE RATE [SECONDS [PER_WRITE [FLOW]]]: one feed
# through one daemon to one sink. SECONDS 0: the whole input file once.
run_pipe() {
  local sc=$1 kind=$2 source=$3 rate=$4 secs=${5:-0} perw=${6:-0} flow=${7:-no} input=$WORK/in-$2-$3
  local tag=$sc-$kind-$source-$rate
  start_sink "$tag"
  local sink=$SINK_PID stats=$WORK/sink-$tag/stats.json
  start_daemon "$kind" "$source" "$input" "$SINK_PORT" "$flow"
  local pid=$DAEMON_PID
  local args=(-in "$INPUT")
  case $source in
  fifo) args+=(-fifo "$input") ;;
  dgram) args+=(-dgram "$input") ;;
  *) args+=(-unix "$input") ;;
  esac
  [ "$rate" = max ] || args+=(-rate "$rate")
  [ "$secs" = 0 ] || args+=(-seconds "$secs")
  [ "$perw" = 0 ] || args+=(-per-write "$perw")
  # Stamped lines (send time as request id) for the end-to-end latency;
  # S3 needs its real ids.
  case $sc in s1cap | s4) args+=(-stamp) ;; esac
  if [ "$kind" = logx ] && { [ "$sc" = s1 ] || { [ "$sc" = s4 ] && [ "$rate" = 50000 ]; }; }; then
    local psecs=$secs
    [ "$secs" = 0 ] && psecs=$(( LINES / 100000 + 3 ))
    profile_start "$sc-$source" "$psecs"
  fi
  local cpu0 t0 feed
  cpu0=$(cpu_seconds "$pid")
  t0=$(now)
  feed=$("$OUT/bin/benchfeed" "${args[@]}") || die "benchfeed failed ($tag)"
  local fed
  fed=$(echo "$feed" | sed -n 's/.*"lines":\([0-9]*\).*/\1/p')
  drain "$stats" "$fed"
  local cpu1 rss
  cpu1=$(cpu_seconds "$pid")
  rss=$(peak_rss_mb "$pid")
  profile_wait
  stop "$pid"
  stop "$sink"
  fj() { echo "$feed" | sed -n "s/.*\"$1\":\([0-9.e+-]*\).*/\1/p"; }
  row "$sc" "$kind" "$source" "$rate" "$fed" "$(json "$stats" lines)" "$t0" "$(json "$stats" last_at_unix)" \
    "$cpu0" "$cpu1" "$rss" "$(fj max_write_ms)" "$(fj writes_over_100ms)" "$(fj p99_write_us)" "$(fj lines_per_s)" \
    "$(json "$stats" latency_p50_ms)" "$(json "$stats" latency_p99_ms)"
}

# last_row_lossless: whether the last result row delivered all it was fed.
last_row_lossless() { tail -1 "$RESULTS" | awk -F'\t' '{exit !($6 >= $5)}'; }

# S1cap: S1's job at fixed rates (a millisecond's worth of lines per write),
# stepped up until a rate loses lines, beside S1's unthrottled run.
run_cap() {
  run_pipe s1cap logx unix max
  local r
  for r in $CAP_RATES; do
    run_pipe s1cap logx unix "$r" "$CAP_SECONDS"
    last_row_lossless || break
    # A feeder that could not keep up proves nothing about a higher rate.
    tail -1 "$RESULTS" | awk -F'\t' -v r="$r" '{exit !($13 < 0.9 * r)}' && { log "S1cap: the feeder fell behind at $r lines/s"; break; }
  done
}

# S4: one line per write(2) or datagram, every input, every rate, every daemon.
run_s4() {
  local input r k
  for input in $S4_INPUTS; do
    for r in $S4_RATES; do
      for k in $S4_DAEMONS; do
        case $k in
        rsyslog) [ "$input" = dgram ] && [ -n "$RSYSLOG_DIR" ] || continue ;;
        esac
        run_pipe s4 "$k" "$input" "$r" "$S4_SECONDS" 1
      done
    done
  done
}

# S5: the journal receiver. start_journal DIR NAME READER: otelcol-logx
# reading the journal files in DIR with READER (direct or journalctl) to a
# new sink; sets DAEMON_PID, SINK_PID, STATS.
start_journal() {
  local jdir=$1 name=$2 reader=$3 d=$WORK/logx-$2
  mkdir -p "$d/cursor"
  start_sink "$name"
  STATS=$WORK/sink-$name/stats.json
  BENCH_JOURNAL_DIR=$jdir BENCH_JOURNAL_READER=$reader BENCH_CURSOR_DIR=$d/cursor BENCH_SINK=127.0.0.1:$SINK_PORT BENCH_PPROF=$BENCH_PPROF \
    "$LOGX_BIN" --config "$ROOT/bench/configs/logx-journal.yaml" >"$d/log" 2>&1 &
  DAEMON_PID=$!
  PIDS+=("$DAEMON_PID")
}

# sink_lines_at_least STATS N
sink_lines_at_least() { local n; n=$(json "$1" lines 2>/dev/null); [ "${n:-0}" -ge "$2" ]; }

# S5 backlog: S5_ENTRIES entries written before the start, read from the
# beginning as fast as the pipeline goes. CPU from the first delivered line
# (start-up left out) to the last.
# The journal is written once and read by each reader in turn.
run_s5_backlog() {
  local jdir=$WORK/journal-backlog
  if [ ! -d "$jdir" ]; then
    mkdir -p "$jdir"
    log "S5: writing $S5_ENTRIES journal entries with systemd-journal-remote"
    S5_BACKLOG_WRITER=$("$OUT/bin/benchjournal" -dir "$jdir" -n "$S5_ENTRIES" -writers 2 -services "$S5_SERVICES") || die "benchjournal failed"
  fi
  local w=$S5_BACKLOG_WRITER reader=$1
  start_journal "$jdir" "s5-backlog-$reader" "$reader"
  local pid=$DAEMON_PID sink=$SINK_PID
  wait_until 60 sink_lines_at_least "$STATS" 1 || { cat "$WORK/logx-s5-backlog-$reader/log" >&2; die "S5: nothing delivered"; }
  local cpu0 n0 t0
  cpu0=$(cpu_seconds "$pid"); t0=$(now); n0=$(json "$STATS" lines)
  profile_start "s5-backlog-$reader" $(( S5_ENTRIES / 100000 + 2 ))
  # The journal receiver waits rather than drops: a still count means slow.
  drain "$STATS" "$S5_ENTRIES" 15
  local cpu1 rss n1
  cpu1=$(cpu_seconds "$pid"); rss=$(peak_rss_mb "$pid"); n1=$(json "$STATS" lines)
  profile_wait
  stop "$pid"; stop "$sink"
  # Fed and delivered count from the first line on, as the CPU does.
  row s5 "logx/$reader" journal-backlog max $(( S5_ENTRIES - n0 )) $(( n1 - n0 )) "$t0" "$(json "$STATS" last_at_unix)" \
    "$cpu0" "$cpu1" "$rss" 0 0 0 "$(echo "$w" | sed -n 's/.*"entries_per_s":\([0-9.e+-]*\).*/\1/p')"
}

# S5 at a rate: entries appended every 100 ms by one systemd-journal-remote
# run into one file while the receiver follows. One writer, as journald is:
# journalctl, following several files, skips entries appended to one behind
# what it already read from another. One systemd-journal-remote writes at
# most ~20,000 entries/s (~50 µs of CPU each): the row says what it reached.
run_s5_rate() {
  local r=$1 reader=$2 jdir=$WORK/journal-$1-$2 writers=1
  mkdir -p "$jdir"
  # One entry per file, so that every file exists when the reader starts.
  "$OUT/bin/benchjournal" -dir "$jdir" -n "$writers" -writers "$writers" -services "$S5_SERVICES" >/dev/null || die "benchjournal failed"
  start_journal "$jdir" "s5-$r-$reader" "$reader"
  local pid=$DAEMON_PID sink=$SINK_PID
  wait_until 60 sink_lines_at_least "$STATS" "$writers" || { cat "$WORK/logx-s5-$r-$reader/log" >&2; die "S5: nothing delivered"; }
  sleep 0.5
  local cpu0 t0 w fed
  cpu0=$(cpu_seconds "$pid"); t0=$(now)
  profile_start "s5-$r-$reader" "$S5_SECONDS"
  w=$("$OUT/bin/benchjournal" -dir "$jdir" -rate "$r" -seconds "$S5_SECONDS" -writers "$writers" -services "$S5_SERVICES") || die "benchjournal failed"
  fed=$(echo "$w" | sed -n 's/.*"entries":\([0-9]*\).*/\1/p')
  drain "$STATS" $(( fed + writers )) 15
  local cpu1 rss
  cpu1=$(cpu_seconds "$pid"); rss=$(peak_rss_mb "$pid")
  profile_wait
  stop "$pid"; stop "$sink"
  wj() { echo "$w" | sed -n "s/.*\"$1\":\([0-9.e+-]*\).*/\1/p"; }
  row s5 "logx/$reader" journal-append "$r" "$fed" $(( $(json "$STATS" lines) - writers )) "$t0" "$(json "$STATS" last_at_unix)" \
    "$cpu0" "$cpu1" "$rss" "$(wj max_append_ms)" 0 0 "$(wj entries_per_s)"
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


# Idle: configs/edge.yaml as shipped, state and sockets under $WORK, both
# tier-2 peers up (acking sinks) and nothing written: what the daemon costs
# a host that logs nothing. Its DC-status endpoint is left unreachable (one
# failed fetch per 30 s).
run_idle() {
  start_sink idle-a -ack; local a=$SINK_PID pa=$SINK_PORT
  start_sink idle-b -ack; local b=$SINK_PID pb=$SINK_PORT
  local d=$WORK/logx-idle
  mkdir -p "$d/state" "$d/run" "$d/logs"
  LOGX_STATE_DIR=$d/state LOGX_RUN_DIR=$d/run LOGX_LOG_DIR=$d/logs LOGX_LOG_A=127.0.0.1:$pa LOGX_LOG_B=127.0.0.1:$pb \
    LOGX_HEALTH_ENDPOINT=127.0.0.1:0 LOGX_PPROF_ENDPOINT=127.0.0.1:0 LOGX_METRICS_PORT=0 LOGX_DC_STATUS_URL=http://127.0.0.1:9/ \
    "$LOGX_BIN" --config "$ROOT/configs/edge.yaml" >"$d/log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  wait_until 30 test -S "$d/run/syslog.sock" || { cat "$d/log" >&2; die "otelcol-logx (idle) did not start"; }
  sleep 10
  local cpu0 t0 cpu1 t1
  cpu0=$(thread_cpu_seconds "$pid"); t0=$(now)
  sleep "$IDLE_SECONDS"
  cpu1=$(thread_cpu_seconds "$pid"); t1=$(now)
  kill -0 "$pid" 2>/dev/null || { cat "$d/log" >&2; die "otelcol-logx (idle) exited"; }
  stop "$pid"; stop "$a"; stop "$b"
  IDLE_ROW=$(awk -v c0="$cpu0" -v c1="$cpu1" -v t0="$t0" -v t1="$t1" 'BEGIN {
    ms = (c1 - c0) * 1000 / (t1 - t0)
    printf "| configs/edge.yaml | %.0f | %.2f | %.3f%% |", t1 - t0, ms, ms / 10 }')
  echo "$IDLE_ROW" >&2
}

machine() {
  echo "- date: $STARTED (start)"
  echo "- machine: $(nproc) CPUs, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), kernel $(uname -r), load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  local c
  c=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
  [ -n "$(git status --porcelain 2>/dev/null)" ] && c="$c dirty"
  echo "- commit: $c; otelcol-logx $("$LOGX_BIN" --version 2>/dev/null | awk '{print $NF}'); $("$SYSLOG_NG" --version | head -1)"
  if [ -n "$RSYSLOG_DIR" ]; then
    echo "- rsyslog: $(LD_LIBRARY_PATH=$RSYSLOG_LIB "$RSYSLOG_DIR/usr/sbin/rsyslogd" -v | head -1 | awk '{print $1, $2}') (unpacked by bench/setup-rsyslog.sh)"
  fi
  if awk -v n="$(nproc)" '{exit !($1 > n)}' /proc/loadavg; then
    echo "- **provisional**: the load average exceeded the number of CPUs when the run started; rerun on a quiet machine before quoting"
  fi
  echo "- input: $LINES lines from benchgen ($(awk '{n++; b+=length($0)+1} END {printf "%.0f", b/n}' "$INPUT") bytes/line, 50 services)"
}

build_tools
gen_input
[ "$PROFILE" = 1 ] && rm -f "$OUT"/*-cpu.pprof
case " $SCENARIOS " in *" s4 "*) case " $S4_DAEMONS " in *" rsyslog "*) setup_rsyslog ;; *) RSYSLOG_DIR= ;; esac ;; *) RSYSLOG_DIR= ;; esac
MACHINE=$(machine)
log "scenarios: $SCENARIOS; report: $REPORT"
for sc in $SCENARIOS; do
  case $sc in
  s1)
    for k in $S1_DAEMONS; do run_pipe s1 "$k" unix max 0 0 yes; done
    ;;
  s1cap) run_cap ;;
  s2)
    for r in $RATES; do
      run_pipe s2 logx fifo "$r"
      run_pipe s2 syslog-ng fifo "$r"
    done
    ;;
  s3) run_s3 ;;
  s4) run_s4 ;;
  idle) run_idle ;;
  s5)
    for reader in $S5_READERS; do run_s5_backlog "$reader"; done
    for r in $S5_RATES; do
      for reader in $S5_READERS; do run_s5_rate "$r" "$reader"; done
    done
    ;;
  *) die "unknown scenario $sc" ;;
  esac
done

# The report: tables from $RESULTS. Columns of $RESULTS: 1 scenario,
# 2 daemon, 3 input, 4 rate, 5 fed, 6 delivered, 7 lines/s, 8 µs CPU per
# line, 9 peak RSS MB, 10 longest write ms, 11 writes > 100 ms, 12 p99
# write µs, 13 feeder lines/s, 14 and 15 end-to-end latency p50, p99 ms.
name() { sed 's/| logx |/| otelcol-logx |/'; }
{
  echo
  echo "## Run of $STARTED"
  echo
  echo "$MACHINE"
  echo "- finished: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "µs CPU per line = CPU-seconds per million lines: utime + stime of the daemon's process tree (threads, children) per delivered line."
  echo
  if grep -q '^s1	' "$RESULTS"; then
    echo "### S1: unix stream socket, rate limit, 3 fields, JSON over TCP"
    echo
    echo "| daemon | fed | delivered | lines/s | µs CPU per line | peak RSS MB | longest write ms | writes > 100 ms |"
    echo "|---|---|---|---|---|---|---|---|"
    awk -F'\t' '$1=="s1" {printf "| %s | %d | %d | %d | %.2f | %s | %.1f | %d |\n", $2, $5, $6, $7, $8, $9, $10, $11}' "$RESULTS" | name
    awk -F'\t' '$1=="s1" && $2=="logx" {l=$7; lc=$8; lr=$9} $1=="s1" && $2=="syslog-ng" {s=$7; sc=$8}
      END { if (s > 0 && lc > 0) printf "\nRatios: lines/s otelcol-logx / syslog-ng = **%.2f×** (goal ≥ 5×); CPU per line syslog-ng / otelcol-logx = **%.2f×** (goal ≥ 5×); otelcol-logx peak RSS %s MB (goal < 150).\n", l / s, sc / lc, lr }' "$RESULTS"
    echo
  fi
  if grep -q '^s1cap	' "$RESULTS"; then
    echo "### S1 zero-loss capacity: unix stream socket at fixed rates (otelcol-logx)"
    echo
    echo "Fixed rates: every millisecond one write of a millisecond's worth of lines, for ${CAP_SECONDS} s; stepped up until a rate loses lines."
    echo
    echo "| rate (lines/s) | fed | delivered | delivered/fed | feeder lines/s | delivered lines/s | µs CPU per line | peak RSS MB | longest write ms | end-to-end p99 ms | |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|"
    awk -F'\t' '$1=="s1cap" {printf "| %s | %d | %d | %.4f | %d | %d | %.2f | %s | %.1f | %.1f | %s |\n", ($4 == "max" ? "unthrottled" : $4), $5, $6, ($5 > 0 ? $6 / $5 : 0), $13, $7, $8, $9, $10, $15, ($4 != "max" && $13 < 0.9 * $4 ? "feeder fell behind: not a pass" : "")}' "$RESULTS"
    awk -F'\t' '$1=="s1cap" && $4!="max" && $6 >= $5 && $13 >= 0.9 * $4 && $4 + 0 > best {best = $4 + 0}
      $1=="s1cap" && $4=="max" {u = $7; uf = $5; ud = $6}
      END { printf "\nZero-loss capacity: **%s lines/s** (the highest rate delivered in full); unthrottled: %d lines/s delivered, %d of %d lines.\n", (best > 0 ? best : "below the lowest rate tried"), u, ud, uf }' "$RESULTS"
    echo
  fi
  if grep -q '^s2	' "$RESULTS"; then
    echo "### S2: FIFO at fixed rates"
    echo
    echo "| daemon | rate (lines/s) | fed | delivered | achieved lines/s | µs CPU per line | peak RSS MB | longest write ms | writes > 100 ms |"
    echo "|---|---|---|---|---|---|---|---|---|"
    awk -F'\t' '$1=="s2" {printf "| %s | %s | %d | %d | %d | %.2f | %s | %.1f | %d |\n", $2, $4, $5, $6, $7, $8, $9, $10, $11}' "$RESULTS" | name
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
  if grep -q '^s4	' "$RESULTS"; then
    echo "### S4: one line per write(2) or datagram at fixed rates (${S4_SECONDS} s per rate)"
    echo
    echo "Same job as S1. The feeder writes every millisecond a burst of rate/1000 lines, each its own write(2) or datagram. × otelcol-logx: the daemon's CPU per line over otelcol-logx's on the same input and rate (above 1: otelcol-logx is cheaper). Longest / p99 write: the feeder's write(2) or send(2) (a datagram send must never block > 100 ms). End-to-end: from the feeder's write to the sink's read, each line stamped with its send time."
    echo
    echo "| input | rate (lines/s) | daemon | fed | delivered/fed | feeder lines/s | µs CPU per line | × otelcol-logx | peak RSS MB | longest write ms | p99 write µs | writes > 100 ms | end-to-end p50 / p99 ms |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    awk -F'\t' 'FNR == NR { if ($1 == "s4" && $2 == "logx") base[$3 "|" $4] = $8; next }
      $1 == "s4" { b = base[$3 "|" $4]; x = ($2 == "logx") ? "—" : (b > 0 ? sprintf("%.2f×", $8 / b) : "n/a")
        printf "| %s | %s | %s | %d | %.4f | %d | %.2f | %s | %s | %.1f | %d | %d | %.1f / %.1f |\n", $3, $4, $2, $5, ($5 > 0 ? $6 / $5 : 0), $13, $8, x, $9, $10, $12, $11, $14, $15 }' "$RESULTS" "$RESULTS" | name
    echo
  fi
  if [ -n "${IDLE_ROW:-}" ]; then
    echo "### Idle: the shipped per-host config, no input"
    echo
    echo "configs/edge.yaml with its tier-2 peers up (acking sinks) and nothing written to it, measured for ${IDLE_SECONDS} s after 10 s to settle (goal: at most 0.1% of one core)."
    echo
    echo "| config | seconds | CPU ms per second | share of one core |"
    echo "|---|---|---|---|"
    echo "$IDLE_ROW"
    echo
  fi
  if grep -q '^s5	' "$RESULTS"; then
    echo "### S5: journal files (systemd-journal-remote, 9 fields per entry, $S5_SERVICES services interleaved) → rate limit → cfjs1"
    echo
    echo "Reader: the journal receiver's reader option (direct: it reads the journal files itself; journalctl: it runs journalctl --output=export, whose CPU is included). Backlog: the entries written before the start, read from the beginning as fast as the pipeline goes (from the first delivered entry on). Append: entries appended every 100 ms by systemd-journal-remote while the receiver follows; \"appender entries/s\" is the rate the appender achieved, \"longest append ms\" its slowest round. syslog-ng's systemd-journal() source (and rsyslog's imjournal) read only the local journal, not a directory of journal files: no side-by-side run."
    echo
    echo "| reader | mode | rate (entries/s) | fed | delivered | delivered/fed | appender entries/s | delivered entries/s | µs CPU per entry | peak RSS MB | longest append ms |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|"
    awk -F'\t' '$1=="s5" {r = $2; sub(/^logx\//, "", r); printf "| %s | %s | %s | %d | %d | %.4f | %d | %d | %.2f | %s | %s |\n", r, $3, $4, $5, $6, ($5 > 0 ? $6 / $5 : 0), $13, $7, $8, $9, ($4 == "max" ? "—" : sprintf("%.0f", $10))}' "$RESULTS"
    echo
  fi
} >"$REPORT"
cat "$REPORT"
if [ -n "$DOC" ]; then
  cat "$REPORT" >>"$DOC"
  log "appended to $DOC"
fi
log "results: $REPORT (raw: $RESULTS)"
