import { describe, expect, it } from 'vitest';
import type { CollectedItem } from '../../core/posts/collected-item.js';
import { ingestBatchJobs } from '../../pipeline/ingest/ingest-batch.js';
import { ingestJobIdOf } from '../../pipeline/ingest/normalize.js';

const item = (n: number, text = `第${n}条留言`): CollectedItem => ({
  sourceId: 'hotline',
  kind: 'message',
  url: `https://example.org/m/${n}`,
  platformId: `m${n}`,
  text,
  collectedAt: '2026-11-25T08:00:00.000Z',
});

describe('ingestBatchJobs', () => {
  it('splits items into batch jobs of at most the given size, in order', () => {
    const jobs = ingestBatchJobs(Array.from({ length: 250 }, (_, i) => item(i)), 100);
    expect(jobs.map((j) => j.data.items.length)).toEqual([100, 100, 50]);
    expect(jobs.every((j) => j.name === 'items')).toBe(true);
    expect(jobs[2]!.data.items[49]!.platformId).toBe('m249');
  });

  it('derives a batch id from its items, so the same batch queued again has the same id', () => {
    const a = ingestBatchJobs([item(1), item(2)]);
    expect(ingestBatchJobs([item(1), item(2)])[0]!.opts.jobId).toBe(a[0]!.opts.jobId);
    // An edited item makes another batch; BullMQ refuses ids with a colon.
    expect(ingestBatchJobs([item(1), item(2, '改过的留言')])[0]!.opts.jobId).not.toBe(a[0]!.opts.jobId);
    expect(a[0]!.opts.jobId).toMatch(/^batch-[0-9a-f]{40}$/);
  });

  it('keeps an item that occurs twice once', () => {
    const [job] = ingestBatchJobs([item(1), item(2), item(1)]);
    expect(job!.data.items.map((i) => ingestJobIdOf(i))).toEqual([ingestJobIdOf(item(1)), ingestJobIdOf(item(2))]);
    expect(job!.opts.jobId).toBe(ingestBatchJobs([item(1), item(2)])[0]!.opts.jobId);
  });
});
