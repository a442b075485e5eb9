#!/usr/bin/env bash
# Starts a three-node Lb cluster with three demo backends on this machine (loopback), bootstraps node 1, joins
# nodes 2 and 3 through the CLI, loads example-config.json and prints where to look. Run from anywhere; see
# README.md next to this file. Stop it with down.sh (keeps the data) or down.sh --wipe.
#
# Environment (all optional):
#   LB_DEMO_STATE          state dir: pid files, logs, app.json and data per node   (samples/cluster/.run)
#   LB_DEMO_IPS            the three nodes' addresses                                ("127.0.0.1 127.0.0.1 127.0.0.1")
#   LB_DEMO_PROXY_PORTS    the three proxy ports                                     ("8081 8082 8083")
#   LB_DEMO_ADMIN_PORTS    the three admin (dashboard + API) ports                   ("9091 9092 9093")
#   LB_DEMO_RAFT_PORTS     the three Raft ports                                      ("7001 7002 7003")
#   LB_DEMO_BACKEND_PORTS  the demo backends' ports, on localhost                    ("3001 3002 3003")
#   LB_DEMO_NO_BUILD=1     skip `dotnet build` (the Release build must exist)
#
# up.sh --vip (root): the same cluster, but every node is a host of its own: a network namespace on a bridge, with
# its own demo backends on its localhost, and the cluster's virtual IP on the leader's eth0. A client namespace
# reaches the VIP. Its state dir defaults to samples/cluster/.run-vip; stop it with down.sh --vip.
#   LB_DEMO_NS             prefix of the namespaces it creates                       (lbdemo: lbdemo-sw, -n1..3, -c)
#   LB_DEMO_SUBNET         the bridge's /24, used only inside those namespaces        (10.250.16)
set -euo pipefail
vip_mode=0
if [ "${1:-}" = "--vip" ] && [ $# -eq 1 ]; then
  vip_mode=1
elif [ $# -gt 0 ]; then
  echo "usage: samples/cluster/up.sh [--vip]   (settings through LB_DEMO_* variables; see the top of this file)" >&2
  exit 2
fi

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
if [ "$vip_mode" -eq 1 ]; then
  state=${LB_DEMO_STATE:-$here/.run-vip}
else
  state=${LB_DEMO_STATE:-$here/.run}
fi
mkdir -p "$state"
state=$(cd "$state" && pwd)
read -r -a ips <<<"${LB_DEMO_IPS:-127.0.0.1 127.0.0.1 127.0.0.1}"
read -r -a proxy <<<"${LB_DEMO_PROXY_PORTS:-8081 8082 8083}"
read -r -a admin <<<"${LB_DEMO_ADMIN_PORTS:-9091 9092 9093}"
read -r -a raft <<<"${LB_DEMO_RAFT_PORTS:-7001 7002 7003}"
read -r -a backends <<<"${LB_DEMO_BACKEND_PORTS:-3001 3002 3003}"
for list in "IPS:${#ips[@]}" "PROXY_PORTS:${#proxy[@]}" "ADMIN_PORTS:${#admin[@]}" "RAFT_PORTS:${#raft[@]}" "BACKEND_PORTS:${#backends[@]}"; do
  if [ "${list#*:}" -ne 3 ]; then echo "up.sh: LB_DEMO_${list%:*} needs three values separated by spaces" >&2; exit 2; fi
done
# The server's assembly name comes from its project file (Lb.Server unless <AssemblyName> says otherwise).
name=$(grep -o '<AssemblyName>[^<]*' "$root/samples/Lb.Server/Lb.Server.csproj" | cut -d'>' -f2 || true)
server="$root/samples/Lb.Server/bin/Release/net10.0/${name:-Lb.Server}.dll"
backend="$root/samples/DemoBackend/bin/Release/net10.0/DemoBackend.dll"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
pidfiles=("$state/backends.pid" "$state/node1/pid" "$state/node2/pid" "$state/node3/pid")

print_info() {
  echo
  echo "Dashboards:  http://${ips[0]}:${admin[0]}/  http://${ips[1]}:${admin[1]}/  http://${ips[2]}:${admin[2]}/"
  echo "Proxies:     http://${ips[0]}:${proxy[0]}/  http://${ips[1]}:${proxy[1]}/  http://${ips[2]}:${proxy[2]}/"
  echo "Backends:    $(printf 'http://localhost:%s/  ' "${backends[@]}")"
  echo "State:       $state (logs: node*/log, backends.log)"
  echo
  echo "Try:"
  echo "  curl -s http://${ips[0]}:${proxy[0]}/                                    # round_robin: backends in turn"
  echo "  curl -s -H 'Host: sticky.localhost' -c /tmp/jar -b /tmp/jar http://${ips[1]}:${proxy[1]}/   # sticky_cookie"
  echo "  curl -s -H 'Host: hash.localhost' http://${ips[2]}:${proxy[2]}/          # 5_tuple_hash: same client, same backend"
  echo "  curl -s -H 'Host: least.localhost' http://${ips[0]}:${proxy[0]}/slow?ms=5000 &   # least_connection"
  echo "  curl -s http://${ips[1]}:${admin[1]}/api/cluster                        # members, leader, term"
  echo "  curl -s -X PUT 'http://localhost:${backends[1]}/health?status=503'       # flip a backend's health"
  echo "Stop: samples/cluster/down.sh   (add --wipe to delete the data)"
}

if [ "$vip_mode" -eq 1 ]; then
  # The namespace form: its own pid files, print_info and vip_up (below, after the build).
  # shellcheck source=vip.sh
  . "$here/vip.sh"
fi

running=0
for f in "${pidfiles[@]}"; do if alive "$f"; then running=$((running + 1)); fi; done
if [ "$running" -eq ${#pidfiles[@]} ]; then
  echo "already up (state in $state)"
  print_info
  exit 0
elif [ "$running" -gt 0 ]; then
  echo "partly up ($running of ${#pidfiles[@]} processes run): starting the others; a restarted node rejoins with its data"
fi

if [ "${LB_DEMO_NO_BUILD:-}" != 1 ]; then
  echo "building (Release)..."
  dotnet build "$root/samples/Lb.Server" -c Release -nologo -clp:ErrorsOnly -v:q
  dotnet build "$root/samples/DemoBackend" -c Release -nologo -clp:ErrorsOnly -v:q
fi
for dll in "$server" "$backend"; do
  if [ ! -f "$dll" ]; then echo "up.sh: $dll is missing; run without LB_DEMO_NO_BUILD=1 to build it" >&2; exit 1; fi
done

if [ "$vip_mode" -eq 1 ]; then
  vip_up
  exit 0
fi

# Start one process detached from this shell, in its own session so a Ctrl-C here does not reach it.
start() { # pidfile log command...
  local pidfile=$1 log=$2; shift 2
  setsid "$@" >>"$log" 2>&1 </dev/null &
  echo $! >"$pidfile"
}
fail() {
  echo "up.sh: $1" >&2
  [ -n "${2:-}" ] && [ -f "$2" ] && { echo "--- last lines of $2:" >&2; tail -n 20 "$2" >&2; }
  echo "up.sh: stopping the demo (down.sh; the data is kept)" >&2
  LB_DEMO_STATE="$state" "$here/down.sh" >/dev/null 2>&1 || true
  exit 1
}
wait_http() { # url what log
  for _ in $(seq 1 300); do
    if curl -fsS -o /dev/null --max-time 2 "$1" 2>/dev/null; then return 0; fi
    sleep 0.2
  done
  fail "$2 did not answer at $1 within 60 s" "$3"
}

# Only what is not running (a node stopped or killed since the last up.sh is started again with its data).
alive "$state/backends.pid" || start "$state/backends.pid" "$state/backends.log" dotnet "$backend" "${backends[@]}"
for i in 0 1 2; do
  n=$((i + 1)); dir="$state/node$n"
  if alive "$dir/pid"; then continue; fi
  mkdir -p "$dir"
  cat >"$dir/app.json" <<JSON
{"nodeId":"node-$n","proxyListenAddr":"${ips[$i]}:${proxy[$i]}","dashboardListenAddr":"${ips[$i]}:${admin[$i]}","raftDataDir":"$dir/data"}
JSON
  start "$dir/pid" "$dir/log" dotnet "$server" serve "$dir/app.json"
done
for p in "${backends[@]}"; do wait_http "http://127.0.0.1:$p/health" "demo backend on port $p" "$state/backends.log"; done
for i in 0 1 2; do wait_http "http://${ips[$i]}:${admin[$i]}/api/node/cluster-status" "node $((i + 1))" "$state/node$((i + 1))/log"; done

lb() { dotnet "$server" "$@"; }
node_state() { curl -fsS --max-time 5 "http://${ips[$1]}:${admin[$1]}/api/node/cluster-status" | grep -o '"state":"[a-z]*"' | cut -d'"' -f4; }
# A restart with the data kept: the nodes are members already and find each other; only new nodes are bootstrapped/joined.
if [ "$(node_state 0)" = unconfigured ]; then
  lb cluster bootstrap --dashboard "http://${ips[0]}:${admin[0]}" --node-id node-1 \
    --raft-advertise "${ips[0]}:${raft[0]}" --raft-bind "${ips[0]}:${raft[0]}" || fail "bootstrap of node 1 failed" "$state/node1/log"
fi
for i in 1 2; do
  if [ "$(node_state $i)" = unconfigured ]; then
    lb cluster join --dashboard "http://${ips[$i]}:${admin[$i]}" --node-id "node-$((i + 1))" \
      --raft-advertise "${ips[$i]}:${raft[$i]}" --raft-bind "${ips[$i]}:${raft[$i]}" \
      --peer "http://${ips[0]}:${admin[0]}" || fail "node $((i + 1)) could not join" "$state/node$((i + 1))/log"
  fi
done

# Load the example only into an empty cluster: a restart keeps whatever was configured since.
if ! curl -fsS --max-time 5 "http://${ips[0]}:${admin[0]}/api/config" | grep -q '"id"'; then
  sed -e "s/127.0.0.1:3001/127.0.0.1:${backends[0]}/" -e "s/127.0.0.1:3002/127.0.0.1:${backends[1]}/" \
      -e "s/127.0.0.1:3003/127.0.0.1:${backends[2]}/" "$here/example-config.json" >"$state/config.json"
  lb config put "$state/config.json" --dashboard "http://${ips[1]}:${admin[1]}" >/dev/null || fail "loading the example configuration failed" "$state/node2/log"
fi
echo "up: three nodes (node-1..3) and three demo backends"
print_info
