#!/usr/bin/env bash
# L4 benchmark: Lb.Server with a tcp_listener against HAProxy `mode tcp`, in the same run, in front of the same origin.
# The proxy under test runs alone on CPU 0; the origin and the load generator (bench/l4/TcpLoad) share CPU 1.
# Only 127.0.0.1 is used. See docs/benchmarks.md ("L4 (TCP) benchmark") for what is measured and how to read it.
#
# Usage: bench/l4/run.sh [--quick] [--systems haproxy,lb,lbinline] [--scenarios short,bulk]
#   --quick   3 s runs, 1 s warm-up (unless DURATION/WARMUP are set): a smoke run
# Environment: DURATION (s, default 15), WARMUP (s, default 3), SHORT_CONNECTIONS (concurrent short-connection workers,
#   default 32), SHORT_BYTES (reply size, default 64), BULK_CONNECTIONS (default 4), BULK_BYTES (per connection,
#   default 1 GiB), BASE_PORT (default 19080), LB_DLL (another build of Lb.Server), NO_BUILD=1 (skip the build).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

duration=${DURATION:-15}
warmup=${WARMUP:-3}
short_connections=${SHORT_CONNECTIONS:-32}
short_bytes=${SHORT_BYTES:-64}
bulk_connections=${BULK_CONNECTIONS:-4}
bulk_bytes=${BULK_BYTES:-1073741824}
base_port=${BASE_PORT:-19080}
systems="haproxy,lb,lbinline"
scenarios="short,bulk"
quick=0

while [[ $# -gt 0 ]]; do
    case "$1" in
        --quick) quick=1; duration=${DURATION:-3}; warmup=${WARMUP:-1}; shift ;;
        --systems) systems=$2; shift 2 ;;
        --scenarios) scenarios=$2; shift 2 ;;
        -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
        *) echo "run.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
done

proxy_port=$base_port
backend1_port=$((base_port + 1))
backend2_port=$((base_port + 2))
http_port=$((base_port + 3))
admin_port=$((base_port + 10))

log() { echo "run.sh: $*" >&2; }

