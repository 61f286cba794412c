import { createRequire } from 'node:module';
import { Resvg } from '@resvg/resvg-js';
import type { Chart } from '../../core/reports/report.js';
import { xmlSafeText } from '../../core/text/xml-safe-text.js';

// ECharts 5 declares itself with `export =`, which this ESM project cannot import by name; its CJS build serves SSR.
// eslint-disable-next-line @typescript-eslint/consistent-type-imports -- an `export =` module has no ESM type import
const echarts = createRequire(import.meta.url)('echarts') as typeof import('echarts');

/**
 * The fonts charts ask for. A Latin face comes first on purpose: resvg lays out every text run with
 * its primary face, and with Noto Sans CJK (a 20 MB collection) as primary each label costs about
 * 100 ms — seconds per chart. Digits and Latin then come from DejaVu (Debian: fonts-dejavu-core);
 * Chinese characters, which DejaVu lacks, fall back per glyph to the CJK faces (fonts-noto-cjk).
 */
export const CHART_FONT = 'DejaVu Sans, Noto Sans CJK SC, Source Han Sans SC, WenQuanYi Micro Hei, sans-serif';

/**
 * Renders an ECharts option on the server, without a DOM, to an SVG string. ECharts escapes markup
 * but keeps characters XML forbids (a crawled title's U+FFFF), which resvg refuses: they are dropped.
 */
export function chartToSvg(chart: Chart, width = 720, height = 360): string {
  const instance = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    instance.setOption({ textStyle: { fontFamily: CHART_FONT }, ...chart.option });
    return xmlSafeText(instance.renderToSVGString());
  } finally {
    instance.dispose();
  }
}

/** The same chart as PNG for Word, at `scale` × the SVG size so it stays sharp when printed. */
export function chartToPng(chart: Chart, width = 720, height = 360, scale = 2): Buffer {
  const svg = chartToSvg(chart, width, height);
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    background: '#ffffff',
    font: { loadSystemFonts: true, defaultFontFamily: 'Noto Sans CJK SC', sansSerifFamily: 'Noto Sans CJK SC' },
  });
  return Buffer.from(resvg.render().asPng());
}
