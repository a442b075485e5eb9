# Sourced by up.sh --vip (not run on its own): the three-node demo with a virtual IP, each node a host of its own.
#
#   namespace ${ns}-sw: bridge br0 ─┬─ ${ns}-n1  eth0 ${subnet}.11   node-1 + demo backends on its localhost:3001-3003
#                                   ├─ ${ns}-n2  eth0 ${subnet}.12   node-2 + demo backends
#                                   ├─ ${ns}-n3  eth0 ${subnet}.13   node-3 + demo backends
#                                   └─ ${ns}-c   eth0 ${subnet}.50   the client: curl http://${subnet}.100:8080/
#
# The VIP ${subnet}.100/24 is on the leader's eth0 (vipInterface/vipAddress in every node's app.json). Ports inside
# each namespace: proxy 8080, admin 9090, Raft 7000. The admin API must be reachable from the other nodes, so every
# node has the demo's adminToken (the CLI reads it from LB_ADMIN_TOKEN). Nothing is added to this host's own network.

ns=${LB_DEMO_NS:-lbdemo}
subnet=${LB_DEMO_SUBNET:-10.250.16}
vip=$subnet.100
token=lb-demo-vip-admin-token
export LB_ADMIN_TOKEN=$token
pidfiles=("$state/node1/backends.pid" "$state/node2/backends.pid" "$state/node3/backends.pid" "$state/node1/pid" "$state/node2/pid" "$state/node3/pid")

if [ "$(id -u)" -ne 0 ]; then echo "up.sh --vip: needs root (it creates network namespaces); run it with sudo" >&2; exit 1; fi
command -v ip >/dev/null || { echo "up.sh --vip: needs iproute2 (the ip command)" >&2; exit 1; }

print_info() {
  echo
  echo "Namespaces:  ${ns}-n1 ${ns}-n2 ${ns}-n3 (nodes), ${ns}-c (client), ${ns}-sw (the bridge)"
  echo "VIP:         http://$vip:8080/  (on the leader; reach it from the client namespace)"
  echo "Nodes:       $subnet.11 $subnet.12 $subnet.13 (proxy :8080, dashboard + admin API :9090, Raft :7000)"
  echo "Admin token: $token"
  echo "State:       $state (logs: node*/log, node*/backends.log)"
  echo
  echo "Try:"
  echo "  ip netns exec ${ns}-c curl -s http://$vip:8080/                          # through the VIP"
  echo "  ip netns exec ${ns}-c curl -s http://$vip:9090/api/cluster               # the leader's view: members, vip"
  echo "  for n in 1 2 3; do ip -n ${ns}-n\$n -br -4 addr show dev eth0; done        # which node holds $vip"
  echo "  kill -9 \$(cat $state/node<N>/pid)                                     # kill the leader, watch the VIP move"
  echo "Stop: samples/cluster/down.sh --vip   (add --wipe to delete the data)"
}

vip_fail() {
  echo "up.sh --vip: $1" >&2
  [ -n "${2:-}" ] && [ -f "$2" ] && { echo "--- last lines of $2:" >&2; tail -n 20 "$2" >&2; }
  echo "up.sh --vip: stopping the demo (down.sh --vip; the data is kept)" >&2
  LB_DEMO_STATE="$state" LB_DEMO_NS="$ns" "$here/down.sh" --vip >/dev/null 2>&1 || true
  exit 1
}

# A process inside a namespace, detached from this shell; `ip netns exec` execs it, so the pid is the process's own.
vip_start() { # namespace pidfile log command...
  local where=$1 pidfile=$2 log=$3; shift 3
  setsid ip netns exec "$where" "$@" >>"$log" 2>&1 </dev/null &
  echo $! >"$pidfile"
}

vip_wait_http() { # namespace url what log
  for _ in $(seq 1 300); do
    if ip netns exec "$1" curl -fsS -o /dev/null --max-time 2 "$2" 2>/dev/null; then return 0; fi
    sleep 0.2
  done
  vip_fail "$3 did not answer at $2 within 60 s" "$4"
}

