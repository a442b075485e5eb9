#!/usr/bin/env bash
# Stops what up.sh started (the processes in its pid files, nothing else) and keeps their data, so the next up.sh
# brings the same cluster back. --wipe also deletes the state dir (data, logs, app.json files).
# --vip: what up.sh --vip started (state dir samples/cluster/.run-vip), and the network namespaces it created
# (listed in its state dir; their links and bridge go with them).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
wipe=0
vip_mode=0
for arg in "$@"; do
  case "$arg" in
    --wipe) wipe=1 ;;
    --vip) vip_mode=1 ;;
    *) echo "usage: samples/cluster/down.sh [--vip] [--wipe]" >&2; exit 2 ;;
  esac
done
if [ "$vip_mode" -eq 1 ]; then
  state=${LB_DEMO_STATE:-$here/.run-vip}
else
  state=${LB_DEMO_STATE:-$here/.run}
fi
if [ ! -d "$state" ]; then echo "nothing to stop (no $state)"; exit 0; fi

stopped=0
# Nodes first (a node stopping last would log its peers as unreachable), then the backends.
for f in "$state/node3/pid" "$state/node2/pid" "$state/node1/pid" "$state/backends.pid" \
         "$state/node1/backends.pid" "$state/node2/backends.pid" "$state/node3/backends.pid"; do
  [ -f "$f" ] || continue
  pid=$(cat "$f")
  # Only a process that is still the one up.sh started: a dotnet process whose command line names our dll.
  if kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qE '/(Lb\.Server|lb|DemoBackend)\.dll'; then
    kill -TERM "$pid"
    for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "pid $pid did not stop within 15 s of SIGTERM; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    stopped=$((stopped + 1))
  fi
  rm -f "$f"
done
echo "stopped $stopped process(es)"
if [ -f "$state/namespaces" ]; then
  deleted=0
  for n in $(cat "$state/namespaces"); do
    if ip netns list | grep -qw "$n"; then
      # Anything still running in a namespace up.sh --vip created is the demo's (e.g. a node restarted by hand).
      pids=$(ip netns pids "$n" 2>/dev/null || true)
      if [ -n "$pids" ]; then kill -KILL $pids 2>/dev/null || true; fi
      ip netns del "$n"
      deleted=$((deleted + 1))
    fi
  done
  rm -f "$state/namespaces"
  echo "deleted $deleted network namespace(s) (with their links and the bridge)"
fi
if [ "$wipe" -eq 1 ]; then
  rm -rf "$state"
  echo "wiped $state"
else
  echo "data kept in $state (samples/cluster/down.sh$([ "$vip_mode" -eq 1 ] && echo " --vip") --wipe deletes it)"
fi
