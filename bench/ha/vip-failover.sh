#!/usr/bin/env bash
# VIP failover benchmark (issue 13): time from "the VIP owner dies" to the first good HTTP response through the VIP
# from another node, seen by a client probing every 20 ms. Same topology for every system:
#
#   netns lbha-sw: bridge br0 ─┬─ veth ─ lbha-n1 (eth0 10.250.14.11/24)   node: the system under test + a backend
#                              ├─ veth ─ lbha-n2 (eth0 10.250.14.12/24)
#                              ├─ veth ─ lbha-n3 (eth0 10.250.14.13/24)
#                              └─ veth ─ lbha-c  (eth0 10.250.14.50/24)   client: probe.py → http://10.250.14.100:8080/
#
# 10.250.14.0/24 exists only inside these namespaces. A trial: find the owner (the node named in the answers),
# SIGKILL every process in its namespace and take its link down (a dead host), wait for the first 200 from another
# node, then bring the node back as a rebooted host (clean interface, processes restarted) and wait for one owner.
#
# Systems: keepalived-default (VRRPv2, advert_int 1), keepalived-tuned (VRRPv3, advert_int 0.1), lb (three
# Lb.Server nodes in one Raft cluster formed with `cluster bootstrap`/`cluster join`, VIP by Lb.Vip). For lb the
# summary also counts leader leases granted during the run beyond one per trial ("extra leases"): elections nobody
# asked for (a loaded host missing heartbeats), each a VIP move the trials did not measure; and it breaks each Lb trial
# into phases (election timer, pre-vote, vote, lease, address, gratuitous ARP, first answer) with bench/ha/timeline.py.
#
# Usage: bench/ha/vip-failover.sh [--trials N] [--systems lb,lb-native,keepalived-default,keepalived-tuned] [--setup-only]
#        bench/ha/vip-failover.sh --stable SECONDS [--systems lb,lb@...]
#   --stable  no failures: form each Lb cluster, then count for SECONDS the elections, leader leases and lease
#             expiries nobody asked for (each a VIP move or flap) on a stable cluster.
#   A system lb@HEARTBEAT/ELECTION/LEASE (e.g. lb@150ms/250ms/150ms) is lb with that Raft timing given to
#   `cluster bootstrap`; plain lb uses Lb's defaults (250ms/280ms/200ms). lb-native (and lb-native@...) is the same
#   with the Native AOT build of Lb.Server, the deployment form (no JIT on the failover path). The default list
#   compares keepalived's default and tuned profiles with Lb's default timing in both builds, all in one run.
#   --setup-only  build the topology, print how to use it, wait for Ctrl-C, tear down.
# Environment: LBHA_LB_BINARY=PATH runs that build of Lb.Server for lb and lb-native (default: lb runs
#   `dotnet lb.dll` from the Release build; lb-native runs the Native AOT executable bench/aot/out/aot/lb, published
#   here when missing, as `dotnet publish samples/Lb.Server -c Release --use-current-runtime` makes it for deployment);
#   LBHA_DEBUG=1 prints the probe lines around each failover; LBHA_KEEP=1 keeps the work directory (logs);
#   LBHA_LB_LOG_LEVEL=debug raises the Lb nodes' log level (default info: leader changes, leases, VIP moves).
# Needs root, iproute2, python3; installs keepalived from apt when missing. Results: bench/ha/results/.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
trials=10
systems="keepalived-default,keepalived-tuned,lb,lb-native"
setup_only=0
stable=0
lb_timing="" # heartbeat/election/lease for `cluster bootstrap` (from a system named lb@...); empty: Lb's defaults
while [[ $# -gt 0 ]]; do
    case "$1" in
        --trials) trials=$2; shift 2 ;;
        --systems) systems=$2; shift 2 ;;
        --setup-only) setup_only=1; shift ;;
        --stable) stable=$2; shift 2 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
        *) echo "vip-failover.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
