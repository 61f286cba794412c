import type { Router } from 'express';
import { z } from 'zod';
import type { Permission } from '../../core/auth/permissions.js';

/** What a route declares about itself beyond what the router knows (method, path, permission). */
export interface RouteDoc {
  method: 'get' | 'post' | 'patch' | 'put' | 'delete';
  /** Express-style path under /api, e.g. `/ledger/:id`. */
  path: string;
  summary: string;
  tag: string;
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
  /** Status codes this route answers with besides the error answers every route may give. */
  responses?: Record<string, string>;
  /** Non-JSON answers, e.g. an XLSX export. */
  produces?: string;
  /** Optional request headers the route reads (e.g. `Idempotency-Key`). */
  headers?: { name: string; description: string; schema: Record<string, unknown> }[];
}

interface MountedRoute {
  method: RouteDoc['method'];
  path: string;
  permission?: Permission;
  signIn: boolean;
}

type Layer = { route?: { path: unknown; methods: Record<string, boolean>; stack: { handle: { requiredPermission?: Permission; requiresSignIn?: true } }[] } };

/** Every route the routers hold, with the permission `requirePermission` attached to it. */
export function mountedRoutes(routers: readonly Router[]): MountedRoute[] {
  const out: MountedRoute[] = [];
  for (const router of routers) {
    for (const layer of (router as unknown as { stack: Layer[] }).stack) {
      const route = layer.route;
      if (!route || typeof route.path !== 'string') continue;
      const permission = route.stack.map((s) => s.handle.requiredPermission).find((p) => p !== undefined);
      const signIn = permission !== undefined || route.stack.some((s) => s.handle.requiresSignIn === true);
      for (const [method, on] of Object.entries(route.methods)) {
        if (!on || !['get', 'post', 'patch', 'put', 'delete'].includes(method)) continue;
        out.push({ method: method as RouteDoc['method'], path: route.path, signIn, ...(permission ? { permission } : {}) });
      }
    }
  }
  return out;
}

/** `/ledger/:id` → `/api/ledger/{id}` */
export function toOpenApiPath(expressPath: string): string {
  return `/api${expressPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`;
}

function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _s, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
}

function parametersOf(where: 'path' | 'query', schema: z.ZodType | undefined, names: string[]): Record<string, unknown>[] {
  const props = schema ? ((jsonSchema(schema).properties ?? {}) as Record<string, Record<string, unknown>>) : {};
  const required = schema ? ((jsonSchema(schema).required ?? []) as string[]) : [];
  const all = new Set([...names, ...Object.keys(props)]);
  return [...all].map((name) => ({
    name,
    in: where,
    required: where === 'path' || required.includes(name),
    schema: props[name] ?? { type: 'string' },
  }));
}

const ERROR_SCHEMA = {
  type: 'object',
  properties: { error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } }, required: ['code', 'message'] } },
};

/**
 * The OpenAPI 3.1 document of the API: every mounted route (walked from the routers, so none is
 * missed), described further by the `RouteDoc`s its module declares (schemas from the same zod
 * schemas the routes validate with). A route without a `RouteDoc` still appears, marked
 * `x-undocumented`.
 */
export function buildOpenApiDocument(options: { routers: readonly Router[]; docs: readonly RouteDoc[]; title: string; version: string }): Record<string, unknown> {
  const docs = new Map(options.docs.map((d) => [`${d.method} ${d.path}`, d]));
  const paths: Record<string, Record<string, unknown>> = {};
  const seen = new Set<string>();
  for (const route of mountedRoutes(options.routers)) {
    const key = `${route.method} ${route.path}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const doc = docs.get(key);
    const pathNames = [...route.path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]!);
    const responses: Record<string, unknown> = {};
    for (const [status, description] of Object.entries(doc?.responses ?? { '200': 'OK' })) {
      responses[status] = doc?.produces ? { description, content: { [doc.produces]: { schema: { type: 'string', format: 'binary' } } } } : { description };
    }
    const error = (description: string) => ({ description, content: { 'application/json': { schema: ERROR_SCHEMA } } });
    if (doc?.body || doc?.query || doc?.params || pathNames.length > 0) responses['400'] = error('请求无效：错误信息指明字段 (invalid input; the message names the field)');
    if (route.signIn) responses['401'] = error('未登录 (not signed in)');
    if (route.permission) responses['403'] = error(`缺少权限 ${route.permission} (lacks the permission)`);
    if (pathNames.length > 0) responses['404'] = error('不存在 (unknown id)');
    paths[toOpenApiPath(route.path)] ??= {};
    paths[toOpenApiPath(route.path)]![route.method] = {
      summary: doc?.summary ?? `${route.method.toUpperCase()} ${route.path}`,
      tags: [doc?.tag ?? route.path.split('/')[1] ?? 'api'],
      ...(route.permission ? { 'x-permission': route.permission } : {}),
      ...(route.signIn ? { security: [{ session: [] }, { token: [] }] } : {}),
      ...(doc ? {} : { 'x-undocumented': true }),
      parameters: [
        ...parametersOf('path', doc?.params, pathNames),
        ...(doc?.query ? parametersOf('query', doc.query, []) : []),
        ...(doc?.headers ?? []).map((h) => ({ name: h.name, in: 'header', required: false, description: h.description, schema: h.schema })),
      ],
      ...(doc?.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(doc.body) } } } } : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: options.title, version: options.version },
    servers: [{ url: '/' }],
    components: {
      securitySchemes: {
        session: { type: 'apiKey', in: 'cookie', name: 'qs_session' },
        token: { type: 'http', scheme: 'bearer', description: 'API token `qst_…` from POST /api/tokens' },
      },
    },
    paths,
  };
}
