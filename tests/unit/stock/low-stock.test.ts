import { map, take, timer } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import type { FacingPlan } from '../../../edge/planogram/planogram.js';
import type { FacingStock, StockEvent, StockPolicy } from '../../../edge/stock/stock.js';
import { PlanogramIndex } from '../../../edge/planogram/planogram.js';
import { FacingStockLedger } from '../../../edge/stock/facing-stock-ledger.js';
import { lowStockSignals, quantityChanges, type ShelfQuantity, type StockSignal } from '../../../edge/stock/low-stock.js';

const PLAN: FacingPlan = { shelfId: 'shelf-a', facing: 2, sku: 'sku-1', capacityUnits: 10, lowStockUnits: 2, restockUnits: 5, tareG: 100 };
const UNIT_G = 50;
const STALE_MS = 60_000;

const newScheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

/** a weight event for `units` units (plus optional grams), at virtual time `at` */
const w = (units: number, at: number, extraG = 0): StockEvent => ({ type: 'weight', weightG: PLAN.tareG + units * UNIT_G + extraG, at });
const sale = (qty: number, at: number): StockEvent => ({ type: 'sale', qty, at });

const quantity = (
  units: number,
  at: number,
  source: ShelfQuantity['source'] = 'weight',
  weightG: number | null = PLAN.tareG + units * UNIT_G,
): ShelfQuantity => ({
  shelfId: 'shelf-a',
  facing: 2,
  sku: 'sku-1',
  units,
  weightG,
  source,
  at,
});

const signal = (level: StockSignal['level'], units: number, at: number): StockSignal => ({
  shelfId: 'shelf-a',
  facing: 2,
  sku: 'sku-1',
  level,
  units,
  at,
});

/** A marble string with the given letters at the given virtual times (ms), e.g. [[5000, 'a']] → '5000ms a'. */
function marbleAt(events: ReadonlyArray<readonly [number, string]>): string {
  let frame = 0;
  const parts: string[] = [];
  for (const [time, letter] of events) {
    if (time < frame) throw new Error(`marbleAt: ${time} is before frame ${frame}`);
    if (time > frame) parts.push(`${time - frame}ms`);
    parts.push(letter);
    frame = time + 1;
  }
  return parts.join(' ');
}

