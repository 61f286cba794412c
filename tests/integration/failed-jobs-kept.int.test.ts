import { afterAll, describe, expect, it } from 'vitest';
import type { Worker } from 'bullmq';
import { InvalidInputError } from '../../core/errors.js';
import { createLogger } from '../../core/logger.js';
import { ingestBatchJobs } from '../../pipeline/ingest/ingest-batch.js';
import { createQueues, createRedis, startWorker, type IngestJob } from '../../pipeline/queues.js';
import { RedisDeadLetters } from '../../pipeline/redis/dead-letters.js';
import { eventually, isolation } from '../support/isolation.js';

// Redis runs with `noeviction` in production: failed jobs kept for ever (the queues' old
// `removeOnFail: false`) would one day fill it. A failed job now stays FAILED_JOBS_KEPT (30 days, the
// newest 10 000 per queue); an ingest or alert job's data outlives it in its dead letter.

const iso = isolation();
const redis = createRedis(iso.redisUrl);
const queues = createQueues(redis, iso.redisPrefix);
const DAY_MS = 86_400_000;

afterAll(async () => {
  await queues.close();
  await iso.cleanup();
  await redis.quit();
});

const item = (n: number) => ({
  sourceId: 'board-failed',
  kind: 'message' as const,
  url: `http://127.0.0.1:8601/hdjl/lyb/f${n}.html`,
  platformId: `f${n}`,
  title: `留言 ${n}`,
  text: `留言内容 ${n}`,
  collectedAt: '2026-12-01T08:00:00.000Z',
});

describe('failed jobs are kept for a bounded time', () => {
  it.each([
    // queue, how its jobs are added
    ['crawl', () => queues.crawl.add('crawl', { sourceId: 's' }, { jobId: 'crawl-1' })],
    ['ingest (one item)', () => queues.ingest.add('item', { item: item(1) }, { jobId: 'ingest-1' })],
    ['ingest (a batch, which sets its own removeOnComplete)', async () => (await queues.ingest.addBulk(ingestBatchJobs([item(2), item(3)])))[0]!],
    ['alert', () => queues.alert.add('evaluate', { postId: 'p', contentHash: 'h' } as never, { jobId: 'alert-1' })],
    ['escalate', () => queues.escalate.add('clock', { alertId: 'a', clockId: 'c', token: 't', dueAt: '2026-12-01T08:00:00.000Z' }, { jobId: 'clock-1', delay: 3_600_000 })],
    ['notify', () => queues.notify.add('deliver', { digest: 'dingtalk-duty' }, { jobId: 'notify-1', delay: 3_600_000 })],
  ])('%s: the job is stored with removeOnFail 30 days, the newest 10 000', async (_queue, add) => {
    const job = await add();
    const stored = JSON.parse((await redis.hget(`${iso.redisPrefix}:${job.queueName}:${job.id}`, 'opts'))!) as { removeOnFail: unknown };
    expect(stored.removeOnFail).toEqual({ age: 30 * 86_400, count: 10_000 });
  });

  it('a failed ingest job older than 30 days is removed when the next job fails, and its dead letter stays', async () => {
    // A prefix of its own (under the file's, so the cleanup takes it): no worker touches the jobs above.
    const prefix = `${iso.redisPrefix}:aging`;
    const queue = createQueues(redis, prefix);
    const letters = new RedisDeadLetters(redis, prefix);
    const connection = createRedis(iso.redisUrl);
    let worker: Worker<IngestJob> | undefined;
    try {
      worker = startWorker<IngestJob>(
        'ingest',
        async () => {
          throw new InvalidInputError('never valid', 'invalid_item');
        },
        { connection, prefix, concurrency: 1, log: createLogger('silent'), deadLetters: letters },
      );
      const failedSet = `${prefix}:ingest:failed`;
      await queue.ingest.add('item', { item: item(10) }, { jobId: 'old-poison' });
      await eventually(async () => ((await queue.ingest.getJobState('old-poison')) === 'failed' ? true : undefined), 20_000, 'the first poison job to fail');
      // As if it had failed 31 days ago: BullMQ ages failed jobs by their score in the failed set.
      await redis.zadd(failedSet, 'XX', Date.now() - 31 * DAY_MS, 'old-poison');

      await queue.ingest.add('item', { item: item(11) }, { jobId: 'new-poison' });
      await eventually(async () => ((await queue.ingest.getJobState('new-poison')) === 'failed' ? true : undefined), 20_000, 'the second poison job to fail');

      expect(await redis.zrange(failedSet, '0', '-1')).toEqual(['new-poison']);
      expect(await redis.exists(`${prefix}:ingest:old-poison`)).toBe(0);
      // The dead letter keeps the job's data until someone replays it.
      expect(await letters.get('old-poison')).toMatchObject({ queue: 'ingest', code: 'invalid_item', data: { item: { platformId: 'f10' } } });
    } finally {
      await worker?.close();
      await queue.close();
      await connection.quit();
    }
  });
});
