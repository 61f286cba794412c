import { Router, type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import type { PostClassifier } from '../../core/classify/classify-post.js';
import { InvalidInputError } from '../../core/errors.js';
import { RulePackError } from '../../core/rules/rule-pack.js';
import { validatePackYaml, type RulePackVersions } from '../../core/rules/rule-pack-versions.js';
import { caughtByPack, prepareRuleTrial } from '../../core/rules/try-rule-pack.js';
import type { SentimentAnalyzer } from '../../core/sentiment/analyze-sentiment.js';
import type { PostStore } from '../../pipeline/elasticsearch/es-post-store.js';
import type { RouteDoc } from '../openapi/openapi.js';
import { actorOf, requirePermission } from '../authorize.js';
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

const PACK_YAML = z.string().min(1).max(1_000_000);
export const ValidateRuleBodySchema = z.object({ yaml: PACK_YAML }).strict();
export const SaveRuleBodySchema = z
  .object({
    yaml: PACK_YAML,
    reason: z.string().trim().min(1, 'say why the rules change').max(2_000),
    /** The version the edit started from; or send it as `If-Match`. */
    expectedVersion: z.number().int().positive().optional(),
  })
  .strict();
export const CreateRuleBodySchema = z
  .object({
    yaml: PACK_YAML,
    reason: z.string().trim().min(1, 'say why the pack is added').max(2_000),
  })
  .strict();
export const RevertRuleBodySchema = z
  .object({
    /** The version whose text becomes the next version. */
    version: z.number().int().positive(),
    reason: z.string().trim().min(1, 'say why the rules change').max(2_000),
    expectedVersion: z.number().int().positive().optional(),
  })
  .strict();
const PackParamsSchema = z.object({ packId: z.string().regex(/^[a-z0-9-]{1,200}$/, 'a pack id: lower-case letters, digits and dashes') });
const VersionParamsSchema = PackParamsSchema.extend({ version: z.coerce.number().int().positive() });
export const DiffQuerySchema = z.object({ from: z.coerce.number().int().positive(), to: z.coerce.number().int().positive() }).strict();

/** The expected version from `If-Match` (`"3"` or `3`) or the body; a save must name one. */
function expectedVersionOf(req: Request, fromBody: number | undefined): number {
  const header = req.headers['if-match'];
  if (header !== undefined) {
    const n = Number(header.replace(/^W\//, '').replace(/"/g, '').trim());
    if (!Number.isInteger(n) || n < 1) throw new InvalidInputError('If-Match: the version the edit started from, e.g. "3"', 'invalid_body');
    return n;
  }
  if (fromBody === undefined) throw new InvalidInputError('expectedVersion: the version the edit started from (or send If-Match)', 'invalid_body');
  return fromBody;
}

/** A pack's problems as a 400 naming each line, column and field; other errors go on to the error handler. */
function answerProblems(err: unknown, res: Response, next: NextFunction): void {
  if (err instanceof RulePackError) res.status(400).json({ error: { code: err.code, message: err.message, problems: err.problems } });
  else next(err);
}

/** Posts listed in a trial answer; the count says how many were caught in all. */
const MAX_CAUGHT_LISTED = 200;

/**
 * Rule packs through the API. Reading, validating and trying (`POST /rules/try`: an unsaved pack on
 * sample text and on recent posts) need `rules.read`; saving a new version and reverting to an
 * old one need `rules.write` (section chief, admin), name the version they started from (a stale
 * one is a 409), give a reason, and are audited. A saved version reaches every process at once.
 */
export function ruleRoutes(deps: {
  rules: () => PostClassifier;
  /**
   * Applies the saved versions to this process's rules. A save, revert or creation waits for it
   * before answering: the announcement reaches this process asynchronously, and the Rules page
   * lists the packs in force right after saving (a new pack missing from that list stays missing).
   */
  refreshRules: () => Promise<void>;
  versions: RulePackVersions; posts: PostStore; sentiment: SentimentAnalyzer; now: () => Date }): Router {
  const router = Router();
  router.get('/rules', requirePermission('rules.read'), async (_req, res) => {
    const { ruleSet } = deps.rules();
    const heads = new Map((await deps.versions.heads()).map((h) => [h.packId, h]));
    res.json({
      version: ruleSet.version,
      packs: ruleSet.packs.map((p) => {
        const head = heads.get(p.id);
        return { ...p, ...(head ? { savedAt: head.savedAt, savedBy: head.savedBy, origin: head.origin } : {}) };
      }),
      schemes: ruleSet.schemes.map((s) => ({ packId: s.packId, id: s.scheme.id, name: s.scheme.name, level: s.scheme.level })),
    });
  });

  router.post('/rules/validate', requirePermission('rules.read'), (req, res) => {
    const { yaml } = parseBody(ValidateRuleBodySchema, req.body);
    res.json(validatePackYaml(yaml));
  });

  router.post('/rules', requirePermission('rules.write'), async (req, res, next) => {
    const body = parseBody(CreateRuleBodySchema, req.body);
    try {
      const created = await deps.versions.create(body.yaml, { reason: body.reason, actor: actorOf(req), ...(req.requestId ? { requestId: req.requestId } : {}) });
      await deps.refreshRules();
      res.status(201).setHeader('ETag', `"${created.version}"`).json(created);
    } catch (err) {
      answerProblems(err, res, next);
    }
  });

  router.get('/rules/:packId', requirePermission('rules.read'), async (req, res) => {
    const { packId } = parseBody(PackParamsSchema, req.params);
    res.json(await deps.versions.head(packId));
  });

  router.put('/rules/:packId', requirePermission('rules.write'), async (req, res, next) => {
    const { packId } = parseBody(PackParamsSchema, req.params);
    const body = parseBody(SaveRuleBodySchema, req.body);
    const expectedVersion = expectedVersionOf(req, body.expectedVersion);
    try {
      const saved = await deps.versions.save(packId, body.yaml, { expectedVersion, reason: body.reason, actor: actorOf(req), ...(req.requestId ? { requestId: req.requestId } : {}) });
      await deps.refreshRules();
      res.setHeader('ETag', `"${saved.version}"`).json(saved);
    } catch (err) {
      answerProblems(err, res, next);
    }
  });

  router.get('/rules/:packId/versions', requirePermission('rules.read'), async (req, res) => {
    const { packId } = parseBody(PackParamsSchema, req.params);
    res.json({ packId, versions: await deps.versions.list(packId) });
  });

  router.get('/rules/:packId/versions/:version', requirePermission('rules.read'), async (req, res) => {
    const { packId, version } = parseBody(VersionParamsSchema, req.params);
    res.json(await deps.versions.get(packId, version));
  });

  router.get('/rules/:packId/diff', requirePermission('rules.read'), async (req, res) => {
    const { packId } = parseBody(PackParamsSchema, req.params);
    const { from, to } = parseBody(DiffQuerySchema, req.query);
    res.json(await deps.versions.diff(packId, from, to));
  });

  router.post('/rules/:packId/revert', requirePermission('rules.write'), async (req, res, next) => {
    const { packId } = parseBody(PackParamsSchema, req.params);
    const body = parseBody(RevertRuleBodySchema, req.body);
    const expectedVersion = expectedVersionOf(req, body.expectedVersion);
    try {
      const saved = await deps.versions.revert(packId, body.version, { expectedVersion, reason: body.reason, actor: actorOf(req), ...(req.requestId ? { requestId: req.requestId } : {}) });
      await deps.refreshRules();
      res.setHeader('ETag', `"${saved.version}"`).json(saved);
    } catch (err) {
      answerProblems(err, res, next);
    }
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

export const ruleRouteDocs: RouteDoc[] = [
  { method: 'get', path: '/rules', tag: 'rules', summary: '生效的规则包（编号、版本、内容哈希、最近保存人）与监测方案' },
  { method: 'post', path: '/rules/validate', tag: 'rules', summary: '校验规则包 YAML：通过，或逐条问题（行、列、字段；方案表达式另给方案编号、词组与位置）', body: ValidateRuleBodySchema },
  { method: 'post', path: '/rules/try', tag: 'rules', summary: '试运行未保存的规则包：样例文本与近 N 天帖文', body: TryRuleBodySchema, responses: { '400': '规则包有问题（problems 逐条给出行与字段）' } },
  {
    method: 'post',
    path: '/rules',
    tag: 'rules',
    summary: '新建规则包（编号取自 YAML，版本从 1 开始；需说明原因；留痕；各进程即时生效）',
    body: CreateRuleBodySchema,
    responses: { '201': '新建的规则包（版本 1）', '400': '规则包有问题，未保存（problems 逐条给出行、列与字段）', '409': '已有同编号的规则包' },
  },
  { method: 'get', path: '/rules/:packId', tag: 'rules', summary: '规则包当前版本（含 YAML）', params: PackParamsSchema },
  {
    method: 'put',
    path: '/rules/:packId',
    tag: 'rules',
    summary: '保存规则包新版本（If-Match 或 expectedVersion 为编辑起点版本；需说明原因；留痕；各进程即时生效）',
    params: PackParamsSchema,
    body: SaveRuleBodySchema,
    responses: { '200': '已保存的新版本', '400': '规则包有问题，未保存（problems 逐条给出行、列与字段）', '404': '无此规则包', '409': '已有人先保存了新版本' },
  },
  { method: 'get', path: '/rules/:packId/versions', tag: 'rules', summary: '规则包的全部版本（新在前，不含 YAML）', params: PackParamsSchema },
  { method: 'get', path: '/rules/:packId/versions/:version', tag: 'rules', summary: '规则包某一版本（含 YAML）', params: VersionParamsSchema },
  { method: 'get', path: '/rules/:packId/diff', tag: 'rules', summary: '两个版本之间的差异（统一 diff 与分块）', params: PackParamsSchema, query: DiffQuerySchema },
  {
    method: 'post',
    path: '/rules/:packId/revert',
    tag: 'rules',
    summary: '恢复到某一版本（另存为新版本；需说明原因；留痕）',
    params: PackParamsSchema,
    body: RevertRuleBodySchema,
    responses: { '200': '恢复后的新版本', '404': '无此规则包或版本', '409': '已有人先保存了新版本' },
  },
];
