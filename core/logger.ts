import { pino, type Logger } from 'pino';

export type { Logger };

/** Paths whose values never reach a log line, wherever they appear in a logged object. */
const REDACT = [
  'password', '*.password', '*.*.password',
  'secret', '*.secret', '*.sessionSecret', '*.*.sessionSecret',
  'token', '*.token', 'authorization', '*.authorization', '*.headers.authorization', '*.headers.cookie',
  'appSecret', '*.appSecret',
];

export function createLogger(level: string, bindings: Record<string, unknown> = {}): Logger {
  return pino({ level, base: { pid: process.pid, ...bindings }, redact: { paths: REDACT, censor: '[redacted]' } });
}
