import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from '@elastic/elasticsearch';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmbeddedCluster, type EmbeddedCluster } from '../../scripts/elasticsearch/embedded.js';

describe('the embedded Elasticsearch launcher', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'qs-es3-'));
  let cluster: EmbeddedCluster | undefined;

  afterAll(async () => {
    await cluster?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('starts a three-node cluster on loopback that reaches green', { timeout: 300_000 }, async () => {
    cluster = await startEmbeddedCluster({ nodes: 3, httpPort: 19250, transportPort: 19350, dataDir, clusterName: 'qstest', detached: false });
    const es = new Client({ node: cluster.urls[0]! });
    const health = await es.cluster.health({ wait_for_nodes: '3', wait_for_status: 'green', timeout: '60s' });
    expect(health.number_of_nodes).toBe(3);
    expect(health.status).toBe('green');
    await es.close();
  });

  it('indexes Chinese text, finds it by phrase, and keeps answering after a node is killed', { timeout: 240_000 }, async () => {
    if (!cluster) throw new Error('cluster did not start');
    const [first, second, third] = cluster.urls as [string, string, string];
    const es = new Client({ node: first });
    await es.indices.create({ index: 'failover', settings: { number_of_shards: 2, number_of_replicas: 1 } });
    await es.index({ index: 'failover', id: '1', document: { text: '群众反映城管暴力执法问题' }, refresh: 'wait_for' });
    await es.cluster.health({ index: 'failover', wait_for_status: 'green', timeout: '60s' });
    const hit = await es.search({ index: 'failover', query: { match_phrase: { text: '暴力执法' } } });
    expect((hit.hits.total as { value: number }).value).toBe(1);
    await es.close();

    // Kill the first node hard, as a crash would; the other two keep the data and elect a master.
    await cluster.stopNode(cluster.nodes[0]!.name, 'SIGKILL');
    const survivor = new Client({ node: [second, third] });
    const health = await survivor.cluster.health({ wait_for_nodes: '2', wait_for_status: 'yellow', timeout: '90s' });
    expect(health.number_of_nodes).toBe(2);
    const again = await survivor.search({ index: 'failover', query: { match_phrase: { text: '暴力执法' } } });
    expect((again.hits.total as { value: number }).value).toBe(1);
    await survivor.close();
  });
});
