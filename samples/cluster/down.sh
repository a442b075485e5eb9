#!/usr/bin/env bash
# Stops what up.sh started (the processes in its pid files, nothing else) and keeps their data, so the next up.sh
# brings the same cluster back. --wipe also deletes the state dir (data, logs, app.json files).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
state=${LB_DEMO_STATE:-$here/.run}
wipe=0
case "${1:-}" in
  "") ;;
  --wipe) wipe=1 ;;
  *) echo "usage: samples/cluster/down.sh [--wipe]" >&2; exit 2 ;;
esac
if [ ! -d "$state" ]; then echo "nothing to stop (no $state)"; exit 0; fi

stopped=0
# Nodes first (a node stopping last would log its peers as unreachable), then the backends.
for f in "$state/node3/pid" "$state/node2/pid" "$state/node1/pid" "$state/backends.pid"; do
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
if [ "$wipe" -eq 1 ]; then
  rm -rf "$state"
  echo "wiped $state"
else
  echo "data kept in $state (samples/cluster/down.sh --wipe deletes it)"
fi
