import { ADMIN_PERMISSIONS } from '../router.js';

export interface NavItem {
  path: string;
  title: string;
  anyOf: readonly string[];
}

/** The side menu: a page shows only for roles that may open it (the router guards the same). */
export const NAV: readonly NavItem[] = [
  { path: '/wall', title: '预警大屏', anyOf: ['alert.read'] },
  { path: '/alerts', title: '预警列表', anyOf: ['alert.read'] },
  { path: '/search', title: '全文检索', anyOf: ['search.read'] },
  { path: '/trends', title: '态势分析', anyOf: ['reports.read'] },
  { path: '/reports', title: '研判报告', anyOf: ['reports.read'] },
  { path: '/positions', title: '阵地健康', anyOf: ['sources.read'] },
  { path: '/ledger', title: '整改台账', anyOf: ['ledger.read'] },
  { path: '/rules', title: '监测规则', anyOf: ['rules.read'] },
  { path: '/audit', title: '审计日志', anyOf: ['audit.read'] },
  { path: '/admin', title: '系统管理', anyOf: ADMIN_PERMISSIONS },
];
