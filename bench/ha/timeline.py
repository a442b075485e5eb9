#!/usr/bin/env python3
"""Failover phases from the nodes' logs and the probe log (bench/ha/vip-failover.sh writes the inputs).

Usage: timeline.py TRIALS PROBE_LOG NODE_LOG...
  TRIALS     lines "<trial> <kill-unix-ns> <old-owner>", one per trial
  PROBE_LOG  probe.py's lines "<unix-ns> <status> <node>"
  NODE_LOG   a node's lb.log (its name is the directory's: .../n2/lb.log -> n2), info level

Per trial, milliseconds after the kill at which each phase ended, taken on the node that won (the new owner):
  notice   a survivor's election timer fired (the start of its first pre-vote request: log time minus elapsed)
  prevote  the winner finished its pre-vote round (DotNext "Transition to Candidate state has started")
  vote     the winner became a candidate and sent its votes ("... Candidate state has completed")
  leader   the winner won the vote ("Transition to Leader state has completed")
  lease    Lb.Raft granted the winner the leader lease (event 4030)
  vip      Lb.Vip added the address (5000)
  garp     the first gratuitous ARP round went out (5007)
  good     the client's first 200 from another node (the failover time the benchmark reports)
then the median of each phase's own duration over all trials. Standard library only."""
import datetime, os, re, statistics, sys

LINE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+)Z \w+: ([\w.]+)\[(\d+)\] (.*)$")
PHASES = ["notice", "prevote", "vote", "leader", "lease", "vip", "garp", "good"]


def ns(stamp):
    whole, frac = stamp.split(".")
    t = datetime.datetime.strptime(whole, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    return int(t.timestamp()) * 1_000_000_000 + int(frac.ljust(9, "0")[:9])


def read_node(path):
    events = []
    with open(path, errors="replace") as f:
        for line in f:
            m = LINE.match(line)
            if m:
                events.append((ns(m.group(1)), int(m.group(3)), m.group(4)))
    return events


def first(events, since, until, event_id, start=False):
    for t, eid, text in events:
        if since < t <= until and eid == event_id:
            if start:
                m = re.search(r"after ([\d.]+) ms", text)
                return t - int(float(m.group(1)) * 1e6) if m else t
            return t
    return None


def main():
    trials_path, probe_path, logs = sys.argv[1], sys.argv[2], sys.argv[3:]
    nodes = {os.path.basename(os.path.dirname(p)): read_node(p) for p in logs}
    probes = []
    with open(probe_path) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3 and parts[1].isdigit():
                probes.append((int(parts[0]), int(parts[1]), parts[2]))
    rows = []
    with open(trials_path) as f:
        for line in f:
            trial, kill, old = line.split()[:3]
            kill = int(kill)
            good = next(((t, n) for t, s, n in probes if t > kill and s == 200 and n != old), None)
            if good is None:
                continue
            until, winner = good[0] + 1_000_000_000, good[1]
            w = nodes.get(winner, [])
            survivors = [e for n, e in nodes.items() if n != old]
            notices = [t for e in survivors if (t := first(e, kill, until, 4050, start=True)) is not None]
            at = {
                "notice": min(notices) if notices else None,
                "prevote": first(w, kill, until, 74002),
                "vote": first(w, kill, until, 74003),
                "leader": first(w, kill, until, 74005),
                "lease": first(w, kill, until, 4030),
                "vip": first(w, kill, until, 5000),
                "garp": first(w, kill, until, 5007),
                "good": good[0],
            }
            elections = sum(1 for e in nodes.values() for t, eid, _ in e if kill < t <= good[0] and eid == 74003)
            rows.append((trial, winner, elections, {k: None if v is None else (v - kill) / 1e6 for k, v in at.items()}))
    if not rows:
        print("timeline: no trial with a failover found")
        return
    print("trial winner elections " + " ".join(f"{p:>8}" for p in PHASES) + "   (ms after the kill)")
    for trial, winner, elections, at in rows:
        print(f"{trial:>5} {winner:>6} {elections:>9} " + " ".join("       -" if at[p] is None else f"{at[p]:8.0f}" for p in PHASES))
    print("median duration of each phase (ms): " + ", ".join(
        f"{p} {statistics.median(d):.0f}" for p in PHASES
        if (d := [r[3][p] - prev for r in rows
                  if r[3][p] is not None and (prev := 0.0 if p == PHASES[0] else r[3][PHASES[PHASES.index(p) - 1]]) is not None])))


if __name__ == "__main__":
    main()
