import type { PostChangeKind } from '../posts/post-change.js';
import { POST_CHANGE_NAMES } from '../posts/post-change.js';
import type { Alert, Assignee, TimelineEntry } from './alert.js';
import { TERMINAL_STATUSES } from './alert.js';
import { clip } from '../text/clip.js';

/** A post of the unit's position was deleted, reworded or restored (from the ingest path). */
export interface PostChange {
  postId: string;
  change: PostChangeKind;
  /** The event the post belongs to, when it was clustered. */
  eventId?: string;
  sourceId: string;
  /** Title (or the start of the text) of the post, for the history line. */
  label: string;
  /** When the crawl saw the change. */
  seenAt: string;
  /** Identifies this change (content hash after an edit; the deletion time): a retry notes it once. */
  key: string;
}

/**
 * What a post change means for one alert found by post or event:
 * - `flagged-post-changed`: the post is one of the alert's own posts: history entry, holder told;
 * - `event-post-changed`: the post is in the alert's event without being one of its posts (a
 *   comment under the criticised article): history entry, holder told;
 * - `closed-alert-record-only`: the alert is closed or a false positive: the history keeps the
 *   entry (an inspection may ask), nobody is disturbed;
 * - `already-noted`: this change is already in the history (a retried job).
 */
export type PostChangeNoteReason = 'flagged-post-changed' | 'event-post-changed' | 'closed-alert-record-only' | 'already-noted';

export interface PostChangeNote {
  reason: PostChangeNoteReason;
  record: boolean;
  notify: boolean;
}

export function decidePostChangeNote(alert: { status: Alert['status']; postIds: readonly string[]; timeline: readonly TimelineEntry[] }, change: PostChange): PostChangeNote {
  if (alert.timeline.some((e) => e.kind === timelineKindOf(change.change) && e.postId === change.postId && e.to === change.key)) return { reason: 'already-noted', record: false, notify: false };
  if (TERMINAL_STATUSES.includes(alert.status)) return { reason: 'closed-alert-record-only', record: true, notify: false };
  return { reason: alert.postIds.includes(change.postId) ? 'flagged-post-changed' : 'event-post-changed', record: true, notify: true };
}

export function timelineKindOf(change: PostChangeKind): string {
  return `post-${change}`;
}

/** The alert's history line: 原帖已删除 / 原帖已修改 / 原帖已恢复, with the post and the crawl that saw it. */
export function postChangeEntry(change: PostChange, reason: PostChangeNoteReason, now: Date): TimelineEntry {
  const where = reason === 'event-post-changed' ? '同一事件的帖文' : '本预警帖文';
  return {
    at: now.toISOString(),
    kind: timelineKindOf(change.change),
    actor: 'collector',
    postId: change.postId,
    note: `${POST_CHANGE_NAMES[change.change]}：${where}「${clip(change.label, 40)}」（${change.sourceId} 于 ${change.seenAt} 采集时发现）`,
    to: change.key,
  };
}

/** Who holds the alert: its assignee, else whoever signed for it; absent while nobody has (the duty officer is told). */
export function holderOf(alert: Pick<Alert, 'assignee' | 'acknowledgedBy'>): Assignee | undefined {
  if (alert.assignee) return alert.assignee;
  return alert.acknowledgedBy ? { kind: 'person', id: alert.acknowledgedBy } : undefined;
}
