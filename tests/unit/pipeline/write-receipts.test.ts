import { describe, expect, it } from 'vitest';
import { ABSENT, carriesWriteOf, decideLostAnswer, keyedReceipt, newReceipt, RECEIPTS_KEPT, withReceipt, type DocVersion, type LostAnswerOutcome } from '../../../pipeline/elasticsearch/write-receipts.js';

const v = (seq: number, term = 1): DocVersion => ({ if_seq_no: seq, if_primary_term: term });

describe('decideLostAnswer: what became of a compare-and-set write whose answer was lost', () => {
  const expected = v(7);
  const mine = newReceipt(expected);
  const theirs = newReceipt(expected);
  const afterMine = newReceipt(v(8));

  it.each<[string, Parameters<typeof decideLostAnswer>[2], LostAnswerOutcome]>([
    // the stored document carries this write's receipt as its newest: its version is ours
    ['landed', { version: v(8), receipts: [mine] }, { outcome: 'landed', version: v(8) }],
    // someone wrote on top of ours: our version is the one the next write replaced
    ['landed, then changed', { version: v(9), receipts: [afterMine, mine] }, { outcome: 'landed-then-changed', version: v(8) }],
    // untouched since: not landed (yet), only a resend of the same compare-and-set settles it
    ['still at the version it replaced', { version: v(7), receipts: [] }, { outcome: 'still-at-expected' }],
    ['still there, with older receipts', { version: v(7), receipts: [newReceipt(v(6))] }, { outcome: 'still-at-expected' }],
    // another write won the version ours replaced: ours can never land
    ['overtaken by another write', { version: v(8), receipts: [theirs] }, { outcome: 'overtaken' }],
    // a new primary since (failover) with the same seq_no is another version
    ['same seq_no under a new primary term', { version: v(7, 2), receipts: [] }, { outcome: 'overtaken' }],
    ['no document', undefined, { outcome: 'missing' }],
  ])('%s', (_name, stored, outcome) => {
    expect(decideLostAnswer(mine, expected, stored)).toEqual(outcome);
  });

  const creating = newReceipt(ABSENT);
  it.each<[string, Parameters<typeof decideLostAnswer>[2], LostAnswerOutcome]>([
    // a create whose answer was lost: the absent document is the version it replaced
    ['created', { version: v(0), receipts: [creating] }, { outcome: 'landed', version: v(0) }],
    ['created, then changed', { version: v(1), receipts: [newReceipt(v(0)), creating] }, { outcome: 'landed-then-changed', version: v(0) }],
    ['not there yet', { version: ABSENT, receipts: [] }, { outcome: 'still-at-expected' }],
    ['created by someone else', { version: v(0), receipts: [newReceipt(ABSENT)] }, { outcome: 'overtaken' }],
  ])('create: %s', (_name, stored, outcome) => {
    expect(decideLostAnswer(creating, ABSENT, stored)).toEqual(outcome);
  });

  it('receipts are unique per write and a document keeps the newest few', () => {
    const receipts = Array.from({ length: 20 }, () => newReceipt(v(1)));
    expect(new Set(receipts).size).toBe(20);
    let kept: string[] | undefined;
    for (const r of receipts) kept = withReceipt(r, kept);
    expect(kept).toEqual(receipts.slice(-RECEIPTS_KEPT).reverse());
  });

  it('a keyed receipt is the same for every attempt of its key from one version, and names its key only', () => {
    const first = keyedReceipt('act\u0000duty\u0000acknowledge\u0000k-1', v(3));
    expect(keyedReceipt('act\u0000duty\u0000acknowledge\u0000k-1', v(3))).toBe(first);
    expect(keyedReceipt('act\u0000duty\u0000acknowledge\u0000k-1', v(5))).not.toBe(first);
    const kept = withReceipt(newReceipt(v(4)), [first, newReceipt(ABSENT)]);
    expect(carriesWriteOf(kept, 'act\u0000duty\u0000acknowledge\u0000k-1')).toBe(true);
    expect(carriesWriteOf(kept, 'act\u0000duty2\u0000acknowledge\u0000k-1')).toBe(false);
    expect(carriesWriteOf(undefined, 'act\u0000duty\u0000acknowledge\u0000k-1')).toBe(false);
    // Settling a lost answer works on keyed receipts as on any other.
    expect(decideLostAnswer(first, v(3), { version: v(4), receipts: [first] })).toEqual({ outcome: 'landed', version: v(4) });
  });
});