vip_topology() {
  # Created once; a second up.sh --vip (or one after a node was killed) finds it in place.
  if ip netns list | grep -qw "${ns}-sw"; then return 0; fi
  echo "${ns}-sw ${ns}-n1 ${ns}-n2 ${ns}-n3 ${ns}-c" >"$state/namespaces"
  ip netns add "${ns}-sw"
  ip -n "${ns}-sw" link set lo up
  ip -n "${ns}-sw" link add br0 type bridge
  ip -n "${ns}-sw" link set br0 up
  local part host
  for part in n1:11 n2:12 n3:13 c:50; do
    host=${part#*:}; part=${part%:*}
    ip netns add "${ns}-$part"
    ip -n "${ns}-$part" link set lo up
    ip -n "${ns}-$part" link add eth0 type veth peer name "$part" netns "${ns}-sw"
    ip -n "${ns}-sw" link set "$part" master br0 up
    ip -n "${ns}-$part" addr add "$subnet.$host/24" dev eth0
    ip -n "${ns}-$part" link set eth0 up
  done
}

vip_up() {
  vip_topology
  local i dir ip
  for i in 1 2 3; do
    dir="$state/node$i"; ip="$subnet.1$i"
    mkdir -p "$dir"
    alive "$dir/backends.pid" || vip_start "${ns}-n$i" "$dir/backends.pid" "$dir/backends.log" dotnet "$backend" 3001 3002 3003
    if alive "$dir/pid"; then continue; fi
    # A node killed with its link taken down comes back as a rebooted host would: link up, its own address only.
    ip -n "${ns}-n$i" link set eth0 up
    cat >"$dir/app.json" <<JSON
{"nodeId":"node-$i","proxyListenAddr":":8080","dashboardListenAddr":":9090","raftDataDir":"$dir/data",
 "raftListenAddr":"$ip:7000","raftAdvertiseAddr":"$ip:7000","vipInterface":"eth0","vipAddress":"$vip/24","adminToken":"$token"}
JSON
    vip_start "${ns}-n$i" "$dir/pid" "$dir/log" dotnet "$server" serve "$dir/app.json"
  done
  for i in 1 2 3; do
    vip_wait_http "${ns}-n$i" "http://127.0.0.1:3001/health" "the demo backends of node $i" "$state/node$i/backends.log"
    vip_wait_http "${ns}-n$i" "http://$subnet.1$i:9090/api/node/cluster-status" "node $i" "$state/node$i/log"
  done

  lbn() { local n=$1; shift; ip netns exec "${ns}-n$n" dotnet "$server" "$@"; }
  node_state() { ip netns exec "${ns}-n$1" curl -fsS --max-time 5 "http://$subnet.1$1:9090/api/node/cluster-status" | grep -o '"state":"[a-z]*"' | cut -d'"' -f4; }
  if [ "$(node_state 1)" = unconfigured ]; then
    lbn 1 cluster bootstrap --dashboard "http://$subnet.11:9090" --node-id node-1 --raft-advertise "$subnet.11:7000" \
      || vip_fail "bootstrap of node 1 failed" "$state/node1/log"
  fi
  for i in 2 3; do
    if [ "$(node_state $i)" = unconfigured ]; then
      lbn $i cluster join --dashboard "http://$subnet.1$i:9090" --node-id "node-$i" --raft-advertise "$subnet.1$i:7000" \
        --peer "http://$subnet.11:9090" || vip_fail "node $i could not join" "$state/node$i/log"
    fi
  done
  if ! ip netns exec "${ns}-n1" curl -fsS --max-time 5 "http://$subnet.11:9090/api/config" | grep -q '"id"'; then
    lbn 1 config put "$here/example-config.json" --dashboard "http://$subnet.11:9090" >/dev/null \
      || vip_fail "loading the example configuration failed" "$state/node1/log"
  fi
  # Up means the client gets an answer through the VIP.
  for _ in $(seq 1 300); do
    if ip netns exec "${ns}-c" curl -fsS -o /dev/null --max-time 2 "http://$vip:8080/" 2>/dev/null; then
      echo "up: three nodes (node-1..3) in network namespaces, the VIP $vip on the leader"
      print_info
      return 0
    fi
    sleep 0.2
  done
  vip_fail "no answer through the VIP http://$vip:8080/ from ${ns}-c within 60 s" "$state/node1/log"
}
