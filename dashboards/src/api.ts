export interface User {
  username: string;
  displayName: string;
  roles: string[];
}

export interface AlertHit {
  postId: string;
  term: string;
  category: string;
  level: 1 | 2 | 3 | 4;
  field: 'title' | 'text';
  start: number;
  end: number;
  suggestion?: string;
}

export interface Alert {
  id: string;
  level: 1 | 2 | 3 | 4;
  status: string;
  category: string;
  title: string;
  sourceId: string;
  postIds: string[];
  terms: string[];
  hits: AlertHit[];
  createdAt: string;
  updatedAt: string;
}

export interface Post {
  id: string;
  sourceId: string;
  kind: string;
  url: string;
  title: string;
  text: string;
  author?: string;
  publishedAt?: string;
  collectedAt: string;
  terms: string[];
}

/** Stable error codes from the API, in the words staff read. */
const ERROR_TEXT: Record<string, string> = {
  unauthenticated: '请先登录，或用户名密码错误',
  forbidden: '当前角色无权执行此操作',
  not_found: '未找到该记录',
  invalid_body: '提交的内容不完整或格式不对',
  invalid_json: '提交的内容格式不对',
  elasticsearch_unavailable: '检索服务暂不可用，请稍后重试',
  internal: '系统内部错误，请联系管理员',
};

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, { ...init, credentials: 'same-origin', headers: { 'Content-Type': 'application/json', ...init.headers } });
  } catch {
    throw new ApiError(0, 'network', '无法连接服务器，请检查网络');
  }
  if (res.status === 204) return undefined as T;
  const body = (await res.json().catch(() => ({}))) as { error?: { code: string; message: string } };
  if (!res.ok) {
    const code = body.error?.code ?? 'internal';
    throw new ApiError(res.status, code, ERROR_TEXT[code] ?? body.error?.message ?? `请求失败（${res.status}）`);
  }
  return body as T;
}
