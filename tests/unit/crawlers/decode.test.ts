import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { decodeHtml } from '../../../crawlers/shared/decode.js';

const TEXT = '青山县人民政府通知公告：关于开展意识形态工作检查的通知';
const page = (head: string, body = TEXT) => `<html><head>${head}<title>通知公告</title></head><body><p>${body}</p></body></html>`;
const gbk = (s: string) => iconv.encode(s, 'gbk');
const gb18030 = (s: string) => iconv.encode(s, 'gb18030');
const utf8 = (s: string) => Buffer.from(s, 'utf8');

describe('decodeHtml', () => {
  describe('picks the charset a browser would and decodes the page', () => {
    it.each<[string, Buffer, string | undefined, string, string]>([
      ['UTF-8 without any declaration', utf8(page('')), undefined, 'utf-8', TEXT],
      ['GBK declared in the Content-Type header', gbk(page('')), 'text/html; charset=GBK', 'gb18030', TEXT],
      ['gb2312 declared only in <meta http-equiv>', gbk(page('<meta http-equiv="Content-Type" content="text/html; charset=gb2312">')), 'text/html', 'gb18030', TEXT],
      ['gbk declared only in <meta charset>', gbk(page('<meta charset="gbk">')), undefined, 'gb18030', TEXT],
      ['a page that says gb2312 but holds GBK-only characters (喆, 镕)', gbk(page('<meta charset="gb2312">', '张喆、朱镕基')), undefined, 'gb18030', '张喆、朱镕基'],
      ['a page that says gbk but holds a GB18030 four-byte character', gb18030(page('<meta charset="gbk">', '𠮷野家')), undefined, 'gb18030', '𠮷野家'],
      ['a quoted charset in the header', utf8(page('')), 'text/html; charset="utf-8"', 'utf-8', TEXT],
      ['the header over a contradicting <meta>', utf8(page('<meta charset="gb2312">')), 'text/html; charset=UTF-8', 'utf-8', TEXT],
      ['a UTF-8 byte-order mark over the header', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), utf8(page(''))]), 'text/html; charset=GBK', 'utf-8', TEXT],
      ['a UTF-16LE byte-order mark', Buffer.concat([Buffer.from([0xff, 0xfe]), iconv.encode(page(''), 'utf-16le')]), undefined, 'utf-16le', TEXT],
      ['Big5 declared in <meta>', iconv.encode(page('<meta charset="big5">', '臺灣'), 'big5'), undefined, 'big5hkscs', '臺灣'],
      ['ISO-8859-1, read as windows-1252', iconv.encode(page('<meta charset="iso-8859-1">', 'café'), 'latin1'), undefined, 'windows-1252', 'café'],
      ['GBK without any declaration (not valid UTF-8)', gbk(page('')), undefined, 'gb18030', TEXT],
      ['an XML declaration', gbk(`<?xml version="1.0" encoding="GB2312"?><rss><title>${TEXT}</title></rss>`), 'text/xml', 'gb18030', TEXT],
    ])('%s', (_case, body, contentType, encoding, expected) => {
      const result = decodeHtml(body, contentType);
      expect(result.encoding).toBe(encoding);
      expect(result.html).toContain(expected);
      expect(result.html).not.toContain('\ufffd');
    });
  });

  it('decodes an empty body to an empty page', () => {
    expect(decodeHtml(Buffer.alloc(0))).toEqual({ html: '', encoding: 'utf-8' });
  });

  it('refuses an unknown charset in the header with a message naming it', () => {
    expect(() => decodeHtml(utf8(page('')), 'text/html; charset=x-klingon')).toThrow(/unknown charset "x-klingon".*Content-Type/);
  });

  it('refuses an unknown charset in a <meta> tag with a message naming it', () => {
    expect(() => decodeHtml(utf8(page('<meta charset="x-klingon">')))).toThrow(/unknown charset "x-klingon" declared in a <meta> tag/);
  });
});
