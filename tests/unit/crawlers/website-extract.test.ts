import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeHtml } from '../../../crawlers/shared/decode.js';
import { extractArticle, extractListPage } from '../../../crawlers/website/extract.js';
import { startDemoSite, type DemoSite } from '../../fixtures/demo-site/server.js';

/** 2024-11-20 10:00 in Beijing: the demo site's content is dated relative to it. */
const NOW = new Date('2024-11-20T02:00:00Z');

let site: DemoSite;
beforeAll(async () => {
  site = await startDemoSite({ port: 0, now: () => NOW });
});
afterAll(async () => {
  await site.close();
});

async function fetchPage(path: string): Promise<{ url: string; status: number; html: string; encoding: string; contentType: string }> {
  const res = await fetch(new URL(path, site.url));
  const contentType = res.headers.get('content-type') ?? '';
  const { html, encoding } = decodeHtml(Buffer.from(await res.arrayBuffer()), contentType);
  return { url: res.url, status: res.status, html, encoding, contentType };
}

describe('extractListPage on the demo site', () => {
  it('reads the 工作动态 ul-list with absolute URLs, titles and list dates', async () => {
    const page = await fetchPage('/xwzx/gzdt/index.html');
    const { links } = extractListPage(page.html, page.url);
    expect(links).toHaveLength(5);
    expect(links[0]).toEqual({
      url: `${site.url}/xwzx/gzdt/202411/t20241119_1234500.html`,
      title: '县委宣传部召开2024年第三季度意识形态工作分析研判会',
      publishedAt: '2024-11-19T00:00:00+08:00',
    });
    for (const link of links) expect(link.url).toMatch(/\/xwzx\/gzdt\/\d{6}\/t\d{8}_\d+\.html$/);
  });

  it('finds the column’s further list pages from 下一页/尾页 links', async () => {
    const first = await fetchPage('/xwzx/gzdt/index.html');
    expect(extractListPage(first.html, first.url).nextPages).toEqual([`${site.url}/xwzx/gzdt/index_1.html`, `${site.url}/xwzx/gzdt/index_2.html`]);
    const last = await fetchPage('/xwzx/gzdt/index_2.html');
    const { links, nextPages } = extractListPage(last.html, last.url);
    expect(links.map((l) => l.title)).toEqual(['县市场监管局开展校园食品安全专项检查', '我县召开2024年信访工作联席会议']);
    expect(nextPages).not.toContain(last.url);
  });

  it('reads the GBK-encoded 通知公告 table list into correct Chinese text', async () => {
    const page = await fetchPage('/xwzx/tzgg/index.html');
    expect(page.contentType).toMatch(/charset=GBK/i);
    expect(page.encoding).toBe('gb18030');
    const { links } = extractListPage(page.html, page.url);
    expect(links.map((l) => l.title)).toEqual([
      '关于开展2024年度意识形态工作责任制落实情况检查的通知',
      '关于公布城区道路临时交通管制的通告',
      '关于2024年度公益性岗位拟聘用人员名单的公示',
      '关于进一步规范政务新媒体管理的通知',
    ]);
    expect(links[2]?.publishedAt).toBe('2024-10-31T00:00:00+08:00');
  });
});

