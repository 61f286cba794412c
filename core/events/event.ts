import { clip, oneLine } from '../text/clip.js';

/**
 * An event's title: its first post's title, else the start of its text, on one line and at most
 * 120 characters, never half an emoji (it names report tables, their sheets and file names).
 */
export function eventTitleOf(post: { title?: string; text: string }): string {
  return clip(oneLine(post.title || post.text), 120);
}

/**
 * An event (事件): near-duplicate posts clustered within a time window, with heat and a timeline.
 * Its id is derived from the post that opened it, so re-processing never opens a second one.
 */
export interface EventRecord {
  id: string;
  /** Title (or opening text) of the post that opened the event. */
  title: string;
  /** The first posts of the event, in arrival order (at most `EVENT_POST_IDS_KEPT`). */
  postIds: string[];
  sourceIds: string[];
  postCount: number;
  commentCount: number;
  negativeCount: number;
  firstSeen: string;
  lastSeen: string;
  heat: number;
  /** Posts per hour (UTC hour `YYYY-MM-DDTHH`), oldest first. */
  timeline: { hour: string; count: number }[];
  updatedAt: string;
  /** Increases with every post added; Elasticsearch keeps the highest (external versioning). */
  version: number;
}

export const EVENT_POST_IDS_KEPT = 200;

/** What the alert stage receives with every post that has hits: the alerts helper merges per event and rule. */
export interface AlertHandOver {
  postId: string;
  /** The concrete index the post was written to (real-time reads). */
  index: string;
  /** The post's event; its document exists in the events index once the event has a second post. */
  eventId: string;
  contentHash: string;
}

/**
 * The event of posts whose event document is not written yet (an event is stored from its second
 * post): built from those posts, so an alert's event can always be shown.
 */
export function eventFromPosts(id: string, posts: readonly { id: string; sourceId: string; title?: string; text: string; kind: string; collectedAt: string; sentiment?: { label: string } }[], total: number): EventRecord {
  const sorted = [...posts].sort((a, b) => a.collectedAt.localeCompare(b.collectedAt));
  const first = sorted[0]!;
  const last = sorted[sorted.length - 1]!;
  const hours = new Map<string, number>();
  for (const p of sorted) hours.set(p.collectedAt.slice(0, 13), (hours.get(p.collectedAt.slice(0, 13)) ?? 0) + 1);
  return {
    id,
    title: eventTitleOf(first),
    postIds: sorted.map((p) => p.id),
    sourceIds: [...new Set(sorted.map((p) => p.sourceId))],
    postCount: total,
    commentCount: sorted.filter((p) => p.kind === 'comment' || p.kind === 'reply').length,
    negativeCount: sorted.filter((p) => p.sentiment?.label === 'negative').length,
    firstSeen: first.collectedAt,
    lastSeen: last.collectedAt,
    heat: total,
    timeline: [...hours].map(([hour, count]) => ({ hour, count })),
    updatedAt: last.collectedAt,
    version: total,
  };
}
