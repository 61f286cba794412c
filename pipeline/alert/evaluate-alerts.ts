import { createHash } from 'node:crypto';
import type { Alert } from '../../core/alerts/alert.js';
import type { IndexedPost } from '../../core/posts/post.js';
import type { AlertLevel } from '../../core/rules/rule-pack.js';

/**
 * One alert per rule pack and per thing said: the alert id hashes the pack and the post's content,
 * so the same words re-posted or re-crawled merge into one alert instead of raising another.
 * (Event clustering across near-duplicates replaces the content key in the alerting issue.)
 */
export function evaluateAlerts(post: IndexedPost, now: Date): Alert[] {
  const byPack = new Map<string, IndexedPost['hits']>();
  for (const hit of post.hits) byPack.set(hit.packId, [...(byPack.get(hit.packId) ?? []), hit]);
  return [...byPack].map(([packId, hits]) => {
    const level = Math.min(...hits.map((h) => h.level)) as AlertLevel;
    const terms = [...new Set(hits.map((h) => h.term))];
    const at = now.toISOString();
    return {
      id: createHash('sha256').update(`${packId}\u0000${post.sourceId}\u0000${post.contentHash}`).digest('hex').slice(0, 32),
      packId,
      category: hits[0]!.category,
      level,
      status: 'new',
      title: `${post.title || post.text.slice(0, 30)}（命中：${terms.join('、')}）`,
      sourceId: post.sourceId,
      postIds: [post.id],
      terms,
      hits: hits.map((h) => ({ ...h, postId: post.id })),
      createdAt: at,
      updatedAt: at,
    };
  });
}
