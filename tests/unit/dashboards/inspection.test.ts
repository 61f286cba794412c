import { describe, expect, it } from 'vitest';
import { ledgerDraftOf, traceCell, traceKeys } from '../../../dashboards/src/pages/positions/inspection.js';

describe('the 网站自查 panel', () => {
  it('drafts a 整改台账 item naming the position, the item, the figure and the threshold', () => {
    const draft = ledgerDraftOf(
      { name: '青山县人民政府门户网站', owner: { section: '县政府办公室', person: '李明' } },
      { label: '互动回应差', status: 'fail', message: '1 条留言超过 90 天未回应，最久 100 天', figure: { value: 100, text: '最久 100 天未回应' }, threshold: { value: 90, text: '有超过 90 天未回应的留言' } },
    );
    expect(draft).toEqual({
      sourceRef: '网站自查·青山县人民政府门户网站·互动回应差',
      problem: '【不合格】青山县人民政府门户网站：互动回应差。1 条留言超过 90 天未回应，最久 100 天（测得：最久 100 天未回应；标准：有超过 90 天未回应的留言）',
      section: '县政府办公室',
    });
  });

  it.each([
    ['type', 'notice', '通知公告'],
    ['newestAt', null, '—'],
    ['items', 0, '0'],
    // moments in Asia/Shanghai, as everywhere in the dashboard
    ['newestAt', '2026-12-05T10:02:39.514Z', '2026/12/05 18:02:39'],
    ['publishedAt', '2026-08-19T16:30:00.000Z', '2026/08/20 00:30:00'],
    // a crawled value that is not a moment stays as it is
    ['publishedAt', '上周三', '上周三'],
    // crawled titles stay text, markup included
    ['title', '<img src=x onerror=alert(1)>', '<img src=x onerror=alert(1)>'],
  ])('shows trace cell %s=%j as %s', (key, value, text) => {
    expect(traceCell(key, value)).toBe(text);
  });

  it('takes the trace columns from every row, in order of appearance', () => {
    expect(traceKeys([{ kind: 'a', day: 1 }, { kind: 'b', at: 'x' }])).toEqual(['kind', 'day', 'at']);
  });
});
