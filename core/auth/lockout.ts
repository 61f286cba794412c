/**
 * Lock-out after repeated failed log-ins: `maxFailures` failures within `windowMinutes` lock the
 * account for `lockMinutes`. Counted per username whether or not it exists, so lock-out does not
 * reveal which accounts exist.
 */
export interface LockoutPolicy {
  maxFailures: number;
  windowMinutes: number;
  lockMinutes: number;
}

export const DEFAULT_LOCKOUT: LockoutPolicy = { maxFailures: 5, windowMinutes: 15, lockMinutes: 15 };

export type FailureDecision =
  | { kind: 'counted'; remaining: number }
  /** This failure reached the limit: lock until `until`. */
  | { kind: 'lock'; until: Date };

/** What a failed log-in means, given how many failures (this one included) fall in the window. */
export function decideAfterFailure(failuresInWindow: number, policy: LockoutPolicy, now: Date): FailureDecision {
  if (failuresInWindow >= policy.maxFailures) return { kind: 'lock', until: new Date(now.getTime() + policy.lockMinutes * 60_000) };
  return { kind: 'counted', remaining: policy.maxFailures - failuresInWindow };
}

/** The message a locked-out person reads, with the time the lock ends in the unit's time zone. */
export function lockedMessage(until: Date, timeZone: string): string {
  const when = new Intl.DateTimeFormat('zh-CN', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false }).format(until);
  return `登录失败次数过多，账号已锁定至 ${when} (account locked until ${until.toISOString()})`;
}
