import path from 'node:path';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Queue } from 'bullmq';
import type { Alert } from '../../core/alerts/alert.js';
import type { CollectedItem } from '../../core/posts/collected-item.js';
import { PostSearchQuerySchema } from '../../core/posts/post-search.js';
import { createLogger } from '../../core/logger.js';
import { configDir } from '../../core/paths.js';
import { RulesRegistry } from '../../core/rules/rules-registry.js';
import { DEFAULT_SIGNAL_THRESHOLDS } from '../../core/signals/early-signal.js';
import { WebsiteSourceSchema, type WebsiteSource } from '../../core/sources/source.js';
import { crawlPageSource } from '../../crawlers/routes-for.js';
import { takeCrawlLock } from '../../crawlers/shared/crawl-lock.js';
import { CrawlOutbox } from '../../crawlers/shared/crawl-outbox.js';
import { RedisCrawlState } from '../../crawlers/shared/crawl-state.js';
import { DiskEvidenceStore } from '../../crawlers/shared/evidence-store.js';
import { BulkIndexer } from '../../pipeline/elasticsearch/bulk-indexer.js';
import { createEsClient } from '../../pipeline/elasticsearch/es-client.js';
import { EsEventStore, EsSignalStore } from '../../pipeline/elasticsearch/es-event-store.js';
import { EsPostStore } from '../../pipeline/elasticsearch/es-post-store.js';
import { ensureIndices, indexNames } from '../../pipeline/elasticsearch/indices.js';
import { createClassifier } from '../../pipeline/ingest/classify.js';
import { postIdOf } from '../../pipeline/ingest/normalize.js';
import { createSegmenter } from '../../pipeline/ingest/segment.js';
import { wireIngest } from '../../pipeline/ingest/wire-ingest.js';
import { startPipelineRole } from '../../pipeline/pipeline-role.js';
import { createQueues, createRedis, type Queues } from '../../pipeline/queues.js';
import { RedisDeadLetters } from '../../pipeline/redis/dead-letters.js';
import { startDemoSite, type DemoSite } from '../fixtures/demo-site/server.js';
import { createTestDesk } from '../support/alerting-harness.js';
import { eventually, isolation } from '../support/isolation.js';

