import { formatShanghai } from '../core/reports/period.js';
import { POST_KIND_NAMES, STATUS_NAMES, levelName, nameOf } from '../core/labels.js';
import { clip, oneLine } from '../core/text/clip.js';

/**
 * 快报 / 续报: the short brief a unit sends upward about one alert — what happened, when, where,
 * how far it has spread, what has been done, what comes next. Built from the alert as stored (its
 * timeline, plan checklist and posts), so every sentence can be checked against the alert's page.
 */
export interface Brief {
  alertId: string;
  /** 1 = 快报; 2… = 续报（第N报）. */
  sequence: number;
  title: string;
  unit: string;
  issuedAt: string;
  issuedBy: string;
  sections: { heading: string; paragraphs: string[] }[];
}

export interface BriefAlert {
  id: string;
  title: string;
  level: number;
  status: string;
  category: string;
  sourceId: string;
  createdAt: string;
  heat?: number;
  sentiment?: number;
  acknowledgedAt?: string;
  acknowledgedBy?: string;
  respondedAt?: string;
  closedAt?: string;
  terms?: string[];
  timeline?: { at: string; kind: string; actor: string; note?: string }[];
  plan?: { name: string; steps: { title: string; dueAt: string; completedAt?: string; completedBy?: string; note?: string }[] };
}

export interface BriefPost {
  title?: string;
  text: string;
  url: string;
  kind: string;
  publishedAt?: string;
  collectedAt: string;
}

const TIMELINE_NAME: Record<string, string> = {
  acknowledge: '签收',
  start_handling: '开始处置',
  add_evidence: '补充证据',
  assign: '指派',
  escalate: '升级',
  change_level: '调整等级',
  respond: '回应',
  close: '办结',
  false_positive: '标记误报',
  reopen: '重新打开',
  trigger_plan: '启动预案',
};

/** At most `max` characters of `text` on one line, never half an emoji (the title names the DOCX file). */
function excerpt(text: string, max: number): string {
  return clip(oneLine(text), max, '……');
}

export function buildBrief(input: { alert: BriefAlert; posts: BriefPost[]; sourceName: string; unit: string; sequence: number; issuedBy: string; now: Date; nextSteps?: string }): Brief {
  const { alert, posts } = input;
  const first = [...posts].sort((a, b) => Date.parse(a.publishedAt ?? a.collectedAt) - Date.parse(b.publishedAt ?? b.collectedAt))[0];
  const kinds = [...new Set(posts.map((p) => nameOf(POST_KIND_NAMES, p.kind)))].join('、');
  const subject = excerpt(alert.title.replace(/（命中：.*）$/, ''), 40);
  const what = [
    `${formatShanghai(new Date(first?.publishedAt ?? alert.createdAt))}，我单位“${input.sourceName}”出现${first ? `${nameOf(POST_KIND_NAMES, first.kind)}“${excerpt(first.title || first.text, 80)}”` : '相关信息'}。`,
    `系统于 ${formatShanghai(new Date(alert.createdAt))} 发出${levelName(alert.level, 'plain')}预警（类别：${alert.category}${alert.terms?.length ? `；命中：${alert.terms.slice(0, 8).join('、')}` : ''}），当前状态：${nameOf(STATUS_NAMES, alert.status)}。`,
  ];
  const spread = [
    `截至 ${formatShanghai(input.now)}，相关${kinds || '信息'}共 ${posts.length} 条${alert.heat !== undefined ? `，事件热度 ${Math.round(alert.heat)}` : ''}${alert.sentiment !== undefined ? `，情感倾向${alert.sentiment <= -0.3 ? '偏负面' : alert.sentiment >= 0.3 ? '偏正面' : '中性'}` : ''}。`,
    ...posts.slice(0, 3).map((p, i) => `代表性信息${i + 1}：“${excerpt(p.title || p.text, 100)}”（${p.url}）`),
  ];
  const done: string[] = [];
  if (alert.acknowledgedAt) done.push(`${formatShanghai(new Date(alert.acknowledgedAt))} ${alert.acknowledgedBy ?? '值班人员'}签收预警。`);
  for (const t of alert.timeline ?? []) {
    const name = TIMELINE_NAME[t.kind];
    // Acknowledgement and completed plan steps are told from their own fields, once.
    if (!name || t.kind === 'acknowledge') continue;
    done.push(`${formatShanghai(new Date(t.at))} ${t.actor}${name}${t.note ? `：${excerpt(t.note, 120)}` : ''}。`);
  }
  for (const s of alert.plan?.steps ?? []) if (s.completedAt) done.push(`${formatShanghai(new Date(s.completedAt))} 完成预案步骤“${s.title}”${s.note ? `：${excerpt(s.note, 120)}` : ''}。`);
  const open = (alert.plan?.steps ?? []).filter((s) => !s.completedAt);
  const next = input.nextSteps
    ? input.nextSteps.split(/\n+/)
    : open.length > 0
      ? open.map((s) => `${s.title}（时限 ${formatShanghai(new Date(s.dueAt))}）。`)
      : ['持续跟踪研判舆情走势，有新情况及时续报。'];
  return {
    alertId: alert.id,
    sequence: input.sequence,
    title: `关于${subject}的舆情${input.sequence === 1 ? '快报' : `续报（第${input.sequence}报）`}`,
    unit: input.unit,
    issuedAt: input.now.toISOString(),
    issuedBy: input.issuedBy,
    sections: [
      { heading: '基本情况', paragraphs: what },
      { heading: '传播及影响', paragraphs: spread },
      { heading: '已采取的措施', paragraphs: done.length > 0 ? done : ['预警尚未签收处置。'] },
      { heading: '下一步工作', paragraphs: next },
    ],
  };
}

const CN = ['一', '二', '三', '四', '五'];

export function renderBriefText(brief: Brief): string {
  const lines = [brief.title, '', `报送单位：${brief.unit}　报送时间：${formatShanghai(new Date(brief.issuedAt))}　签发：${brief.issuedBy}`, ''];
  brief.sections.forEach((s, i) => lines.push(`${CN[i]}、${s.heading}`, ...s.paragraphs.map((p) => `　　${p}`), ''));
  return lines.join('\n');
}
