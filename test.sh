#!/usr/bin/env bash
# Builds Lb in Release and runs every test project. Last line: "N passed, N failed, N skipped".
# Installs what the tests need when it is missing (CI runs as root on a fresh machine).
set -uo pipefail
cd "$(dirname "$0")"

# command-on-PATH -> Debian package that provides it, for tests that need a tool from the system: the VIP tests build
# network namespaces and veth pairs with `ip` (and check addresses with `ip -j addr`) and query a server inside a
# namespace with curl; the dashboard's browser tests drive Debian's Chromium (never a downloaded browser); the README
# walkthrough test runs the README's commands (curl) in a network namespace of its own (unshare, setsid, ip) and git.
declare -A needs=(
  [clang]=clang         # links the Native AOT build of Lb.Server (published below)
  [ip]=iproute2
  [curl]=curl
  [chromium]=chromium
  [unshare]=util-linux  # README walkthrough test (a network namespace of its own)
  [setsid]=util-linux   # samples/cluster/up.sh (ClusterDemoScriptTests), README walkthrough test
  [git]=git             # README walkthrough test (git status stays clean)
)
missing=()
for cmd in "${!needs[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${needs[$cmd]}")
done
# Native AOT also links zlib statically.
[ -e /usr/include/zlib.h ] || missing+=(zlib1g-dev)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "test.sh: installing ${missing[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "test.sh: missing ${missing[*]} and not root, so not installed: the tests that use them will fail"
  fi
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

if ! dotnet build Lb.slnx -c Release -nologo -clp:ErrorsOnly; then
  echo "build failed"
  echo "0 passed, 1 failed, 0 skipped"
  exit 1
fi

# Native AOT: publish the reference server once as the native executable `lb`; AotBinaryTests (in
# Lb.IntegrationTests) smoke-test it through LB_AOT_BINARY. A failed publish (e.g. a new trim/AOT warning) is a failure.
aot_dir=$(mktemp -d)
aot_failed=0
if dotnet publish samples/Lb.Server -c Release --use-current-runtime -o "$aot_dir" -nologo -clp:ErrorsOnly >"$aot_dir.log" 2>&1 \
   && [ -x "$aot_dir/lb" ]; then
  export LB_AOT_BINARY="$aot_dir/lb"
else
  cat "$aot_dir.log"
  echo "test.sh: Native AOT publish of samples/Lb.Server failed"
  aot_failed=1
fi
rm -f "$aot_dir.log"

log=$(mktemp)
dotnet test --solution Lb.slnx -c Release --no-build --timeout 25m 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

sum() { grep -E "^\s+$1: [0-9]+" "$log" | awk '{s+=$2} END {print s+0}'; }
passed=$(sum succeeded); failed=$(sum failed); skipped=$(sum skipped)
# A test project whose process ended with an exit code other than 0 (passed), 2 (tests failed) or 8 (no tests ran)
# crashed or was aborted: name it, and count it as one failure because its remaining tests never ran.
crashed=$(awk '/\.dll \(.*\) failed \(/ { project = $1; sub(/.*\//, "", project); sub(/\.dll$/, "", project) }
               /^Exit code: / { if (project != "" && $3 != 0 && $3 != 2 && $3 != 8) print project " (exit code " $3 ")"; project = "" }' "$log" | sort -u)
if [ -n "$crashed" ]; then
  while IFS= read -r project; do
    echo "test.sh: test project $project crashed; its tests that did not run are not counted"
    failed=$((failed + 1))
  done <<<"$crashed"
fi
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
failed=$((failed + aot_failed))
rm -rf "$log" "$aot_dir"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
