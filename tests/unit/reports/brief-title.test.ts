import { describe, expect, it } from 'vitest';
import { attachmentHeader } from '../../../api/attachment-header.js';
import { alertMessageTitle } from '../../../pipeline/alert/alert-desk.js';
import { buildBrief } from '../../../reports/brief.js';

/** Half a surrogate pair: what `encodeURIComponent` throws on. */
const LONE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const EMOJI_AT_CUT = `${'县'.repeat(39)}😡后面的文字`;

describe('titles cut from crawled text keep whole characters', () => {
  it('cuts a brief\'s subject before an emoji, not through it, so its file name encodes', () => {
    const alert = { id: 'a1', title: `${EMOJI_AT_CUT}（命中：腐败）`, level: 2, status: 'open', category: '负面', sourceId: 's', createdAt: '2026-12-07T01:00:00.000Z' };
    const brief = buildBrief({ alert, posts: [], sourceName: '县政府网站', unit: '青山县', sequence: 1, issuedBy: '值班员', now: new Date('2026-12-07T02:00:00.000Z') });
    expect(brief.title).toBe(`关于${'县'.repeat(39)}😡……的舆情快报`);
    expect(() => encodeURIComponent(brief.title)).not.toThrow();
  });

  it('puts an alert notification\'s title on one line, cut at 200 characters without halving an emoji', () => {
    const title = alertMessageTitle({ level: 2, title: `好消息\n### 签收请点这里\n${'县'.repeat(186)}😡尾` });
    expect(title).not.toMatch(/\n/);
    expect(title).not.toMatch(LONE);
    expect([...title]).toHaveLength(200);
  });

  it('names a download even when the name holds half an emoji', () => {
    const header = attachmentHeader('brief-1.docx', `关于县😡\ud83d.docx`);
    expect(header).toBe(`attachment; filename="brief-1.docx"; filename*=UTF-8''${encodeURIComponent('关于县😡\ufffd.docx')}`);
  });
});