# ---- prerequisites -------------------------------------------------------------------------------------------
missing=()
command -v haproxy >/dev/null 2>&1 || [[ -x /usr/sbin/haproxy ]] || missing+=(haproxy)
# perf counts system calls and context switches per connection; without it those columns say n/a.
command -v perf >/dev/null 2>&1 || missing+=(linux-perf)
if [[ ${#missing[@]} -gt 0 ]]; then
    log "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    # Debian starts HAProxy on install where it can; the benchmark starts its own instance.
    [[ " ${missing[*]} " != *" haproxy "* ]] || { command -v service >/dev/null && service haproxy stop >/dev/null 2>&1 || true; }
fi
export PATH="$PATH:/usr/sbin"
for tool in taskset curl dotnet ss; do
    command -v "$tool" >/dev/null || { log "$tool is required"; exit 1; }
done
if [[ $(nproc --all) -lt 2 ]]; then
    log "needs at least 2 CPUs (proxy on CPU 0, origin and load generator on CPU 1)"; exit 1
fi
for port in "$proxy_port" "$backend1_port" "$backend2_port" "$http_port" "$admin_port"; do
    if ss -Htln "sport = :$port" | grep -q .; then
        log "port $port is in use; set BASE_PORT to another value"; exit 1
    fi
done
# Short connections open and close thousands of sockets a second; make sure descriptors are not the limit.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# ---- process bookkeeping -------------------------------------------------------------------------------------
work=$(mktemp -d /tmp/lb-l4-bench.XXXXXX)
# shellcheck source=../lib/processes.sh
source "$root/bench/lib/processes.sh"

if [[ ${NO_BUILD:-0} != 1 ]]; then
    log "building (Release)"
    for project in samples/Lb.Server bench/l4/TcpLoad; do
        dotnet build "$root/$project" -c Release -nologo -v q >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; exit 1; }
    done
fi
lb_dll=${LB_DLL:-$root/samples/Lb.Server/bin/Release/net10.0/lb.dll}
load_dll=$root/bench/l4/TcpLoad/bin/Release/net10.0/TcpLoad.dll
load() { DOTNET_gcServer=0 taskset -c 1 dotnet "$load_dll" "$@"; }

# utime and stime of a process in clock ticks, "user kernel" (fields 14 and 15; the text after the last ')' starts at field 3).
cpu_ticks_split() {
    local rest
    rest=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || { echo "0 0"; return; }
    read -r -a f <<<"$rest"
    echo "${f[11]} ${f[12]}"
}

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# ---- origin --------------------------------------------------------------------------------------------------
DOTNET_gcServer=0 taskset -c 1 dotnet "$load_dll" backend "$backend1_port" "$backend2_port" >"$work/origin.log" 2>&1 &
started+=($!)
load wait "127.0.0.1:$backend1_port" 30 || { log "the origin did not start"; cat "$work/origin.log" >&2; exit 1; }
log "origin on 127.0.0.1:$backend1_port and :$backend2_port (CPU 1)"

# ---- systems -------------------------------------------------------------------------------------------------
start_haproxy() {
    cat >"$work/haproxy.cfg" <<EOF
global
    nbthread 1
    maxconn 8000
defaults
    mode tcp
    timeout connect 5s
    timeout client 60s
    timeout server 60s
frontend fe
    bind 127.0.0.1:$proxy_port
    default_backend be
backend be
    balance roundrobin
    server b1 127.0.0.1:$backend1_port
    server b2 127.0.0.1:$backend2_port
EOF
    taskset -c 0 haproxy -db -f "$work/haproxy.cfg" >"$work/haproxy.log" 2>&1 &
    sys_pid=$!
}

start_lb() { start_lb_variant lb; }
# Socket completions on the runtime's epoll thread (and Kestrel's inline scheduling, which Lb.Server turns on with the
# same variable) for the proxy process only.
start_lbinline() { LB_PROXY_ENV="DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1" start_lb_variant lbinline; }

start_lb_variant() {
    local name=$1
    rm -rf "$work/lb-data"; mkdir -p "$work/lb-data"
    cat >"$work/app.json" <<EOF
{"proxyListenAddr":"127.0.0.1:$http_port","dashboardListenAddr":"127.0.0.1:$admin_port","raftDataDir":"$work/lb-data"}
EOF
    cat >"$work/cfg.json" <<EOF
{
  "routes": [],
  "upstream_pools": {
    "backends": {"upstreams": ["127.0.0.1:$backend1_port", "127.0.0.1:$backend2_port"]}
  },
  "tcp_listeners": [
    {"id": "bench", "enabled": true, "listen": "127.0.0.1:$proxy_port", "upstream_pool": "backends", "algorithm": "round_robin", "idle_timeout": "1m", "max_connections": 20000}
  ]
}
EOF
    env ${LB_PROXY_ENV:-} taskset -c 0 dotnet "$lb_dll" serve "$work/app.json" >"$work/$name.log" 2>&1 &
    sys_pid=$!
    for _ in $(seq 2000); do
        kill -0 "$sys_pid" 2>/dev/null || { log "$name died while starting:"; tail -n 20 "$work/$name.log" >&2; return 1; }
        [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$admin_port/api/status" || true) != 000 ]] && break
        sleep 0.01
    done
    curl -sf -X PUT -H 'Content-Type: application/json' --data-binary @"$work/cfg.json" \
        "http://127.0.0.1:$admin_port/api/config" >"$work/lb-put.json" || { log "PUT /api/config failed"; cat "$work/lb-put.json" >&2; return 1; }
}

declare -A label=([haproxy]="HAProxy $(haproxy -v 2>/dev/null | awk 'NR==1 {print $3}' | cut -d- -f1) (mode tcp)"
                  [lb]="Lb.Server tcp_listener"
                  [lbinline]="Lb.Server tcp_listener, inline I/O")
declare -A scenario_label=([short]="short connections, $short_connections at once, ${short_bytes} B reply"
                           [bulk]="bulk, $bulk_connections connections, $((bulk_bytes / 1048576)) MiB each")
declare -A rate cpu_unit cpu_pct user_unit kernel_unit syscalls ctxsw rss_mib errors

run_scenario() {
    local sys=$1 scen=$2 pid=$3 key="$sys|$scen"
    local args=()
    if [[ $scen == short ]]; then
        args=(short "127.0.0.1:$proxy_port" "$short_connections")
    else
        args=(bulk "127.0.0.1:$proxy_port" "$bulk_connections")
    fi
    local size=$short_bytes
    [[ $scen == bulk ]] && size=$bulk_bytes
    load "${args[@]}" "$warmup" "$size" >/dev/null
    local perf_out="$results_raw/$sys-$scen.perf.txt" perf_pid=""
    if command -v perf >/dev/null 2>&1; then
        perf stat -e raw_syscalls:sys_enter,context-switches -x, -p "$pid" -o "$perf_out" -- sleep "$duration" 2>/dev/null &
        perf_pid=$!
    fi
    local u0 k0 u1 k1 out
    read -r u0 k0 <<<"$(cpu_ticks_split "$pid")"
    out=$(load "${args[@]}" "$duration" "$size")
    read -r u1 k1 <<<"$(cpu_ticks_split "$pid")"
    if [[ -n $perf_pid ]]; then wait "$perf_pid" 2>/dev/null || true; fi
    echo "$out" >"$results_raw/$sys-$scen.load.txt"
    local hz n secs bytes unit
    hz=$(getconf CLK_TCK)
    n=$(sed -n 's/.*connections=\([0-9]*\).*/\1/p' <<<"$out")
    secs=$(sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' <<<"$out")
    errors[$key]=$(sed -n 's/.*errors=\([0-9]*\).*/\1/p' <<<"$out")
    if [[ $scen == short ]]; then
        unit=$n  # per connection, in µs
        rate[$key]=$(awk -v n="$n" -v s="$secs" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }')
        cpu_unit[$key]=$(awk -v t=$((u1 + k1 - u0 - k0)) -v hz="$hz" -v n="$unit" 'BEGIN { printf "%.1f", (n > 0 ? t * 1e6 / hz / n : 0) }')
        user_unit[$key]=$(awk -v t=$((u1 - u0)) -v hz="$hz" -v n="$unit" 'BEGIN { printf "%.1f", (n > 0 ? t * 1e6 / hz / n : 0) }')
        kernel_unit[$key]=$(awk -v t=$((k1 - k0)) -v hz="$hz" -v n="$unit" 'BEGIN { printf "%.1f", (n > 0 ? t * 1e6 / hz / n : 0) }')
    else
        bytes=$(sed -n 's/.*bytes=\([0-9]*\).*/\1/p' <<<"$out")
        unit=$(awk -v b="$bytes" 'BEGIN { printf "%.6f", b / 1e9 }')  # per GB, in CPU seconds
        rate[$key]=$(awk -v b="$bytes" -v s="$secs" 'BEGIN { printf "%.0f", (s > 0 ? b / s / 1e6 : 0) }')
        cpu_unit[$key]=$(awk -v t=$((u1 + k1 - u0 - k0)) -v hz="$hz" -v g="$unit" 'BEGIN { printf "%.3f", (g > 0 ? t / hz / g : 0) }')
        user_unit[$key]=$(awk -v t=$((u1 - u0)) -v hz="$hz" -v g="$unit" 'BEGIN { printf "%.3f", (g > 0 ? t / hz / g : 0) }')
        kernel_unit[$key]=$(awk -v t=$((k1 - k0)) -v hz="$hz" -v g="$unit" 'BEGIN { printf "%.3f", (g > 0 ? t / hz / g : 0) }')
    fi
    cpu_pct[$key]=$(awk -v t=$((u1 + k1 - u0 - k0)) -v hz="$hz" -v s="$secs" 'BEGIN { printf "%.0f", (s > 0 ? t * 100 / hz / s : 0) }')
    rss_mib[$key]=$(awk -v k="$(rss_kib "$pid")" 'BEGIN { printf "%.0f", k / 1024 }')
    syscalls[$key]="n/a"; ctxsw[$key]="n/a"
    if [[ -s $perf_out ]] && grep -q '^[0-9]' "$perf_out"; then
        syscalls[$key]=$(awk -F, -v n="$unit" '$3 == "raw_syscalls:sys_enter" && $1 ~ /^[0-9]+$/ { printf "%.1f", (n > 0 ? $1 / n : 0) }' "$perf_out")
        ctxsw[$key]=$(awk -F, -v n="$unit" '$3 == "context-switches" && $1 ~ /^[0-9]+$/ { printf "%.1f", (n > 0 ? $1 / n : 0) }' "$perf_out")
        : "${syscalls[$key]:=n/a}" "${ctxsw[$key]:=n/a}"
    fi
    if [[ $scen == short ]]; then
        log "  short: ${rate[$key]} connections/s, ${cpu_unit[$key]} CPU-µs/connection (user/kernel ${user_unit[$key]}/${kernel_unit[$key]}; ${cpu_pct[$key]}% of a CPU), ${syscalls[$key]} syscalls/connection, ${rss_mib[$key]} MiB, ${errors[$key]} errors"
    else
        log "  bulk: ${rate[$key]} MB/s, ${cpu_unit[$key]} CPU-s/GB (user/kernel ${user_unit[$key]}/${kernel_unit[$key]}; ${cpu_pct[$key]}% of a CPU), ${syscalls[$key]} syscalls/GB, ${rss_mib[$key]} MiB, ${errors[$key]} errors"
    fi
}

stamp=$(date -u +%Y-%m-%d)
suffix=""
[[ $quick == 1 ]] && suffix="-quick"
results_dir=$here/results
results_raw=$results_dir/raw-$stamp$suffix
mkdir -p "$results_raw"

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
IFS=, read -r -a system_list <<<"$systems"
IFS=, read -r -a scenario_list <<<"$scenarios"
for sys in "${system_list[@]}"; do
    [[ -n ${label[$sys]:-} ]] || { log "unknown system '$sys'"; exit 2; }
    log "${label[$sys]} on CPU 0"
    sys_pid=
    "start_$sys"
    started+=("$sys_pid")
    load wait "127.0.0.1:$proxy_port" 60 || { log "${label[$sys]} does not relay"; tail -n 20 "$work"/*.log >&2; exit 1; }
    for scen in "${scenario_list[@]}"; do
        run_scenario "$sys" "$scen" "$sys_pid"
    done
    if [[ $sys == lb* ]]; then
        curl -s "http://127.0.0.1:$admin_port/api/runtime" >"$results_raw/$sys-runtime.json" || true
        curl -s "http://127.0.0.1:$admin_port/metrics" >"$results_raw/$sys-metrics.txt" || true
    fi
    cp "$work/$sys.log" "$results_raw/$sys.log" 2>/dev/null || true
    stop_pid "$sys_pid"
    unset 'started[${#started[@]}-1]'
    started=("${started[@]}")
    # Let TIME_WAIT sockets of the previous system's port drain a little before the next one binds it.
    sleep 2
done

# ---- report --------------------------------------------------------------------------------------------------
report() {
    echo "### L4 (TCP) benchmark, $stamp${suffix:+ (quick)}"
    echo
    echo "Proxy on CPU 0 alone; origin (2 ports) and load generator (bench/l4/TcpLoad) on CPU 1. ${duration}s per scenario after ${warmup}s warm-up."
    echo "$(nproc --all) CPUs, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(. /etc/os-release && echo "$PRETTY_NAME"), .NET $(dotnet --list-runtimes | awk '/Microsoft.NETCore.App/ {v=$2} END {print v}')."
    echo "Load average (1/5/15 min) at start: $load_start; at end: $(cut -d' ' -f1-3 /proc/loadavg) (this machine may run other work too)."
    echo
    local scen sys k
    for scen in "${scenario_list[@]}"; do
        if [[ $scen == short ]]; then
            echo "Short connections (connect, send a $((${#short_bytes} + 1)) B request, read a $short_bytes B reply to EOF, close; $short_connections workers):"
            echo
            echo "| System | Connections/s | Proxy CPU-µs/connection | user / kernel µs | Syscalls/connection | Ctx switches/connection | Proxy CPU % | RSS (MiB) | Errors |"
        else
            echo "Bulk transfer ($bulk_connections connections at once, each reading $((bulk_bytes / 1048576)) MiB from the origin):"
            echo
            echo "| System | Throughput (MB/s) | Proxy CPU-s/GB | user / kernel s/GB | Syscalls/GB | Ctx switches/GB | Proxy CPU % | RSS (MiB) | Errors |"
        fi
        echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
        for sys in "${system_list[@]}"; do
            k="$sys|$scen"
            echo "| ${label[$sys]} | ${rate[$k]} | ${cpu_unit[$k]} | ${user_unit[$k]} / ${kernel_unit[$k]} | ${syscalls[$k]} | ${ctxsw[$k]} | ${cpu_pct[$k]} | ${rss_mib[$k]} | ${errors[$k]} |"
        done
        echo
    done
    if [[ ",$systems," == *",haproxy,"* ]]; then
        echo "Same-run ratios to HAProxy (rate: below 1 = Lb slower; CPU: above 1 = Lb spends more):"
        echo
        echo "| System | Scenario | Rate / HAProxy | CPU per unit / HAProxy |"
        echo "|---|---|---:|---:|"
        for sys in "${system_list[@]}"; do
            [[ $sys != haproxy ]] || continue
            for scen in "${scenario_list[@]}"; do
                k="$sys|$scen"
                echo "| ${label[$sys]} | ${scenario_label[$scen]} | $(awk -v a="${rate[$k]}" -v b="${rate[haproxy|$scen]}" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }') | $(awk -v a="${cpu_unit[$k]}" -v b="${cpu_unit[haproxy|$scen]}" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }') |"
            done
        done
    fi
}

out_file=$results_dir/$stamp$suffix.md
report | tee "$out_file"
log "wrote $out_file (raw output in $results_raw)"
