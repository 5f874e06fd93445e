import { describe, expect, it } from 'vitest';
import { DEFAULT_NO_SALES_PARAMS as P, emptyNoSalesState, observeNoSales, type NoSalesInput } from '../../../edge/insight/no-sales.js';

const MIN = 60_000;
/** 2026-12-07 00:00 UTC */
const DAY0 = Date.UTC(2026, 11, 7);
const hourOf = (at: number) => new Date(at).getUTCHours();
/** open 8:00–20:00 at average traffic, closed otherwise */
const RELATIVE = Array.from({ length: 24 }, (_, h) => (h >= 8 && h < 20 ? 1 : 0));

/** A facing holding 20 units, selling one every `everyMin` from 8:00 on day 0, looked at every 5 min; then silent. */
function watched(everyMin: number, untilMs: number, relative: number[] | undefined = RELATIVE) {
  const state = emptyNoSalesState();
  const verdicts: Array<{ at: number; change: string }> = [];
  const look = (input: Omit<NoSalesInput, 'typicalDrop'>) => {
    const verdict = observeNoSales(state, { ...input, typicalDrop: 1 }, relative, hourOf, P);
    if (verdict.change !== 'none') verdicts.push({ at: input.at, change: verdict.change });
  };
  look({ kind: 'first', at: DAY0 + 8 * 60 * MIN, unitsBefore: 20, units: 20, counted: 0 });
  for (let m = 5; DAY0 + 8 * 60 * MIN + m * MIN <= untilMs; m += 5) {
    const at = DAY0 + 8 * 60 * MIN + m * MIN;
    const sells = m % everyMin === 0;
    look({ kind: sells ? 'taken' : 'unchanged', at, unitsBefore: 20, units: 20, counted: sells ? 1 : 0 });
  }
  return { state, verdicts, look };
}

describe('no-sales', () => {
  it('a facing selling steadily raises nothing over a day', () => {
    const { verdicts, state } = watched(10, DAY0 + 20 * 60 * MIN);
    expect(verdicts).toEqual([]);
    // 6 a traffic-hour, learned
    expect(state.paceAtSale).toBeCloseTo(6, 0);
  });

  it('a facing with a trusted pace that stops selling at open hours is flagged once ~10 sales are missing, and a sale resolves it', () => {
    const { state, verdicts, look } = watched(10, DAY0 + 12 * 60 * MIN);
    // silent from 12:00: at 6 a traffic-hour, 10 expected after 100 min
    for (let m = 5; m <= 180; m += 5)
      look({ kind: 'unchanged', at: DAY0 + 12 * 60 * MIN + m * MIN, unitsBefore: 20, units: 20, counted: 0 });
    expect(verdicts).toHaveLength(1);
    const opened = verdicts[0] as { at: number; change: string };
    expect(opened.change).toBe('open');
    expect(opened.at - (DAY0 + 12 * 60 * MIN)).toBeGreaterThanOrEqual(95 * MIN);
    expect(opened.at - (DAY0 + 12 * 60 * MIN)).toBeLessThanOrEqual(110 * MIN);
    expect(state.alerting).toBe(true);
    look({ kind: 'taken', at: DAY0 + 15 * 60 * MIN + 5 * MIN, unitsBefore: 20, units: 19, counted: 1 });
    expect(verdicts.at(-1)?.change).toBe('resolve');
  });

  it('closed hours add nothing to the silence and never raise', () => {
    const { verdicts, look } = watched(10, DAY0 + 19 * 60 * MIN + 55 * MIN);
    // silent from 19:55 through the night: 5 min of open time, then closed until 8:00
    for (let m = 5; m <= 12 * 60; m += 5)
      look({ kind: 'unchanged', at: DAY0 + 19 * 60 * MIN + 55 * MIN + m * MIN, unitsBefore: 20, units: 20, counted: 0 });
    expect(verdicts).toEqual([]);
  });

  it('an empty facing, a slow facing without a trusted pace, an unknown store traffic and a gap raise nothing', () => {
    // empty: nothing to sell
    const empty = watched(10, DAY0 + 12 * 60 * MIN);
    for (let m = 5; m <= 240; m += 5)
      empty.look({ kind: 'unchanged', at: DAY0 + 12 * 60 * MIN + m * MIN, unitsBefore: 0, units: 0, counted: 0 });
    expect(empty.verdicts).toEqual([]);
    // slow: 4 sales in four hours is below the pace's minimum units (decayed)
    const slow = watched(60, DAY0 + 12 * 60 * MIN);
    expect(slow.state.paceAtSale).toBeUndefined();
    for (let m = 5; m <= 480; m += 5)
      slow.look({ kind: 'unchanged', at: DAY0 + 12 * 60 * MIN + m * MIN, unitsBefore: 5, units: 5, counted: 0 });
    expect(slow.verdicts).toEqual([]);
    // the store's traffic not learned yet
    const unknown = watched(10, DAY0 + 16 * 60 * MIN, undefined);
    expect(unknown.verdicts).toEqual([]);
    // a gap (gateway down) starts the silence anew: 90 min before and 90 min after the gap are two short silences
    const gap = watched(10, DAY0 + 11 * 60 * MIN);
    for (let m = 5; m <= 90; m += 5)
      gap.look({ kind: 'unchanged', at: DAY0 + 11 * 60 * MIN + m * MIN, unitsBefore: 20, units: 20, counted: 0 });
    gap.look({ kind: 'gap', at: DAY0 + 16 * 60 * MIN, unitsBefore: 20, units: 20, counted: 0 });
    for (let m = 5; m <= 90; m += 5)
      gap.look({ kind: 'unchanged', at: DAY0 + 16 * 60 * MIN + m * MIN, unitsBefore: 20, units: 20, counted: 0 });
    expect(gap.verdicts).toEqual([]);
  });

  it('an observation from before the last one (a clock that went back) is ignored', () => {
    const { state, look, verdicts } = watched(10, DAY0 + 12 * 60 * MIN);
    const silentBefore = state.trafficHoursSilent;
    look({ kind: 'unchanged', at: DAY0 + 9 * 60 * MIN, unitsBefore: 20, units: 20, counted: 0 });
    expect(state.trafficHoursSilent).toBe(silentBefore);
    expect(state.at).toBe(DAY0 + 12 * 60 * MIN);
    expect(verdicts).toEqual([]);
  });

  it('before the traffic is learned nothing is judged, unless every hour may count alike (a demo, a 24 h store)', () => {
    // one unit a minute for 15 min, then silent: 60 a traffic-hour, 10 drops expected after 10 min
    const run = (params: typeof P) => {
      const state = emptyNoSalesState();
      const opened: number[] = [];
      const look = (minute: number, kind: NoSalesInput['kind'], counted: number) => {
        const input = { kind, at: DAY0 + 3 * 60 * MIN + minute * MIN, unitsBefore: 20, units: 20, counted, typicalDrop: 1 };
        if (observeNoSales(state, input, undefined, hourOf, params).change === 'open') opened.push(minute);
      };
      look(0, 'first', 0);
      for (let m = 1; m <= 15; m++) look(m, 'taken', 1);
      for (let m = 16; m <= 40; m++) look(m, 'unchanged', 0);
      return opened;
    };
    expect(run(P)).toEqual([]);
    // at 3:00, a closed hour in most stores: flat traffic counts it as busy
    expect(run({ ...P, flatTrafficUntilKnown: true })).toEqual([25]);
  });
});
