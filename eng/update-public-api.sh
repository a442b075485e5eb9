#!/usr/bin/env bash
# Regenerates PublicAPI.Unshipped.txt of the six packages from the code: builds each package and takes what the
# analyzer reports: a public symbol that is not listed (RS0016) is added, a listed one that is no longer public (RS0017)
# is removed. Run it after an intended public API change, review the diff of the PublicAPI.*.txt files, and commit them
# with the change. The build fails (RS0016/RS0017 are errors through TreatWarningsAsErrors) whenever code and files
# disagree, so an accidental public change cannot slip in.
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
  f="$p/PublicAPI.Unshipped.txt"
  # A fix can reveal more (a new type's members are reported once the type is listed): a few rounds at most.
  for _ in 1 2 3; do
    out=$(dotnet build "$p/$p.csproj" -c Release -nologo -v q 2>&1 || true)
    added=$(grep -F "error RS0016" <<<"$out" | grep -F "[$PWD/$p/$p.csproj]" | sed -E "s/.*Symbol '(.*)' is not part of the declared.*/\1/" | sort -u || true)
    removed=$(grep -F "error RS0017" <<<"$out" | grep -F "[$PWD/$p/$p.csproj]" | sed -E "s/.*Symbol '(.*)' is part of the declared API.*/\1/" | sort -u || true)
    [ -n "$added$removed" ] || break
    { head -n1 "$f"
      { tail -n +2 "$f" | grep -vxF -f <(printf '%s\n' "$removed" | sed '/^$/d') || true
        [ -z "$added" ] || printf '%s\n' "$added"
      } | LC_ALL=C sort -u
    } > "$f.tmp" && mv "$f.tmp" "$f"
  done
  echo "$p: $(($(wc -l < "$f") - 1)) unshipped public API lines"
done
