#!/usr/bin/env bash
# npm start: install what is missing, make sure Redis and Elasticsearch are up, build, run every role
# with the demo positions. Pass a role to run one: npm start -- api
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
# Report charts are drawn on the server and need a CJK font.
if ! (command -v fc-list >/dev/null && fc-list :lang=zh | grep -q .); then
  if [ "$(id -u)" = 0 ]; then
    echo "start: installing fonts-noto-cjk with apt-get …"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends fonts-noto-cjk >/dev/null
  else
    echo "start: no CJK font found; report charts will lack Chinese text (apt-get install fonts-noto-cjk)" >&2
  fi
fi
npx tsx scripts/services.ts
set -a; . .data/services.env; set +a
npm run --silent build:all
exec node dist/bin/qianshao.js "${@:-all}" --demo
