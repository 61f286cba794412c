#!/usr/bin/env bash
# npm start: install what is missing, make sure Redis and Elasticsearch are up, build, run every role
# with the demo positions. Pass a role to run one: npm start -- api
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
npx tsx scripts/services.ts
set -a; . .data/services.env; set +a
npm run --silent build:all
exec node dist/bin/qianshao.js "${@:-all}" --demo
