#!/usr/bin/env bash
# Installs node dependencies when missing or stale (package-lock.json newer than node_modules).
# `npm install` rather than `npm ci`: the lock file this registry produces omits other platforms'
# optional packages (rollup, msgpackr-extract), which `npm ci` refuses as out of sync.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "install: npm install …"
  npm install --no-audit --no-fund --loglevel=error
fi
