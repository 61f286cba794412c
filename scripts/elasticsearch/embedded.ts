/**
 * A real Elasticsearch 8 node without Docker: the server jar and the netty4 HTTP transport from
 * Maven Central, started by `launcher/` (a small Java main) in its own JVM. One node by default,
 * three for failover tests. Never a mock: if no node can run, this throws.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');
const LAUNCHER = path.join(import.meta.dirname, 'launcher');
const TARGET = path.join(LAUNCHER, 'target');
const DEFAULT_DATA = path.join(ROOT, '.data', 'elasticsearch');
const HEAP = process.env.ES_HEAP ?? '768m';

export interface ClusterOptions {
  nodes?: 1 | 3;
  /** HTTP port of the first node; the others take the next ones. */
  httpPort?: number;
  /** Transport port of the first node; defaults to httpPort + 100. */
  transportPort?: number;
  dataDir?: string;
  clusterName?: string;
  /** Keep the JVMs running after this process exits (services for `npm start`). */
  detached?: boolean;
  timeoutMs?: number;
}

export interface EmbeddedNodeInfo {
  name: string;
  pid: number;
  httpPort: number;
  transportPort: number;
  log: string;
}

export interface EmbeddedCluster {
  urls: string[];
  nodes: EmbeddedNodeInfo[];
  /** Stops one node (SIGTERM, then SIGKILL after 30 s), for failover tests. */
  stopNode(name: string, signal?: NodeJS.Signals): Promise<void>;
  stop(): Promise<void>;
}

function which(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

function sourceHash(): string {
  const hash = createHash('sha256').update(readFileSync(path.join(LAUNCHER, 'pom.xml')));
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else hash.update(entry.name).update(readFileSync(full));
    }
  };
  walk(path.join(LAUNCHER, 'src'));
  return hash.digest('hex');
}

/** Builds the launcher with Maven when its sources changed; jars stay cached in ~/.m2 and target/. */
export function buildLauncher(): string {
  if (!which('java')) throw new Error('java is not installed: the embedded Elasticsearch needs Java 17 (or set ES_URL to a running cluster)');
  const stamp = path.join(TARGET, 'qianshao.stamp');
  const hash = sourceHash();
  const classpath = `${path.join(TARGET, 'embedded-elasticsearch-1.jar')}:${path.join(TARGET, 'lib', '*')}`;
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === hash) return classpath;
  if (!which('mvn')) throw new Error('mvn is not installed: the embedded Elasticsearch is built with Maven (or set ES_URL to a running cluster)');
  console.log('elasticsearch: building the embedded launcher with Maven (first run downloads the jars) …');
  const result = spawnSync('mvn', ['-q', '-B', '-f', path.join(LAUNCHER, 'pom.xml'), 'package'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (result.status !== 0) {
    const tail = `${result.stdout}\n${result.stderr}`.trim().split('\n').slice(-15).join('\n');
    throw new Error(`building the embedded Elasticsearch failed (mvn exit ${result.status}):\n${tail}`);
  }
  writeFileSync(stamp, hash);
  return classpath;
}

async function health(url: string): Promise<string | undefined> {
  try {
    const res = await fetch(`${url}/_cluster/health?timeout=1s`, { signal: AbortSignal.timeout(3_000) });
    if (!res.ok && res.status !== 408) return undefined;
    const body = (await res.json()) as { status?: string };
    return body.status;
  } catch {
    return undefined;
  }
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function tail(file: string, lines = 20): string {
  if (!existsSync(file)) return '(no log)';
  return readFileSync(file, 'utf8').split('\n').filter((l) => !/^\s+at /.test(l)).slice(-lines).join('\n');
}

function stateFile(dataDir: string): string {
  return path.join(dataDir, 'cluster.json');
}

function readState(dataDir: string): EmbeddedNodeInfo[] {
  try {
    return JSON.parse(readFileSync(stateFile(dataDir), 'utf8')) as EmbeddedNodeInfo[];
  } catch {
    return [];
  }
}

async function waitUntilDead(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!alive(pid)) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return !alive(pid);
}

async function stopPid(pid: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!alive(pid)) return;
  process.kill(pid, signal);
  if (!(await waitUntilDead(pid, 30_000))) {
    process.kill(pid, 'SIGKILL');
    await waitUntilDead(pid, 5_000);
  }
}