describe('quantityChanges over a FacingStockLedger', () => {
  const PRODUCT_INDEX = new PlanogramIndex({ products: [{ sku: 'sku-1', name: 'Test', unitWeightG: UNIT_G }], facings: [PLAN] });
  const ledgerOf = (policy: StockPolicy, initial?: FacingStock) => new FacingStockLedger(PRODUCT_INDEX, policy, () => initial);
  const routed = (events: Record<string, StockEvent>) =>
    Object.fromEntries(Object.entries(events).map(([k, event]) => [k, { plan: PLAN, event }]));

  it('a window of 3 removes a single spike: nothing changes, nothing is emitted after the first reading', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      const events = cold('a b c d e', routed({ a: w(6, 0), b: w(6, 2), c: w(0, 4, 5_000), d: w(6, 6), e: w(5, 8) }));
      // medians: 6, 6, 6 (of [6, 6, spike]), 6, 6 (of [spike, 6, 5])
      expectObservable(events.pipe(quantityChanges(ledgerOf({ smoothingWindow: 3, staleAfterMs: STALE_MS })))).toBe('a', {
        a: quantity(6, 0),
      });
    });
  });

  it('a window of 5 removes a two-reading bump (a basket resting on the shelf)', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      const events = cold(
        'a b c d e f g',
        routed({ a: w(8, 0), b: w(8, 1), c: w(8, 2), d: w(30, 3), e: w(30, 4), f: w(8, 5), g: w(7, 6) }),
      );
      // medians: [8] [8 8] [8 8 8] [8 8 8 30] [8 8 8 30 30] [8 8 30 30 8] [8 30 30 8 7] → 8 units throughout
      expectObservable(
        events.pipe(
          quantityChanges(ledgerOf({ smoothingWindow: 5, staleAfterMs: STALE_MS })),
          map((q) => q.units),
        ),
      ).toBe('a', { a: 8 });
    });
  });

  it('the window follows a real change once most of it agrees', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      const events = cold('a b c d', routed({ a: w(6, 0), b: w(6, 1), c: w(4, 2), d: w(4, 3) }));
      expectObservable(
        events.pipe(
          quantityChanges(ledgerOf({ smoothingWindow: 3, staleAfterMs: STALE_MS })),
          map((q) => q.units),
        ),
      ).toBe('a - - d', { a: 6, d: 4 });
    });
  });

  it('nothing is emitted before the first weight (a sale alone does not invent stock)', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      const events = cold('a b', routed({ a: sale(1, 0), b: w(3, 1) }));
      expectObservable(events.pipe(quantityChanges(ledgerOf({ smoothingWindow: 3, staleAfterMs: STALE_MS })))).toBe('- b', {
        b: quantity(3, 1),
      });
    });
  });

  it('sales count only once the load cell is stale, and never below 0', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      const events = cold('a b c d', routed({ a: w(6, 0), b: sale(1, 59_999), c: sale(2, 60_000), d: sale(9, 70_000) }));
      expectObservable(events.pipe(quantityChanges(ledgerOf({ smoothingWindow: 1, staleAfterMs: STALE_MS })))).toBe('a - c d', {
        a: quantity(6, 0),
        c: quantity(4, 60_000, 'sales-estimate', null),
        d: quantity(0, 70_000, 'sales-estimate', null),
      });
    });
  });

  it('a restored stock lets sales estimate before the first new reading', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      const initial = { units: 5, weightG: 350, source: 'weight' as const, lastWeightAt: 0, at: 0 };
      const events = cold('a b', routed({ a: sale(1, 100_000), b: w(2, 100_001) }));
      expectObservable(events.pipe(quantityChanges(ledgerOf({ smoothingWindow: 3, staleAfterMs: STALE_MS }, initial)))).toBe('a b', {
        a: quantity(4, 100_000, 'sales-estimate', null),
        b: quantity(2, 100_001),
      });
    });
  });

  it("the ledger knows each facing's units (for sending a sale to the fullest facing)", () => {
    const ledger = ledgerOf({ smoothingWindow: 1, staleAfterMs: STALE_MS });
    expect(ledger.units(PLAN)).toBeNull();
    ledger.apply(PLAN, w(7, 0));
    expect(ledger.units(PLAN)).toBe(7);
  });
});

