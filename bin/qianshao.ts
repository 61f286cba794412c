#!/usr/bin/env node
/**
 * The one composition root: config → logger → shared context → roles.
 * `qianshao [all|api|worker|crawler] [--demo]` runs roles (bin/roles/); the one-off commands
 * (hash-password, audit, classify, rules check, crawl, report) load only what they need.
 */
import { loadConfig, ConfigError } from '../core/config/load-config.js';
import { createLogger, type Logger } from '../core/logger.js';
import type { Role } from '../pipeline/redis/heartbeat.js';
import { StartupError, redact } from './preflight.js';
import type { Closer } from './roles/context.js';

const USAGE = `usage: qianshao [all|api|worker|crawler] [--demo]
       qianshao hash-password <password>
       qianshao audit verify|checkpoint
       qianshao classify [--rules <dir>] < posts.jsonl > results.jsonl
       qianshao rules check [<dir>]
       qianshao crawl --source <sources.yaml | source id | URL> --once [--out items.jsonl] [options: see README]
       qianshao report --period 2026-Q3 [--scope unit] [--format docx|xlsx|md] --out <file>`;

function rolesOf(arg: string | undefined): Role[] {
  switch (arg ?? 'all') {
    case 'all':
      return ['api', 'worker', 'crawler'];
    case 'api':
    case 'worker':
    case 'crawler':
      return [arg as Role];
    default:
      throw new StartupError(`unknown role "${arg}".\n${USAGE}`);
  }
}

const configFor = (argv: string[]) => loadConfig(argv.includes('--demo') ? { ...process.env, DEMO: 'true' } : process.env);

/** One-off commands; `undefined` when `argv` names a role instead. */
async function command(argv: string[], args: string[]): Promise<number | undefined> {
  switch (args[0]) {
    case 'hash-password': {
      if (!args[1]) throw new StartupError('usage: qianshao hash-password <password>');
      const { hashPassword } = await import('../core/auth/password.js');
      console.log(await hashPassword(args[1]));
      return 0;
    }
    case 'audit':
      return (await import('./audit-command.js')).auditCommand(args[1], loadConfig(process.env));
    // Pure sub-commands: rule packs from a folder, no service touched.
    case 'classify':
      return (await import('./rules-commands.js')).classifyCommand(argv, process);
    case 'rules':
      if (args[1] !== 'check') throw new StartupError('usage: qianshao rules check [<dir>]');
      return (await import('./rules-commands.js')).rulesCheck(argv, process);
    // One crawl of one position, no queue or service: items as JSON lines.
    case 'crawl':
      return (await import('./crawl-command.js')).crawlCommand(argv, process);
    case 'report':
      return (await import('./report-command.js')).reportCommand(argv.slice(1), configFor(argv));
    default:
      return undefined;
  }
}

/** The shared context, then each role; a role's modules are loaded only when the process runs it. */
async function start(roles: Role[], config: ReturnType<typeof loadConfig>, log: Logger, closers: Closer[]): Promise<void> {
  const { createContext } = await import('./roles/context.js');
  const ctx = await createContext(roles, config, log, closers);
  if (roles.includes('api')) await (await import('./roles/api.js')).startApiRole(ctx);
  if (roles.includes('worker')) await (await import('./roles/worker.js')).startWorkerRole(ctx);
  if (roles.includes('crawler')) await (await import('./roles/crawler.js')).startCrawlerRole(ctx);
}

async function shutdown(closers: Closer[], log: Logger): Promise<void> {
  for (const close of closers) {
    try {
      await close();
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'error while shutting down');
    }
  }
}

async function main(argv: string[]): Promise<number> {
  const args = argv.filter((a) => !a.startsWith('--'));
  const done = await command(argv, args);
  if (done !== undefined) return done;
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  const roles = rolesOf(args[0]);
  const config = configFor(argv);
  const log = createLogger(config.log.level, { roles: roles.join(',') });

  const closers: Closer[] = [];
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      log.error('shutdown took over 30 s; exiting');
      process.exit(1);
    }, 30_000);
    force.unref();
    void shutdown(closers, log).then(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  try {
    await start(roles, config, log, closers);
  } catch (err) {
    await shutdown(closers, log);
    throw err;
  }
  if (roles.includes('api')) {
    const url = `http://${config.api.host === '0.0.0.0' ? '127.0.0.1' : config.api.host}:${config.api.port}/`;
    console.log(`\n前哨 Qianshao is running (${roles.join(', ')}).`);
    console.log(`  Dashboard: ${url}`);
    if (config.demo.enabled) {
      console.log(`  Demo login: admin / qianshao-demo   (also duty, chief, leader with the same password)`);
      console.log(`  Demo website (the unit's positions): http://127.0.0.1:${config.demo.sitePort}/`);
    }
    console.log(`  Redis: ${redact(config.redis.url)}   Elasticsearch: ${redact(config.elasticsearch.url)}\n`);
  }
  return -1;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err: unknown) => {
    if (err instanceof StartupError || err instanceof ConfigError) console.error(`qianshao: ${err.message}`);
    else if (err instanceof Error && 'code' in err && typeof err.code === 'string' && err.code.includes('_')) console.error(`qianshao: ${err.message}`);
    else console.error('qianshao: failed to start:', err);
    process.exit(1);
  },
);
