#!/usr/bin/env bash
# Regenerates distribution/pgo/default.pgo, the profile that `make build-pgo`
# (and so `make package`) compiles with. It runs the benchmark scenarios
# whose work the shipped binary does on every host (bench/run.sh, pprof
# extension on loopback), takes a CPU profile of the collector in each, and
# merges them, as the PGO guide recommends (several representative
# profiles, merged, committed beside the build):
#
#   S1  unix stream socket -> ratelimit -> externaljson -> cfjs1, unthrottled
#   S4  the same at 50,000 lines/s, one line per write(2) or datagram, on a
#       unix stream socket, a unix datagram socket and a FIFO
#   S5  the journal receiver reading a backlog of journal files
#
#   make pgo-profile        (or: distribution/pgo/collect.sh)
#
# Knobs: LOGX_BENCH_LINES (S1, default 1000000), LOGX_BENCH_S4_SECONDS
# (default 10), LOGX_BENCH_S5_ENTRIES (default 10000), LOGX_BIN.
# Profile on a quiet machine: a profile taken while other work competes for
# the CPU still shows where the collector spends its time, but with more
# scheduler noise.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
GO=${GO:-go}
export LOGX_BENCH_LINES=${LOGX_BENCH_LINES:-1000000}
export LOGX_BENCH_S4_SECONDS=${LOGX_BENCH_S4_SECONDS:-10}
export LOGX_BENCH_S5_ENTRIES=${LOGX_BENCH_S5_ENTRIES:-10000}
LOGX_BENCH_PROFILE=1 LOGX_BENCH_SCENARIOS="s1 s4 s5" LOGX_BENCH_S1_DAEMONS=logx \
  LOGX_BENCH_S4_RATES=50000 LOGX_BENCH_S4_DAEMONS=logx LOGX_BENCH_S5_RATES= \
  LOGX_BENCH_RESULTS="$ROOT/bench/out/pgo-run.md" LOGX_BENCH_DOC= \
  bash bench/run.sh >/dev/null
profiles=()
for f in bench/out/s1-unix-cpu.pprof bench/out/s4-stream-cpu.pprof bench/out/s4-dgram-cpu.pprof \
  bench/out/s4-fifo-cpu.pprof bench/out/s5-backlog-cpu.pprof; do
  [ -s "$f" ] || { echo "collect.sh: no profile $f (see bench/out/pgo-run.md)" >&2; exit 1; }
  # A profile of a few samples (the collector starved of CPU by other
  # work) would weigh nothing; say so rather than pretend it counted.
  if [ "$("$GO" tool pprof -raw "$f" 2>/dev/null | sed -n '/^Samples:/,/^Locations/p' | grep -c '^ *[0-9]')" -lt 20 ]; then
    echo "collect.sh: $f has fewer than 20 samples; rerun on a quieter machine" >&2
  fi
  profiles+=("$f")
done
"$GO" tool pprof -proto "${profiles[@]}" > distribution/pgo/default.pgo.new
mv distribution/pgo/default.pgo.new distribution/pgo/default.pgo
echo "collect.sh: wrote distribution/pgo/default.pgo from ${#profiles[@]} profiles: ${profiles[*]}"
