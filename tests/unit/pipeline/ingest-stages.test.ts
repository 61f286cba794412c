import { describe, expect, it } from 'vitest';
import { ingestJobIdOf, normalizeItem, normalizeText, postIdOf } from '../../../pipeline/ingest/normalize.js';
import { decideDedupe } from '../../../pipeline/ingest/dedupe.js';
import { createClassifier } from '../../../pipeline/ingest/classify.js';
import { createSegmenter } from '../../../pipeline/ingest/segment.js';
import { evaluateAlerts, standingChangesOf } from '../../../pipeline/alert/evaluate-alerts.js';
import { validateRulePack } from '../../../core/rules/rule-pack.js';
import { compileRuleSet } from '../../../core/rules/rule-set.js';
import { createPostClassifier } from '../../../core/classify/classify-post.js';
import { SentimentAnalyzer } from '../../../core/sentiment/analyze-sentiment.js';
import type { CollectedItem } from '../../../core/posts/collected-item.js';
import { carryHistory, insertEarlierWording, markDeleted, wordingOf } from '../../../core/posts/post-change.js';
import { deletionChangeOf } from '../../../pipeline/ingest/post-revisions.js';

const packs = [
  { id: 'sensitive', name: '敏感词', version: 1, category: '敏感词', domain: '民生经济和社会', terms: [{ term: '暴力执法', level: 2 }, { term: '噪音扰民', level: 4 }] },
  { id: 'misstatements', name: '错敏词', version: 1, category: '错敏词', domain: '政治', terms: [{ term: '中华人民共合国', level: 2, suggestion: '中华人民共和国' }] },
].map((p) => validateRulePack(p));
const classifier = createPostClassifier(compileRuleSet(packs), { sentiment: new SentimentAnalyzer() });
const classify = createClassifier(() => classifier);

const item: CollectedItem = {
  sourceId: 'demo-website',
  kind: 'comment',
  url: 'http://127.0.0.1:8601/xwzx/gzdt/202405/t20240501_1.html#comment-7',
  platformId: '7',
  title: '关于城区噪音扰民的回复',
  text: '  城管\u3000暴力执法，\n\n\n\n大家都看见了  ',
  collectedAt: '2026-11-22T08:00:00.000Z',
};

