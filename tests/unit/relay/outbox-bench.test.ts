import { describe, expect, it } from 'vitest';
import { runOutboxBench } from '../../../bench/relay-outbox.js';

describe('runOutboxBench (smoke, tiny counts)', () => {
  it('measures group-commit appends against single-row commits on the same disk', async () => {
    const lines: string[] = [];
    const result = await runOutboxBench({ events: 20_000, singleRowEvents: 200, window: 2_000 }, (line) => lines.push(line));
    expect(result.outbox.events).toBe(20_000);
    expect(result.outbox.rowsPerCommit).toBeGreaterThan(50);
    expect(result.singleRow.events).toBe(200);
    expect(result.ratio).toBeGreaterThan(1);
    expect(lines).toHaveLength(2);
    console.log(
      JSON.stringify({
        outboxPerS: Math.round(result.outbox.eventsPerS),
        singlePerS: Math.round(result.singleRow.eventsPerS),
        ratio: result.ratio.toFixed(1),
        rowsPerCommit: result.outbox.rowsPerCommit.toFixed(0),
        bodyBytes: result.bodyBytes,
      }),
    );
  });
});