describe('lowStockSignals (low ≤ 2, ok ≥ 5, debounce 5 s)', () => {
  const DEBOUNCE = 5_000;

  it('a level that holds is signalled exactly once, debounceMs after it started, with the latest reading', () => {
    const scheduler = newScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const input = hot('a 999ms b 999ms c 999ms d', {
        a: quantity(2, 0),
        b: quantity(1, 1_000),
        c: quantity(2, 2_000),
        d: quantity(0, 3_000),
      });
      expectObservable(input.pipe(lowStockSignals(PLAN, DEBOUNCE, scheduler))).toBe('5000ms a', { a: signal('low', 0, 3_000) });
    });
  });

  it('a low that recovers inside the window emits nothing', () => {
    const scheduler = newScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const input = hot(
        marbleAt([
          [0, 'a'],
          [10_000, 'b'],
          [13_000, 'c'],
          [14_000, 'd'],
        ]),
        {
          a: quantity(8, 0),
          b: quantity(2, 10_000), // low
          c: quantity(6, 13_000), // back to ok ≥ restock inside the 5 s window
          d: quantity(7, 14_000),
        },
      );
      expectObservable(input.pipe(lowStockSignals(PLAN, DEBOUNCE, scheduler))).toBe('5000ms a', { a: signal('ok', 8, 0) });
    });
  });

  it('a low that recovers just after the window is signalled, then the recovery too', () => {
    const scheduler = newScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const input = hot(
        marbleAt([
          [0, 'a'],
          [10_000, 'b'],
          [15_001, 'c'],
        ]),
        { a: quantity(8, 0), b: quantity(2, 10_000), c: quantity(6, 15_001) },
      );
      expectObservable(input.pipe(lowStockSignals(PLAN, DEBOUNCE, scheduler))).toBe(
        marbleAt([
          [5_000, 'a'],
          [15_000, 'b'],
          [20_001, 'c'],
        ]),
        { a: signal('ok', 8, 0), b: signal('low', 2, 10_000), c: signal('ok', 6, 15_001) },
      );
    });
  });

  it('readings jittering around the threshold do not flap (hysteresis)', () => {
    const scheduler = newScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      // 4 3 2 3 2 3 4 3 4 2 4 3, one per second: low from the first 2 until a reading ≥ 5, which never comes
      const units = [4, 3, 2, 3, 2, 3, 4, 3, 4, 2, 4, 3];
      const letters = 'abcdefghijkl';
      const values: Record<string, ShelfQuantity> = Object.fromEntries(
        units.map((u, i): [string, ShelfQuantity] => [letters.charAt(i), quantity(u, i * 1_000)]),
      );
      const input = hot<ShelfQuantity>(marbleAt(units.map((_, i) => [i * 1_000, letters[i] as string])), values);
      // signalled 5 s after the first 2, with the reading of that moment (3 units at 7 s)
      expectObservable(input.pipe(lowStockSignals(PLAN, DEBOUNCE, scheduler))).toBe(marbleAt([[2_000 + DEBOUNCE, 'x']]), {
        x: signal('low', 3, 7_000),
      });
    });
  });

  it('a flap back to the signalled level inside the window signals nothing', () => {
    const scheduler = newScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      // low signalled at 5 s; a single 5-unit reading at 20 s (ok) falls back to 2 (low again) one second later
      const input = hot(
        marbleAt([
          [0, 'a'],
          [20_000, 'b'],
          [21_000, 'c'],
        ]),
        { a: quantity(1, 0), b: quantity(5, 20_000), c: quantity(2, 21_000) },
      );
      expectObservable(input.pipe(lowStockSignals(PLAN, DEBOUNCE, scheduler))).toBe('5000ms a', { a: signal('low', 1, 0) });
    });
  });

  it('a facing emptied inside the debounce window is signalled with the units it has when the signal fires (0: critical)', () => {
    const scheduler = newScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      // ok (signalled at 5 s); low at 10 s with 2 units; a shopper takes the last two at 11 s and 12 s
      const input = hot(
        marbleAt([
          [0, 'a'],
          [10_000, 'b'],
          [11_000, 'c'],
          [12_000, 'd'],
        ]),
        {
          a: quantity(8, 0),
          b: quantity(2, 10_000),
          c: quantity(1, 11_000),
          d: quantity(0, 12_000),
        },
      );
      const signals = input.pipe(
        lowStockSignals(PLAN, DEBOUNCE, scheduler),
        map((s) => `${s.level}:${s.units}`),
      );
      expectObservable(signals).toBe(
        marbleAt([
          [5_000, 'a'],
          [15_000, 'b'],
        ]),
        { a: 'ok:8', b: 'low:0' },
      );
    });
  });

  it("initialLevel 'low' and a reading at restock → exactly one 'ok'", () => {
    const scheduler = newScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const input = hot('a 999ms b 999ms c', { a: quantity(5, 0), b: quantity(4, 1_000), c: quantity(6, 2_000) });
      expectObservable(input.pipe(lowStockSignals(PLAN, DEBOUNCE, scheduler, 'low'))).toBe('5000ms a', { a: signal('ok', 6, 2_000) });
    });
  });

  it("initialLevel 'low' keeps a reading between the thresholds low", () => {
    const scheduler = newScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const input = hot('a 999ms b', { a: quantity(4, 0), b: quantity(3, 1_000) });
      expectObservable(input.pipe(lowStockSignals(PLAN, DEBOUNCE, scheduler, 'low'))).toBe('5000ms a', { a: signal('low', 3, 1_000) });
    });
  });

  it('debounce 0 signals each level change at once, and repeats of a level not at all', () => {
    const scheduler = newScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const input = hot('a b c', { a: quantity(8, 0), b: quantity(2, 2), c: quantity(1, 4) });
      expectObservable(input.pipe(lowStockSignals(PLAN, 0, scheduler))).toBe('a b', { a: signal('ok', 8, 0), b: signal('low', 2, 2) });
    });
  });

  it('two hours of one reading per second produce exactly the expected signals', () => {
    const scheduler = newScheduler();
    // 0–30 min: 9/10 units (ok); 30–57 min: draining one unit every 200 s down to 3 (still ok);
    // 3400 s–90 min: jitter 3/4/2 (first 2 at 3402 s: low) with a single 5 at 4000 s (a hand on the shelf);
    // 90 min: restocked to 10.
    const unitsAt = (s: number): number => {
      if (s < 1_800) return s % 2 === 0 ? 10 : 9;
      if (s < 3_400) return 10 - Math.floor((s - 1_800) / 200);
      if (s < 5_400) return s === 4_000 ? 5 : ([2, 3, 4][s % 3] as number);
      return 10;
    };
    const seconds = 2 * 60 * 60;
    scheduler.run(({ expectObservable }) => {
      const readings = timer(0, 1_000, scheduler).pipe(
        take(seconds),
        map((s) => quantity(unitsAt(s), s * 1_000)),
      );
      expectObservable(readings.pipe(lowStockSignals(PLAN, DEBOUNCE, scheduler))).toBe(
        // take() completes with the last reading, at 7199 s; the timer fires before the reading of its own second,
        // so each signal carries the reading of the second before
        marbleAt([
          [5_000, 'a'],
          [3_407_000, 'b'],
          [5_405_000, 'c'],
          [(seconds - 1) * 1_000, '|'],
        ]),
        { a: signal('ok', 10, 4_000), b: signal('low', 3, 3_406_000), c: signal('ok', 10, 5_404_000) },
      );
    });
  });

  it('the full chain (weights → smoothed quantity → signals) over an hour with spikes', () => {
    const scheduler = newScheduler();
    const policy: StockPolicy = { smoothingWindow: 5, staleAfterMs: STALE_MS };
    // 6 units, a 40-unit spike every 7 minutes (one reading), then 1 unit from 30 min on with single 9-unit spikes
    const unitsAt = (s: number): number => {
      if (s < 1_800) return s % 420 === 0 && s > 0 ? 40 : 6;
      return s % 300 === 0 ? 9 : 1;
    };
    scheduler.run(({ expectObservable }) => {
      const weights = timer(0, 1_000, scheduler).pipe(
        take(3_600),
        map((s) => ({ plan: PLAN, event: w(unitsAt(s), s * 1_000) })),
      );
      const ledger = new FacingStockLedger(
        new PlanogramIndex({ products: [{ sku: 'sku-1', name: 'Test', unitWeightG: UNIT_G }], facings: [PLAN] }),
        policy,
      );
      const signals = weights.pipe(quantityChanges(ledger), lowStockSignals(PLAN, DEBOUNCE, scheduler));
      // 1800 s is a 9-unit spike; the median of 5 turns to 1 unit at the third 1-unit reading: 1803 s
      expectObservable(signals).toBe(
        marbleAt([
          [5_000, 'a'],
          [1_808_000, 'b'],
          [3_599_000, '|'],
        ]),
        {
          // only changes reach the signals, so `at` is when the units last changed
          a: signal('ok', 6, 0),
          b: signal('low', 1, 1_803_000),
        },
      );
    });
  });
});
