import { api, ApiError, type Alert, type Post, type User } from './api.js';
import { formatTime, h, highlight } from './dom.js';

const LEVEL = { 1: { name: '一级', color: '红', cls: 'l1' }, 2: { name: '二级', color: '橙', cls: 'l2' }, 3: { name: '三级', color: '黄', cls: 'l3' }, 4: { name: '四级', color: '蓝', cls: 'l4' } } as const;
const STATUS: Record<string, string> = { new: '待签收', acknowledged: '已签收', handling: '处置中', responded: '已回应', closed: '已办结', false_positive: '误报' };
const KIND: Record<string, string> = { article: '文章', comment: '评论', message: '留言', reply: '回复', weibo: '微博', attachment: '附件' };

const root = document.getElementById('app')!;
let live: EventSource | undefined;

function render(...nodes: Node[]): void {
  root.replaceChildren(...nodes);
}

function showLogin(message?: string): void {
  live?.close();
  const error = h('p', { class: 'error', role: 'alert' }, message ?? '');
  const username = h('input', { name: 'username', autocomplete: 'username', required: true, 'aria-label': '用户名' });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true, 'aria-label': '密码' });
  const form = h(
    'form',
    {
      class: 'login',
      onsubmit: async (e: Event) => {
        e.preventDefault();
        try {
          const { user } = await api<{ user: User }>('/api/auth/login', { method: 'POST', body: JSON.stringify({ username: username.value, password: password.value }) });
          await showWall(user);
        } catch (err) {
          error.textContent = err instanceof ApiError ? err.message : '登录失败';
        }
      },
    },
    h('h1', {}, '前哨 · 舆情监测预警系统'),
    h('label', {}, '用户名', username),
    h('label', {}, '密码', password),
    h('button', { type: 'submit' }, '登录'),
    error,
  );
  render(form);
  username.focus();
}

function levelBadge(level: 1 | 2 | 3 | 4): HTMLElement {
  const l = LEVEL[level];
  return h('span', { class: `badge ${l.cls}`, title: `${l.name}（${l.color}）预警` }, `${l.name}${l.color}`);
}

async function showAlertDetail(panel: HTMLElement, alert: Alert): Promise<void> {
  panel.replaceChildren(h('p', { class: 'muted' }, '加载中…'));
  try {
    const { posts } = await api<{ alert: Alert; posts: Post[] }>(`/api/alerts/${encodeURIComponent(alert.id)}`);
    panel.replaceChildren(
      h('h2', {}, levelBadge(alert.level), ' ', alert.title),
      h('p', { class: 'muted' }, `类别：${alert.category}　状态：${STATUS[alert.status] ?? alert.status}　首次发现：${formatTime(alert.createdAt)}`),
      h('h3', {}, '命中说明'),
      h('ul', {}, ...alert.terms.map((t) => {
        const hit = alert.hits.find((x) => x.term === t);
        return h('li', {}, `命中词「${t}」`, hit?.suggestion ? `，建议改为「${hit.suggestion}」` : '');
      })),
      h('h3', {}, `相关帖文（${posts.length}）`),
      ...posts.map((post) => {
        const hits = alert.hits.filter((x) => x.postId === post.id && x.field === 'text');
        return h(
          'article',
          { class: 'post' },
          h('header', {}, `${KIND[post.kind] ?? post.kind}　${post.author ?? '匿名'}　${formatTime(post.publishedAt ?? post.collectedAt)}`),
          post.title ? h('h4', {}, post.title) : null,
          h('p', { class: 'text' }, highlight(post.text, hits)),
          h('a', { href: post.url, target: '_blank', rel: 'noopener noreferrer nofollow' }, '查看原文'),
        );
      }),
    );
  } catch (err) {
    panel.replaceChildren(h('p', { class: 'error' }, err instanceof ApiError ? err.message : '加载失败'));
  }
}

async function showWall(user: User): Promise<void> {
  const counters = h('div', { class: 'counters' });
  const list = h('tbody', {});
  const detail = h('section', { class: 'detail', 'aria-live': 'polite' }, h('p', { class: 'muted' }, '选择一条预警查看详情'));
  const status = h('p', { class: 'muted' }, '加载中…');

  async function refresh(flashIds: Set<string> = new Set()): Promise<void> {
    try {
      const { alerts } = await api<{ alerts: Alert[] }>('/api/alerts?limit=200');
      status.textContent = alerts.length === 0 ? '暂无预警。系统正在监测各阵地。' : `共 ${alerts.length} 条预警，更新于 ${formatTime(new Date().toISOString())}`;
      counters.replaceChildren(
        ...([1, 2, 3, 4] as const).map((lv) =>
          h('div', { class: `counter ${LEVEL[lv].cls}` }, h('strong', {}, alerts.filter((a) => a.level === lv).length), `${LEVEL[lv].name}（${LEVEL[lv].color}）`),
        ),
      );
      list.replaceChildren(
        ...alerts.map((a) =>
          h(
            'tr',
            { class: flashIds.has(a.id) ? 'flash' : '', tabindex: '0', 'data-alert-id': a.id, onclick: () => void showAlertDetail(detail, a), onkeydown: (e: Event) => {
              if ((e as KeyboardEvent).key === 'Enter') void showAlertDetail(detail, a);
            } },
            h('td', {}, levelBadge(a.level)),
            h('td', { class: 'title' }, a.title),
            h('td', {}, a.terms.join('、')),
            h('td', {}, STATUS[a.status] ?? a.status),
            h('td', {}, formatTime(a.updatedAt)),
          ),
        ),
      );
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return showLogin('登录已过期，请重新登录');
      status.textContent = err instanceof ApiError ? err.message : '加载失败';
    }
  }

  render(
    h(
      'header',
      { class: 'top' },
      h('h1', {}, '前哨 · 预警大屏'),
      h('span', { class: 'user' }, `${user.displayName}`),
      h('button', { onclick: async () => { await api('/api/auth/logout', { method: 'POST' }).catch(() => undefined); showLogin(); } }, '退出'),
    ),
    counters,
    h('main', {}, h('section', { class: 'alerts' }, status, h('table', {}, h('thead', {}, h('tr', {}, ...['等级', '预警', '命中词', '状态', '更新时间'].map((t) => h('th', {}, t)))), list)), detail),
  );
  await refresh();
  live?.close();
  live = new EventSource('/api/live');
  live.addEventListener('alert', (e) => {
    const { alertId } = JSON.parse((e as MessageEvent<string>).data) as { alertId: string };
    void refresh(new Set([alertId]));
  });
}

api<{ user: User }>('/api/auth/me')
  .then(({ user }) => showWall(user))
  .catch(() => showLogin());