describe('a comment deleted and an article reworded after criticism keep their evidence and reach the alert', () => {
  const iso = isolation();
  const names = indexNames(iso.indexPrefix);
  const redis = createRedis(iso.redisUrl);
  const es = createEsClient({ url: iso.esUrl, indexPrefix: iso.indexPrefix });
  const log = createLogger('silent');
  let site: DemoSite;
  let source: WebsiteSource;
  let evidenceDir: string;
  let queues: Queues;
  let posts: EsPostStore;
  let alerts: Awaited<ReturnType<typeof createTestDesk>>['alerts'];
  let role: { close(): Promise<void> };
  let rules: RulesRegistry;

  async function crawlAndSettle(): Promise<CollectedItem[]> {
    const items: CollectedItem[] = [];
    // As the crawler role hands items over: under the source's run lock, batch jobs, with the crawl state written behind them.
    const lock = (await takeCrawlLock(redis, `${iso.redisPrefix}:crawl:${source.id}:lock`, 60_000))!;
    const outbox = new CrawlOutbox({ queue: queues.ingest, state: new RedisCrawlState(redis, iso.redisPrefix, source.id, lock), lock });
    const report = await crawlPageSource(source, {
      state: outbox.state,
      evidence: new DiskEvidenceStore(evidenceDir),
      maxRequests: 500,
      timeoutSeconds: 10,
      onItem: async (item) => {
        items.push(item);
        await outbox.add(item);
      },
    });
    await outbox.close();
    await lock.release();
    expect(report.outcome).toBe('ok');
    const busy = async (q: Queue) => Object.values(await q.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children')).reduce((a, b) => a + b, 0);
    await eventually(async () => ((await busy(queues.ingest)) + (await busy(queues.alert)) === 0 ? true : undefined), 60_000, 'ingest and alert queues drained');
    expect(await queues.ingest.getJobCounts('failed')).toEqual({ failed: 0 });
    expect(await queues.alert.getJobCounts('failed')).toEqual({ failed: 0 });
    return items;
  }

  const alertsOf = async (postId: string): Promise<Alert[]> => alerts.touchingPost(postId);

  beforeAll(async () => {
    await ensureIndices(es, names);
    site = await startDemoSite();
    evidenceDir = await mkdtemp(path.join(tmpdir(), 'qs-evidence-'));
    source = WebsiteSourceSchema.parse({
      id: 'demo-website',
      kind: 'website',
      name: '青山县人民政府门户网站',
      owner: { section: '县政府办公室', person: '李明' },
      entryPoints: [`${site.url}/xwzx/gzdt/index.html`],
      crawl: { delayMs: 0, perHostConcurrency: 4 },
      allowedHosts: [new URL(site.url).host],
    });
    queues = createQueues(redis, iso.redisPrefix);
    const bulk = new BulkIndexer(es, { flushMs: 10 });
    posts = new EsPostStore(es, names.posts, bulk);
    rules = RulesRegistry.load(path.join(configDir, 'rules'), { log });
    const ingest = wireIngest({
      redis,
      prefix: iso.redisPrefix,
      segment: createSegmenter(rules.current().ruleSet.words),
      classify: createClassifier(() => rules.current()),
      posts,
      events: new EsEventStore(es, names.events, bulk),
      signals: new EsSignalStore(es, names.signals, bulk),
      queues,
      eventWindowHours: 72,
      signalThresholds: DEFAULT_SIGNAL_THRESHOLDS,
      now: () => new Date(),
    });
    const desk = await createTestDesk({ es, redis, queues, redisPrefix: iso.redisPrefix, indexPrefix: iso.indexPrefix });
    alerts = desk.alerts;
    role = startPipelineRole({ ingest, posts, desk: desk.desk, events: new EsEventStore(es, names.events, bulk), queues, deadLetters: new RedisDeadLetters(redis, iso.redisPrefix), connection: redis, prefix: iso.redisPrefix, ingestConcurrency: 16, log });
  });

  afterAll(async () => {
    await role?.close();
    rules?.close();
    await queues?.close();
    await site?.close();
    await rm(evidenceDir, { recursive: true, force: true });
    await es.close();
    redis.disconnect();
    await iso.cleanup();
  });

  it('crawl by crawl: ES keeps the deleted comment marked and the article versions; the alerts get 原帖已删除 / 原帖已修改', async () => {
    await crawlAndSettle();
    const articlePath = site.articlePaths()[0]!;
    const criticised = '城管执法过程中存在暴力执法问题，群众反映强烈，县里正在调查。';
    site.editArticle(articlePath, [criticised]);
    const commentId = site.addComment(articlePath, { text: '我亲眼看见城管暴力执法，打人了，大家都看见了' });
    const second = await crawlAndSettle();
    const article = second.find((i) => i.kind === 'article' && i.change === 'edited')!;
    const comment = second.find((i) => i.platformId === commentId)!;
    expect(article).toBeDefined();
    const articleId = postIdOf(article);
    const commentId_ = postIdOf(comment);
    const commentAlert = await eventually(async () => (await alertsOf(commentId_)).find((a) => a.postIds.includes(commentId_)), 20_000, 'an alert holding the comment');
    expect(commentAlert.terms).toContain('暴力执法');

    // Criticised: the comment disappears and the article is silently reworded.
    site.removeComment(articlePath, commentId);
    site.editArticle(articlePath, ['城管执法过程规范，相关情况已核实。']);
    const third = await crawlAndSettle();
    expect(third.find((i) => i.platformId === commentId)?.change).toBe('deleted');

    // Elasticsearch: the deleted comment keeps its document and text, marked with the crawl that saw it gone.
    const deleted = (await posts.get(commentId_))!;
    expect(deleted.text).toContain('城管暴力执法');
    expect(deleted.deleted?.crawl.sourceId).toBe('demo-website');
    expect(Date.parse(deleted.deleted!.at)).toBeGreaterThan(0);
    // The article keeps both earlier wordings (原文), oldest first; the current text is the new one.
    const reworded = (await posts.get(articleId))!;
    expect(reworded.text).toBe('城管执法过程规范，相关情况已核实。');
    expect(reworded.versions?.map((v) => v.text)).toHaveLength(2);
    expect(reworded.versions!.at(-1)!.text).toBe(criticised);
    expect(reworded.editedAt).toBeDefined();

    // 删除数 per position, as the positions' health and reports count it.
    await es.indices.refresh({ index: names.posts });
    expect(await posts.deletionsBySource(new Date(Date.now() - 86_400_000), new Date(Date.now() + 1000))).toEqual({ 'demo-website': 1 });

    // Search filters on 已删除 / 已修改.
    await es.indices.refresh({ index: names.posts });
    const ids = async (changes: ('deleted' | 'edited')[]) => (await posts.search(PostSearchQuerySchema.parse({ sort: 'time', limit: 100, changes }))).hits.map((h) => h.post.id);
    expect(await ids(['deleted'])).toEqual([commentId_]);
    expect(await ids(['edited'])).toEqual([articleId]);
    expect((await ids(['deleted', 'edited'])).sort()).toEqual([commentId_, articleId].sort());
    // The list leaves the versions out; the post read keeps them.
    expect((await posts.search(PostSearchQuerySchema.parse({ sort: 'time', limit: 1, changes: 'edited' }))).hits[0]!.post).not.toHaveProperty('versions');

    // The alert holding the comment has the history entry and told the duty officer (nobody holds it yet).
    const withHistory = await eventually(async () => (await alerts.get(commentAlert.id))?.timeline.some((e) => e.kind === 'post-deleted') ? alerts.get(commentAlert.id) : undefined, 20_000, 'the 原帖已删除 entry');
    const entry = withHistory!.timeline.find((e) => e.kind === 'post-deleted')!;
    expect(entry.postId).toBe(commentId_);
    expect(entry.note).toMatch(/^原帖已删除/);
    const told = withHistory!.notifications.find((n) => n.trigger.startsWith('post-changed'))!;
    expect(told.recipients).toEqual(['duty']);
    expect(['send', 'defer']).toContain(told.decision);
    // Noted once, however often the change is handed over.
    expect(withHistory!.timeline.filter((e) => e.kind === 'post-deleted')).toHaveLength(1);

    // The article carried hits after its first edit, so its alert hears of the rewording.
    const articleAlert = (await alertsOf(articleId)).find((a) => a.postIds.includes(articleId))!;
    expect(articleAlert.timeline.some((e) => e.kind === 'post-edited' && e.postId === articleId && e.note!.startsWith('原帖已修改'))).toBe(true);
  });
});