done

subnet=10.250.14
vip=$subnet.100
nodes=(n1 n2 n3)
declare -A host=([n1]=11 [n2]=12 [n3]=13 [c]=50)
work=$(mktemp -d /tmp/lbha.XXXXXX)
probe_log=$work/probe.log
probe_pid=""

log() { echo "vip-failover: $*" >&2; }
ns() { echo "lbha-$1"; }

[[ $(id -u) -eq 0 ]] || { log "needs root (network namespaces)"; exit 1; }
command -v ip >/dev/null || { log "needs iproute2"; exit 1; }
command -v python3 >/dev/null || { log "needs python3"; exit 1; }

# ---- topology ------------------------------------------------------------------------------------------------
# SIGKILL everything in a namespace and wait until it is gone (a dying daemon still holds its pid file).
kill_ns() {
    local i
    for ((i = 0; i < 50; i++)); do
        local pids
        pids=$(ip netns pids "$(ns "$1")" 2>/dev/null) || return 0
        [[ -z $pids ]] && return 0
        kill -9 $pids 2>/dev/null || true
        sleep 0.05
    done
}

teardown() {
    [[ -n $probe_pid ]] && kill "$probe_pid" 2>/dev/null || true
    for n in "${nodes[@]}" c sw; do
        kill_ns "$n"
        ip netns del "$(ns "$n")" 2>/dev/null || true
    done
    if [[ -n ${LBHA_KEEP:-} ]]; then log "kept $work"; else rm -rf "$work"; fi
}
trap teardown EXIT
trap 'exit 130' INT TERM

setup_topology() {
    for n in "${nodes[@]}" c sw; do ip netns del "$(ns "$n")" 2>/dev/null || true; done
    ip netns add "$(ns sw)"
    ip -n "$(ns sw)" link set lo up
    ip -n "$(ns sw)" link add br0 type bridge
    ip -n "$(ns sw)" link set br0 up
    for n in "${nodes[@]}" c; do
        ip netns add "$(ns "$n")"
        ip -n "$(ns "$n")" link set lo up
        ip -n "$(ns "$n")" link add eth0 type veth peer name "$n" netns "$(ns sw)"
        ip -n "$(ns sw)" link set "$n" master br0 up
        ip -n "$(ns "$n")" addr add "$subnet.${host[$n]}/24" dev eth0
        ip -n "$(ns "$n")" link set eth0 up
    done
}

# A rebooted host: link up, only its own address (a crashed owner's VIP does not survive a reboot).
revive_link() {
    ip -n "$(ns "$1")" addr flush dev eth0
    ip -n "$(ns "$1")" addr add "$subnet.${host[$1]}/24" dev eth0
    ip -n "$(ns "$1")" link set eth0 up
}

vip_holders() {
    for n in "${nodes[@]}"; do
        ip -n "$(ns "$n")" -o addr show dev eth0 2>/dev/null | grep -q " $vip/" && echo "$n"
    done
}

start_probe() {
    : > "$probe_log"
    ip netns exec "$(ns c)" python3 "$here/probe.py" "$vip" 8080 0.02 >> "$probe_log" &
    probe_pid=$!
}

stop_probe() { [[ -n $probe_pid ]] && kill "$probe_pid" 2>/dev/null; wait "$probe_pid" 2>/dev/null || true; probe_pid=""; }

# The node named by the last N answers, when they all agree and are 200.
steady_owner() {
    local n=${1:-25}
    tail -n "$n" "$probe_log" | awk -v n="$n" '$2==200 {c[$3]++} END {for (k in c) if (c[k]==n) print k}'
}

wait_steady_owner() {
    local deadline=$((SECONDS + ${1:-60})) owner
    while (( SECONDS < deadline )); do
        owner=$(steady_owner 25)
        if [[ -n $owner && $(vip_holders | wc -l) -eq 1 ]]; then echo "$owner"; return 0; fi
        sleep 0.2
    done
    return 1
}

