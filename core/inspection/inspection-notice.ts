import type { FindingStatus } from './inspect-website.js';

/**
 * What a finding's new status means for the people who answer for the position:
 * - `became-fail`: the item now fails (单项否决) — tell them;
 * - `became-warn`: the item nears its line from a pass or from no data — tell them, before the line;
 * - `eased`: from fail to warn; `recovered`: back to pass; `unchanged`; `no-data`: nothing measurable now.
 * Only the first two notify; every status is remembered for the next comparison.
 */
export type InspectionNotice = 'became-fail' | 'became-warn' | 'eased' | 'recovered' | 'unchanged' | 'no-data';

export const NOTIFYING_NOTICES: ReadonlySet<InspectionNotice> = new Set(['became-fail', 'became-warn']);

export function decideInspectionNotice(previous: FindingStatus | undefined, current: FindingStatus): InspectionNotice {
  if (current === 'unknown') return 'no-data';
  if (current === 'fail') return previous === 'fail' ? 'unchanged' : 'became-fail';
  if (current === 'warn') return previous === 'warn' ? 'unchanged' : previous === 'fail' ? 'eased' : 'became-warn';
  return previous === 'warn' || previous === 'fail' ? 'recovered' : 'unchanged';
}
