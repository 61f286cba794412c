import { describe, expect, it } from 'vitest';
import type { LedgerItem } from '../../../core/ledger/ledger-item.js';
import { ledgerReminderMessage } from '../../../pipeline/ledger/ledger-deadlines.js';

const item: LedgerItem = {
  id: 'L-2026/7',
  version: 1,
  source: 'alert',
  problem: `关于县医院收费问题\n${'县'.repeat(29)}😡尾`,
  measures: '核查并回应',
  responsible: 'duty',
  deadline: '2026-12-10T00:00:00.000Z',
  status: 'open',
  evidence: [],
  overdue: true,
  reminders: [],
  createdBy: 'chief',
  createdAt: '2026-12-01T00:00:00.000Z',
  updatedAt: '2026-12-01T00:00:00.000Z',
  history: [],
};

describe('ledger reminders', () => {
  it.each([
    ['http://127.0.0.1:8600/', 'http://127.0.0.1:8600/ledger?id=L-2026%2F7'],
    ['https://qs.unit.example', 'https://qs.unit.example/ledger?id=L-2026%2F7'],
  ])('link to the ledger route the dashboard has, with the item first (%s)', (dashboardUrl, link) => {
    expect(ledgerReminderMessage(item, 'overdue', dashboardUrl).link).toBe(link);
  });

  it('title the item on one line, at most 40 characters of its problem, never half an emoji', () => {
    expect(ledgerReminderMessage(item, 'overdue', 'http://h/').title).toBe(`【整改逾期】关于县医院收费问题 ${'县'.repeat(29)}😡`);
  });
});
