#!/usr/bin/env bash
# Installs Debian's headless-capable Chromium for the console's browser tests
# (test/integration/console.test.ts drives it with puppeteer-core; nothing is downloaded by npm).
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
command -v chromium
