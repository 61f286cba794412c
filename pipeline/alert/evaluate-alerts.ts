import { createHash } from 'node:crypto';
import type { AlertExplanation, AlertHit } from '../../core/alerts/alert.js';
import type { PostChange } from '../../core/alerts/post-change-note.js';
import type { AlertSignal } from '../../core/alerts/raise-alert.js';
import type { IndexedPost } from '../../core/posts/post.js';
import type { AlertLevel } from '../../core/rules/rule-pack.js';
import { clip, oneLine } from '../../core/text/clip.js';
import { deletionChangeOf } from '../ingest/post-revisions.js';

/** The event the post was clustered into (from the alert hand-over), and its heat. */
export interface PostEvent {
  eventId: string;
  eventHeat?: number;
}

const PRIVACY_PACK = 'privacy';

/**
 * One signal per rule pack that fired on a post (its terms and fired schemes), plus one for
 * personal data found. Alerts group by event once the post carries an event id (near-duplicates
 * and follow-ups cluster into one event); until then by the post's content, so the same words
 * re-posted or re-crawled merge into one alert instead of raising another.
 */
export function evaluateAlerts(post: IndexedPost, event?: PostEvent): AlertSignal[] {
  const extras = { eventId: event?.eventId, eventHeat: event?.eventHeat };
  const groupKey = extras.eventId ? `event:${extras.eventId}` : `content:${post.sourceId}:${post.contentHash}`;
  const sentiment = post.sentiment?.score;
  const packs = new Set<string>([...post.hits.map((h) => h.packId), ...(post.schemes ?? []).filter((s) => s.fired).map((s) => s.packId)]);
  const signals: AlertSignal[] = [];
  const make = (packId: string, category: string, ruleLevel: AlertLevel, terms: string[], hits: AlertHit[], explanation: AlertExplanation): AlertSignal => ({
    id: createHash('sha256').update(`${packId}\u0000${groupKey}`).digest('hex').slice(0, 32),
    packId,
    category,
    ruleLevel,
    groupKey,
    ...(extras.eventId ? { eventId: extras.eventId } : {}),
    sourceId: post.sourceId,
    ...(post.domain ? { domain: post.domain } : {}),
    title: `${oneLine(post.title) || clip(oneLine(post.text), 30)}（命中：${terms.join('、')}）`,
    postId: post.id,
    postAt: post.publishedAt ?? post.collectedAt,
    hits,
    terms,
    explanation,
    ...(sentiment !== undefined && Number.isFinite(sentiment) ? { sentiment } : {}),
    ...(extras.eventHeat !== undefined ? { eventHeat: extras.eventHeat } : {}),
  });

  for (const packId of packs) {
    const hits = post.hits.filter((h) => h.packId === packId);
    const schemes = (post.schemes ?? []).filter((s) => s.packId === packId);
    const fired = schemes.filter((s) => s.fired);
    const terms = [...new Set([...hits.map((h) => h.term), ...fired.map((s) => s.name)])];
    const levels = [...hits.map((h) => h.level), ...fired.map((s) => s.level)];
    const explanation: AlertExplanation = {
      terms: [...new Set(hits.map((h) => h.term))].map((term) => {
        const of = hits.filter((h) => h.term === term);
        return { term, packId, category: of[0]!.category, level: Math.min(...of.map((h) => h.level)) as AlertLevel, count: of.length, ...(of[0]!.suggestion ? { suggestion: of[0]!.suggestion } : {}) };
      }),
      schemes: schemes.map((s) => ({ id: s.schemeId, name: s.name, groups: { outcome: s.outcome, fired: s.fired, groups: s.groups, ...(s.exclusion ? { exclusion: s.exclusion } : {}) } })),
      exclusionsChecked: schemes.filter((s) => s.exclusion).map((s) => `${s.name}：排除词 ${s.exclusion!.expression} ${s.exclusion!.fired ? '命中，未预警' : '未命中'}`),
      groups: schemes.flatMap((s) => s.groups.map((g) => ({ name: `${s.name}·${g.name}`, terms: [...new Set(g.words.map((w) => w.term))], fired: g.satisfied }))),
      exclusions: schemes.flatMap((s) => (s.exclusion ? [{ term: s.exclusion.expression, fired: s.exclusion.fired }] : [])),
    };
    // The words that made a scheme fire are highlighted like lexicon hits.
    const schemeHits: AlertHit[] = fired.flatMap((s) =>
      s.groups.flatMap((g) => g.words.map((w) => ({ postId: post.id, term: w.term, packId, category: '监测方案', level: s.level, start: w.start, end: w.end, field: w.field }))),
    );
    const allHits = [...hits.map((h) => ({ ...h, postId: post.id })), ...schemeHits];
    signals.push(make(packId, hits[0]?.category ?? '监测方案', Math.min(...levels) as AlertLevel, terms, allHits, explanation));
  }

  const privacy = post.privacy ?? [];
  if (privacy.length > 0) {
    const labels = [...new Set(privacy.map((p) => p.label))];
    const explanation: AlertExplanation = {
      terms: labels.map((label) => {
        const of = privacy.filter((p) => p.label === label);
        return { term: label, packId: PRIVACY_PACK, category: '个人信息泄露', level: Math.min(...of.map((p) => p.level)) as AlertLevel, count: of.length, suggestion: of[0]!.masked };
      }),
      schemes: [],
      exclusionsChecked: [],
    };
    const hits: AlertHit[] = privacy.map((p) => ({ postId: post.id, term: p.label, packId: PRIVACY_PACK, category: '个人信息泄露', level: p.level, start: p.start, end: p.end, field: p.field, suggestion: p.masked }));
    signals.push(make(PRIVACY_PACK, '个人信息泄露', Math.min(...privacy.map((p) => p.level)) as AlertLevel, labels, hits, explanation));
  }
  return signals;
}

/**
 * What the alerts raised on a post must be told of its state once raised: that it is gone already
 * (原帖已删除) when it was marked deleted before its wording was evaluated (a wording ingested after
 * the deletion, a post indexed with a pending tombstone, or a deletion whose own note ran before the
 * alert existed). The same change key as the deletion's own note, so an alert carries it once.
 */
export function standingChangesOf(post: IndexedPost): PostChange[] {
  return post.deleted ? [deletionChangeOf(post, post.deleted)] : [];
}
