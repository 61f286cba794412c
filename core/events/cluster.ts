import { estimatedJaccard, SIMILAR_JACCARD } from './minhash.js';

/** A post already in the band index that shares at least one LSH band with the new one. */
export interface ClusterCandidate {
  postId: string;
  eventId: string;
  signature: Uint32Array;
  /** The candidate's own time (ms since epoch). */
  at: number;
}

export type ClusterDecision =
  | { kind: 'join'; reason: 'near-duplicate'; eventId: string; matchedPostId: string; jaccard: number }
  | { kind: 'new'; reason: 'no-candidates' | 'outside-window' | 'below-threshold'; bestJaccard: number };

/**
 * Decides which event a post joins: the event of the most similar candidate within `windowMs` of
 * the post's time whose estimated Jaccard similarity is at least `threshold`; otherwise a new
 * event. Ties go to the candidate seen first in time, then the smaller event id, so every worker
 * decides the same way.
 */
export function decideCluster(
  post: { signature: Uint32Array; at: number },
  candidates: readonly ClusterCandidate[],
  windowMs: number,
  threshold = SIMILAR_JACCARD,
): ClusterDecision {
  if (candidates.length === 0) return { kind: 'new', reason: 'no-candidates', bestJaccard: 0 };
  const inWindow = candidates.filter((c) => Math.abs(c.at - post.at) <= windowMs);
  if (inWindow.length === 0) return { kind: 'new', reason: 'outside-window', bestJaccard: 0 };
  let best: { c: ClusterCandidate; j: number } | undefined;
  for (const c of inWindow) {
    const j = estimatedJaccard(post.signature, c.signature);
    if (!best || j > best.j || (j === best.j && (c.at < best.c.at || (c.at === best.c.at && c.eventId < best.c.eventId)))) best = { c, j };
  }
  if (!best || best.j < threshold) return { kind: 'new', reason: 'below-threshold', bestJaccard: best?.j ?? 0 };
  return { kind: 'join', reason: 'near-duplicate', eventId: best.c.eventId, matchedPostId: best.c.postId, jaccard: best.j };
}

/** What heat is computed from: an event's counts and its posts per hour. */
export interface HeatInput {
  postCount: number;
  commentCount: number;
  negativeCount: number;
  /** Posts in the latest hour of the event's timeline. */
  lastHourCount: number;
}

/**
 * Event heat on 0–100: grows with volume, velocity (posts in the latest hour), comments and the
 * share of negative posts, each on a log scale so a few hundred posts saturate it. The weights are
 * a product choice, documented here so the alert detail can explain a number:
 * raw = 1.0·ln(1+posts) + 1.2·ln(1+last hour) + 0.6·ln(1+comments) + 1.5·(negative share)·ln(1+posts),
 * heat = 100·(1 − e^(−raw/6)).
 */
export function eventHeat(e: HeatInput): number {
  const posts = Math.max(0, e.postCount);
  const negShare = posts > 0 ? Math.min(1, Math.max(0, e.negativeCount) / posts) : 0;
  const raw =
    1.0 * Math.log1p(posts) + 1.2 * Math.log1p(Math.max(0, e.lastHourCount)) + 0.6 * Math.log1p(Math.max(0, e.commentCount)) + 1.5 * negShare * Math.log1p(posts);
  return Math.round(1000 * (1 - Math.exp(-raw / 6))) / 10;
}

/** The hour bucket (UTC, ISO `YYYY-MM-DDTHH`) a time falls in: the unit of event timelines. */
export function hourOf(ms: number): string {
  return new Date(Math.floor(ms / 3_600_000) * 3_600_000).toISOString().slice(0, 13);
}
