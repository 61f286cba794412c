/**
 * A generated government-style site for the crawl benchmarks: `articles` detail pages in TRS shape
 * (`/col/202405/t20240501_N.html`), listed 20 per page (`index.html`, `index_1.html`, …), each
 * list page either static or written by JavaScript. Dates run back from a fixed day, so a re-crawl
 * sees an old, unchanged site.
 */
import { createServer } from 'node:http';

export interface BenchSite {
  url: string;
  listPages: number;
  close(): Promise<void>;
}

const PER_PAGE = 20;
const DAY = 86_400_000;
const BASE = Date.UTC(2024, 0, 1);
const PARAGRAPH = '为进一步做好防汛抗旱工作，县政府召开专题会议，对全县防汛工作进行再部署、再落实。会议要求各乡镇、各部门加强值班值守，严格落实二十四小时值班和领导带班制度，确保信息畅通。';

const pad = (n: number) => String(n).padStart(2, '0');
function dateOf(i: number): Date {
  return new Date(BASE - Math.floor(i / 3) * DAY);
}
function ymd(d: Date): string {
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}`;
}
function pathOf(i: number): string {
  const d = ymd(dateOf(i));
  return `/col/${d.slice(0, 6)}/t${d}_${100000 + i}.html`;
}

export async function startBenchSite(options: { articles: number; render: 'static' | 'browser' }): Promise<BenchSite> {
  const listPages = Math.ceil(options.articles / PER_PAGE);
  const byPath = new Map(Array.from({ length: options.articles }, (_, i) => [pathOf(i), i]));
  const server = createServer((req, res) => {
    const p = new URL(req.url ?? '/', 'http://x').pathname;
    const list = /^\/col\/index(?:_(\d+))?\.html$/.exec(p);
    if (list) {
      const page = Number(list[1] ?? 0);
      if (page >= listPages) return void res.writeHead(404).end();
      const rows = Array.from({ length: PER_PAGE }, (_, k) => page * PER_PAGE + k)
        .filter((i) => i < options.articles)
        .map((i) => ({ href: `.${pathOf(i).slice(4)}`, title: `关于做好第${i}号防汛工作的通知`, date: dateOf(i).toISOString().slice(0, 10) }));
      // TRS writes its pager with a script naming the page count, so every list page is known from the first.
      const pager = `<script>createPageHTML(${listPages}, ${page}, "index", "html");</script>${page + 1 < listPages ? `<a href="index_${page + 1}.html">下一页</a>` : ''}`;
      const body =
        options.render === 'static'
          ? `<ul class="list">${rows.map((r) => `<li><a href="${r.href}">${r.title}</a><span>${r.date}</span></li>`).join('')}</ul>`
          : `<ul class="list" id="l"></ul><script>var d=${JSON.stringify(rows)};var u=document.getElementById('l');d.forEach(function(r){var li=document.createElement('li');var a=document.createElement('a');a.href=r.href;a.textContent=r.title;var s=document.createElement('span');s.textContent=r.date;li.appendChild(a);li.appendChild(s);u.appendChild(li);});</script>`;
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      return res.end(`<html><head><title>工作动态</title></head><body><div class="nav"><a href="/">首页</a></div>${body}<div class="page">${pager}</div></body></html>`);
    }
    const i = byPath.get(p);
    if (i === undefined) return void res.writeHead(404).end();
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(
      `<html><head><title>关于做好第${i}号防汛工作的通知_青山县人民政府</title></head><body><div class="nav"><a href="/">首页</a></div><div class="article"><h1 class="article-title">关于做好第${i}号防汛工作的通知</h1><div class="article-meta">发布时间：${dateOf(i).toISOString().slice(0, 10)} 09:30　来源：县应急管理局</div><div class="TRS_Editor">${`<p>${PARAGRAPH}</p>`.repeat(6)}</div></div><div class="footer">主办：青山县人民政府办公室</div></body></html>`,
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  return {
    url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`,
    listPages,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
