#!/usr/bin/env bash
# Regenerates distribution/pgo/default.pgo, the profile that `make build-pgo`
# compiles with: runs the S1 benchmark (bench/run.sh: unix socket ->
# ratelimit -> externaljson -> cfjs1 over TCP) ROUNDS times with the pprof
# extension on loopback, takes a CPU profile of the collector in each round,
# and merges them, as the PGO post recommends (several representative
# profiles, merged, committed beside the build).
#
#   ROUNDS=3 LOGX_BENCH_LINES=1000000 distribution/pgo/collect.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
ROUNDS=${ROUNDS:-3}
GO=${GO:-go}
export LOGX_BENCH_LINES=${LOGX_BENCH_LINES:-1000000}
profiles=()
for i in $(seq 1 "$ROUNDS"); do
  echo "collect.sh: round $i/$ROUNDS"
  LOGX_BENCH_PROFILE=1 LOGX_BENCH_SCENARIOS=s1 LOGX_BENCH_DOC= bash bench/run.sh >/dev/null
  cp bench/out/s1-cpu.pprof "bench/out/pgo-$i.pprof"
  profiles+=("bench/out/pgo-$i.pprof")
done
"$GO" tool pprof -proto "${profiles[@]}" > distribution/pgo/default.pgo
echo "collect.sh: wrote distribution/pgo/default.pgo from ${#profiles[@]} profiles"