# First 200 from a node other than $2 after time $1 (ns); prints the delay in ms.
wait_failover() {
    local since=$1 old=$2 deadline=$((SECONDS + 30)) t
    while (( SECONDS < deadline )); do
        t=$(awk -v s="$since" -v o="$old" '$1>s && $2==200 && $3!=o {print $1; exit}' "$probe_log")
        if [[ -n $t ]]; then echo $(( (t - since) / 1000000 )); return 0; fi
        sleep 0.1
    done
    return 1
}

# ---- systems -------------------------------------------------------------------------------------------------
keepalived_conf() { # node version advert
    cat <<CONF
global_defs {
    router_id $1
    vrrp_version $2
    script_user root
    enable_script_security
}
vrrp_instance lbha {
    state BACKUP
    nopreempt
    interface eth0
    virtual_router_id 51
    priority 100
    advert_int $3
    virtual_ipaddress {
        $vip/24 dev eth0
    }
}
CONF
}

keepalived_start() { # node version advert
    local n=$1 dir=$work/$1
    mkdir -p "$dir"
    keepalived_conf "$n" "$2" "$3" > "$dir/keepalived.conf"
    rm -f "$dir"/*.pid # left by the SIGKILLed instance; keepalived would think it still runs
    # Started in subshells: not jobs of this shell, so SIGKILLing them prints nothing here.
    (ip netns exec "$(ns "$n")" python3 "$here/backend.py" "$n" 0.0.0.0 8080 2>/dev/null &)
    (ip netns exec "$(ns "$n")" keepalived --dont-fork --vrrp --log-console \
        --use-file "$dir/keepalived.conf" --pid "$dir/ka.pid" --vrrp_pid "$dir/vrrp.pid" >> "$dir/keepalived.log" 2>&1 &)
}

lb_dll=$root/samples/Lb.Server/bin/Release/net10.0/lb.dll
# Without a token the admin API binds loopback only, and the nodes must reach each other's admin API (join, forwarding).
export LB_ADMIN_TOKEN=lbha-bench-admin-token
lb_binary=${LBHA_LB_BINARY:-} # a native build for this system (lb-native), or empty: dotnet lb.dll
native_default=$root/bench/aot/out/aot/lb
lb() {
    local n=$1; shift
    if [[ -n $lb_binary ]]; then
        ip netns exec "$(ns "$n")" "$lb_binary" "$@"
    else
        ip netns exec "$(ns "$n")" dotnet "$lb_dll" "$@"
    fi
}

lb_start() { # node
    local n=$1 dir=$work/$1 ip=$subnet.${host[$1]}
    mkdir -p "$dir"
    cat > "$dir/app.json" <<JSON
{ "proxyListenAddr": ":8080", "dashboardListenAddr": ":9090", "raftDataDir": "$dir/data", "nodeId": "$n",
  "raftListenAddr": "$ip:7000", "raftAdvertiseAddr": "$ip:7000", "vipInterface": "eth0",
  "adminToken": "$LB_ADMIN_TOKEN" }
JSON
    (ip netns exec "$(ns "$n")" python3 "$here/backend.py" "$n" 127.0.0.1 9001 2>/dev/null &)
    (lb "$n" serve "$dir/app.json" --log-level "${LBHA_LB_LOG_LEVEL:-info}" >> "$dir/lb.log" 2>&1 &)
    local deadline=$((SECONDS + 30))
    until lb "$n" cluster status --dashboard "http://$ip:9090" >/dev/null 2>&1; do
        (( SECONDS < deadline )) || { log "$n did not start: $(tail -5 "$dir/lb.log")"; return 1; }
        sleep 0.2
    done
}

lb_form_cluster() {
    local ip1=$subnet.${host[n1]} out timing_args=()
    if [[ -n $lb_timing ]]; then
        IFS=/ read -r hb el ls <<<"$lb_timing"
        timing_args=(--raft-heartbeat-timeout "$hb" --raft-election-timeout "$el" --raft-leader-lease-timeout "$ls")
    fi
    if ! out=$(lb n1 cluster bootstrap --dashboard "http://$ip1:9090" --node-id n1 --raft-advertise "$ip1:7000" \
            --vip-interface eth0 --vip-address "$vip/24" "${timing_args[@]}" 2>&1); then
        if grep -q raft_not_available <<<"$out"; then
            log "lb: pending: cluster bootstrap answers raft_not_available (the Raft store, issue Lb.Raft, is not merged yet)"
            return 2
        fi
        log "lb: bootstrap failed: $out"; return 1
    fi
    for n in n2 n3; do
        local ip=$subnet.${host[$n]}
        lb "$n" cluster join --dashboard "http://$ip:9090" --node-id "$n" --raft-advertise "$ip:7000" \
            --vip-interface eth0 --peer "http://$ip1:9090" >/dev/null
    done
    cat > "$work/config.json" <<'JSON'
{"routes":[{"id":"all","enabled":true,"match":{},"upstream_pool":"local"}],
 "upstream_pools":{"local":{"upstreams":["127.0.0.1:9001"]}}}
JSON
    lb n1 config put "$work/config.json" --dashboard "http://$ip1:9090" >/dev/null
}

# ---- trials --------------------------------------------------------------------------------------------------
summarize() { # name file-with-ms-per-line
    sort -n "$2" | awk -v name="$1" '{a[NR]=$1} END {
        if (NR==0) {print name ": no successful trials"; exit}
        med = (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2
        printf "%-24s trials %2d  min %6d ms  median %6.0f ms  max %6d ms\n", name, NR, a[1], med, a[NR]}'
}

run_trials() { # name restart-function
    local name=$1 restart=$2 results=$work/${1//\//_}.ms trials_log=$work/${1//\//_}.trials owner since ms
    : > "$results"
    : > "$trials_log"
    start_probe
    owner=$(wait_steady_owner 60) || { log "$name: no steady VIP owner"; stop_probe; return 1; }
    for ((i = 1; i <= trials; i++)); do
        since=$(date +%s%N)
        echo "$i $since $owner" >> "$trials_log"
        kill_ns "$owner"
        ip -n "$(ns "$owner")" link set eth0 down
        if ms=$(wait_failover "$since" "$owner"); then
            echo "$ms" >> "$results"
            log "$name trial $i: owner $owner down -> first good answer from another node after $ms ms"
            [[ -n ${LBHA_DEBUG:-} ]] && awk -v s="$since" '$1>s-200000000' "$probe_log" | head -8 >&2
        else
            log "$name trial $i: no failover within 30 s"
        fi
        revive_link "$owner"
        "$restart" "$owner"
        owner=$(wait_steady_owner 60) || { log "$name: no steady owner after trial $i"; break; }
    done
    stop_probe
    summarize "$name" "$results" | tee -a "$work/summary"
}

stop_all_nodes() {
    for n in "${nodes[@]}"; do kill_ns "$n"; revive_link "$n"; done
    for n in "${nodes[@]}"; do
        if [[ -n ${LBHA_KEEP:-} && -d $work/$n ]]; then mv "$work/$n" "$work/$n.$(date +%s%N)"; else rm -rf "${work:?}/$n"; fi
    done
}

ka_default_restart() { keepalived_start "$1" 2 1; }
ka_tuned_restart() { keepalived_start "$1" 3 0.1; }
lb_restart() { lb_start "$1"; }

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
setup_topology
if (( setup_only )); then
    log "topology up: namespaces $(ip netns list | grep -o 'lbha-[a-z0-9]*' | tr '\n' ' '); VIP $vip; Ctrl-C tears it down"
    sleep infinity
fi

if [[ $systems == *keepalived* ]] && ! command -v keepalived >/dev/null; then
    log "installing keepalived"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq keepalived >/dev/null
    systemctl stop keepalived 2>/dev/null || true
fi

IFS=, read -ra wanted <<<"$systems"
for system in "${wanted[@]}"; do
    case "$system" in
        keepalived-default)
            for n in "${nodes[@]}"; do ka_default_restart "$n"; done
            run_trials keepalived-default ka_default_restart || true
            stop_all_nodes ;;
        keepalived-tuned)
            for n in "${nodes[@]}"; do ka_tuned_restart "$n"; done
            run_trials keepalived-tuned ka_tuned_restart || true
            stop_all_nodes ;;
        lb|lb@*|lb-native|lb-native@*)
            if [[ $system == lb-native* ]]; then
                lb_timing=${system#lb-native}
                lb_binary=${LBHA_LB_BINARY:-$native_default}
                [[ -x $lb_binary ]] || dotnet publish "$root/samples/Lb.Server" -c Release --use-current-runtime \
                    -o "$(dirname "$native_default")" -nologo -clp:ErrorsOnly >/dev/null
            else
                lb_timing=${system#lb}
                lb_binary=${LBHA_LB_BINARY:-}
                [[ -n $lb_binary || -f $lb_dll ]] || dotnet build "$root/samples/Lb.Server" -c Release -nologo -clp:ErrorsOnly >/dev/null
            fi
            lb_timing=${lb_timing#@}
            for n in "${nodes[@]}"; do lb_start "$n"; done
            if ! lb_form_cluster; then
                echo "$system pending (needs the Raft store)" | tee -a "$work/summary"
            elif (( stable > 0 )); then
                start_probe
                wait_steady_owner 60 >/dev/null || log "$system: no steady VIP owner"
                before=$(cat "$work"/n?/lb.log | grep -c '\[74003\]\|\[4030\]\|\[4033\]' || true)
                log "$system: stable cluster, watching for ${stable}s (load $(cut -d' ' -f1-3 /proc/loadavg))"
                sleep "$stable"
                stop_probe
                elections=$(cat "$work"/n?/lb.log | grep -c '\[74003\]' || true)
                grants=$(cat "$work"/n?/lb.log | grep -c '\[4030\]' || true)
                expiries=$(cat "$work"/n?/lb.log | grep -c '\[4033\]' || true)
                echo "$system: stable for ${stable}s: $((elections + grants + expiries - before)) unrequested events (elections + leases granted + leases expired; since start: $elections, $grants, $expiries); load at end $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$work/summary"
            else
                run_trials "$system" lb_restart || true
                # Where the time went, per trial, from the nodes' logs (bench/ha/timeline.py).
                { echo "$system phases:"
                  python3 "$here/timeline.py" "$work/${system//\//_}.trials" "$probe_log" "$work"/n?/lb.log 2>&1 | sed 's/^/  /'
                } | tee -a "$work/timeline" >&2
                extra=$(( $(cat "$work"/n?/lb.log | grep -c 'leader lease granted') - 1 - trials ))
                echo "$system: extra leases (unrequested elections) during the run: $extra" | tee -a "$work/summary"
            fi
            stop_all_nodes ;;
        *) log "unknown system '$system'"; exit 2 ;;
    esac
done

mkdir -p "$here/results"
out=$here/results/vip-failover-$(date -u +%Y%m%dT%H%M%SZ).txt
mode="--trials $trials"; (( stable > 0 )) && mode="--stable $stable"
{ echo "# bench/ha/vip-failover.sh $mode --systems $systems  ($(date -u +%FT%TZ), $(nproc) cores, $(uname -r))"
  echo "# load average at start: $load_start; at end: $(cut -d' ' -f1-3 /proc/loadavg)"
  cat "$work/summary"
  if [[ -f $work/timeline ]]; then echo; cat "$work/timeline"; fi; } > "$out"
log "results in ${out#"$root"/}"
cat "$out"
