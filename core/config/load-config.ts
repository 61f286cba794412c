import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { configDir } from '../paths.js';
import { ConfigSchema, ENV_BINDINGS, type Config } from './config-schema.js';

/** A config problem, phrased for the person starting the process: which field, where from, what to do. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

type Json = Record<string, unknown>;

function setPath(target: Json, keys: readonly string[], value: unknown): void {
  let node = target;
  keys.slice(0, -1).forEach((key) => {
    const next = node[key];
    if (typeof next !== 'object' || next === null) node[key] = {};
    node = node[key] as Json;
  });
  node[keys[keys.length - 1]!] = value;
}

/** Reads `<configDir>/qianshao.yaml` (optional) and env; validates once; throws {@link ConfigError}. */
export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  file: string = path.join(configDir, 'qianshao.yaml'),
): Config {
  let raw: Json = {};
  if (existsSync(file)) {
    try {
      const parsed: unknown = parseYaml(readFileSync(file, 'utf8'));
      if (parsed !== null && parsed !== undefined) {
        if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError(`${file}: expected a mapping at the top level`);
        raw = parsed as Json;
      }
    } catch (err) {
      if (err instanceof YAMLParseError) {
        const where = err.linePos?.[0] ? `:${err.linePos[0].line}:${err.linePos[0].col}` : '';
        throw new ConfigError(`${file}${where}: ${err.message.split('\n')[0]}`);
      }
      throw err;
    }
  }
  const fromEnv = new Map<string, string>();
  for (const [name, keys] of ENV_BINDINGS) {
    const value = env[name];
    if (value !== undefined && value !== '') {
      setPath(raw, keys, value);
      fromEnv.set(keys.join('.'), name);
    }
  }
  const result = ConfigSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(describeIssues(result.error.issues, fromEnv, file));
  return result.data;
}

function describeIssues(issues: readonly z.core.$ZodIssue[], fromEnv: Map<string, string>, file: string): string {
  return issues
    .map((issue) => {
      const field = issue.path.join('.');
      const source = fromEnv.has(field) ? `env ${fromEnv.get(field)}` : path.basename(file);
      return `invalid config: ${field || '(root)'} (from ${source}): ${issue.message}`;
    })
    .join('; ');
}
