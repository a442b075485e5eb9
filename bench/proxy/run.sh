#!/usr/bin/env bash
# Proxy benchmark: HAProxy, nginx, Caddy, a minimal YARP app and Lb.Server (its defaults: the fast path with inline
# I/O as `lb`, and the same as Native AOT as `lbaot`; the ASP.NET Core + YARP path as `lbyarp`; the fast path without
# inline I/O as `lbnoinline`) in front of the same two Kestrel backends.
# The proxy under test runs alone on CPU 0; the backends and wrk share CPU 1. Only 127.0.0.1 is used.
# See docs/benchmarks.md for what is measured and how to read it.
#
# Usage: bench/proxy/run.sh [--quick] [--systems haproxy,nginx,caddy,yarp,lb,lbyarp,lbaot,lbnoinline,lbloop,lbsockets] [--scenarios keepalive,close,64k,tls]
#   tls: the proxy terminates TLS (a self-signed P-256 certificate made here with openssl; HTTP/1.1, ALPN http/1.1 where the
#   system takes a list) for wrk's https:// keep-alive requests, plain HTTP to the backends; each system is restarted with
#   its TLS configuration for it (not the minimal YARP app, which has no TLS listener: n/a).
#   LB_POOL_EXTRA=',"max_connections":10000' adds fields to the Lb pool (e.g. to measure a limit that is never reached)
#   --quick   3 s runs, 1 s warm-up (unless DURATION/WARMUP are set), keep-alive scenario only (smoke run; not part of ./test.sh)
# Environment: DURATION (s, default 15), WARMUP (s, default 15: long enough for .NET's tiered JIT to have promoted
#   the hot path, ~7 s after start on a pinned core; a load balancer is measured running, not starting; was 3 until
#   session 6), CONNECTIONS (default 64), BASE_PORT (default 18080),
#   TLS_WARMUP (s, default WARMUP + 8: the tls scenario's warm-up, in a freshly started process),
#   LB_DLL / YARP_DLL (run another build of Lb.Server / YarpMinimal, e.g. a copy for A/B runs), NO_BUILD=1 (skip the build),
#   LB_APP_EXTRA (more app.json keys for every Lb target, e.g. ',"keepAliveTimeout":"2m"'; lb and lbaot set no
#   fastPath/inlineIo key, lbyarp sets fastPath false, lbnoinline inlineIo and ioLoop false, lbloop ioLoop true, lbsockets ioLoop false), LB_AOT_BINARY (a native lb to use as lbaot; default: published into bench/proxy/out-aot, needs clang
#   and zlib1g-dev).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

duration=${DURATION:-15}
warmup=${WARMUP:-15}
connections=${CONNECTIONS:-64}
base_port=${BASE_PORT:-18080}
systems="haproxy,nginx,caddy,yarp,lb,lbyarp,lbaot"
scenarios="keepalive,close,64k"
quick=0

while [[ $# -gt 0 ]]; do
    case "$1" in
        --quick) quick=1; duration=${DURATION:-3}; warmup=${WARMUP:-1}; scenarios="keepalive"; shift ;;
        --systems) systems=$2; shift 2 ;;
        --scenarios) scenarios=$2; shift 2 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
        *) echo "run.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
done

proxy_port=$base_port
backend1_port=$((base_port + 1))
backend2_port=$((base_port + 2))
admin_port=$((base_port + 10))

log() { echo "run.sh: $*" >&2; }

# ---- prerequisites -------------------------------------------------------------------------------------------
missing=()
for tool in haproxy nginx wrk caddy; do
    command -v "$tool" >/dev/null 2>&1 || [[ -x /usr/sbin/$tool ]] || missing+=("$tool")
