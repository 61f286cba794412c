import { expect } from 'vitest';

export interface ApiResponse<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

/** A small HTTP client for the real API: a session cookie or a bearer token per client. */
export class ApiClient {
  constructor(
    readonly base: string,
    private auth: { cookie?: string; bearer?: string } = {},
  ) {}

  static async login(base: string, username: string, password = 'qianshao-demo'): Promise<ApiClient> {
    const res = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
    expect(res.status, `log-in of ${username}: ${await res.clone().text()}`).toBe(200);
    return new ApiClient(base, { cookie: (res.headers.get('set-cookie') ?? '').split(';')[0]! });
  }

  /** The headers that authenticate this client, for a raw `fetch` (e.g. a binary export). */
  authHeaders(): Record<string, string> {
    return { ...(this.auth.cookie ? { cookie: this.auth.cookie } : {}), ...(this.auth.bearer ? { authorization: `Bearer ${this.auth.bearer}` } : {}) };
  }

  withBearer(token: string): ApiClient {
    return new ApiClient(this.base, { bearer: token });
  }

  async request<T = Record<string, unknown>>(method: string, path: string, body?: unknown, rawBody?: string): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = {};
    if (this.auth.cookie) headers.cookie = this.auth.cookie;
    if (this.auth.bearer) headers.authorization = `Bearer ${this.auth.bearer}`;
    if (body !== undefined || rawBody !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${this.base}${path}`, { method, headers, body: rawBody ?? (body === undefined ? undefined : JSON.stringify(body)) });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON (an export, an empty answer)
    }
    return { status: res.status, body: parsed as T, headers: res.headers };
  }

  get<T = Record<string, unknown>>(path: string) {
    return this.request<T>('GET', path);
  }
  post<T = Record<string, unknown>>(path: string, body?: unknown) {
    return this.request<T>('POST', path, body ?? {});
  }
  patch<T = Record<string, unknown>>(path: string, body: unknown) {
    return this.request<T>('PATCH', path, body);
  }
  delete<T = Record<string, unknown>>(path: string) {
    return this.request<T>('DELETE', path);
  }
}

export const anonymous = (base: string) => new ApiClient(base);
