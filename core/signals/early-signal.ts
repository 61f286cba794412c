import { z } from 'zod';

/**
 * Early signals (苗头性、倾向性问题): a topic or a position whose volume, or whose share of negative
 * posts, rises well above its own recent baseline before anything becomes an event.
 */
export const SignalThresholdsSchema = z.object({
  /** Length of one bucket (the current bucket is compared with the ones before it). */
  bucketMinutes: z.coerce.number().int().min(5).max(1440).default(60),
  /** How many previous buckets make the baseline. */
  baselineBuckets: z.coerce.number().int().min(3).max(336).default(24),
  /** A key needs this many buckets of history before it can signal (a new key has no baseline). */
  minHistoryBuckets: z.coerce.number().int().min(1).max(336).default(6),
  /** Fewer posts than this in the current bucket never signal. */
  minCount: z.coerce.number().int().min(1).default(5),
  /** Volume: (count − mean) / sd at least this… */
  zScore: z.coerce.number().positive().default(3),
  /** …and count / max(mean, 1) at least this. */
  ratio: z.coerce.number().positive().default(3),
  /** Negative share of the current bucket at least this… */
  minNegativeShare: z.coerce.number().min(0).max(1).default(0.5),
  /** …and above the baseline's negative share by at least this. */
  negativeShareRise: z.coerce.number().min(0).max(1).default(0.3),
});
export type SignalThresholds = z.infer<typeof SignalThresholdsSchema>;
export const DEFAULT_SIGNAL_THRESHOLDS: SignalThresholds = SignalThresholdsSchema.parse({});

export interface BucketCount {
  count: number;
  negative: number;
}

export interface SignalObservation {
  /** Posts (and negative posts) so far in the current bucket, this post included. */
  current: BucketCount;
  /** The `baselineBuckets` buckets before the current one, oldest first; empty buckets count as zero. */
  previous: readonly BucketCount[];
  /** Buckets since the key was first seen (the current one excluded). */
  historyBuckets: number;
}

export type SignalReason = 'volume-surge' | 'negative-shift' | 'warming-up' | 'below-minimum' | 'within-baseline';

export interface SignalDecision {
  reason: SignalReason;
  /** Whether the reason is a signal worth recording. */
  signal: boolean;
  baselineMean: number;
  zScore: number;
  ratio: number;
  negativeShare: number;
  baselineNegativeShare: number;
}

/**
 * Decides whether the current bucket of a key leaves its baseline. The standard deviation has a
 * Poisson floor (√max(mean, 1)) so a key that was perfectly flat does not signal on one extra
 * post. A volume surge wins over a negative shift when both hold.
 */
export function decideSignal(obs: SignalObservation, t: SignalThresholds = DEFAULT_SIGNAL_THRESHOLDS): SignalDecision {
  const n = obs.previous.length;
  const mean = n > 0 ? obs.previous.reduce((s, b) => s + b.count, 0) / n : 0;
  const variance = n > 1 ? obs.previous.reduce((s, b) => s + (b.count - mean) ** 2, 0) / (n - 1) : 0;
  const sd = Math.max(Math.sqrt(variance), Math.sqrt(Math.max(mean, 1)));
  const zScore = (obs.current.count - mean) / sd;
  const ratio = obs.current.count / Math.max(mean, 1);
  const prevTotal = obs.previous.reduce((s, b) => s + b.count, 0);
  const baselineNegativeShare = prevTotal > 0 ? obs.previous.reduce((s, b) => s + b.negative, 0) / prevTotal : 0;
  const negativeShare = obs.current.count > 0 ? obs.current.negative / obs.current.count : 0;
  const base = { baselineMean: round(mean), zScore: round(zScore), ratio: round(ratio), negativeShare: round(negativeShare), baselineNegativeShare: round(baselineNegativeShare) };
  const decide = (reason: SignalReason): SignalDecision => ({ reason, signal: reason === 'volume-surge' || reason === 'negative-shift', ...base });

  if (obs.historyBuckets < t.minHistoryBuckets) return decide('warming-up');
  if (obs.current.count < t.minCount) return decide('below-minimum');
  if (zScore >= t.zScore && ratio >= t.ratio) return decide('volume-surge');
  if (negativeShare >= t.minNegativeShare && negativeShare - baselineNegativeShare >= t.negativeShareRise) return decide('negative-shift');
  return decide('within-baseline');
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/**
 * What a signal is about: a position (阵地), a topic (a matched term, a category or a domain), or
 * the deletions on a position (`deletions`: posts and comments disappearing from it).
 */
export type SignalScope = 'position' | 'term' | 'category' | 'domain' | 'deletions';

export interface SignalRecord extends Omit<SignalDecision, 'signal'> {
  id: string;
  scope: SignalScope;
  key: string;
  reason: 'volume-surge' | 'negative-shift';
  bucketStart: string;
  bucketMinutes: number;
  count: number;
  negative: number;
  detectedAt: string;
}

/** The keys a post counts towards. */
export function signalKeysOf(post: {
  sourceId: string;
  terms?: readonly string[];
  categories?: readonly string[];
  domain?: unknown;
}): { scope: SignalScope; key: string }[] {
  const keys: { scope: SignalScope; key: string }[] = [{ scope: 'position', key: post.sourceId }];
  for (const term of new Set(post.terms ?? [])) keys.push({ scope: 'term', key: term });
  for (const category of new Set(post.categories ?? [])) keys.push({ scope: 'category', key: category });
  if (typeof post.domain === 'string' && post.domain) keys.push({ scope: 'domain', key: post.domain });
  return keys;
}

/** Whether a post counts as negative, read defensively from whatever the classifier put on it. */
export function isNegative(post: object): boolean {
  const s: unknown = (post as { sentiment?: unknown }).sentiment;
  if (typeof s === 'string') return s === 'negative';
  if (s && typeof s === 'object' && 'label' in s) return (s as { label: unknown }).label === 'negative';
  return false;
}
