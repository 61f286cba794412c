import { computed, reactive } from 'vue';
import { api, ApiError } from '../api/client.js';
import type { Me } from '../api/types.js';

/** Who is signed in and what their roles allow (from GET /api/auth/me, core/auth/permissions.ts). */
export const session = reactive<{ me: Me | null; checked: boolean }>({ me: null, checked: false });

export function can(permission: string): boolean {
  return session.me?.permissions.includes(permission) ?? false;
}

export function canAny(permissions: readonly string[]): boolean {
  return permissions.some(can);
}

export const currentUser = computed(() => session.me?.user);

let probing: Promise<Me | null> | undefined;

/**
 * Asks the server once whether the cookie still holds a session; concurrent callers share the one
 * request. main.ts calls it before the first route's code is requested, so the check is not queued
 * behind that code on the browser's six connections per host.
 */
export function probeSession(): Promise<Me | null> {
  if (session.checked) return Promise.resolve(session.me);
  probing ??= requestSession().finally(() => (probing = undefined));
  return probing;
}

async function requestSession(): Promise<Me | null> {
  try {
    session.me = await api<Me>('/api/auth/me', { quiet401: true, priority: 'high' });
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 401) throw err;
    session.me = null;
  } finally {
    session.checked = true;
  }
  return session.me;
}

export async function login(username: string, password: string): Promise<Me> {
  const me = await api<Me>('/api/auth/login', { body: { username, password }, quiet401: true });
  session.me = me;
  session.checked = true;
  return me;
}

export async function logout(): Promise<void> {
  await api('/api/auth/logout', { method: 'POST' }).catch(() => undefined);
  session.me = null;
}

export function forgetSession(): void {
  session.me = null;
  session.checked = true;
}
