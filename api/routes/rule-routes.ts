import { Router } from 'express';
import { z } from 'zod';
import type { PostClassifier } from '../../core/classify/classify-post.js';
import { RulePackError } from '../../core/rules/rule-pack.js';
import { caughtByPack, prepareRuleTrial } from '../../core/rules/try-rule-pack.js';
import type { SentimentAnalyzer } from '../../core/sentiment/analyze-sentiment.js';
import type { PostStore } from '../../pipeline/elasticsearch/es-post-store.js';
import { requirePermission } from '../authorize.js';
import { parseBody } from '../parse-body.js';

export const TryRuleBodySchema = z
  .object({
    /** The pack as YAML text, or as an object of the same shape. */
    pack: z.union([z.string().min(1).max(500_000), z.record(z.string(), z.unknown())]),
    /** Sample text to run the pack on. */
    text: z.string().max(200_000).optional(),
    title: z.string().max(2_000).optional(),
    /** Also run it on the posts indexed in the last `days` days. */
    days: z.number().int().min(1).max(90).optional(),
    /** Most posts scanned when `days` is given. */
    maxPosts: z.number().int().min(1).max(20_000).default(5_000),
  })
  .strict()
  .refine((b) => b.text !== undefined || b.days !== undefined, { message: 'give a sample "text", a number of "days" of indexed posts, or both', path: ['text'] });

/** Posts listed in a trial answer; the count says how many were caught in all. */
const MAX_CAUGHT_LISTED = 200;

/**
 * `GET /api/rules`: the packs in force (id, version, content hash). `POST /api/rules/try`: run a
 * pack that is not saved on sample text and on recent posts ("what would it have caught?").
 * Neither changes state, so reading rules is the permission needed.
 */
export function ruleRoutes(deps: { rules: () => PostClassifier; posts: PostStore; sentiment: SentimentAnalyzer; now: () => Date }): Router {
  const router = Router();
  router.get('/rules', requirePermission('rules.read'), (_req, res) => {
    const { ruleSet } = deps.rules();
    res.json({ version: ruleSet.version, packs: ruleSet.packs, schemes: ruleSet.schemes.map((s) => ({ packId: s.packId, id: s.scheme.id, name: s.scheme.name, level: s.scheme.level })) });
  });

  router.post('/rules/try', requirePermission('rules.read'), async (req, res) => {
    const body = parseBody(TryRuleBodySchema, req.body);
    let trial;
    try {
      trial = prepareRuleTrial(body.pack, { sentiment: deps.sentiment });
    } catch (err) {
      if (!(err instanceof RulePackError)) throw err;
      res.status(400).json({ error: { code: err.code, message: err.message, problems: err.problems } });
      return;
    }
    const sample = body.text !== undefined ? trial.classifier.classify({ text: body.text, ...(body.title ? { title: body.title } : {}) }) : undefined;
    let posts;
    if (body.days !== undefined) {
      const since = new Date(deps.now().getTime() - body.days * 86_400_000);
      const caught = [];
      let scanned = 0;
      let caughtTotal = 0;
      for await (const page of deps.posts.scanSince(since, body.maxPosts)) {
        for (const post of page) {
          scanned++;
          const c = trial.classifier.classify({ title: post.title ?? '', text: post.text ?? '' });
          if (!caughtByPack(c)) continue;
          caughtTotal++;
          if (caught.length < MAX_CAUGHT_LISTED) {
            caught.push({
              post: { id: post.id, title: post.title, url: post.url, sourceId: post.sourceId, kind: post.kind, collectedAt: post.collectedAt },
              hits: c.hits,
              schemes: c.schemes.filter((s) => s.fired),
              level: c.level,
            });
          }
        }
      }
      posts = { since: since.toISOString(), scanned, caughtTotal, caught, truncated: scanned >= body.maxPosts };
    }
    res.json({ pack: trial.pack, ...(sample ? { sample, caught: caughtByPack(sample) } : {}), ...(posts ? { posts } : {}) });
  });
  return router;
}