describe('ingest stages', () => {
  it('normalizes whitespace (full-width and no-break spaces, runs of blank lines) and trims', () => {
    expect(normalizeText(' a\u00a0\u3000b \r\n\r\n\r\n\r\nc ')).toBe('a b\n\nc');
  });

  it('drops what no office file may hold and the search highlighter\'s marker characters', () => {
    expect(normalizeText('事件\uffff标题\u0001，\ud800好\u000b坏\uE000命中\uE001')).toBe('事件标题，\ufffd好 坏命中');
  });

  it('keeps a post id across edits and changes the content hash when the text changes', () => {
    const a = normalizeItem(item);
    const b = normalizeItem({ ...item, text: '已删除', collectedAt: '2026-11-23T00:00:00.000Z' });
    expect(a.id).toBe(b.id);
    expect(a.id).toBe(postIdOf(item));
    expect(a.contentHash).not.toBe(b.contentHash);
    expect(normalizeItem({ ...item, collectedAt: '2027-01-01T00:00:00.000Z' }).contentHash).toBe(a.contentHash);
  });

  const T0 = '2026-11-20T08:00:00.000Z';
  const T1 = '2026-11-20T09:00:00.000Z';
  it.each([
    // [what is remembered, the incoming item, decision]
    [null, { contentHash: 'h1', collectedAt: T0 }, 'new'], // never seen
    [{ hash: 'h1' }, { contentHash: 'h1', collectedAt: T0 }, 'duplicate'], // re-crawl of an unchanged post
    [{ hash: 'h1' }, { contentHash: 'h2', collectedAt: T0 }, 'changed'], // edited, or a message got its reply (a record without observedAt)
    [{ hash: 'h1', observedAt: T0 }, { contentHash: 'h2', collectedAt: T1 }, 'changed'], // observed later: the later wording is current
    [{ hash: 'h2', observedAt: T1 }, { contentHash: 'h1', collectedAt: T0 }, 'stale'], // observed earlier, ingested later: does not replace the later wording
    [{ hash: 'h1', observedAt: T1 }, { contentHash: 'h1', collectedAt: T0 }, 'duplicate'], // an earlier observation of the same words
    [{ hash: 'h1', observedAt: T0 }, { contentHash: 'h2', collectedAt: T0 }, 'changed'], // same instant: the greater content hash is current …
    [{ hash: 'h2', observedAt: T0 }, { contentHash: 'h1', collectedAt: T0 }, 'stale'], // … whichever of the two ran first
    [{ hash: 'h1', deletedAt: T1, observedAt: T1 }, { contentHash: 'h1', collectedAt: '2026-11-20T10:00:00.000Z' }, 'changed'], // back after its deletion
    [{ hash: 'h1', deletedAt: T1, observedAt: T1 }, { contentHash: 'h1', collectedAt: T0 }, 'stale'], // seen before the crawl that found it gone: not a return
    [{ hash: 'h1', deletedAt: T1, observedAt: T1 }, { contentHash: 'h9', collectedAt: T1 }, 'stale'], // at the deletion's instant: the deletion is the later
  ] as const)('dedupe: remembered %o, item %o → %s', (seen, incoming, decision) => {
    expect(decideDedupe(seen, incoming)).toBe(decision);
  });

  it('classifies title and text with offsets into the normalized fields and the highest level', () => {
    const post = normalizeItem(item);
    const c = classify(post);
    expect(c.terms.sort()).toEqual(['噪音扰民', '暴力执法']);
    expect(c.maxLevel).toBe(2);
    const hit = c.hits.find((h) => h.term === '暴力执法')!;
    expect(hit.field).toBe('text');
    expect(post.text.slice(hit.start, hit.end)).toBe('暴力执法');
    expect(c.hits.find((h) => h.term === '噪音扰民')?.field).toBe('title');
  });

  it('carries the correct form of a misstatement as the suggestion', () => {
    const c = classify({ title: '', text: '中华人民共合国成立七十五周年' });
    expect(c.hits[0]).toMatchObject({ term: '中华人民共合国', suggestion: '中华人民共和国', category: '错敏词' });
  });

  it('segments with the lexicon as user dictionary so domain terms stay whole', () => {
    const segment = createSegmenter(['暴力执法']);
    const { words, keywords } = segment('城管暴力执法引发群众不满，县里正在调查');
    expect(words).toContain('暴力执法');
    expect(keywords.length).toBeGreaterThan(0);
  });

  it('scores keywords by tf-idf from the one cut: repeated rare words first, no stop words or single characters', () => {
    const segment = createSegmenter(['暴力执法']);
    const { keywords } = segment('暴力执法！城管暴力执法，我们的诉求是查清暴力执法。的的的 了 和');
    expect(keywords[0]).toBe('暴力执法');
    expect(keywords).not.toContain('我们'); // a stop word
    expect(keywords.every((k) => [...k].length >= 2)).toBe(true);
    expect(keywords.length).toBeLessThanOrEqual(10);
  });

  it('raises one alert per pack for a post, keyed so the same words re-posted merge into it', () => {
    const post = normalizeItem(item);
    const indexed = { ...post, at: post.collectedAt, tokens: '', words: [], keywords: [], ...classify(post), indexedAt: '2026-11-22T08:00:01.000Z' };
    const alerts = evaluateAlerts(indexed);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ packId: 'sensitive', ruleLevel: 2, postId: post.id });
    const repost = normalizeItem({ ...item, platformId: '8', url: `${item.url}8` });
    const again = evaluateAlerts({ ...indexed, ...repost });
    expect(again[0]!.id).toBe(alerts[0]!.id);
    // Once the post belongs to an event, alerts group by event and rule.
    const inEvent = evaluateAlerts(indexed, { eventId: 'e1', eventHeat: 3 });
    expect(inEvent[0]).toMatchObject({ groupKey: 'event:e1', eventId: 'e1', eventHeat: 3 });
    expect(evaluateAlerts({ ...indexed, ...repost }, { eventId: 'e1' })[0]!.id).toBe(inEvent[0]!.id);
  });
  it('titles an alert from a post without a title by its text on one line, never cut through an emoji', () => {
    const post = normalizeItem({ ...item, title: '', text: `暴力执法\n[点此签收](x)${'县'.repeat(15)}😡后` });
    const [alert] = evaluateAlerts({ ...post, at: post.collectedAt, tokens: '', words: [], keywords: [], ...classify(post), indexedAt: post.collectedAt });
    expect(alert!.title).toBe(`暴力执法 [点此签收](x)${'县'.repeat(15)}😡（命中：暴力执法）`);
  });
});

