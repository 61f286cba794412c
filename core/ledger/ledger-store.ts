import type { LedgerItem, LedgerSource, LedgerStatus } from './ledger-item.js';

export interface LedgerQuery {
  status?: LedgerStatus[];
  source?: LedgerSource;
  responsible?: string;
  section?: string;
  alertId?: string;
  overdue?: boolean;
  /** Deadline on or after / before. */
  deadlineFrom?: Date;
  deadlineTo?: Date;
  limit?: number;
}

/**
 * Where ledger items live. `update` applies a change to the current item with optimistic
 * concurrency: the change function may throw (an illegal transition) and is re-run on the fresh
 * item if someone else changed it meanwhile. Deliberately left out: deleting an item — a mistaken
 * item is closed with a note, and its history stays.
 */
export interface LedgerStore {
  create(item: LedgerItem): Promise<void>;
  get(id: string): Promise<LedgerItem | undefined>;
  /** Overdue first, then by deadline. */
  list(query: LedgerQuery): Promise<LedgerItem[]>;
  update(id: string, change: (current: LedgerItem) => LedgerItem): Promise<{ before: LedgerItem; after: LedgerItem }>;
}
