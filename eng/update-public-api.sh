#!/usr/bin/env bash
# Regenerates PublicAPI.Unshipped.txt of the six packages from the code: adds what is public and not listed (RS0016),
# removes what is listed and no longer public (RS0017). Run it after an intended public API change, review the diff
# of the PublicAPI.*.txt files, and commit them with the change. The build fails (RS0016/RS0017 are errors through
# TreatWarningsAsErrors) whenever code and files disagree, so an accidental public change cannot slip in.
#
#   eng/update-public-api.sh            # all six packages
#   eng/update-public-api.sh Lb.Core    # only the named ones
#
# On a release, move the Unshipped lines into PublicAPI.Shipped.txt (removals then show as RS0017 against Shipped).
set -euo pipefail
cd "$(dirname "$0")/.."
packages=("$@")
[ ${#packages[@]} -gt 0 ] || packages=(Lb.Core Lb.Routing Lb.Balancing Lb.Raft Lb.Vip Lb.AspNetCore)
for p in "${packages[@]}"; do
  for f in Shipped Unshipped; do
    [ -s "$p/PublicAPI.$f.txt" ] || printf '#nullable enable\n' > "$p/PublicAPI.$f.txt"
  done
  dotnet format analyzers "$p/$p.csproj" --diagnostics RS0016 RS0017 --severity info -v quiet
  # Keep the files sorted (the fixer appends) so that diffs and merges stay small.
  f="$p/PublicAPI.Unshipped.txt"
  { head -n1 "$f"; tail -n +2 "$f" | LC_ALL=C sort -u; } > "$f.tmp" && mv "$f.tmp" "$f"
  echo "$p: $(($(wc -l < "$f") - 1)) unshipped public API lines"
done
