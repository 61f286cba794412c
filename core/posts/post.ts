import type { CollectedItem } from './collected-item.js';
import type { AlertLevel } from '../rules/rule-pack.js';
import type { LevelReason, PrivacyHit } from '../classify/classify-post.js';
import type { SchemeResult } from '../rules/evaluate-schemes.js';
import type { Sentiment } from '../sentiment/analyze-sentiment.js';
import type { PostHistory } from './post-change.js';

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
  /** The text as written (folded, interrupted, or a pinyin/homophone variant of `term`). */
  matched?: string;
  packVersion?: number;
  domain?: string;
  tags?: string[];
  variant?: 'pinyin' | 'homophone';
}

/** A collected item after normalisation: stable identity plus a hash of what it says. */
export interface NormalizedPost extends CollectedItem {
  /** Identity: source + kind + (platform id or canonical URL). The same post keeps it when edited. */
  id: string;
  /** What the post says now; a changed hash means the post was edited or answered. */
  contentHash: string;
  title: string;
}

/** What is indexed in Elasticsearch; with its own history (earlier wordings, a deletion mark). */
export interface IndexedPost extends NormalizedPost, PostHistory {
  /** The post's own time: `publishedAt` when the page gives one, else `collectedAt`. */
  at: string;
  /** jieba's segmentation of title and text joined by spaces (the `tokens` field, exact word search). */
  tokens: string;
  words: string[];
  keywords: string[];
  hits: PostHit[];
  terms: string[];
  categories: string[];
  /** Highest alert level among hits (1 = red), absent when nothing matched. */
  maxLevel?: AlertLevel;
  /** Schemes whose words occurred, fired or not, with why (absent on posts indexed before schemes existed). */
  schemes?: SchemeResult[];
  /** Personal data found (ID, mobile, bank card, e-mail), as offsets and masked forms only. */
  privacy?: PrivacyHit[];
  sentiment?: Sentiment;
  /** 领域 with the most evidence; absent when nothing points anywhere. */
  domain?: string;
  domainScores?: Record<string, number>;
  /** Highest level among hits, fired schemes and privacy findings (1 = red). */
  level?: AlertLevel;
  levelReason?: LevelReason;
  rulesVersion?: string;
  indexedAt: string;
  /** The event (near-duplicate cluster) the post belongs to. */
  eventId?: string;
}
