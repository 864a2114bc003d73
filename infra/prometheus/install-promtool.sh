#!/usr/bin/env bash
# Makes `promtool` available without Docker: alert-rule tests (test/unit/alert-rules.test.ts) need it.
# Uses Debian's `prometheus` package, which ships promtool; the server it may start is stopped, since
# tests start their own Prometheus when they need one.
set -euo pipefail

if command -v promtool >/dev/null 2>&1; then
  command -v promtool
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "promtool is not on PATH; run this script as root (it installs Debian's prometheus package)," >&2
  echo "or install promtool from https://prometheus.io/download/ and put it on PATH." >&2
  exit 1
fi

apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus
# The package may start the server at install; nothing here needs it running.
service prometheus stop 2>/dev/null || true

command -v promtool
promtool --version
