import { describe, expect, it } from 'vitest';
import { onDutyAt, peopleForRole, RosterSchema, type Roster } from '../../../core/duty/roster.js';
import { dryRunEscalation } from '../../../core/escalation/dry-run.js';
import { parseYamlText } from '../../../core/config/load-yaml.js';
import { InvalidInputError } from '../../../core/errors.js';
import { shipped, TZ } from './fixtures.js';

const at = (iso: string) => new Date(iso);
const names = (picks: { person: { username: string } }[]) => picks.map((p) => p.person.username);

describe('the duty roster', () => {
  it.each<[string, string, string[]]>([
    ['the day shift at 10:00 on a Tuesday', '2026-11-24T10:00:00+08:00', ['duty']],
    ['the night shift at 23:00', '2026-11-24T23:00:00+08:00', ['duty2']],
    ['the night shift that began yesterday, at 03:00', '2026-11-25T03:00:00+08:00', ['duty2']],
    ['the holiday shift on National Day at 03:00', '2026-10-02T03:00:00+08:00', ['duty', 'chief']],
    ['the holiday shift on New Year’s Day', '2027-01-01T12:00:00+08:00', ['duty', 'chief']],
  ])('%s', (_name, iso, expected) => {
    expect(names(onDutyAt(shipped.roster, at(iso), TZ, shipped.calendar))).toEqual(expected);
  });

  it('someone on leave is replaced by their delegate; leave without a delegate falls back to the duty officers', () => {
    const roster: Roster = {
      ...shipped.roster,
      leave: [{ username: 'leader', start: '2026-11-24T00:00:00+08:00', end: '2026-11-25T00:00:00+08:00', reason: '出差' }],
      delegations: [{ from: 'duty', to: 'chief', start: '2026-11-24T09:00:00+08:00', end: '2026-11-24T12:00:00+08:00', reason: '开会' }],
    };
    const t = at('2026-11-24T10:00:00+08:00');
    expect(onDutyAt(roster, t, TZ, shipped.calendar)).toEqual([expect.objectContaining({ person: expect.objectContaining({ username: 'chief' }), via: 'shift:day,delegate-of:duty' })]);
    expect(names(peopleForRole(roster, 'leader', t, TZ, shipped.calendar))).toEqual([]);
    expect(names(peopleForRole(roster, 'leader', at('2026-11-25T10:00:00+08:00'), TZ, shipped.calendar))).toEqual(['leader']);
  });

  it('rejects a roster naming people it does not list, with file, line and field', () => {
    const yaml = 'people:\n  - { username: a1, displayName: A }\nshifts:\n  - { id: d, name: D, from: "08:00", to: "20:00", people: [ghost] }\n';
    expect(() => parseYamlText(RosterSchema, yaml, 'roster.yaml')).toThrow(InvalidInputError);
    expect(() => parseYamlText(RosterSchema, yaml, 'roster.yaml')).toThrow(/roster.yaml:4: shifts.0.people.0: unknown person "ghost"/);
  });
});

describe('the escalation dry run', () => {
  it('a red alert at 10:00 tells the whole chain at once, then escalates step by step', () => {
    const entries = dryRunEscalation({ level: 1, at: at('2026-11-24T10:00:00+08:00'), policy: shipped.policy, roster: shipped.roster, calendar: shipped.calendar, timeZone: TZ });
    const first = entries[0]!;
    expect(first).toMatchObject({ trigger: 'created', offsetSeconds: 0, decision: 'send' });
    expect(first.people.map((p) => p.username)).toEqual(['duty', 'chief', 'leader', 'secretary']);
    expect(first.people.find((p) => p.username === 'secretary')!.channels).toEqual(['inapp', 'wecom-leaders']);
    expect(entries.filter((e) => e.trigger === 'escalation').map((e) => [e.offsetSeconds, e.people.map((p) => p.username)])).toEqual([
      [300, ['chief']],
      [600, ['leader']],
      [900, ['secretary']],
    ]);
    expect(entries.at(-1)!.clockId).toBe('breach-close');
  });

  it('a blue alert at 03:00 on a holiday reaches the holiday shift, held until 07:00', () => {
    const entries = dryRunEscalation({ level: 4, at: at('2026-10-02T03:00:00+08:00'), policy: shipped.policy, roster: shipped.roster, calendar: shipped.calendar, timeZone: TZ });
    expect(entries[0]).toMatchObject({ decision: 'defer', reason: 'quiet-hours', summary: '未发送：静默时段，将于 07:00 发送' });
    expect(entries[0]!.people.map((p) => p.username)).toEqual(['duty', 'chief']);
  });
});
