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

export interface EvidenceRef {
  kind: 'post' | 'snapshot' | 'file' | 'link';
  ref: string;
  note?: string;
  addedAt: string;
  addedBy: string;
}

export interface TimelineEntry {
  at: string;
  kind: string;
  actor: string;
  note?: string;
  postId?: string;
  from?: unknown;
  to?: unknown;
}

export interface NotificationRecord {
  at: string;
  trigger: string;
  recipients: string[];
  channels: string[];
  decision: 'send' | 'defer' | 'suppress';
  reason: string;
  summary: string;
  sendAt?: string;
  delivered?: { jobId: string; channelId: string; status: string; at: string; error?: string }[];
}

export interface PlanStepState {
  id: string;
  title: string;
  role: string;
  assignee?: string;
  dueAt: string;
  evidenceRequired: boolean;
  completedAt?: string;
  completedBy?: string;
  note?: string;
  evidence: EvidenceRef[];
}

export interface PlanChecklist {
  templateId: string;
  name: string;
  triggeredAt: string;
  triggeredBy: string;
  steps: PlanStepState[];
}

export interface LevelPolicy {
  acknowledgeSeconds: number;
  respondSeconds: number;
  pressConferenceSeconds?: number;
  closeSeconds: number;
  steps: { afterSeconds: number; role: string }[];
}

export interface EscalationPolicy {
  id: string;
  version: number;
  warnAtPercent: number;
  topOfChainAtOnce?: number[];
  requirePlanForLevels?: number[];
  levels: { red: LevelPolicy; orange: LevelPolicy; yellow: LevelPolicy; blue: LevelPolicy };
  notifications?: { quietHours?: { from: string; to: string; levels: number[] }; groupWindowSeconds?: number; repeatIntervalSeconds?: number; inhibitLowerLevelsOfSameEvent?: boolean };
  leveling?: { heatRaisesAt: number; negativeSentimentRaisesAt: number; maxRaise: number };
}

export interface FiredClock {
  key: string;
  clockId: string;
  dueAt: string;
  firedAt: string;
  lateMs: number;
  outcome: string;
}

export interface Alert {
  id: string;
  packId?: string;
  level: Level;
  status: string;
  category: string;
  title: string;
  sourceId: string;
  eventId?: string;
  postIds: string[];
  terms: string[];
  hits: AlertHit[];
  createdAt: string;
  updatedAt: string;
  heat?: number;
  /** Mean sentiment of the posts, −1 … 1. */
  sentiment?: number | { label?: string; score?: number } | string;
  assignee?: { kind: 'person' | 'section'; id: string; name?: string };
  levelExplanation?: { ruleLevel: Level; level: Level; reasons: string[] };
  explanation?: {
    terms: { term: string; packId: string; category: string; level: Level; count: number; suggestion?: string }[];
    schemes: { id: string; name?: string; groups?: unknown }[];
    exclusionsChecked: string[];
  };
  evidence?: EvidenceRef[];
  timeline?: TimelineEntry[];
  acknowledgedAt?: string;
  acknowledgedBy?: string;
  respondedAt?: string;
  pressConferenceAt?: string;
  closedAt?: string;
  falsePositiveReason?: string;
  cycleStartedAt?: string;
  reopenCount?: number;
  escalationStep?: number;
  policy?: EscalationPolicy;
  firedClocks?: FiredClock[];
  nextDueAt?: string;
  notifications?: NotificationRecord[];
  lastNotification?: NotificationRecord;
  plan?: PlanChecklist;
  /** Optimistic-concurrency token (`<seq_no>:<primary_term>`), sent back with every action. */
  version?: string;
  /** Older shape: explicit clocks. */
  clocks?: SlaClock[];
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
  eventId?: string;
  /** Set while the post is gone from its position (its text is kept). */
  deleted?: { at: string; crawl: { sourceId: string; at: string } };
  /** Earlier wordings (原文), oldest first; left out of search results. */
  versions?: PostVersion[];
  editedAt?: string;
  restoredAt?: string;
}

/** One earlier wording of a post, replaced by a later edit. */
export interface PostVersion {
  textHash: string;
  title: string;
  text: string;
  seenFrom: string;
  seenUntil: string;
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
