import { Matcher } from '../../core/rules/matcher.js';
import type { RulePack, AlertLevel } from '../../core/rules/rule-pack.js';
import type { NormalizedPost, PostHit } from '../../core/posts/post.js';

interface TermPayload {
  packId: string;
  category: string;
  level: AlertLevel;
  suggestion?: string;
}

export interface Classification {
  hits: PostHit[];
  terms: string[];
  categories: string[];
  maxLevel?: AlertLevel;
}

/** Compiles every term of every pack into one matcher; the returned function scans title and text once each. */
export function createClassifier(packs: readonly RulePack[]): (post: Pick<NormalizedPost, 'title' | 'text'>) => Classification {
  const matcher = new Matcher<TermPayload>(
    packs.flatMap((pack) =>
      pack.terms.map((t) => ({
        term: t.term,
        payload: { packId: pack.id, category: pack.category, level: t.level, ...(t.suggestion ? { suggestion: t.suggestion } : {}) },
      })),
    ),
  );
  return (post) => {
    const hits: PostHit[] = (['title', 'text'] as const).flatMap((field) =>
      matcher.scan(post[field]).map((m) => ({ term: m.term, field, start: m.start, end: m.end, ...m.payload })),
    );
    const levels = hits.map((h) => h.level);
    return {
      hits,
      terms: [...new Set(hits.map((h) => h.term))],
      categories: [...new Set(hits.map((h) => h.category))],
      ...(levels.length > 0 ? { maxLevel: Math.min(...levels) as AlertLevel } : {}),
    };
  };
}