export async function startEmbeddedCluster(options: ClusterOptions = {}): Promise<EmbeddedCluster> {
  const count = options.nodes ?? 1;
  const httpPort = options.httpPort ?? 9200;
  const transportPort = options.transportPort ?? httpPort + 100;
  const dataDir = options.dataDir ?? DEFAULT_DATA;
  const clusterName = options.clusterName ?? 'qianshao';
  const classpath = buildLauncher();
  for (let i = 0; i < count; i++) {
    if (await portOpen(httpPort + i)) throw new Error(`port 127.0.0.1:${httpPort + i} is already in use by something that does not answer as Elasticsearch; stop it, or set ES_URL (or another ES port)`);
  }
  const names = Array.from({ length: count }, (_, i) => `${clusterName}-${i + 1}`);
  const seeds = names.map((_, i) => `127.0.0.1:${transportPort + i}`).join(',');
  const nodes: EmbeddedNodeInfo[] = names.map((name, i) => {
    const nodeDir = path.join(dataDir, name);
    mkdirSync(path.join(nodeDir, 'home'), { recursive: true });
    const log = path.join(nodeDir, 'node.log');
    const fd = openSync(log, 'a');
    const args = [
      `-Xms${HEAP}`, `-Xmx${HEAP}`, '-XX:+UseG1GC', '-Dfile.encoding=UTF-8', '-Djava.awt.headless=true',
      '-cp', classpath, 'qianshao.es.Launcher',
      '--node-name', name, '--cluster-name', clusterName,
      '--home', path.join(nodeDir, 'home'), '--data', path.join(nodeDir, 'data'),
      '--http-port', String(httpPort + i), '--transport-port', String(transportPort + i),
      ...(count > 1 ? ['--seed-hosts', seeds, '--initial-masters', names.join(',')] : []),
    ];
    const child = spawn('java', args, { detached: true, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    if (options.detached !== false) child.unref();
    return { name, pid: child.pid ?? -1, httpPort: httpPort + i, transportPort: transportPort + i, log };
  });
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(stateFile(dataDir), JSON.stringify(nodes, null, 2));

  const urls = nodes.map((n) => `http://127.0.0.1:${n.httpPort}`);
  const deadline = Date.now() + (options.timeoutMs ?? 180_000);
  const cluster: EmbeddedCluster = {
    urls,
    nodes,
    async stopNode(name, signal = 'SIGTERM') {
      const node = nodes.find((n) => n.name === name);
      if (node) await stopPid(node.pid, signal);
    },
    async stop() {
      await Promise.all(nodes.map((n) => stopPid(n.pid)));
    },
  };
  for (;;) {
    const dead = nodes.find((n) => !alive(n.pid));
    if (dead) {
      await cluster.stop();
      throw new Error(`embedded Elasticsearch node ${dead.name} exited during start; last log lines:\n${tail(dead.log)}`);
    }
    const statuses = await Promise.all(urls.map(health));
    if (statuses.every((s) => s === 'green' || s === 'yellow')) {
      const res = await fetch(`${urls[0]}/_cluster/health`);
      const body = (await res.json()) as { number_of_nodes: number };
      if (body.number_of_nodes === count) return cluster;
    }
    if (Date.now() > deadline) {
      await cluster.stop();
      throw new Error(`embedded Elasticsearch did not reach yellow within ${(options.timeoutMs ?? 180_000) / 1000} s; last log lines:\n${tail(nodes[0]!.log)}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Stops the nodes recorded under `dataDir` (pid file), whoever started them. */
export async function stopEmbeddedCluster(dataDir: string = DEFAULT_DATA): Promise<number> {
  const nodes = readState(dataDir).filter((n) => alive(n.pid));
  await Promise.all(nodes.map((n) => stopPid(n.pid)));
  return nodes.length;
}

export async function statusOf(dataDir: string = DEFAULT_DATA): Promise<{ node: EmbeddedNodeInfo; alive: boolean; health?: string }[]> {
  return Promise.all(
    readState(dataDir).map(async (node) => {
      const h = await health(`http://127.0.0.1:${node.httpPort}`);
      return { node, alive: alive(node.pid), ...(h ? { health: h } : {}) };
    }),
  );
}

/**
 * The Elasticsearch URL to use: `url` (or ES_URL) when it answers at least yellow; otherwise, for
 * a loopback URL, an embedded node started (detached) on its port. A remote URL that does not
 * answer is an error: nothing is started in its place.
 */
export async function ensureElasticsearch(options: { url?: string; dataDir?: string } = {}): Promise<string> {
  const url = (options.url ?? process.env.ES_URL ?? 'http://127.0.0.1:9200').replace(/\/$/, '');
  const status = await health(url);
  if (status === 'green' || status === 'yellow') return url;
  const u = new URL(url);
  if (!['127.0.0.1', 'localhost'].includes(u.hostname)) {
    throw new Error(`Elasticsearch at ${u.host} is ${status ? `${status}` : 'unreachable'}; it is not local, so nothing is started in its place`);
  }
  if (status === 'red') throw new Error(`Elasticsearch at ${u.host} is red (primary shards unassigned); check ${DEFAULT_DATA}/*/node.log`);
  const port = Number(u.port || 9200);
  const dataDir = options.dataDir ?? DEFAULT_DATA;
  // Another checkout (a second clone, a test run) may be starting a node on this port right now:
  // one machine-wide lock per port makes the later caller wait for that node instead of failing.
  const release = await acquireStartLock(port, url);
  if (release === 'answered') return url;
  try {
    if (await answersWithin(url, 0)) return url;
    // A node we started earlier may still be starting: wait for it instead of starting another.
    const ours = readState(dataDir).find((n) => n.httpPort === port && alive(n.pid));
    if (ours) {
      if (await answersWithin(url, 120_000)) return url;
      throw new Error(`embedded Elasticsearch (pid ${ours.pid}) on port ${port} does not answer; last log lines:\n${tail(ours.log)}`);
    }
    // Something holds the port but does not answer yet: a node from elsewhere still recovering its
    // cluster state answers within a minute; anything else is reported by startEmbeddedCluster.
    if ((await portOpen(port)) && (await answersWithin(url, 60_000))) return url;
    console.log(`elasticsearch: starting an embedded node on 127.0.0.1:${port} …`);
    const started = Date.now();
    await startEmbeddedCluster({ httpPort: port, dataDir, detached: true });
    console.log(`elasticsearch: up in ${((Date.now() - started) / 1000).toFixed(1)} s (data in ${path.relative(ROOT, dataDir)})`);
    return url;
  } finally {
    release();
  }
}

async function answersWithin(url: string, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    const s = await health(url);
    if (s === 'green' || s === 'yellow') return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 500));
  }
}

/**
 * Takes the machine-wide start lock for `port` (a file in the temp directory holding the taker's
 * pid). While a live process holds it, waits; returns 'answered' as soon as the node it is starting
 * answers. A lock left by a dead process is taken over.
 */
async function acquireStartLock(port: number, url: string): Promise<(() => void) | 'answered'> {
  const file = path.join(tmpdir(), `qianshao-elasticsearch-${port}.lock`);
  const deadline = Date.now() + 300_000;
  for (;;) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      return () => rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let holder: number;
    try {
      holder = Number(readFileSync(file, 'utf8').trim());
    } catch {
      continue; // released between our attempt and this read
    }
    if (!Number.isInteger(holder) || holder <= 0 || !alive(holder)) {
      rmSync(file, { force: true });
      continue;
    }
    if (await answersWithin(url, 0)) return 'answered';
    if (Date.now() > deadline) throw new Error(`process ${holder} has been starting Elasticsearch on port ${port} for 5 minutes (lock ${file}); stop it or remove the lock`);
    await new Promise((r) => setTimeout(r, 500));
  }
}
