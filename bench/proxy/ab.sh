#!/usr/bin/env bash
# Interleaved A/B runs of run.sh on one scenario, for changes smaller than this machine's noise.
# Usage: bench/proxy/ab.sh PAIRS 'nameA|system|ENV=v ...' 'nameB|system|ENV=v ...'
#   system is one of run.sh's systems (lb, lbyarp, lbnoinline, yarp, ...); the ENV assignments go to run.sh and the proxy (e.g. LB_DLL=/tmp/lb-a/lb.dll,
#   DOTNET_gcServer=1). Pairs alternate the order (AB, BA, AB, ...) so a drifting load hits both sides alike.
# Environment: DURATION (default 10), WARMUP (default 2), SCENARIO (default keepalive); builds once (unless NO_BUILD=1),
#   then runs run.sh with NO_BUILD=1.
# Prints every run and the medians of requests/s, CPU-µs/req and B/req, and the median of the per-pair B/A ratios.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
pairs=$1; shift
variants=("$@")
[[ ${#variants[@]} -eq 2 ]] || { echo "ab.sh: two variants expected" >&2; exit 2; }
export DURATION=${DURATION:-10} WARMUP=${WARMUP:-2}
scenario=${SCENARIO:-keepalive}
out=$(mktemp /tmp/lb-ab.XXXXXX)
[[ ${NO_BUILD:-0} == 1 ]] || for project in samples/Lb.Server bench/proxy/Backend bench/proxy/YarpMinimal bench/proxy/AllocProbe; do
    dotnet build "$here/../../$project" -c Release -nologo -v q >/dev/null || { echo "ab.sh: build of $project failed" >&2; exit 1; }
done

run_one() {
    local spec=$1 name sys envs line
    IFS='|' read -r name sys envs <<<"$spec"
    # shellcheck disable=SC2086
    line=$(env NO_BUILD=1 $envs "$here/run.sh" --quick --systems "$sys" --scenarios "$scenario" 2>&1 >/dev/null | grep "  $scenario:" || true)
    local rps cpu alloc
    rps=$(awk '{print $3}' <<<"$line")
    cpu=$(sed -n 's/.* \([0-9.]*\) CPU-us\/req.*/\1/p' <<<"$line")
    alloc=$(sed -n 's/.*alloc \([0-9.n/a]*\) B\/req.*/\1/p' <<<"$line")
    echo "$name $rps $cpu $alloc $(cut -d' ' -f1 /proc/loadavg)" | tee -a "$out" >&2
}

for ((i = 0; i < pairs; i++)); do
    if ((i % 2 == 0)); then run_one "${variants[0]}"; run_one "${variants[1]}"; else run_one "${variants[1]}"; run_one "${variants[0]}"; fi
done

a=${variants[0]%%|*}; b=${variants[1]%%|*}
python3 - "$out" "$a" "$b" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
a, b = sys.argv[2], sys.argv[3]
def col(name, i): return [float(r[i]) for r in rows if r[0] == name and len(r) > i and r[i] not in ('', 'n/a')]
print(f"{'variant':<24} {'req/s':>8} {'CPU-us/req':>11} {'B/req':>7}   (medians of {len(col(a,1))} / {len(col(b,1))} runs)")
for n in (a, b):
    print(f"{n:<24} {statistics.median(col(n,1)):>8.0f} {statistics.median(col(n,2)):>11.1f} {statistics.median(col(n,3)) if col(n,3) else float('nan'):>7.0f}")
ra = [y / x for x, y in zip(col(a,1), col(b,1))]; rc = [y / x for x, y in zip(col(a,2), col(b,2))]
print(f"median per-pair ratio {b}/{a}: req/s {statistics.median(ra):.3f}, CPU-us/req {statistics.median(rc):.3f}")
PY
rm -f "$out"