describe('extractArticle on the demo site', () => {
  it('reads title, 发布时间 with +08:00, 来源 and the body paragraphs', async () => {
    const page = await fetchPage('/xwzx/gzdt/202411/t20241119_1234500.html');
    const article = extractArticle(page.html, page.url);
    expect(article.title).toBe('县委宣传部召开2024年第三季度意识形态工作分析研判会');
    expect(article.publishedAt).toBe('2024-11-19T08:30:00+08:00');
    expect(article.source).toBe('县委宣传部');
    expect(article.text.split('\n')).toHaveLength(3);
    expect(article.text).toMatch(/^习近平总书记强调,意识形态工作是党的一项极端重要的工作。/);
    expect(article.text).not.toMatch(/[<>]|浏览次数|网友评论|首页/);
    expect(article.comments).toEqual([]);
  });

  it('reads the comment thread with replies pointing at their parent comment', async () => {
    const page = await fetchPage('/xwzx/gzdt/202411/t20241107_1234509.html');
    const { title, comments } = extractArticle(page.html, page.url);
    expect(title).toBe('青山县召开征地拆迁补偿政策解读会');
    expect(comments).toEqual([
      { id: 'c1003', author: '东关村民', publishedAt: '2024-11-19T10:00:00+08:00', text: '我们村的拆迁补偿到现在还没到位，标准也和隔壁乡镇不一样，去镇里问了好几次都说等通知。' },
      { id: 'c1004', author: '东关老李', publishedAt: '2024-11-19T15:00:00+08:00', text: '听说昨天镇上城管去强拆，还有暴力执法，把人推倒了，有视频。', parentId: 'c1003' },
      { id: 'c1005', author: '青山网友1024', publishedAt: '2024-11-19T18:00:00+08:00', text: '视频我也看到了，希望有关部门调查清楚，给群众一个说法。', parentId: 'c1003' },
    ]);
  });

  it('decodes a GBK detail page with its planted ID and mobile numbers and its attachment', async () => {
    const page = await fetchPage('/xwzx/tzgg/202410/t20241031_1234514.html');
    const article = extractArticle(page.html, page.url);
    expect(article.title).toBe('关于2024年度公益性岗位拟聘用人员名单的公示');
    expect(article.source).toBe('县人社局');
    expect(article.text).toContain('身份证号511922198503124529，联系电话13812341234');
    expect(article.attachments).toEqual([{ url: `${site.url}/xwzx/tzgg/202410/P0202410311234514.xls`, name: '2024年度公益性岗位拟聘用人员名单.xls' }]);
  });

  it('refuses the site’s 404 page with a clear error instead of returning it as an article', async () => {
    const page = await fetchPage('/xwzx/gzdt/202411/t20241119_9999999.html');
    expect(page.status).toBe(404);
    expect(() => extractArticle(page.html, page.url)).toThrow(/no article recognised at .*t20241119_9999999\.html: the page says "404/);
  });
});

const BASE = 'https://www.example.gov.cn/xxgk/tzgg/index.html';

describe('extractListPage on other CMS shapes', () => {
  it('computes the pages of a TRS createPageHTML script when the pager has no plain links', () => {
    const html = `<ul class="list"><li><a href="./202405/t20240501_1.html">标题一</a><span>2024-05-01</span></li></ul>
      <div class="page"><script>createPageHTML(4, 1, "index", "shtml");</script></div>`;
    const { nextPages } = extractListPage(html, 'https://www.example.gov.cn/xxgk/tzgg/index_1.shtml');
    expect(nextPages).toEqual([
      'https://www.example.gov.cn/xxgk/tzgg/index.shtml',
      'https://www.example.gov.cn/xxgk/tzgg/index_2.shtml',
      'https://www.example.gov.cn/xxgk/tzgg/index_3.shtml',
    ]);
  });

  it('caps the pages a hostile pager script claims', () => {
    const { nextPages } = extractListPage('<script>createPageHTML(99999999, 0, "index", "html")</script>', BASE);
    expect(nextPages.length).toBeLessThanOrEqual(500);
  });

  it('reads an unclassed table list by its links into the same column, taking dates from the date cell only', () => {
    const html = `<div class="nav"><a href="/index.html">首页</a><a href="/xxgk/">信息公开</a></div>
      <table><tr><td><a href="./202403/t20240315_88.html" title="关于2024年3月15日消费者权益日活动安排的通知">关于2024年3月15日消费者权益…</a></td><td>[2024-03-10]</td></tr>
      <tr><td><a href="zcjd/20240201/abc.html">政策解读：春季农业生产指导意见</a></td><td>2024/02/01</td></tr>
      <tr><td><a href="https://other.example.com/x.html">友情链接</a></td><td></td></tr></table>
      <div class="page"><a href="index_1.html">下一页</a><a href="javascript:void(0)">尾页</a></div>`;
    const { links, nextPages } = extractListPage(html, BASE);
    expect(links).toEqual([
      { url: 'https://www.example.gov.cn/xxgk/tzgg/202403/t20240315_88.html', title: '关于2024年3月15日消费者权益日活动安排的通知', publishedAt: '2024-03-10T00:00:00+08:00' },
      { url: 'https://www.example.gov.cn/xxgk/tzgg/zcjd/20240201/abc.html', title: '政策解读：春季农业生产指导意见', publishedAt: '2024-02-01T00:00:00+08:00' },
    ]);
    expect(nextPages).toEqual(['https://www.example.gov.cn/xxgk/tzgg/index_1.html']);
  });

  it('falls back to any link shaped like a TRS detail page', () => {
    const html = `<div><a href="../gzdt/202405/t20240502_77.html">县长调研春耕备耕工作</a> 2024-05-02</div>`;
    expect(extractListPage(html, BASE).links).toEqual([
      { url: 'https://www.example.gov.cn/xxgk/gzdt/202405/t20240502_77.html', title: '县长调研春耕备耕工作', publishedAt: '2024-05-02T00:00:00+08:00' },
    ]);
  });

  it('returns nothing, not garbage, for a page without list items', () => {
    expect(extractListPage('<html><body><p>系统维护中</p></body></html>', BASE)).toEqual({ links: [], nextPages: [] });
  });
});

const DETAIL = 'https://www.example.gov.cn/xxgk/tzgg/202405/t20240501_1.html';

describe('extractArticle on other CMS shapes', () => {
  it('reads TRS <meta> fields and returns plain text with scripts, styles and markup removed', () => {
    const html = `<html><head><title>站点名称</title>
      <meta name="ArticleTitle" content="关于做好&quot;五一&quot;假期值班工作的通知">
      <meta name="PubDate" content="2024-04-28 16:05"><meta name="ContentSource" content="县政府办公室">
      <style>.x{color:red}</style></head><body><div class="header"><h1>示例县人民政府</h1></div>
      <div id="zoom">各乡镇、各部门：<br>现将有关事项通知如下。<script>document.write('<p>注入</p>')</script>
      <p>一、严格执行&lt;b&gt;24小时&lt;/b&gt;值班制度。</p><p>&nbsp;</p><p>二、   加强  值班信息报送。</p>
      <p><a href="/u/P020240428.pdf">附件：值班表.pdf</a> <a href="值班人员名单.xlsx">名单</a></p></div></body></html>`;
    const article = extractArticle(html, DETAIL);
    expect(article).toEqual({
      title: '关于做好"五一"假期值班工作的通知',
      publishedAt: '2024-04-28T16:05:00+08:00',
      source: '县政府办公室',
      text: '各乡镇、各部门：\n现将有关事项通知如下。\n一、严格执行<b>24小时</b>值班制度。\n二、 加强 值班信息报送。\n附件：值班表.pdf 名单',
      comments: [],
      attachments: [
        { url: 'https://www.example.gov.cn/u/P020240428.pdf', name: '附件：值班表.pdf' },
        { url: 'https://www.example.gov.cn/xxgk/tzgg/202405/%E5%80%BC%E7%8F%AD%E4%BA%BA%E5%91%98%E5%90%8D%E5%8D%95.xlsx', name: '名单' },
      ],
    });
  });

  it('falls back to the largest text block and a date anywhere for an unknown layout', () => {
    const html = `<html><head><title>我县召开安全生产工作会议_示例县人民政府</title></head><body>
      <div class="top">示例县人民政府 | 首页 | 政务公开</div>
      <div class="wrap"><div class="t">我县召开安全生产工作会议</div><div class="d">2024年4月2日 09:00　来源：县应急管理局</div>
      <div class="c"><p>4月1日，全县安全生产工作会议召开，会议传达学习了上级有关会议精神。</p><p>会议要求，各单位要压实安全生产责任。</p></div></div></body></html>`;
    const article = extractArticle(html, DETAIL);
    expect(article.title).toBe('我县召开安全生产工作会议');
    expect(article.publishedAt).toBe('2024-04-02T09:00:00+08:00');
    expect(article.source).toBe('县应急管理局');
    expect(article.text).toBe('4月1日，全县安全生产工作会议召开，会议传达学习了上级有关会议精神。\n会议要求，各单位要压实安全生产责任。');
  });

  it('gives comments without ids a stable id derived from their content', () => {
    const html = `<h1 class="article-title">标题</h1><div class="TRS_Editor"><p>正文</p></div>
      <div class="comments"><div class="comment"><span class="author">网友甲</span><span class="time">3小时前</span><div class="content">说得好</div>
      <div class="comment"><span class="author">网友乙</span><div class="content">同意</div></div></div></div>`;
    const now = new Date('2024-11-20T02:00:00Z');
    const first = extractArticle(html, DETAIL, { now });
    expect(first.comments).toHaveLength(2);
    expect(first.comments[0]).toMatchObject({ author: '网友甲', text: '说得好', publishedAt: '2024-11-20T07:00:00+08:00' });
    expect(first.comments[0]?.id).toMatch(/^h[0-9a-f]{12}$/);
    expect(first.comments[1]).toMatchObject({ author: '网友乙', text: '同意', parentId: first.comments[0]?.id });
    expect(extractArticle(html, DETAIL, { now }).comments.map((c) => c.id)).toEqual(first.comments.map((c) => c.id));
  });

  it.each([
    ['an empty page', '', /the page is empty/],
    ['a bare 502 page', '<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>', /the page says "502 Bad Gateway/],
    ['a CMS error page', '<html><body><div class="main"><div class="err">对不起，您访问的页面不存在或已被删除！</div></div></body></html>', /no article recognised/],
    ['a page of markup without text', '<html><body><div><div></div><img src="x.png"></div></body></html>', /no article recognised/],
    ['a hostile page nesting 100 000 elements deep', `<h1 class="article-title">x</h1>${'<div>'.repeat(100_000)}正文${'</div>'.repeat(100_000)}`, /nests elements 100000 deep/],
  ])('throws a clear error for %s', (_case, html, message) => {
    expect(() => extractArticle(html, DETAIL)).toThrow(message);
  });
});
