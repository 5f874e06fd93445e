import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PeriodicSync } from '../../../edge/core/periodic-sync.js';

afterEach(() => vi.useRealTimers());

describe('PeriodicSync', () => {
  it('never overlaps, logs a failure once per message, reports it until a sync works, and stop waits for the running one', async () => {
    vi.useFakeTimers();
    const lines: string[] = [];
    const log = pino({ level: 'info' }, { write: (line: string) => lines.push((JSON.parse(line) as { msg: string }).msg) });
    let release: () => void = () => undefined;
    let calls = 0;
    const outcomes: Array<'hang' | 'fail' | 'ok'> = ['hang', 'fail', 'fail', 'ok'];
    const sync = new PeriodicSync({
      everyMs: 100,
      what: 'tokens',
      log,
      sync: () => {
        const outcome = outcomes[calls++] ?? 'ok';
        if (outcome === 'hang') return new Promise<void>((resolve) => (release = resolve));
        return outcome === 'fail' ? Promise.reject(new Error('disk I/O error')) : Promise.resolve();
      },
    });
    sync.start();
    await vi.advanceTimersByTimeAsync(350); // three ticks while the first sync hangs: no second call
    expect(calls).toBe(1);
    release();
    await vi.advanceTimersByTimeAsync(200);
    expect(calls).toBe(3);
    expect(sync.lastError).toBe('disk I/O error');
    expect(lines.filter((l) => l.includes('could not reload'))).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(100);
    expect(sync.lastError).toBeUndefined();
    expect(lines.at(-1)).toBe('tokens: in sync with the database again');
    await sync.stop();
    await vi.advanceTimersByTimeAsync(500);
    expect(calls).toBe(4);
  });
});
