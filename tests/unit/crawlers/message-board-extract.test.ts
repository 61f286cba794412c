import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractMessage, extractMessageList } from '../../../crawlers/message-board/extract.js';
import { decodeHtml } from '../../../crawlers/shared/decode.js';
import { startDemoSite, type DemoSite } from '../../fixtures/demo-site/server.js';

/** 2024-11-20 10:00 in Beijing: the demo site's messages are dated relative to it. */
const NOW = new Date('2024-11-20T02:00:00Z');

let site: DemoSite;
beforeAll(async () => {
  site = await startDemoSite({ port: 0, now: () => NOW });
});
afterAll(async () => {
  await site.close();
});

async function fetchPage(path: string): Promise<{ url: string; status: number; html: string }> {
  const res = await fetch(new URL(path, site.url));
  const { html } = decodeHtml(Buffer.from(await res.arrayBuffer()), res.headers.get('content-type') ?? undefined);
  return { url: res.url, status: res.status, html };
}

describe('extractMessageList on the demo 留言板', () => {
  it('reads number, title, date and answered status of each message, newest first', async () => {
    const page = await fetchPage('/hdjl/lyb/index.html');
    const { messages, nextPages } = extractMessageList(page.html, page.url);
    expect(messages.map((m) => [m.title, m.answered])).toEqual([
      ['公交线路调整建议', false],
      ['关于东关村拆迁补偿迟迟不到位的反映', false],
      ['反映城管执法人员态度问题', false],
      ['建议在实验小学门口增设红绿灯', true],
      ['城南小区夜间施工噪音扰民', true],
    ]);
    expect(messages[1]).toEqual({
      url: `${site.url}/hdjl/lyb/detail_LY2024111501.html`,
      id: 'LY2024111501',
      title: '关于东关村拆迁补偿迟迟不到位的反映',
      publishedAt: '2024-11-15T00:00:00+08:00',
      answered: false,
    });
    expect(nextPages).toEqual([`${site.url}/hdjl/lyb/index_1.html`]);
  });

  it('reaches the old unanswered message on the second page', async () => {
    const page = await fetchPage('/hdjl/lyb/index_1.html');
    const { messages } = extractMessageList(page.html, page.url);
    const old = messages.find((m) => m.title === '老旧小区加装电梯的补贴政策');
    expect(old).toMatchObject({ answered: false, publishedAt: '2024-08-02T00:00:00+08:00' });
    // More than three months without a reply fails a website inspection (国办秘函〔2019〕19号).
    expect(NOW.getTime() - Date.parse(old!.publishedAt!)).toBeGreaterThan(92 * 86_400_000);
  });
});

describe('extractMessage on the demo 留言板', () => {
  it('reads an answered message with the reply text, time and unit', async () => {
    const page = await fetchPage('/hdjl/lyb/detail_LY2024110802.html');
    expect(extractMessage(page.html, page.url)).toEqual({
      id: 'LY2024110802',
      title: '建议在实验小学门口增设红绿灯',
      text: '实验小学门口上下学时段车流量大，没有红绿灯，孩子过马路很危险，建议增设信号灯和减速带。',
      author: '学生家长',
      publishedAt: '2024-11-08T09:50:00+08:00',
      reply: { text: '您好！经实地勘察，我大队已将该路口纳入今年信号灯建设计划，预计下月完工。感谢您的建议。', at: '2024-11-11T09:50:00+08:00', by: '县公安局交警大队' },
    });
  });

  it('reads an unanswered message without inventing a reply from 暂未回复', async () => {
    const page = await fetchPage('/hdjl/lyb/detail_LY2024111501.html');
    const message = extractMessage(page.html, page.url);
    expect(message.reply).toBeUndefined();
    expect(message).toMatchObject({ id: 'LY2024111501', author: '东关村民', publishedAt: '2024-11-15T10:00:00+08:00' });
    expect(message.text).toContain('集体上访');
  });

  it('refuses the 404 page with a clear error', async () => {
    const page = await fetchPage('/hdjl/lyb/detail_LY0.html');
    expect(page.status).toBe(404);
    expect(() => extractMessage(page.html, page.url)).toThrow(/no message recognised at .*detail_LY0\.html.*\(an error page\)/);
  });
});

