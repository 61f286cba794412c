import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@elastic/elasticsearch';
import { Redis } from 'ioredis';
import JSZip from 'jszip';
import { indexNames, ensureIndices } from '../../pipeline/elasticsearch/indices.js';
import { EsAuditLog } from '../../pipeline/elasticsearch/es-audit-log.js';
import { BriefService } from '../../reports/brief-service.js';
import { renderBriefText } from '../../reports/brief.js';
import { renderBriefDocx } from '../../reports/render/brief-docx.js';
import { isolation } from '../support/isolation.js';

const iso = isolation();
let es: Client;
let redis: Redis;
let audit: EsAuditLog;
let briefs: BriefService;
const idx = { alerts: `${iso.indexPrefix}-balerts`, posts: `${iso.indexPrefix}-bposts`, briefs: `${iso.indexPrefix}-briefs` };
const actor = { kind: 'user' as const, id: 'duty', displayName: '张值班', roles: ['duty'] };

beforeAll(async () => {
  es = new Client({ node: iso.esUrl });
  redis = new Redis(iso.redisUrl);
  await es.index({
    index: idx.alerts,
    id: 'a1',
    refresh: true,
    document: {
      id: 'a1',
      title: '县医院乱收费（命中：乱收费）',
      level: 2,
      status: 'handling',
      category: '负面',
      sourceId: 'board',
      createdAt: '2026-11-24T02:00:00Z',
      acknowledgedAt: '2026-11-24T02:06:00Z',
      acknowledgedBy: '张值班',
      heat: 14,
      sentiment: -0.7,
      terms: ['乱收费'],
      postIds: ['p1', 'p2'],
      timeline: [
        { at: '2026-11-24T02:06:00Z', kind: 'acknowledge', actor: '张值班' },
        { at: '2026-11-24T02:20:00Z', kind: 'trigger_plan', actor: '张值班', note: '启动负面舆情应对预案' },
      ],
      plan: {
        name: '负面舆情应对预案',
        steps: [
          { title: '核实情况', dueAt: '2026-11-24T04:00:00Z', completedAt: '2026-11-24T03:10:00Z', completedBy: '刘科长', note: '已联系县卫健局核实收费项目' },
          { title: '发布回应', dueAt: '2026-11-24T07:00:00Z' },
        ],
      },
    },
  });
  for (const [id, text, at] of [
    ['p1', '县医院住院部乱收费，一个床位费收三次！<script>alert(1)</script>', '2026-11-24T01:40:00Z'],
    ['p2', '同样遇到过，县医院收费不透明', '2026-11-24T02:30:00Z'],
  ] as const) {
    await es.index({ index: idx.posts, id, refresh: true, document: { id, text, url: `http://127.0.0.1/hdjl/${id}.html`, kind: 'message', publishedAt: at, collectedAt: at } });
  }
  const names = indexNames(iso.indexPrefix);
  await ensureIndices(es, names);
  audit = new EsAuditLog({ es, redis, prefix: iso.redisPrefix, index: names.audit, checkpointIndex: names.auditCheckpoints, checkpointKey: Buffer.from('k'.repeat(32)) });
  briefs = new BriefService({ es, indices: idx, unit: '青山县人民政府', sourceName: () => '县长信箱', audit, now: () => new Date('2026-11-24T04:00:00Z') });
  await briefs.ensure();
});

afterAll(async () => {
  await iso.cleanup();
  redis.disconnect();
  await es.close();
});

describe('快报 and 续报 for one alert', () => {
  it('issues a 快报 first, built from the alert, its posts, its timeline and its plan', async () => {
    const brief = await briefs.issue('a1', actor, 'req-00000001');
    expect(brief.title).toBe('关于县医院乱收费的舆情快报');
    const text = renderBriefText(brief);
    expect(text).toContain('2026-11-24 09:40，我单位“县长信箱”出现留言');
    expect(text).toContain('二级橙色预警');
    expect(text).toContain('相关留言共 2 条，事件热度 14，情感倾向偏负面');
    expect(text).toContain('完成预案步骤“核实情况”：已联系县卫健局核实收费项目');
    expect(text).toContain('发布回应（时限 2026-11-24 15:00）');
    const [record] = await audit.list({ entityType: 'alert', entityId: 'a1' });
    expect(record).toMatchObject({ action: 'alert.brief_first', actor: { id: 'duty' } });
  });

  it('numbers later briefs as 续报, even when two are issued at once', async () => {
    const [a, b] = await Promise.all([briefs.issue('a1', actor), briefs.issue('a1', actor)]);
    expect([a.sequence, b.sequence].sort()).toEqual([2, 3]);
    expect([a.title, b.title].sort()).toEqual(['关于县医院乱收费的舆情续报（第2报）', '关于县医院乱收费的舆情续报（第3报）']);
    expect((await briefs.list('a1')).map((x) => x.sequence)).toEqual([1, 2, 3]);
  });

  it('renders a DOCX whose text carries crawled markup as text', async () => {
    const brief = await briefs.get('a1', 1);
    const zip = await JSZip.loadAsync(await renderBriefDocx(brief));
    const xml = await zip.file('word/document.xml')!.async('string');
    expect(xml).toContain('关于县医院乱收费的舆情快报');
    expect(xml).toContain('&lt;script&gt;');
    expect(xml).not.toContain('<script>');
  });

  it('refuses an unknown alert with 404 semantics', async () => {
    await expect(briefs.issue('nope', actor)).rejects.toMatchObject({ httpStatus: 404 });
  });
});
