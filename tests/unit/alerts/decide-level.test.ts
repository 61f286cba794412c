import { describe, expect, it } from 'vitest';
import { decideLevel, type LevelInput } from '../../../core/alerts/decide-level.js';
import { LevelingSchema } from '../../../core/escalation/policy.js';
import { shipped, TZ } from './fixtures.js';

const leveling = LevelingSchema.parse({ heatRaisesAt: 20, negativeSentimentRaisesAt: -0.6, negativeSentimentMinHeat: 5, maxRaise: 2 });
const at = (iso: string) => new Date(iso);
const input = (over: Partial<LevelInput>): LevelInput => ({ ruleLevel: 4, category: '负面', heat: 1, at: at('2026-11-24T10:00:00+08:00'), ...over });

describe('decideLevel', () => {
  it.each<[string, Partial<LevelInput>, number]>([
    ['the rule level stands on an ordinary day', {}, 4],
    ['heat at the threshold raises one level', { heat: 20 }, 3],
    ['strongly negative sentiment across five posts raises one level', { sentiment: -0.8, heat: 5 }, 3],
    ['one angry post alone does not', { sentiment: -0.9, heat: 1 }, 4],
    ['mildly negative sentiment does not', { sentiment: -0.3 }, 4],
    ['National Day (国庆) raises one level', { at: at('2026-10-03T10:00:00+08:00') }, 3],
    ['New Year (元旦) raises one level', { at: at('2027-01-01T00:30:00+08:00') }, 3],
    ['Spring Festival 2027 (春节, dated) raises one level', { at: at('2027-02-07T10:00:00+08:00') }, 3],
    ['the 两会 window raises only its categories', { category: '错敏词', at: at('2027-03-05T10:00:00+08:00') }, 4],
    ['heat, sentiment and a holiday together are capped at two levels', { heat: 50, sentiment: -0.9, at: at('2026-10-02T10:00:00+08:00') }, 2],
    ['never above 一级', { ruleLevel: 1, heat: 50 }, 1],
  ])('%s', (_name, over, level) => {
    expect(decideLevel(input(over), leveling, shipped.calendar, TZ).level).toBe(level);
  });

  it('explains each step', () => {
    const e = decideLevel(input({ heat: 25, at: at('2026-10-01T09:00:00+08:00') }), leveling, shipped.calendar, TZ);
    expect(e.reasons.join('；')).toContain('热度 25');
    expect(e.reasons.join('；')).toContain('敏感时期「国庆」');
  });
});
