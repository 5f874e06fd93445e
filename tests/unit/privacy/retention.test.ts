import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { RetentionModule } from '../../../edge/privacy/retention.js';

describe('RetentionModule', () => {
  it('runs every purge at start with now - retentionDays, again on each pass; a failing purge does not stop the others', async () => {
    let clock = 100 * 86_400_000;
    const calls: string[] = [];
    const retention = new RetentionModule({
      retentionDays: 30,
      now: () => clock,
      log: pino({ level: 'silent' }),
      everyMs: 3_600_000,
      purges: [
        { what: 'failing', purgeBefore: () => Promise.reject(new Error('disk')) },
        { what: 'readings', purgeBefore: (cutoff) => (calls.push(`readings<${cutoff / 86_400_000}`), 3) },
      ],
    });
    await retention.start();
    expect(calls).toEqual(['readings<70']);
    expect(retention.health()).toMatchObject({ ok: false, error: 'failing: disk', retentionDays: 30 });
    clock += 86_400_000;
    await retention.runOnce();
    expect(calls).toEqual(['readings<70', 'readings<71']);
    await retention.stop();
  });
});
