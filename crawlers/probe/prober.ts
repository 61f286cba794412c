import type { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../../core/logger.js';
import { resolveCredentials, type Source } from '../../core/sources/source.js';
import { InvalidInputError } from '../../core/errors.js';
import type { SecretHosts } from '../../core/config/secret-hosts.js';
import { startWorker, type ProbeJob } from '../../pipeline/queues.js';
import type { SourceRegistry } from '../shared/source-registry.js';
import { probeHomePage } from './probe-home-page.js';
import type { ProbeLog } from './probe-log.js';

export interface ProberDeps {
  registry: SourceRegistry;
  log: ProbeLog;
  queue: Queue<ProbeJob>;
  connection: Redis;
  prefix: string;
  /** Time between two probes of a position (default 60 min = 24 a day, above the rules' 20). */
  everyMs: number;
  timeoutMs: number;
  logger: Logger;
  env?: Readonly<Record<string, string | undefined>>;
  /** Where each bound secret may be sent (`secrets.hosts`). */
  secretHosts?: SecretHosts;
  now?: () => Date;
}

/** Websites are probed; other kinds have no home page the inspector opens. */
function isProbed(source: Source): boolean {
  return source.kind === 'website' && source.enabled;
}

/** The probe scheduler of one position: created or changed in place, removed when it is not a probed website. */
export async function scheduleProbe(queue: Queue<ProbeJob>, source: Source, everyMs: number): Promise<'scheduled' | 'removed'> {
  const key = `probe:${source.id}`;
  if (!isProbed(source)) {
    await queue.removeJobScheduler(key);
    return 'removed';
  }
  await queue.upsertJobScheduler(key, { every: everyMs }, { name: 'probe', data: { sourceId: source.id } });
  return 'scheduled';
}

/**
 * The availability prober (self-inspection, 站点无法访问): a BullMQ job scheduler per website
 * position opens its home page (the first entry point) every `everyMs` with the inspector's 15 s
 * timeout and records each probe in the probe log. A run reads the source afresh, so an edited
 * entry point applies at the next probe. Runs in the crawler role, beside the crawl scheduler.
 */
export async function startProber(deps: ProberDeps): Promise<{ close(): Promise<void>; reschedule(): Promise<void> }> {
  const now = deps.now ?? (() => new Date());
  /** The probe scheduler of every probed website in the registry (at start, and again after Redis lost them). */
  async function reschedule(): Promise<void> {
    const stored = await deps.registry.list();
    for (const { source } of stored) await scheduleProbe(deps.queue, source, deps.everyMs);
    for (const scheduler of await deps.queue.getJobSchedulers()) {
      const id = scheduler.key.replace(/^probe:/, '');
      if (!stored.some((s) => s.source.id === id && isProbed(s.source))) await deps.queue.removeJobScheduler(scheduler.key);
    }
  }
  await reschedule();

  async function probeOnce(job: ProbeJob): Promise<unknown> {
    const entry = await deps.registry.get(job.sourceId);
    if (!entry || entry.source.kind !== 'website') return { skipped: 'not-a-website' };
    if (!entry.source.enabled) return { skipped: 'disabled' };
    const source = entry.source;
    let headers: Record<string, string> | undefined;
    try {
      const credentials = resolveCredentials(source, deps.env, deps.secretHosts);
      headers = Object.keys(credentials).length > 0 ? credentials : undefined;
    } catch (err) {
      // A missing or refused credential is the crawl's problem to report; the home page is probed as the public sees it.
      if (err instanceof InvalidInputError && err.code === 'secret_host_not_allowed') deps.logger.warn({ source: source.id, err: err.message }, 'probe without credentials: secret_host_not_allowed');
      headers = undefined;
    }
    const probe = await probeHomePage(source.entryPoints[0]!, { timeoutMs: deps.timeoutMs, now, ...(headers ? { headers } : {}) });
    await deps.log.record(source.id, probe);
    if (!probe.ok) deps.logger.info({ source: source.id, errorClass: probe.errorClass, status: probe.status, durationMs: probe.durationMs }, 'probe failed');
    return probe;
  }

  const worker: Worker<ProbeJob> = startWorker<ProbeJob>('probe', (job) => probeOnce(job.data), { connection: deps.connection, prefix: deps.prefix, concurrency: 4, log: deps.logger });
  return {
    reschedule,
    async close() {
      await worker.close();
    },
  };
}
