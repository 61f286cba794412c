/**
 * Shapes the dashboard reads from /api. Fields marked "when present" come from APIs that land
 * piece by piece (alert lifecycle, SLA clocks, plans, ledger); the UI shows them when the server
 * sends them and says plainly when it does not.
 */
export type Level = 1 | 2 | 3 | 4;

export interface User {
  username: string;
  displayName: string;
  section?: string;
  roles: string[];
}

export interface Me {
  user: User;
  permissions: string[];
}

export interface AlertHit {
  postId: string;
  term: string;
  packId?: string;
  category: string;
  level: Level;
  field: 'title' | 'text';
  start: number;
  end: number;
  suggestion?: string;
}

/** One SLA clock (签收 / 回应 / 办结) of an alert or a plan step. */
export interface SlaClock {
  kind: string;
  dueAt: string;
  /** When the clock starts warning (amber); defaults to 80 % of its span. */
  warnAt?: string;
  startedAt?: string;
  metAt?: string;
}

export interface Alert {
  id: string;
  packId?: string;
  level: Level;
  status: string;
  category: string;
  title: string;
  sourceId: string;
  postIds: string[];
  terms: string[];
  hits: AlertHit[];
  createdAt: string;
  updatedAt: string;
  assignee?: { username?: string; displayName?: string; section?: string } | string;
  clocks?: SlaClock[] | Record<string, Omit<SlaClock, 'kind'>>;
  sentiment?: { label?: string; score?: number } | string | number;
  heat?: number;
  eventId?: string;
  version?: number;
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
  terms?: string[];
  hits?: AlertHit[];
  categories?: string[];
  maxLevel?: Level;
  sentiment?: { label?: string; score?: number } | string | number;
  domain?: string;
}

export interface AuditRecord {
  seq: number;
  at: string;
  actor: { kind: string; id: string; displayName?: string; roles: string[] };
  entity: { type: string; id: string };
  action: string;
  before?: unknown;
  after?: unknown;
  reason?: string;
  requestId?: string;
  hash?: string;
}
