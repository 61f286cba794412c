import { describe, expect, it } from 'vitest';
import { clip, oneLine } from '../../../core/text/clip.js';
import { xmlSafeText } from '../../../core/text/xml-safe-text.js';
import { blockText, cleanText, loadPage } from '../../../crawlers/shared/html.js';

describe('text XML accepts', () => {
  it.each([
    ['标题\uffff\ufffe', '标题'], // non-characters a page's &#xFFFF; decodes into
    ['a\u0001b\u001b\u0008c\u007f', 'abc'], // C0 controls and DEL
    ['a\u000bb\u000cc', 'abc'], // vertical tab and form feed are controls too
    ['行一\n行二\t\r', '行一\n行二\t\r'], // tab and line breaks stay
    ['lone \ud800 high', 'lone \ufffd high'], // a lone surrogate becomes U+FFFD
    ['😡', '😡'], // a pair stays
  ])('%j → %j', (input, expected) => {
    expect(xmlSafeText(input)).toBe(expected);
  });

  it('keeps crawled page text free of them (cheerio decodes &#xFFFF; and &#1;)', () => {
    const $ = loadPage('<html><body><h1 id="t">标题&#xFFFF;&#1;x&#2;y</h1><div id="b"><p>一&#xFFFE;</p><p>二&#11;三</p></div></body></html>');
    expect(cleanText($('#t').text())).toBe('标题xy');
    expect(blockText($, $('#b')[0]!)).toBe('一\n二 三');
  });
});

describe('clip', () => {
  it.each([
    ['县县😡后', 3, '……', '县县😡……'], // the emoji is whole or absent, never half
    ['县县😡后', 2, '……', '县县……'],
    ['😡😡', 2, '……', '😡😡'], // nothing cut, no mark
    ['abc', 0, '', ''],
  ])('clip(%j, %d)', (text, max, mark, expected) => {
    expect(clip(text, max, mark)).toBe(expected);
  });
});

describe('oneLine', () => {
  it('puts a title from a post\'s text on one line', () => {
    expect(oneLine(' 好消息\n签收请点\r\n\t这里 ')).toBe('好消息 签收请点 这里');
  });
});
