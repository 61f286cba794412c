#!/usr/bin/env bash
# npm test: install what is missing (node modules, Debian's chromium and docker-compose), make sure
# Redis and Elasticsearch are up, check types and lint, then run unit, integration and browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v docker-compose >/dev/null || need+=(docker-compose)
# A CJK font, so screenshots and report charts show Chinese, not empty boxes.
(command -v fc-list >/dev/null && fc-list :lang=zh | grep -q .) || need+=(fonts-noto-cjk)
# Report charts set digits and Latin in DejaVu Sans (fast to lay out; see reports/render/charts.ts).
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
# The report test opens the DOCX in LibreOffice and renders its pages.
command -v soffice >/dev/null || need+=(libreoffice-writer-nogui)
command -v pdftoppm >/dev/null || need+=(poppler-utils)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "test: installing ${need[*]} with apt-get …"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "test: missing ${need[*]} (install them with apt-get as root)" >&2; exit 1
  fi
fi
npx tsx scripts/services.ts
set -a; . .data/services.env; set +a
npm run --silent build:all
npm run --silent typecheck
npm run --silent lint
npx vitest run "$@"
