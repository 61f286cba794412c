/** `npm run es -- start [--nodes 3] [--port 9200] | stop | status` */
import { ensureElasticsearch, startEmbeddedCluster, statusOf, stopEmbeddedCluster } from './embedded.js';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} needs a positive integer`);
  return value;
}

async function main(): Promise<void> {
  const command = process.argv[2];
  const port = flag('port', Number(process.env.ES_PORT ?? 9200));
  switch (command) {
    case 'start': {
      const nodes = flag('nodes', 1);
      if (nodes !== 1 && nodes !== 3) throw new Error('--nodes is 1 or 3');
      if (nodes === 1) console.log(`elasticsearch: ${await ensureElasticsearch({ url: `http://127.0.0.1:${port}` })}`);
      else console.log(`elasticsearch: ${(await startEmbeddedCluster({ nodes: 3, httpPort: port, detached: true })).urls.join(' ')}`);
      return;
    }
    case 'stop':
      console.log(`elasticsearch: stopped ${await stopEmbeddedCluster()} node(s)`);
      return;
    case 'status':
      for (const s of await statusOf()) console.log(`${s.node.name} pid ${s.node.pid} port ${s.node.httpPort}: ${s.alive ? (s.health ?? 'not answering') : 'stopped'}`);
      return;
    default:
      throw new Error('usage: npm run es -- start [--nodes 3] [--port 9200] | stop | status');
  }
}

main().catch((err: unknown) => {
  console.error(`elasticsearch: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
