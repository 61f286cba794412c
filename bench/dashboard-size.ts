/**
 * Initial JavaScript of the built dashboard, gzipped: the entry script and every module it
 * preloads (what the browser must fetch before the first page can run). Lazy route and ECharts
 * chunks are listed apart. Run after `npm run build:dashboards`: npm run bench:dashboard-size
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

const dir = path.resolve(import.meta.dirname, '../dist/dashboards');
const html = readFileSync(path.join(dir, 'index.html'), 'utf8');
const initial = [...html.matchAll(/(?:src|href)="\/(assets\/[^"]+\.js)"/g)].map((m) => m[1]!);
const gz = (file: string) => gzipSync(readFileSync(path.join(dir, file)), { level: 9 }).length;
let total = 0;
for (const file of initial) {
  const size = gz(file);
  total += size;
  console.log(`initial  ${(size / 1024).toFixed(1).padStart(7)} KB  ${file}`);
}
console.log(`initial JavaScript, gzipped: ${(total / 1024).toFixed(1)} KB (budget 800 KB)`);
const lazy = readdirSync(path.join(dir, 'assets')).filter((f) => f.endsWith('.js') && !initial.includes(`assets/${f}`));
const biggest = lazy.map((f) => [f, gz(`assets/${f}`)] as const).sort((a, b) => b[1] - a[1]).slice(0, 5);
for (const [f, size] of biggest) console.log(`lazy     ${(size / 1024).toFixed(1).padStart(7)} KB  assets/${f}`);
if (total > 800 * 1024) process.exitCode = 1;