const LIST = 'https://www.example.gov.cn/hdjl/ldxx/index.html';

describe('extractMessageList on other board shapes', () => {
  it('reads a <ul> board whose status words vary (办理中, 已办结)', () => {
    const html = `<ul class="xx-list">
      <li><a href="content.jsp?id=9001" title="小区门口路灯不亮">小区门口路灯不亮</a><span class="zt">办理中</span><span>2024-06-03</span></li>
      <li><a href="content.jsp?id=9000">咨询社保转移</a><span class="zt">已办结</span><span>2024-06-01</span></li></ul>
      <div class="page"><a href="index.html?page=2">下一页</a></div>`;
    const { messages, nextPages } = extractMessageList(html, LIST);
    expect(messages).toEqual([
      { url: 'https://www.example.gov.cn/hdjl/ldxx/content.jsp?id=9001', id: '9001', title: '小区门口路灯不亮', publishedAt: '2024-06-03T00:00:00+08:00', answered: false },
      { url: 'https://www.example.gov.cn/hdjl/ldxx/content.jsp?id=9000', id: '9000', title: '咨询社保转移', publishedAt: '2024-06-01T00:00:00+08:00', answered: true },
    ]);
    expect(nextPages).toEqual(['https://www.example.gov.cn/hdjl/ldxx/index.html?page=2']);
  });

  it('uses the header row to tell the 编号 and 状态 columns apart', () => {
    const html = `<table><tr><th>状态</th><th>信件标题</th><th>信件号</th><th>日期</th></tr>
      <tr><td>未答复</td><td><a href="/hdjl/show/77.html">噪音扰民何时解决</a></td><td>XJ-2024-077</td><td>2024年6月5日</td></tr></table>`;
    expect(extractMessageList(html, LIST).messages).toEqual([
      { url: 'https://www.example.gov.cn/hdjl/show/77.html', id: 'XJ-2024-077', title: '噪音扰民何时解决', publishedAt: '2024-06-05T00:00:00+08:00', answered: false },
    ]);
  });
});

describe('extractMessage on other board shapes', () => {
  const DETAIL = 'https://www.example.gov.cn/hdjl/ldxx/content.jsp?id=9000';

  it('reads labelled lines (留言人：…) and a reply block labelled 答复', () => {
    const html = `<div class="xx"><h1>咨询社保转移</h1><p>留言人：张先生</p><p>留言时间：2024-06-01 08:12</p>
      <p>留言内容：我从外省调回，养老保险<b>如何</b>转移？<script>alert(1)</script></p></div>
      <div class="answer"><p>答复单位：县人社局</p><p>答复时间：2024-06-02 15:00</p><p>答复内容：请携带身份证到县政务服务中心社保窗口办理。</p></div>`;
    expect(extractMessage(html, DETAIL)).toEqual({
      id: '9000',
      title: '咨询社保转移',
      text: '我从外省调回，养老保险如何转移？',
      author: '张先生',
      publishedAt: '2024-06-01T08:12:00+08:00',
      reply: { text: '请携带身份证到县政务服务中心社保窗口办理。', at: '2024-06-02T15:00:00+08:00', by: '县人社局' },
    });
  });

  it('reads relative times against the reference time', () => {
    const html = `<table><tr><th>标题</th><td>路灯不亮</td></tr><tr><th>留言时间</th><td>3小时前</td></tr><tr><th>内容</th><td>北街路灯坏了一周。</td></tr></table>`;
    expect(extractMessage(html, DETAIL, { now: NOW })).toMatchObject({ title: '路灯不亮', text: '北街路灯坏了一周。', publishedAt: '2024-11-20T07:00:00+08:00' });
  });

  it.each([
    ['an empty page', '', /the page is empty/],
    ['a login wall', '<html><head><title>用户登录</title></head><body><form><input name="u"></form></body></html>', /no message recognised .*"用户登录"/],
  ])('throws a clear error for %s', (_case, html, message) => {
    expect(() => extractMessage(html, DETAIL)).toThrow(message);
  });
});
