#!/usr/bin/env bash
# Installs node dependencies when missing or stale (package-lock.json newer than node_modules).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "install: npm ci …"
  npm ci --no-audit --no-fund
fi
