import { errorText } from './error-text.js';

/** An API failure: `code` is the server's stable code, `message` is Chinese text for staff. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The server's own message (English detail, e.g. the field that failed), for the details line. */
    readonly detail?: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

type Listener = (err: ApiError) => void;
const unauthenticatedListeners = new Set<Listener>();

/** Called when any request answers 401, so the app can send the user to the log-in page. */
export function onUnauthenticated(listener: Listener): () => void {
  unauthenticatedListeners.add(listener);
  return () => unauthenticatedListeners.delete(listener);
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  body?: unknown;
  query?: Record<string, string | number | boolean | undefined | null | readonly string[]>;
  signal?: AbortSignal;
  /** Do not broadcast a 401 (the session probe at start). */
  quiet401?: boolean;
  /** Fetch priority: `high` for requests the first paint waits on, ahead of the route's code. */
  priority?: RequestPriority;
  /** Sent as `Idempotency-Key`: the same on a resend of one action, so a first attempt that landed unanswered counts as done. */
  idempotencyKey?: string;
}

export function buildUrl(path: string, query?: RequestOptions['query']): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null || v === '') continue;
    if (Array.isArray(v)) for (const item of v) params.append(k, String(item));
    else params.set(k, String(v));
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

/** JSON over fetch with the session cookie; every failure becomes an `ApiError` with Chinese text. */
export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  let res: Response;
  try {
    res = await fetch(buildUrl(path, options.query), {
      method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
      credentials: 'same-origin',
      headers: {
        Accept: 'application/json',
        ...(options.body === undefined ? {} : { 'Content-Type': 'application/json' }),
        ...(options.idempotencyKey ? { 'Idempotency-Key': options.idempotencyKey } : {}),
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
      priority: options.priority,
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiError(0, 'network', errorText('network', 0));
  }
  if (res.status === 204) return undefined as T;
  const body = (await res.json().catch(() => undefined)) as { error?: { code?: string; message?: string; details?: unknown; problems?: unknown } } | undefined;
  if (!res.ok) {
    const code = body?.error?.code ?? (res.status === 404 ? 'not_found' : 'internal');
    const err = new ApiError(res.status, code, errorText(code, res.status, body?.error?.message), body?.error?.message, body?.error?.details ?? body?.error?.problems);
    if (res.status === 401 && !options.quiet401) for (const l of unauthenticatedListeners) l(err);
    throw err;
  }
  return body as T;
}

/** Downloads a file answer (XLSX export) through a temporary object URL. */
export async function download(path: string, query: RequestOptions['query'], fallbackName: string): Promise<void> {
  let res: Response;
  try {
    res = await fetch(buildUrl(path, query), { credentials: 'same-origin' });
  } catch {
    throw new ApiError(0, 'network', errorText('network', 0));
  }
  if (!res.ok) {
    const body = (await res.json().catch(() => undefined)) as { error?: { code?: string; message?: string } } | undefined;
    const code = body?.error?.code ?? 'internal';
    throw new ApiError(res.status, code, errorText(code, res.status, body?.error?.message), body?.error?.message);
  }
  const blob = await res.blob();
  // The UTF-8 name (filename*, RFC 6266) wins over the ASCII fallback the header also carries.
  const disposition = res.headers.get('content-disposition') ?? '';
  const name = /filename\*=UTF-8''([^;]+)/i.exec(disposition)?.[1] ?? /filename="?([^";]+)"?/i.exec(disposition)?.[1];
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name ? decodeURIComponent(name) : fallbackName;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function messageOf(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  return '操作失败，请重试';
}
