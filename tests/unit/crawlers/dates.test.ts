import { describe, expect, it } from 'vitest';
import { parseChineseDate } from '../../../crawlers/shared/dates.js';

/** 2024-11-20 10:00 in Beijing. */
const NOW = new Date('2024-11-20T02:00:00Z');

describe('parseChineseDate', () => {
  describe('finds the dates government pages print and returns them in Beijing time', () => {
    it.each([
      ['发布时间：2024-05-01 10:30　来源：县委宣传部', '2024-05-01T10:30:00+08:00'],
      ['2024-05-01 10:30:15', '2024-05-01T10:30:15+08:00'],
      ['2024/05/01', '2024-05-01T00:00:00+08:00'],
      ['2024/5/1 9:05', '2024-05-01T09:05:00+08:00'],
      ['2024年5月1日 10:30', '2024-05-01T10:30:00+08:00'],
      ['2024年05月01日10时30分', '2024-05-01T10:30:00+08:00'],
      ['2024.05.01', '2024-05-01T00:00:00+08:00'],
      ['[2024-05-01]', '2024-05-01T00:00:00+08:00'],
      ['日期：2024-5-1', '2024-05-01T00:00:00+08:00'],
      ['留言时间：２０２４年５月１日　１０：３０', '2024-05-01T10:30:00+08:00'],
      ['青山县人民政府　二〇二四年五月一日', '2024-05-01T00:00:00+08:00'],
      ['二〇二四年十二月三十一日', '2024-12-31T00:00:00+08:00'],
      ['2024-02-29', '2024-02-29T00:00:00+08:00'],
      ['2024-05-01T02:30:00Z', '2024-05-01T10:30:00+08:00'],
      ['2024-04-30T20:00:00-05:00', '2024-05-01T09:00:00+08:00'],
      ['2024-05-01T10:30:00+08:00', '2024-05-01T10:30:00+08:00'],
      ['活动时间：2024-05-01 10:30-11:30', '2024-05-01T10:30:00+08:00'],
    ])('%s → %s', (text, iso) => {
      expect(parseChineseDate(text)).toBe(iso);
    });
  });

  describe('returns undefined rather than guessing', () => {
    it.each([
      ['', 'an empty string'],
      ['本页没有日期', 'text without a date'],
      ['2024-13-01', 'month 13'],
      ['2023-02-29', '29 February in a common year'],
      ['2024年2月30日', '30 February'],
      ['2024-05-01 25:00', 'hour 25'],
      ['身份证号511922198503124529', 'digits inside an ID number'],
      ['t20240501_1234567.html', 'a TRS file name'],
      ['2024年度工作要点', 'a year alone'],
      ['浏览次数：2024', 'a number that could be a year'],
      ['3小时前', 'a relative time without a reference time'],
      ['12024-05-01', 'a date glued to a longer number'],
    ])('%s (%s)', (text) => {
      expect(parseChineseDate(text)).toBeUndefined();
    });
  });

  it('takes the first valid date when a text has several', () => {
    expect(parseChineseDate('活动时间：2024-05-01 至 2024-06-01')).toBe('2024-05-01T00:00:00+08:00');
    expect(parseChineseDate('2024-13-01 更正为 2024-05-02')).toBe('2024-05-02T00:00:00+08:00');
  });

  describe('with a reference time, understands the times comment widgets print', () => {
    it.each([
      ['刚刚', '2024-11-20T10:00:00+08:00'],
      ['5分钟前', '2024-11-20T09:55:00+08:00'],
      ['3小时前', '2024-11-20T07:00:00+08:00'],
      ['2天前', '2024-11-18T10:00:00+08:00'],
      ['今天 08:15', '2024-11-20T08:15:00+08:00'],
      ['昨天 23:40', '2024-11-19T23:40:00+08:00'],
      ['前天', '2024-11-18T00:00:00+08:00'],
      ['11-19 10:30', '2024-11-19T10:30:00+08:00'],
      ['5月1日', '2024-05-01T00:00:00+08:00'],
      ['12-25 10:30', '2023-12-25T10:30:00+08:00'],
      ['2024-05-01（3天前）', '2024-05-01T00:00:00+08:00'],
    ])('%s → %s', (text, iso) => {
      expect(parseChineseDate(text, NOW)).toBe(iso);
    });

    it('counts 今天 by the Beijing calendar, not the UTC one', () => {
      // 2024-11-19 17:00 UTC is already 2024-11-20 01:00 in Beijing.
      expect(parseChineseDate('今天 00:30', new Date('2024-11-19T17:00:00Z'))).toBe('2024-11-20T00:30:00+08:00');
    });
  });
});
