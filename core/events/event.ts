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
