import { describe, expect, it } from 'vitest';
import { afterAccountChange } from '../../../api/account-change.js';

describe('afterAccountChange: a stored account change is always audited', () => {
  it('runs every step in order, then the audit record', async () => {
    const done: string[] = [];
    await afterAccountChange([async () => done.push('announce'), async () => done.push('end sessions')], async () => done.push('audit'));
    expect(done).toEqual(['announce', 'end sessions', 'audit']);
  });

  it('when a step fails (Redis down while announcing), the later steps and the audit record still run, then the first failure is thrown', async () => {
    const done: string[] = [];
    const failed = afterAccountChange(
      [
        async () => {
          throw new Error('announce failed');
        },
        async () => {
          done.push('end sessions');
          throw new Error('second failure');
        },
      ],
      async () => done.push('audit'),
    );
    await expect(failed).rejects.toThrow('announce failed');
    expect(done).toEqual(['end sessions', 'audit']);
  });
});
