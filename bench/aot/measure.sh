#!/usr/bin/env bash
# Start time, memory and CLI latency of the reference server: the Native AOT executable `lb` against the JIT build
# (`dotnet Lb.Server.dll`). Prints a Markdown table; docs/benchmarks.md ("Native AOT") explains the figures.
#
#   bench/aot/measure.sh              # publishes both builds into bench/aot/out (NO_BUILD=1 reuses them)
#   RUNS=9 BASE_PORT=18480 bench/aot/measure.sh
#   NO_BUILD=1 AOT_BIN=out/lb JIT_DLL=samples/Lb.Server/bin/Release/net10.0/Lb.Server.dll bench/aot/measure.sh
#
# Uses 127.0.0.1:BASE_PORT (proxy) and BASE_PORT+10 (admin). Needs curl; wrk (Debian) for the under-load figure.
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${RUNS:-5}
BASE_PORT=${BASE_PORT:-18480}
PROXY=$BASE_PORT
ADMIN=$((BASE_PORT + 10))
out=bench/aot/out

if [ "${NO_BUILD:-}" != 1 ]; then
  dotnet publish samples/Lb.Server -c Release --use-current-runtime -o "$out/aot" -nologo -clp:ErrorsOnly
  dotnet publish samples/Lb.Server -c Release --use-current-runtime --self-contained false -p:PublishAot=false -o "$out/jit" -nologo -clp:ErrorsOnly
fi

work=$(mktemp -d)
trap 'jobs -p | xargs -r kill 2>/dev/null; rm -rf "$work"' EXIT
printf '{"proxyListenAddr":"127.0.0.1:%s","dashboardListenAddr":"127.0.0.1:%s","raftDataDir":"%s/state"}' \
  "$PROXY" "$ADMIN" "$work" > "$work/app.json"
# The upstream is the node's own admin API: a real HTTP backend without a second program to build.
printf '{"routes":[{"id":"r","enabled":true,"match":{"path":{"type":"prefix","value":"/"}},"upstream_pool":"p"}],"upstream_pools":{"p":{"upstreams":["127.0.0.1:%s"]}}}' \
  "$ADMIN" > "$work/config.json"

now_ns() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
rss_mb() { awk '/^VmRSS/ {printf "%.0f", $2/1024}' "/proc/$1/status"; }

measure() { # name, then the command that runs the server's CLI
  local name=$1; shift
  local starts=() idle=() loaded=() cli=()
  for _ in $(seq "$RUNS"); do
    rm -rf "$work/state"
    local t0; t0=$(now_ns)
    "$@" serve "$work/app.json" >"$work/$name.log" 2>&1 &
    local pid=$!
    until curl -sf -o /dev/null "http://127.0.0.1:$ADMIN/api/status"; do :; done
    starts+=($(( ($(now_ns) - t0) / 1000000 )))
    curl -sf -o /dev/null -X PUT -H 'Content-Type: application/json' --data-binary @"$work/config.json" "http://127.0.0.1:$ADMIN/api/config"
    curl -sf -o /dev/null "http://127.0.0.1:$PROXY/api/status"
    sleep 1
    idle+=("$(rss_mb $pid)")
    if command -v wrk >/dev/null; then
      wrk -t1 -c32 -d5s "http://127.0.0.1:$PROXY/api/status" >/dev/null
      loaded+=("$(rss_mb $pid)")
    fi
    for _ in 1 2 3 4 5; do
      local c0; c0=$(now_ns)
      "$@" config get --dashboard "http://127.0.0.1:$ADMIN" >/dev/null
      cli+=($(( ($(now_ns) - c0) / 1000000 )))
    done
    kill -TERM $pid; wait $pid || true
  done
  printf '| %s | %s | %s | %s | %s |\n' "$name" \
    "$(printf '%s\n' "${starts[@]}" | median)" "$(printf '%s\n' "${idle[@]}" | median)" \
    "$( [ ${#loaded[@]} -gt 0 ] && printf '%s\n' "${loaded[@]}" | median || echo n/a)" \
    "$(printf '%s\n' "${cli[@]}" | median)"
}

echo "runs: $RUNS, load average before: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs"
echo
echo '| build | ready to serve (ms, median) | RSS idle (MB) | RSS after 5 s of wrk -c32 (MB) | `config get` round trip (ms, median) |'
echo '|---|---|---|---|---|'
measure "Native AOT (lb)" "${AOT_BIN:-$out/aot/lb}"
measure "JIT (dotnet Lb.Server.dll)" dotnet "${JIT_DLL:-$out/jit/Lb.Server.dll}"