done
# perf counts system calls and context switches per request; without it those columns say n/a.
command -v perf >/dev/null 2>&1 || missing+=(linux-perf)
if [[ ${#missing[@]} -gt 0 ]]; then
    log "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    # Debian starts the services on install where it can; the benchmark starts its own instances.
    for tool in "${missing[@]}"; do
        [[ $tool == wrk || $tool == linux-perf ]] || { command -v service >/dev/null && service "$tool" stop >/dev/null 2>&1 || true; }
    done
fi
export PATH="$PATH:/usr/sbin"
for tool in taskset curl dotnet openssl; do
    command -v "$tool" >/dev/null || { log "$tool is required"; exit 1; }
done
if [[ $(nproc --all) -lt 2 ]]; then
    log "needs at least 2 CPUs (proxy on CPU 0, backends and wrk on CPU 1)"; exit 1
fi

for port in "$proxy_port" "$backend1_port" "$backend2_port" "$admin_port"; do
    if ss -Htln "sport = :$port" | grep -q .; then
        log "port $port is in use; set BASE_PORT to another value"; exit 1
    fi
done


# ---- process bookkeeping -------------------------------------------------------------------------------------
work=$(mktemp -d /tmp/lb-proxy-bench.XXXXXX)
# shellcheck source=../lib/processes.sh
source "$root/bench/lib/processes.sh"

# The tls scenario's certificate: self-signed, for 127.0.0.1; key and chain apart (nginx, Caddy, Lb) and together (HAProxy).
if [[ ",$scenarios," == *",tls,"* ]]; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=127.0.0.1 \
        -addext subjectAltName=IP:127.0.0.1 -keyout "$work/tls-key.pem" -out "$work/tls-cert.pem" >/dev/null 2>&1 \
        || { log "openssl could not make the tls scenario's certificate"; exit 1; }
    cat "$work/tls-cert.pem" "$work/tls-key.pem" >"$work/tls.pem"
fi
# 1 while a system runs with its TLS configuration (the tls scenario).
tls=0
proxy_url() { if [[ $tls == 1 ]]; then echo "https://127.0.0.1:$proxy_port$1"; else echo "http://127.0.0.1:$proxy_port$1"; fi; }

if [[ ${NO_BUILD:-0} != 1 ]]; then
log "building (Release)"
    for project in samples/Lb.Server bench/proxy/Backend bench/proxy/YarpMinimal bench/proxy/AllocProbe; do
        dotnet build "$root/$project" -c Release -nologo -v q >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; exit 1; }
    done
fi
lb_dll=${LB_DLL:-$root/samples/Lb.Server/bin/Release/net10.0/lb.dll}
backend_dll=$root/bench/proxy/Backend/bin/Release/net10.0/Backend.dll
yarp_dll=${YARP_DLL:-$root/bench/proxy/YarpMinimal/bin/Release/net10.0/YarpMinimal.dll}
probe_dll=$root/bench/proxy/AllocProbe/bin/Release/net10.0/AllocProbe.dll
lb_aot=${LB_AOT_BINARY:-$here/out-aot/lb}
if [[ ",$systems," == *",lbaot,"* && -z ${LB_AOT_BINARY:-} && ${NO_BUILD:-0} != 1 ]]; then
    log "publishing the Native AOT lb into $here/out-aot"
    dotnet publish "$root/samples/Lb.Server" -c Release --use-current-runtime -o "$here/out-aot" -nologo -v q >"$work/publish.log" 2>&1 \
        || { cat "$work/publish.log" >&2; exit 1; }
fi

# Waits until GET url answers 200 (or any status with ANY=1).
wait_http() {
    local url=$1 pid=$2
    for _ in $(seq 2000); do
        kill -0 "$pid" 2>/dev/null || { log "process $pid died while starting:"; tail -n 20 "$work"/*.log >&2; return 1; }
        local code
        code=$(curl -sk -o /dev/null -w '%{http_code}' --max-time 1 "$url" || true)
        if [[ $code == 200 || ( ${ANY:-0} == 1 && $code != 000 ) ]]; then return 0; fi
        sleep 0.01
    done
    log "timed out waiting for $url"
    return 1
}

# The process and its children (nginx: master + worker).
tree_pids() {
    local pid=$1
    echo "$pid"
    local child
    for child in $(pgrep -P "$pid" || true); do tree_pids "$child"; done
}

# utime and stime of the tree in clock ticks, "user kernel" (fields 14 and 15; the text after the last ')' starts at field 3).
cpu_ticks_split() {
    local user=0 kernel=0 pid rest
    for pid in $(tree_pids "$1"); do
        rest=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null) || continue
        read -r -a f <<<"$rest"
        user=$((user + f[11])); kernel=$((kernel + f[12]))
    done
    echo "$user $kernel"
}

cpu_ticks() {
    local u k
    read -r u k <<<"$(cpu_ticks_split "$1")"
    echo $((u + k))
}

# Busy ticks (all but idle and iowait) of one CPU, from /proc/stat.
cpu_busy_ticks() {
    awk -v c="cpu$1" '$1 == c { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat
}

rss_kib() {
    local total=0 pid kib
    for pid in $(tree_pids "$1"); do
        kib=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
        total=$((total + ${kib:-0}))
    done
    echo "$total"
}

# ---- backends ------------------------------------------------------------------------------------------------
for port in "$backend1_port" "$backend2_port"; do
    DOTNET_gcServer=0 taskset -c 1 dotnet "$backend_dll" "$port" >"$work/backend-$port.log" 2>&1 &
    started+=($!)
    wait_http "http://127.0.0.1:$port/" "$!"
done
log "backends on 127.0.0.1:$backend1_port and :$backend2_port (CPU 1)"

# ---- systems -------------------------------------------------------------------------------------------------
start_haproxy() {
    cat >"$work/haproxy.cfg" <<EOF
global
    nbthread 1
    maxconn 8000
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
    option http-keep-alive
    http-reuse always
frontend fe
    bind 127.0.0.1:$proxy_port$([[ $tls == 1 ]] && echo " ssl crt $work/tls.pem alpn http/1.1")
    default_backend be
backend be
    balance roundrobin
    server b1 127.0.0.1:$backend1_port
    server b2 127.0.0.1:$backend2_port
EOF
    taskset -c 0 haproxy -db -f "$work/haproxy.cfg" >"$work/haproxy.log" 2>&1 &
    sys_pid=$!
}

start_nginx() {
    mkdir -p "$work/nginx"
    cat >"$work/nginx/nginx.conf" <<EOF
worker_processes 1;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 10000; }
http {
    access_log off;
    client_body_temp_path $work/nginx/client;
    proxy_temp_path $work/nginx/proxy;
    fastcgi_temp_path $work/nginx/fastcgi;
    uwsgi_temp_path $work/nginx/uwsgi;
    scgi_temp_path $work/nginx/scgi;
    keepalive_requests 1000000;
    upstream backends {
        server 127.0.0.1:$backend1_port;
        server 127.0.0.1:$backend2_port;
        keepalive 128;
        keepalive_requests 1000000;
    }
    server {
        listen 127.0.0.1:$proxy_port$([[ $tls == 1 ]] && echo " ssl");
$([[ $tls == 1 ]] && echo "        ssl_certificate $work/tls-cert.pem; ssl_certificate_key $work/tls-key.pem;")
        location / {
            proxy_pass http://backends;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
EOF
    taskset -c 0 nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -g 'daemon off;' >"$work/nginx.log" 2>&1 &
    sys_pid=$!
}

start_caddy() {
    cat >"$work/Caddyfile" <<EOF
{
    admin off
    auto_https off
}
$([[ $tls == 1 ]] && echo "https" || echo "http")://127.0.0.1:$proxy_port {
$([[ $tls == 1 ]] && echo "    tls $work/tls-cert.pem $work/tls-key.pem")
    reverse_proxy 127.0.0.1:$backend1_port 127.0.0.1:$backend2_port {
        lb_policy round_robin
    }
}
EOF
    # Go's net/http anchor: one OS thread running Go code at a time, like the others' one core; no access log (Caddy's default).
    HOME=$work XDG_DATA_HOME=$work/caddy-data XDG_CONFIG_HOME=$work/caddy-config GOMAXPROCS=1 \
        taskset -c 0 caddy run --config "$work/Caddyfile" --adapter caddyfile >"$work/caddy.log" 2>&1 &
    sys_pid=$!
}

start_yarp() {
    DOTNET_STARTUP_HOOKS=$probe_dll LB_ALLOC_PROBE_FILE=$work/yarp.alloc \
        taskset -c 0 dotnet "$yarp_dll" "$proxy_port" "127.0.0.1:$backend1_port" "127.0.0.1:$backend2_port" >"$work/yarp.log" 2>&1 &
    sys_pid=$!
}

# lb and lbaot run Lb.Server's defaults: the fast path on the epoll I/O loop (inline I/O for what stays on sockets).
start_lb() { start_lb_variant lb ""; }
start_lbaot() { start_lb_variant lbaot ""; }
start_lbyarp() { start_lb_variant lbyarp ',"fastPath":false'; }
start_lbnoinline() { start_lb_variant lbnoinline ',"inlineIo":false,"ioLoop":false'; }
# The fast path on Lb's epoll I/O loop (ioLoop true) and on Kestrel's socket transport (ioLoop false), whatever the default.
start_lbloop() { start_lb_variant lbloop ',"ioLoop":true'; }
start_lbsockets() { start_lb_variant lbsockets ',"ioLoop":false'; }

# $1: system name (alloc probe file, log), $2: more app.json keys (with a leading comma).
start_lb_variant() {
    local name=$1 keys=$2
    [[ $tls == 1 ]] && keys+=",\"proxyTlsCertificate\":\"$work/tls-cert.pem\",\"proxyTlsKey\":\"$work/tls-key.pem\""
    rm -rf "$work/lb-data"; mkdir -p "$work/lb-data"
    cat >"$work/app.json" <<EOF
{"proxyListenAddr":"127.0.0.1:$proxy_port","dashboardListenAddr":"127.0.0.1:$admin_port","raftDataDir":"$work/lb-data"$keys${LB_APP_EXTRA:-}}
EOF
    cat >"$work/cfg.json" <<EOF
{
  "routes": [
    {"id": "all", "enabled": true, "algorithm": "round_robin", "match": {"path": {"type": "prefix", "value": "/"}}, "upstream_pool": "backends"}
  ],
  "upstream_pools": {
    "backends": {"upstreams": ["127.0.0.1:$backend1_port", "127.0.0.1:$backend2_port"]${LB_POOL_EXTRA:-}}
  }
}
EOF
    if [[ $name == lbaot ]]; then
        # A native executable has no startup hooks: no allocation figures for it.
        taskset -c 0 "$lb_aot" serve "$work/app.json" >"$work/$name.log" 2>&1 &
    else
        # Should lb.dll's runtimeconfig forbid startup hooks (a PublishAot build writes
        # System.StartupHookProvider.IsSupported=false), run it with a copy that allows the AllocProbe hook.
        sed 's/"System.StartupHookProvider.IsSupported": false/"System.StartupHookProvider.IsSupported": true/' \
            "${lb_dll%.dll}.runtimeconfig.json" >"$work/lb.runtimeconfig.json"
        env ${LB_PROXY_ENV:-} DOTNET_STARTUP_HOOKS="$probe_dll" LB_ALLOC_PROBE_FILE="$work/$name.alloc" \
            taskset -c 0 dotnet exec --runtimeconfig "$work/lb.runtimeconfig.json" "$lb_dll" serve "$work/app.json" >"$work/$name.log" 2>&1 &
    fi
    sys_pid=$!
    ANY=1 wait_http "http://127.0.0.1:$admin_port/api/status" "$sys_pid"
    curl -sf -X PUT -H 'Content-Type: application/json' --data-binary @"$work/cfg.json" \
        "http://127.0.0.1:$admin_port/api/config" >"$work/lb-put.json" || { log "PUT /api/config failed"; cat "$work/lb-put.json" >&2; return 1; }
}

declare -A label=([haproxy]="HAProxy $(haproxy -v 2>/dev/null | awk 'NR==1 {print $3}' | cut -d- -f1)"
                  [nginx]="nginx $(nginx -v 2>&1 | sed 's|.*/||')"
                  [caddy]="Caddy $(caddy version 2>/dev/null | awk '{print $1}' | sed 's/^v//') (GOMAXPROCS=1)"
                  [yarp]="YARP 2.3.0 (minimal)"
                  [lb]="Lb.Server"
                  [lbyarp]="Lb.Server fastPath false"
                  [lbaot]="Lb.Server (Native AOT)"
                  [lbnoinline]="Lb.Server inlineIo false, ioLoop false"
                  [lbloop]="Lb.Server ioLoop true"
                  [lbsockets]="Lb.Server ioLoop false")
declare -A scenario_path=([keepalive]="/" [close]="/" [64k]="/64k" [tls]="/")
declare -A scenario_label=([keepalive]="keep-alive, 13 B" [close]="Connection: close, 13 B" [64k]="keep-alive, 64 KiB" [tls]="TLS (HTTP/1.1) keep-alive, 13 B")
declare -A ready_ms rps p50 p99 cpu_us cpu_pct cpu0_busy cpu1_busy rss_mib errors alloc gc_pause user_us kernel_us syscalls ctxsw

# wrk prints latencies as 812.00us / 1.23ms / 1.02s; give milliseconds.
to_ms() {
    awk -v v="$1" 'BEGIN {
        if (v ~ /us$/) { sub(/us$/, "", v); printf "%.2f", v / 1000 }
        else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.2f", v }
        else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.2f", v * 1000 }
        else print "?" }'
}

run_scenario() {
    local sys=$1 scen=$2 pid=$3
    local url
    url=$(proxy_url "${scenario_path[$scen]}")
    local headers=()
    [[ $scen == close ]] && headers=(-H 'Connection: close')
    # The tls scenario runs in a freshly started process (the other scenarios follow earlier ones in the same process):
    # it warms up longer, so that the .NET runtime's tiered JIT has settled and a run measures the steady state.
    local warm=$warmup
    [[ $scen == tls ]] && warm=${TLS_WARMUP:-$((warmup + 8))}
    taskset -c 1 wrk -t1 -c"$connections" -d"${warm}s" "${headers[@]}" "$url" >/dev/null
    local before after out key="$sys|$scen"
    local c0 c1 probe="$work/$sys.alloc" a0=() a1=()
    if [[ -f $probe ]]; then sleep 0.3; read -r -a a0 <"$probe"; fi
    c0=$(cpu_busy_ticks 0); c1=$(cpu_busy_ticks 1)
    # System calls and context switches of the proxy's threads (its whole process tree) while wrk measures.
    local perf_out="$results_raw/$sys-$scen.perf.txt" perf_pid=""
    if command -v perf >/dev/null 2>&1; then
        perf stat -e raw_syscalls:sys_enter,context-switches -x, -p "$(tree_pids "$pid" | paste -sd,)" -o "$perf_out" -- sleep "$duration" 2>/dev/null &
        perf_pid=$!
    fi
    local split0 split1
    split0=$(cpu_ticks_split "$pid")
    before=$(cpu_ticks "$pid")
    out=$(taskset -c 1 wrk -t1 -c"$connections" -d"${duration}s" --latency "${headers[@]}" "$url")
    after=$(cpu_ticks "$pid")
    split1=$(cpu_ticks_split "$pid")
    if [[ -n $perf_pid ]]; then wait "$perf_pid" 2>/dev/null || true; fi
    local hz
    hz=$(getconf CLK_TCK)
    cpu0_busy[$key]=$(awk -v t=$(($(cpu_busy_ticks 0) - c0)) -v hz="$hz" -v d="$duration" 'BEGIN { printf "%.0f", t * 100 / hz / d }')
    cpu1_busy[$key]=$(awk -v t=$(($(cpu_busy_ticks 1) - c1)) -v hz="$hz" -v d="$duration" 'BEGIN { printf "%.0f", t * 100 / hz / d }')
    echo "$out" >"$results_raw/$sys-$scen.wrk.txt"
    alloc[$key]="n/a"; gc_pause[$key]="n/a"
    if [[ -f $probe ]]; then
        sleep 0.3; read -r -a a1 <"$probe"
        local n
        n=$(awk '/requests in/ {print $1}' <<<"$out")
        alloc[$key]=$(awk -v b=$((a1[0] - a0[0])) -v n="$n" 'BEGIN { printf "%.0f", (n > 0 ? b / n : 0) }')
        gc_pause[$key]=$(awk -v p0="${a0[4]}" -v p1="${a1[4]}" -v d="$duration" 'BEGIN { printf "%.1f", (p1 - p0) / 10 / d }')
        echo "gc: gen0 $((a1[1] - a0[1])), gen1 $((a1[2] - a0[2])), gen2 $((a1[3] - a0[3])), pause $(awk -v p0="${a0[4]}" -v p1="${a1[4]}" 'BEGIN { print p1 - p0 }') ms, allocated $((a1[0] - a0[0])) B" >>"$results_raw/$sys-$scen.wrk.txt"
    fi
    local requests sock non2xx
    requests=$(awk '/requests in/ {print $1}' <<<"$out")
    rps[$key]=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' <<<"$out")
    p50[$key]=$(to_ms "$(awk '$1 == "50%" {print $2}' <<<"$out")")
    p99[$key]=$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")
    cpu_pct[$key]=$(awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" -v d="$duration" 'BEGIN { printf "%.0f", t * 100 / hz / d }')
    cpu_us[$key]=$(awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" -v n="$requests" 'BEGIN { printf "%.1f", (n > 0 ? t * 1e6 / hz / n : 0) }')
    rss_mib[$key]=$(awk -v k="$(rss_kib "$pid")" 'BEGIN { printf "%.0f", k / 1024 }')
    sock=$(awk '/Socket errors/ { gsub(",", ""); print $4 + $6 + $8 + $10 }' <<<"$out")
    non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
    errors[$key]=$(( ${sock:-0} + ${non2xx:-0} ))
    local u0 k0 u1 k1
    read -r u0 k0 <<<"$split0"; read -r u1 k1 <<<"$split1"
    user_us[$key]=$(awk -v t=$((u1 - u0)) -v hz="$hz" -v n="$requests" 'BEGIN { printf "%.1f", (n > 0 ? t * 1e6 / hz / n : 0) }')
    kernel_us[$key]=$(awk -v t=$((k1 - k0)) -v hz="$hz" -v n="$requests" 'BEGIN { printf "%.1f", (n > 0 ? t * 1e6 / hz / n : 0) }')
    syscalls[$key]="n/a"; ctxsw[$key]="n/a"
    if [[ -s $perf_out ]] && grep -q '^[0-9]' "$perf_out"; then
        syscalls[$key]=$(awk -F, -v n="$requests" '$3 == "raw_syscalls:sys_enter" && $1 ~ /^[0-9]+$/ { printf "%.2f", (n > 0 ? $1 / n : 0) }' "$perf_out")
        ctxsw[$key]=$(awk -F, -v n="$requests" '$3 == "context-switches" && $1 ~ /^[0-9]+$/ { printf "%.2f", (n > 0 ? $1 / n : 0) }' "$perf_out")
        : "${syscalls[$key]:=n/a}" "${ctxsw[$key]:=n/a}"
    fi
    log "  $scen: ${rps[$key]} req/s, p50 ${p50[$key]} ms, p99 ${p99[$key]} ms, ${cpu_us[$key]} CPU-us/req (${cpu_pct[$key]}% of a CPU; CPU 0 ${cpu0_busy[$key]}% busy, CPU 1 ${cpu1_busy[$key]}%), ${rss_mib[$key]} MiB, alloc ${alloc[$key]} B/req, GC pause ${gc_pause[$key]}%, user/kernel ${user_us[$key]}/${kernel_us[$key]} us/req, ${syscalls[$key]} syscalls/req, ${ctxsw[$key]} ctx switches/req, ${errors[$key]} errors"
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
plain_scenarios=()
run_tls=0
for scen in "${scenario_list[@]}"; do
    [[ -n ${scenario_label[$scen]:-} ]] || { log "unknown scenario '$scen'"; exit 2; }
    if [[ $scen == tls ]]; then run_tls=1; else plain_scenarios+=("$scen"); fi
done

# Starts $1 (with its TLS configuration when tls=1), runs scenarios $2..., stops it.
run_system() {
    local sys=$1; shift
    log "${label[$sys]} on CPU 0$([[ $tls == 1 ]] && echo ", terminating TLS")"
    sys_pid=
    local t0
    t0=$(date +%s%N)
    "start_$sys"
    started+=("$sys_pid")
    wait_http "$(proxy_url /)" "$sys_pid"
    # Start to the first proxied 200 (for Lb including the config PUT as soon as its admin API answers).
    [[ $tls == 1 ]] || ready_ms[$sys]=$(( ($(date +%s%N) - t0) / 1000000 ))
    log "  first proxied request $(( ($(date +%s%N) - t0) / 1000000 )) ms after start"
    local scen
    for scen in "$@"; do
        run_scenario "$sys" "$scen" "$sys_pid"
    done
    if [[ $sys == lb* ]]; then
        local tag=""
        [[ $tls == 1 ]] && tag="-tls"
        curl -s "http://127.0.0.1:$admin_port/api/status" >"$results_raw/$sys$tag-status.json" || true
        curl -s "http://127.0.0.1:$admin_port/metrics" >"$results_raw/$sys$tag-metrics.txt" || true
        cp "$work/$sys.log" "$results_raw/$sys$tag.log"
    fi
    stop_pid "$sys_pid"
    unset 'started[${#started[@]}-1]'
    started=("${started[@]}")
    # Let TIME_WAIT sockets of the previous system's port drain a little before the next one binds it.
    sleep 1
}

for sys in "${system_list[@]}"; do
    [[ -n ${label[$sys]:-} ]] || { log "unknown system '$sys'"; exit 2; }
    ready_ms[$sys]="n/a"
    if [[ ${#plain_scenarios[@]} -gt 0 ]]; then
        tls=0
        run_system "$sys" "${plain_scenarios[@]}"
    fi
    if [[ $run_tls == 1 ]]; then
        if [[ $sys == yarp ]]; then
            # The minimal YARP app listens on plain HTTP only.
            for field in rps p50 p99 cpu_us cpu_pct cpu0_busy cpu1_busy rss_mib errors alloc gc_pause user_us kernel_us syscalls ctxsw; do
                declare -n column=$field
                column[$sys|tls]="n/a"
                unset -n column
            done
        else
            tls=1
            run_system "$sys" tls
            tls=0
        fi
    fi
done

# ---- report --------------------------------------------------------------------------------------------------
report() {
    echo "### Proxy benchmark, $stamp${suffix:+ (quick)}"
    echo
    echo "Proxy on CPU 0 alone; 2 backends (Kestrel) and wrk on CPU 1. wrk -t1 -c$connections -d${duration}s after ${warmup}s warm-up."
    echo "$(nproc --all) CPUs, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(. /etc/os-release && echo "$PRETTY_NAME"), .NET $(dotnet --list-runtimes | awk '/Microsoft.NETCore.App/ {v=$2} END {print v}')."
    echo "Load average (1/5/15 min) at start: $load_start; at end: $(cut -d' ' -f1-3 /proc/loadavg) (this machine runs other work too)."
    if [[ $run_tls == 1 ]]; then
        echo "TLS scenario: each system restarted terminating TLS (self-signed P-256, TLS 1.3 as negotiated with wrk, which offers no ALPN: HTTP/1.1), ${TLS_WARMUP:-$((warmup + 8))} s warm-up; plain HTTP to the backends."
    fi
    echo
    echo "| System | Scenario | Requests/s | p50 (ms) | p99 (ms) | Proxy CPU-µs/req | user / kernel µs/req | Syscalls/req | Ctx switches/req | Proxy CPU % | CPU 0 / CPU 1 busy % | Proxy RSS (MiB) | Alloc (B/req) | GC pause % | Errors |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    for scen in "${scenario_list[@]}"; do
        for sys in "${system_list[@]}"; do
            local k="$sys|$scen"
            echo "| ${label[$sys]} | ${scenario_label[$scen]} | ${rps[$k]} | ${p50[$k]} | ${p99[$k]} | ${cpu_us[$k]} | ${user_us[$k]} / ${kernel_us[$k]} | ${syscalls[$k]} | ${ctxsw[$k]} | ${cpu_pct[$k]} | ${cpu0_busy[$k]} / ${cpu1_busy[$k]} | ${rss_mib[$k]} | ${alloc[$k]} | ${gc_pause[$k]} | ${errors[$k]} |"
        done
    done
    echo
    echo "Start to first proxied request (ms; for Lb including the config PUT): $(for sys in "${system_list[@]}"; do printf '%s %s; ' "${label[$sys]}" "${ready_ms[$sys]}"; done)"
    if [[ ",$systems," == *",lb,"* && ",$systems," == *",lbaot,"* ]]; then
        echo
        echo "Lb.Server Native AOT against JIT in this run (below 1 = AOT uses less):"
        echo
        echo "| Scenario | CPU-µs/req AOT/JIT | RSS AOT/JIT | Requests/s AOT/JIT |"
        echo "|---|---:|---:|---:|"
        for scen in "${scenario_list[@]}"; do
            echo "| ${scenario_label[$scen]} | $(awk -v a="${cpu_us[lbaot|$scen]}" -v b="${cpu_us[lb|$scen]}" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else print "n/a" }') | $(awk -v a="${rss_mib[lbaot|$scen]}" -v b="${rss_mib[lb|$scen]}" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else print "n/a" }') | $(awk -v a="${rps[lbaot|$scen]}" -v b="${rps[lb|$scen]}" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else print "n/a" }') |"
        done
    fi
    # Each Lb variant against every other system in the run: requests/s (above 1 = Lb faster) and CPU per request
    # (below 1 = Lb cheaper; the issue's targets are CPU ratios to HAProxy).
    local lbsys other metric
    for lbsys in lb lbyarp lbaot lbnoinline lbloop lbsockets; do
        [[ ",$systems," == *",$lbsys,"* ]] || continue
        for metric in rps cpu; do
            echo
            if [[ $metric == rps ]]; then
                echo "${label[$lbsys]} requests/s relative to each (1.00 = equal, below 1 = Lb slower):"
            else
                echo "${label[$lbsys]} CPU-µs per request relative to each (1.00 = equal, above 1 = Lb spends more):"
            fi
            echo
            local header="| Scenario |" rule="|---|"
            for other in haproxy nginx caddy yarp lb lbyarp lbaot lbnoinline lbloop lbsockets; do
                [[ $other != "$lbsys" && ",$systems," == *",$other,"* ]] || continue
                header+=" vs ${label[$other]%% (*} |"; rule+="---:|"
            done
            echo "$header"; echo "$rule"
            for scen in "${scenario_list[@]}"; do
                local row="| ${scenario_label[$scen]} |"
                for other in haproxy nginx caddy yarp lb lbyarp lbaot lbnoinline lbloop lbsockets; do
                    [[ $other != "$lbsys" && ",$systems," == *",$other,"* ]] || continue
                    if [[ $metric == rps ]]; then
                        row+=" $(awk -v a="${rps[$lbsys|$scen]}" -v b="${rps[$other|$scen]}" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else print "n/a" }') |"
                    else
                        row+=" $(awk -v a="${cpu_us[$lbsys|$scen]}" -v b="${cpu_us[$other|$scen]}" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else print "n/a" }') |"
                    fi
                done
                echo "$row"
            done
        done
    done
}

out_file=$results_dir/$stamp$suffix.md
report | tee "$out_file"
log "wrote $out_file (raw wrk output in $results_raw)"
