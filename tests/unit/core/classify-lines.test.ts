import { describe, expect, it } from 'vitest';
import { classifyLine, classifyLineBytes, decodeLine, MAX_FIELD_LENGTH, splitLines } from '../../../core/classify/classify-lines.js';
import { firstInvalidUtf8 } from '../../../core/text/utf8.js';
import { createPostClassifier } from '../../../core/classify/classify-post.js';
import { validateRulePack } from '../../../core/rules/rule-pack.js';
import { compileRuleSet } from '../../../core/rules/rule-set.js';
import { SentimentAnalyzer } from '../../../core/sentiment/analyze-sentiment.js';

const classifier = createPostClassifier(compileRuleSet([validateRulePack({ id: 'p', name: 'p', version: 1, level: 2, terms: ['暴力执法'] })]), {
  sentiment: new SentimentAnalyzer(),
});

async function linesOf(...chunks: (string | Uint8Array)[]): Promise<string[]> {
  async function* source() {
    yield* chunks;
  }
  const out: string[] = [];
  for await (const l of splitLines(source())) out.push(Buffer.from(l).toString('latin1'));
  return out;
}

describe('splitting the input into lines', () => {
  it.each([
    ['LF', ['a\nb\n'], ['a', 'b']],
    ['CRLF: the CR before LF is part of the line end', ['a\r\nb\r\n'], ['a', 'b']],
    // A bare CR is not a line end: readline split here and shifted every later answer by one.
    ['a bare CR stays inside its line', ['{"a":1,\r"b":2}\nc\n'], ['{"a":1,\r"b":2}', 'c']],
    ['a last line without LF still counts', ['a\nb'], ['a', 'b']],
    ['blank lines are lines', ['a\n\n\r\nb\n'], ['a', '', '', 'b']],
    ['a line split across chunks', ['ab', 'c\nd', 'e\n'], ['abc', 'de']],
    ['a CRLF split across chunks', ['a\r', '\nb'], ['a', 'b']],
    ['no input, no lines', [], []],
  ])('%s', async (_name, chunks, expected) => {
    expect(await linesOf(...chunks)).toEqual(expected);
  });
});

describe('decoding a line', () => {
  it.each([
    ['ASCII', [0x61], -1],
    ['3-byte 中', [0xe4, 0xb8, 0xad], -1],
    ['4-byte emoji', [0xf0, 0x9f, 0x98, 0x80], -1],
    ['a lone continuation byte', [0x61, 0x80], 1],
    ['a sequence cut short at the end', [0x61, 0xe4, 0xb8], 1],
    ['an overlong form', [0xc0, 0xaf], 0],
    ['an encoded surrogate (CESU)', [0xed, 0xa0, 0x80], 0],
    ['past U+10FFFF', [0xf4, 0x90, 0x80, 0x80], 0],
    ['0xFF', [0x61, 0x62, 0xff], 2],
  ])('%s: first invalid byte at %j', (_name, bytes, at) => {
    expect(firstInvalidUtf8(Uint8Array.from(bytes as number[]))).toBe(at);
  });

  it('refuses GB18030 bytes with the byte and a hint instead of classifying replacement characters', () => {
    const gbk = Buffer.from([...Buffer.from('{"text":"'), 0xb1, 0xa9, 0xc1, 0xa6, 0xd6, 0xb4, 0xb7, 0xa8, ...Buffer.from('"}')]); // 暴力执法 in GBK
    expect(decodeLine(gbk)).toEqual({ error: { code: 'invalid_encoding', message: expect.stringMatching(/^not UTF-8: invalid byte 0xb1 at byte 10 of the line; it reads as GB18030/) } });
  });

  it('gives an encoding error its line and the id when the id itself reads cleanly', () => {
    const bytes = Buffer.concat([Buffer.from('{"id":"p-7","text":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
    expect(classifyLineBytes(classifier, bytes, 4)).toEqual({ line: 4, id: 'p-7', ok: false, error: { code: 'invalid_encoding', message: expect.stringContaining('0xff') } });
  });

  it('strips a byte order mark and keeps styled letters, emoji and lone surrogates classifiable', () => {
    const r = classifyLineBytes(classifier, Buffer.from('\uFEFF{"text":"😀暴力执法\\ud800"}'), 1);
    expect(r).toMatchObject({ ok: true, terms: ['暴力执法'], hits: [expect.objectContaining({ start: 2, end: 6 })] });
    expect(() => JSON.parse(JSON.stringify(r))).not.toThrow();
  });
});

describe('one line to one result', () => {
  it.each([
    ['not JSON', 'oops', 'invalid_json', /Unexpected token/],
    ['an array', '[1]', 'invalid_post', /not array$/],
    ['null', 'null', 'invalid_post', /not null$/],
    ['a number as text', '{"text":5}', 'invalid_post', /^"text" must be a string, not number$/],
    ['no text at all', '{"id":1}', 'invalid_post', /^missing "text"/],
    ['a title that is an object', '{"text":"a","title":{}}', 'invalid_post', /^"title" must be a string, not object$/],
    ['a raw NUL inside a string', '{"text":"a\u0000b"}', 'invalid_json', /control character/],
    ['a blank line', '  ', 'invalid_post', /^empty line$/],
  ])('%s is an error result for that line', (_name, raw, code, message) => {
    const r = classifyLine(classifier, raw, 9);
    expect(r).toMatchObject({ line: 9, ok: false, error: { code } });
    expect(r.ok === false && r.error.message).toMatch(message);
  });

  it.each([
    // A platform id past 2^53 came back rounded (…567000), so results no longer matched their posts.
    ['{"id":12345678901234567890,"text":"a"}', '12345678901234567890'],
    ['{"text":"a","a":[{"id":1}],"id":-9007199254740993 }', '-9007199254740993'],
    ['{"text":"\\"id\\":5","id":4400000000000000001}', '4400000000000000001'],
    ['{"id":42,"text":"a"}', 42],
    ['{"id":"w-1","text":"a"}', 'w-1'],
    ['{"id":{"id":98765432109876543210},"text":"a"}', undefined],
  ])('gives back the id of %s as %j', (raw, id) => {
    expect(classifyLine(classifier, raw, 1).id).toEqual(id);
  });

  it('says so when a text over the limit was cut, and cuts never inside a surrogate pair', () => {
    const long = 'x'.repeat(MAX_FIELD_LENGTH - 1) + '😀暴力执法';
    const r = classifyLine(classifier, JSON.stringify({ text: long }), 1);
    expect(r).toMatchObject({ ok: true, truncated: true, terms: [] });
    const short = classifyLine(classifier, JSON.stringify({ text: '暴力执法' }), 2);
    expect(short).not.toHaveProperty('truncated');
  });
});
