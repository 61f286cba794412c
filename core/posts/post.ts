import type { CollectedItem } from './collected-item.js';
import type { AlertLevel } from '../rules/rule-pack.js';

/** One matched term in a post; offsets are into the post's normalised `title` or `text`. */
export interface PostHit {
  term: string;
  packId: string;
  category: string;
  level: AlertLevel;
  field: 'title' | 'text';
  start: number;
  end: number;
  suggestion?: string;
}

/** A collected item after normalisation: stable identity plus a hash of what it says. */
export interface NormalizedPost extends CollectedItem {
  /** Identity: source + kind + (platform id or canonical URL). The same post keeps it when edited. */
  id: string;
  /** What the post says now; a changed hash means the post was edited or answered. */
  contentHash: string;
  title: string;
}

/** What is indexed in Elasticsearch. */
export interface IndexedPost extends NormalizedPost {
  words: string[];
  keywords: string[];
  hits: PostHit[];
  terms: string[];
  categories: string[];
  /** Highest alert level among hits (1 = red), absent when nothing matched. */
  maxLevel?: AlertLevel;
  indexedAt: string;
}
