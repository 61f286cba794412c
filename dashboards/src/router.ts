import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router';
import { canAny, probeSession, session } from './session/session.js';

declare module 'vue-router' {
  interface RouteMeta {
    title?: string;
    /** The user needs at least one of these permissions (core/auth/permissions.ts). */
    anyOf?: readonly string[];
    public?: boolean;
  }
}

/** Pages of the administration area, each behind the permission that changes what it shows. */
export const ADMIN_PAGES = [
  { path: 'users', title: '用户与角色', anyOf: ['users.write'], component: () => import('./pages/admin/UsersPage.vue') },
  { path: 'roster', title: '值班表', anyOf: ['roster.write'], component: () => import('./pages/admin/RosterPage.vue') },
  { path: 'policies', title: '升级策略', anyOf: ['policies.write'], component: () => import('./pages/admin/PoliciesPage.vue') },
  { path: 'channels', title: '通知渠道', anyOf: ['channels.write'], component: () => import('./pages/admin/ChannelsPage.vue') },
  { path: 'plans', title: '预案模板', anyOf: ['policies.write'], component: () => import('./pages/admin/PlansPage.vue') },
  { path: 'calendar', title: '敏感时期', anyOf: ['policies.write'], component: () => import('./pages/admin/CalendarPage.vue') },
  { path: 'tokens', title: '接口令牌', anyOf: ['tokens.write'], component: () => import('./pages/admin/TokensPage.vue') },
  { path: 'queues', title: '队列监控', anyOf: ['pipeline.admin'], component: () => import('./pages/admin/QueuesPage.vue') },
] as const;
export const ADMIN_PERMISSIONS = [...new Set(ADMIN_PAGES.flatMap((p) => p.anyOf))];

const routes: RouteRecordRaw[] = [
  { path: '/login', name: 'login', component: () => import('./pages/LoginPage.vue'), meta: { public: true, title: '登录' } },
  { path: '/wall/display', name: 'wall-display', component: () => import('./pages/wall/WallPage.vue'), props: { display: true }, meta: { title: '预警大屏', anyOf: ['alert.read'] } },
  {
    path: '/',
    component: () => import('./layout/AppLayout.vue'),
    children: [
      { path: '', redirect: '/wall' },
      { path: 'wall', name: 'wall', component: () => import('./pages/wall/WallPage.vue'), props: { display: false }, meta: { title: '预警大屏', anyOf: ['alert.read'] } },
      { path: 'alerts', name: 'alerts', component: () => import('./pages/alert/AlertListPage.vue'), meta: { title: '预警列表', anyOf: ['alert.read'] } },
      { path: 'alerts/:id', name: 'alert', component: () => import('./pages/alert/AlertDetailPage.vue'), props: true, meta: { title: '预警详情', anyOf: ['alert.read'] } },
      { path: 'search', name: 'search', component: () => import('./pages/search/SearchPage.vue'), meta: { title: '全文检索', anyOf: ['search.read'] } },
      { path: 'trends', name: 'trends', component: () => import('./pages/trends/TrendsPage.vue'), meta: { title: '态势分析', anyOf: ['reports.read'] } },
      { path: 'reports', name: 'reports', component: () => import('./pages/reports/ReportPage.vue'), meta: { title: '分析研判报告', anyOf: ['reports.read'] } },
      { path: 'positions', name: 'positions', component: () => import('./pages/positions/PositionsPage.vue'), meta: { title: '阵地健康', anyOf: ['sources.read'] } },
      { path: 'ledger', name: 'ledger', component: () => import('./pages/ledger/LedgerPage.vue'), meta: { title: '整改台账', anyOf: ['ledger.read'] } },
      { path: 'rules', name: 'rules', component: () => import('./pages/rules/RulesPage.vue'), meta: { title: '监测规则', anyOf: ['rules.read'] } },
      { path: 'audit', name: 'audit', component: () => import('./pages/audit/AuditPage.vue'), meta: { title: '审计日志', anyOf: ['audit.read'] } },
      {
        path: 'admin',
        name: 'admin',
        component: () => import('./pages/admin/AdminLayout.vue'),
        meta: { title: '系统管理', anyOf: ADMIN_PERMISSIONS },
        children: [
          { path: '', name: 'admin-home', component: () => import('./pages/admin/AdminHome.vue'), meta: { title: '系统管理', anyOf: ADMIN_PERMISSIONS } },
          ...ADMIN_PAGES.map((p) => ({ path: p.path, name: `admin-${p.path}`, component: p.component, meta: { title: p.title, anyOf: p.anyOf } })),
        ],
      },
      { path: 'forbidden', name: 'forbidden', component: () => import('./pages/ForbiddenPage.vue'), meta: { title: '无权访问' } },
      { path: ':pathMatch(.*)*', name: 'not-found', component: () => import('./pages/NotFoundPage.vue'), meta: { title: '页面不存在' } },
    ],
  },
];

export const router = createRouter({ history: createWebHistory(), routes });

router.beforeEach(async (to) => {
  if (to.meta.public) return true;
  let me = session.me;
  if (!session.checked) {
    try {
      me = await probeSession();
    } catch {
      // The server is unreachable: the log-in page says so when it tries.
      me = null;
    }
  }
  if (!me) return { name: 'login', query: to.fullPath !== '/' ? { redirect: to.fullPath } : {} };
  // Every matched record must allow the user: a child page cannot escape its area's guard.
  for (const record of to.matched) {
    const anyOf = record.meta.anyOf;
    if (anyOf && anyOf.length > 0 && !canAny(anyOf)) return { name: 'forbidden', query: { from: to.fullPath } };
  }
  return true;
});

router.afterEach((to) => {
  document.title = to.meta.title ? `${to.meta.title} · 前哨` : '前哨 · 舆情监测预警';
});
