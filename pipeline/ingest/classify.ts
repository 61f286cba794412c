import type { Classification, PostClassifier } from '../../core/classify/classify-post.js';
import type { IndexedPost, NormalizedPost } from '../../core/posts/post.js';

export type { Classification } from '../../core/classify/classify-post.js';

/** What the classify stage adds to a post, in the shape it is indexed in. */
export type PostClassification = Pick<
  IndexedPost,
  'hits' | 'terms' | 'categories' | 'maxLevel' | 'schemes' | 'privacy' | 'sentiment' | 'domain' | 'domainScores' | 'level' | 'levelReason' | 'rulesVersion'
>;

/** Flattens a classification for the index: the domain becomes its label (a keyword to filter on) plus scores. */
export function toIndexed(c: Classification): PostClassification {
  const { domain, ...rest } = c;
  return { ...rest, ...(domain.label ? { domain: domain.label } : {}), domainScores: domain.scores };
}

/**
 * The classify stage: a pure function of the post and the compiled rules current when it runs
 * (`current` is the RulesRegistry's, so a reload applies to the next post without a restart).
 */
export function createClassifier(current: () => PostClassifier): (post: Pick<NormalizedPost, 'title' | 'text'>) => PostClassification {
  return (post) => toIndexed(current().classify({ title: post.title, text: post.text }));
}