describe('alert evaluation of a wording the post no longer shows', () => {
  const sensitive = normalizeItem(item);
  const benign = normalizeItem({ ...item, title: '关于城区施工的回复', text: '已转交相关部门处理，谢谢关注。', collectedAt: '2026-11-22T08:05:00.000Z' });
  const indexedAs = (post: typeof sensitive) => ({ ...post, at: item.collectedAt, tokens: '', words: [], keywords: [], ...classify(post), indexedAt: post.collectedAt, eventId: 'e1' });

  it.each([
    // [how the benign edit got in front, comment]
    ['in order', 'the sensitive wording was indexed, then edited away before its alert job ran'],
    ['stale', 'the sensitive wording was ingested after the edit (its job delayed)'],
  ] as const)('%s: the alert shows the sensitive words (%s)', (how, _why) => {
    const current = indexedAs(benign);
    const history =
      how === 'in order' ? carryHistory(indexedAs(sensitive), benign).history : insertEarlierWording({ ...current, firstSeenAt: benign.collectedAt }, indexedAs(sensitive), benign.collectedAt)!;
    const post = { ...current, ...history };
    expect(evaluateAlerts(post)).toEqual([]);
    const alerts = evaluateAlerts(wordingOf(post, sensitive.contentHash)!, { eventId: 'e1' });
    expect(alerts.map((a) => [a.packId, a.terms, a.postId])).toEqual([['sensitive', ['噪音扰民', '暴力执法'], sensitive.id]]);
    expect(alerts[0]!.hits.every((h) => (h.field === 'title' ? sensitive.title : sensitive.text).slice(h.start, h.end) === h.term)).toBe(true);
  });
  it('a post found gone before its wording was evaluated: the alerts raised on it are told of the deletion, with the key of its own note', () => {
    const post = indexedAs(sensitive);
    expect(standingChangesOf(post)).toEqual([]);
    const gone = markDeleted(post, { sourceId: post.sourceId, collectedAt: '2026-11-22T09:00:00.000Z' }, new Date('2026-11-22T09:00:05.000Z'));
    expect(evaluateAlerts(gone, { eventId: 'e1' })).toHaveLength(1);
    expect(standingChangesOf(gone)).toEqual([deletionChangeOf(gone, gone.deleted)]);
    expect(standingChangesOf(gone)[0]).toMatchObject({ postId: sensitive.id, change: 'deleted', eventId: 'e1', seenAt: '2026-11-22T09:00:00.000Z', key: `deleted:${gone.deleted.at}` });
  });
});

describe('ingest job ids', () => {
  const base: CollectedItem = { sourceId: 'site', kind: 'article', url: 'http://x/a.html', title: '标题', text: '正文', collectedAt: '2026-11-25T08:00:00+08:00', change: 'new' };
  const gone = (at: string): CollectedItem => ({ ...base, text: '', change: 'deleted', collectedAt: at, previousHash: 'abcdef12' });

  it('the same item collected again is the same job (a re-crawl or a re-submitted batch adds nothing)', () => {
    expect(ingestJobIdOf({ ...base, collectedAt: '2026-11-25T09:00:00+08:00' })).toBe(ingestJobIdOf(base));
    expect(ingestJobIdOf({ ...base, text: '改过的正文' })).not.toBe(ingestJobIdOf(base));
  });

  it('delete → restore → delete: each observation is its own job', () => {
    const first = ingestJobIdOf(gone('2026-11-25T10:00:00+08:00'));
    const restored = ingestJobIdOf({ ...base, change: 'edited', collectedAt: '2026-11-25T11:00:00+08:00' });
    const second = ingestJobIdOf(gone('2026-11-25T12:00:00+08:00'));
    expect(new Set([ingestJobIdOf(base), first, restored, second]).size).toBe(4);
    // A retried submission of one deletion stays one job.
    expect(ingestJobIdOf(gone('2026-11-25T10:00:00+08:00'))).toBe(first);
  });
});
