#!/usr/bin/env bash
# The Raft benchmarks, unattended, in one command (from the repository root: bench/raft/run.sh):
#   1. small-config propagation (PUT on a follower -> applied on all three in-process nodes; 200 writes) and
#      in-process leader failover (20 trials);
#   2. propagation at scale on the 10,000-route configuration: 200 route-level changes (PUT /api/routes/{id}) and
#      50 whole-document writes at the current version, each until all three nodes built the runtime snapshot.
# Prints the results and keeps them in bench/raft/results/<UTC time>.txt with the load average before and after.
#   bench/raft/run.sh                  # about 2-4 minutes on an idle 2-core machine
#   bench/raft/run.sh --quick          # 50 writes, 5 trials, 50 + 10 scale writes
#   bench/raft/run.sh --process-failover   # also the three-process SIGKILL failover (builds samples/Lb.Server)
set -euo pipefail
cd "$(dirname "$0")/../.."
writes=200 trials=20 scale=200 whole=50 process=0
for arg in "$@"; do
  case "$arg" in
    --quick) writes=50 trials=5 scale=50 whole=10 ;;
    --process-failover) process=1 ;;
    *) echo "usage: bench/raft/run.sh [--quick] [--process-failover]" >&2; exit 2 ;;
  esac
done
dotnet build -c Release bench/raft/Lb.Raft.Benchmarks -nologo -v q
[ "$process" = 0 ] || dotnet build -c Release samples/Lb.Server -nologo -v q
bench=bench/raft/Lb.Raft.Benchmarks/bin/Release/net10.0/Lb.Raft.Benchmarks.dll
mkdir -p bench/raft/results
out="bench/raft/results/$(date -u +%Y%m%dT%H%MZ).txt"
{
  echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) CPUs)"
  dotnet "$bench" "$writes" "$trials"
  dotnet "$bench" scale "$scale" "$whole"
  [ "$process" = 0 ] || dotnet "$bench" process-failover "$trials"
  echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
} 2>&1 | tee "$out"
echo "saved in $out"
