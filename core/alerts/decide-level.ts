import type { Calendar } from '../calendar/sensitive-periods.js';
import { levelName } from '../labels.js';
import { periodsAt } from '../calendar/sensitive-periods.js';
import type { Leveling } from '../escalation/policy.js';
import type { AlertLevel } from '../rules/rule-pack.js';
import type { LevelExplanation } from './alert.js';

export interface LevelInput {
  /** Highest level among the matched rule terms (1 = red). */
  ruleLevel: AlertLevel;
  category: string;
  heat: number;
  sentiment?: number;
  at: Date;
}


/**
 * The alert's level: the rule's level, raised one step by heat, one by strongly negative sentiment
 * across enough posts,
 * and by each sensitive period in force (元旦, 春节, 国庆, the unit's own dates), never more than
 * `leveling.maxRaise` steps above the rule's level and never above 一级. Every step is a reason.
 */
export function decideLevel(input: LevelInput, leveling: Leveling, calendar: Calendar, timeZone: string): LevelExplanation {
  const reasons = [`规则等级：${levelName(input.ruleLevel, 'short')}`];
  let raise = 0;
  if (input.heat >= leveling.heatRaisesAt) {
    raise += 1;
    reasons.push(`热度 ${input.heat} ≥ ${leveling.heatRaisesAt}，升一级`);
  }
  if (input.sentiment !== undefined && input.sentiment <= leveling.negativeSentimentRaisesAt && input.heat >= leveling.negativeSentimentMinHeat) {
    raise += 1;
    reasons.push(`${input.heat} 条帖文平均情感 ${input.sentiment.toFixed(2)} ≤ ${leveling.negativeSentimentRaisesAt}（负面），升一级`);
  }
  for (const period of periodsAt(calendar, input.at, timeZone)) {
    if (period.raiseLevels === 0) continue;
    if (period.categories.length > 0 && !period.categories.includes(input.category)) continue;
    raise += period.raiseLevels;
    reasons.push(`敏感时期「${period.name}」，升${period.raiseLevels}级`);
  }
  if (raise > leveling.maxRaise) {
    reasons.push(`最多升 ${leveling.maxRaise} 级`);
    raise = leveling.maxRaise;
  }
  const level = Math.max(1, input.ruleLevel - raise) as AlertLevel;
  if (level !== input.ruleLevel) reasons.push(`定为${levelName(level, 'short')}`);
  return { ruleLevel: input.ruleLevel, level, reasons };
}
