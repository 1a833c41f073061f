#!/usr/bin/env bash
# Debian's Chromium for the browser tests (Playwright drives it through its executable path,
# because `playwright install` cannot download browser builds here). Idempotent.
set -euo pipefail
if dpkg -s chromium >/dev/null 2>&1 && [ -x /usr/bin/chromium ]; then
  exit 0
fi
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq chromium >/dev/null
echo "installed $(/usr/bin/chromium --version 2>/dev/null || echo chromium)"
