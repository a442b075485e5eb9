#!/usr/bin/env bash
# Regenerates docs/dashboard.png: starts Lb.Server with real backends, loads an example configuration, sends some
# traffic and screenshots the dashboard with Playwright on Debian's Chromium (the same setup as the browser tests).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x /usr/bin/chromium ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
dotnet build tests/Lb.DashboardTests -c Release -nologo -clp:ErrorsOnly
LB_DASHBOARD_PNG="$PWD/docs/dashboard.png" tests/Lb.DashboardTests/bin/Release/net10.0/Lb.DashboardTests \
  --filter-class "*DashboardScreenshot*"
echo "wrote docs/dashboard.png"
