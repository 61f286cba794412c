/**
 * What self-inspection measures on one website position, gathered by adapters (the prober's probe
 * log in Redis, aggregations over indexed posts) and judged by `inspectWebsite`. Every list is the
 * evidence behind a figure, so a user can check what was counted.
 */

/** One availability probe of the home page (the first entry point). */
export interface Probe {
  at: string;
  ok: boolean;
  /** HTTP status, when the server answered. */
  status?: number;
  /** Why it failed: `timeout`, `http-5xx`, `http-4xx`, `dns`, `refused`, `network`. */
  errorClass?: string;
  durationMs: number;
}

export const COLUMN_TYPES = ['news', 'notice', 'policy', 'other'] as const;
export type ColumnType = (typeof COLUMN_TYPES)[number];

/** One column (栏目) with what the indexed posts say about it. */
export interface ColumnMeasurement {
  name: string;
  url: string;
  type: ColumnType;
  /** Items indexed under the column (dated or not). */
  items: number;
  /** Items without a publish date: for the inspector they are not updates. */
  undated: number;
  /** Newest publish date among the column's dated items. */
  newestAt?: string;
}

/** A 留言 without the unit's reply. */
export interface UnansweredMessage {
  id: string;
  url: string;
  title?: string;
  publishedAt: string;
  sourceId: string;
}

/** One lexicon hit on the unit's own pages. */
export interface MisstatementHit {
  postId: string;
  url: string;
  title?: string;
  at: string;
  term: string;
  category: string;
  suggestion?: string;
}

export interface WebsiteMeasurements {
  sourceId: string;
  /** Probes of the window (and possibly older ones; the decision keeps the window). */
  probes: readonly Probe[];
  /** Whether a crawl of the site ever succeeded: without one the indexed posts say nothing. */
  crawled: boolean;
  columns: readonly ColumnMeasurement[];
  /** Message boards counted for 互动回应差 (position ids); empty when the site has none configured. */
  messageBoards: readonly string[];
  /** Whether any of those boards was ever crawled. */
  boardsCrawled: boolean;
  /** Unanswered 留言 of the lookback year, oldest first (possibly cut to a page). */
  unanswered: readonly UnansweredMessage[];
  /** How many unanswered 留言 there are in all (≥ `unanswered.length`). */
  unansweredTotal: number;
  /** Hits in the misstatement categories on the unit's own pages in the period. */
  misstatements: readonly MisstatementHit[];
}
