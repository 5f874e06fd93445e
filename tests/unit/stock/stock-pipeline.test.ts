import type { Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { PlanogramIndex, facingKey } from '../../../edge/planogram/planogram.js';
import type { FacingStock, StockLevel } from '../../../edge/stock/stock.js';
import type { DeviceMessage } from '../../../edge/device-registry/messages.js';
import type { StockSignal } from '../../../edge/stock/low-stock.js';
import type { SensorFaultChange } from '../../../edge/stock/stock-events.js';
import { StockPipeline, type StockOutput } from '../../../edge/stock/stock-pipeline.js';

// milk on shelf-a/1 and shelf-b/3; beans on shelf-a/2. Unit weights 100 g and 50 g, tare 0 / 10 g.
const PLANOGRAM = new PlanogramIndex({
  products: [
    { sku: 'milk', name: 'Milk', unitWeightG: 100 },
    { sku: 'beans', name: 'Beans', unitWeightG: 50 },
  ],
  facings: [
    { shelfId: 'shelf-a', facing: 1, sku: 'milk', capacityUnits: 10, lowStockUnits: 2, restockUnits: 5, tareG: 0 },
    { shelfId: 'shelf-a', facing: 2, sku: 'beans', capacityUnits: 10, lowStockUnits: 2, restockUnits: 5, tareG: 10 },
    { shelfId: 'shelf-b', facing: 3, sku: 'milk', capacityUnits: 10, lowStockUnits: 2, restockUnits: 5, tareG: 0 },
  ],
});
const DEBOUNCE = 1_000;
const STALE = 60_000;
const TOLERANCE = 50;
/** plausible weight of milk on shelf-a/1: capacity 10 × 100 g × 1.5 + tare 0 */
const MILK_MAX_G = 1_500;

const weight = (shelfId: string, facing: number, weightG: number, receivedAt: number): DeviceMessage => ({
  key: 'shelf/weight',
  deviceId: shelfId,
  payload: { facing, weightG, ts: receivedAt },
  receivedAt,
});
const scan = (sku: string | undefined, receivedAt: number, qty?: number): DeviceMessage => ({
  key: 'kiosk/event',
  deviceId: 'kiosk-1',
  payload: {
    type: 'item-scanned',
    basketId: 'b1',
    ...(sku === undefined ? {} : { sku }),
    ...(qty === undefined ? {} : { qty }),
    ts: receivedAt,
  },
  receivedAt,
});

const quantity = (
  shelfId: string,
  facing: number,
  sku: string,
  units: number,
  weightG: number | null,
  at: number,
  source: 'weight' | 'sales-estimate' = 'weight',
): StockOutput => ({
  type: 'quantity',
  quantity: { shelfId, facing, sku, units, weightG, source, at },
});
const signal = (s: Omit<StockSignal, 'sku'> & { sku: string }): StockOutput => ({ type: 'signal', signal: s });
const fault = (shelfId: string, facing: number, sku: string, faulty: boolean, weightG: number, at: number): StockOutput => ({
  type: 'sensor-fault',
  change: { shelfId, facing, sku, faulty, weightG, at } satisfies SensorFaultChange,
});

/** A marble string with the given letters at the given virtual times (ms). */
function marbleAt(events: ReadonlyArray<readonly [number, string]>): string {
  let frame = 0;
  const parts: string[] = [];
  for (const [time, letter] of events) {
    if (time > frame) parts.push(`${time - frame}ms`);
    parts.push(letter);
    frame = time + 1;
  }
  return parts.join(' ');
}

let scheduler: TestScheduler;
let unknown: Array<[string, number]>;
let initialStock: Map<string, FacingStock>;
let initialLevel: Map<string, StockLevel>;
let initiallyFaulty: Set<string>;
let implausible: Array<[string, number]>;

function pipeline(): StockPipeline {
  return new StockPipeline({
    planogram: PLANOGRAM,
    options: { smoothingWindow: 1, staleAfterMs: STALE, debounceMs: DEBOUNCE, sensorToleranceG: TOLERANCE },
    scheduler,
    initialStock: (plan) => initialStock.get(facingKey(plan.shelfId, plan.facing)),
    initialLevel: (plan) => initialLevel.get(facingKey(plan.shelfId, plan.facing)),
    onUnknownFacing: (shelfId, facing) => unknown.push([shelfId, facing]),
    initialSensorFault: (plan) => initiallyFaulty.has(facingKey(plan.shelfId, plan.facing)),
    onImplausibleReading: (shelfId, facing) => implausible.push([shelfId, facing]),
  });
}

beforeEach(() => {
  scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
  unknown = [];
  initialStock = new Map();
  initialLevel = new Map();
  initiallyFaulty = new Set();
  implausible = [];
});

describe('StockPipeline.outputs', () => {
  it('a weight for a facing not in the planogram is reported and emits nothing', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const messages: Observable<DeviceMessage> = hot('a b', { a: weight('shelf-a', 9, 500, 0), b: weight('shelf-x', 1, 500, 1) });
      expectObservable(pipeline().outputs(messages)).toBe('');
    });
    expect(unknown).toEqual([
      ['shelf-a', 9],
      ['shelf-x', 1],
    ]);
  });

  it('a weight becomes a quantity at once and a signal after the debounce', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const messages = hot('a', { a: weight('shelf-a', 2, 10 + 3 * 50, 0) });
      expectObservable(pipeline().outputs(messages)).toBe('a 999ms b', {
        a: quantity('shelf-a', 2, 'beans', 3, 160, 0),
        b: signal({ shelfId: 'shelf-a', facing: 2, sku: 'beans', level: 'ok', units: 3, at: 0 }),
      });
    });
    expect(unknown).toEqual([]);
  });

  it('other messages (status, kiosk events other than item-scanned, a scan without sku or of an unknown sku) emit nothing', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const messages = hot('a b c d e', {
        a: { key: 'shelf/status', deviceId: 'shelf-a', payload: { ts: 0 }, receivedAt: 0 },
        b: { key: 'kiosk/event', deviceId: 'k', payload: { type: 'assist-requested', ts: 1 }, receivedAt: 1 },
        c: scan(undefined, 2),
        d: scan('no-such-sku', 3),
        e: { key: 'esl/status', deviceId: 'e', payload: { batteryMv: 1, displayedPriceCents: 1, ts: 4 }, receivedAt: 4 },
      } satisfies Record<string, DeviceMessage>);
      expectObservable(pipeline().outputs(messages)).toBe('');
    });
  });

  it('a sale goes to the fullest facing of its sku, and counts only when that facing is stale', () => {
    // shelf-b/3 holds more milk than shelf-a/1, per their readings
    scheduler.run(({ hot, expectObservable }) => {
      const messages = hot(
        marbleAt([
          [0, 'a'],
          [1, 'b'],
          [999, 'c'],
          [STALE + 1, 'd'],
        ]),
        {
          a: weight('shelf-a', 1, 400, 0),
          b: weight('shelf-b', 3, 700, 1),
          c: scan('milk', 999, 2), // fresh: ignored, nothing changed so nothing is emitted
          d: scan('milk', STALE + 1, 2), // 60 s after shelf-b/3's reading: counts (still ok: no signal)
        },
      );
      expectObservable(pipeline().outputs(messages)).toBe(
        marbleAt([
          [0, 'a'],
          [1, 'b'],
          [1_000, 'x'],
          [1_001, 'y'],
          [STALE + 1, 'd'],
        ]),
        {
          a: quantity('shelf-a', 1, 'milk', 4, 400, 0),
          b: quantity('shelf-b', 3, 'milk', 7, 700, 1),
          x: signal({ shelfId: 'shelf-a', facing: 1, sku: 'milk', level: 'ok', units: 4, at: 0 }),
          y: signal({ shelfId: 'shelf-b', facing: 3, sku: 'milk', level: 'ok', units: 7, at: 1 }),
          d: quantity('shelf-b', 3, 'milk', 5, null, STALE + 1, 'sales-estimate'),
        },
      );
    });
  });

  it('a sale that empties a stale facing takes it low, signalled after the debounce', () => {
    initialStock.set('shelf-a/2', { units: 3, weightG: 160, source: 'weight', lastWeightAt: 0, at: 0 });
    initialLevel.set('shelf-a/2', 'ok');
    scheduler.run(({ hot, expectObservable }) => {
      const messages = hot(marbleAt([[STALE, 'a']]), { a: scan('beans', STALE, 3) });
      expectObservable(pipeline().outputs(messages)).toBe(
        marbleAt([
          [STALE, 'a'],
          [STALE + DEBOUNCE, 'b'],
        ]),
        {
          a: quantity('shelf-a', 2, 'beans', 0, null, STALE, 'sales-estimate'),
          b: signal({ shelfId: 'shelf-a', facing: 2, sku: 'beans', level: 'low', units: 0, at: STALE }),
        },
      );
    });
  });

  it('each sale goes to whichever facing of the sku is fuller at that moment', () => {
    initialStock.set('shelf-a/1', { units: 9, weightG: 900, source: 'weight', lastWeightAt: 0, at: 0 });
    initialStock.set('shelf-b/3', { units: 8, weightG: 800, source: 'weight', lastWeightAt: 0, at: 0 });
    scheduler.run(({ hot, expectObservable }) => {
      // 9 vs 8: shelf-a/1 → 7; then 7 vs 8: shelf-b/3 → 6; then 7 vs 6: shelf-a/1 → 6
      const messages = hot(`${STALE}ms a 9ms b 9ms c`, {
        a: scan('milk', STALE, 2),
        b: scan('milk', STALE + 10, 2),
        c: scan('milk', STALE + 20),
      });
      const quantities = pipeline().outputs(messages);
      expectObservable(quantities, `^ ${STALE + 100}ms !`).toBe(`${STALE}ms a 9ms b 9ms c`, {
        a: quantity('shelf-a', 1, 'milk', 7, null, STALE, 'sales-estimate'),
        b: quantity('shelf-b', 3, 'milk', 6, null, STALE + 10, 'sales-estimate'),
        c: quantity('shelf-a', 1, 'milk', 6, null, STALE + 20, 'sales-estimate'),
      });
    });
  });

  it('a sale without a qty counts as one unit', () => {
    initialStock.set('shelf-a/2', { units: 6, weightG: 310, source: 'weight', lastWeightAt: 0, at: 0 });
    scheduler.run(({ hot, expectObservable }) => {
      const messages = hot(`${STALE}ms a`, { a: scan('beans', STALE) });
      expectObservable(pipeline().outputs(messages), `^ ${STALE + 100}ms !`).toBe(`${STALE}ms a`, {
        a: quantity('shelf-a', 2, 'beans', 5, null, STALE, 'sales-estimate'),
      });
    });
  });

  it('facings are independent: one going low does not affect the other', () => {
    scheduler.run(({ hot }) => {
      const messages = hot('a b 98ms c d 98ms e f', {
        a: weight('shelf-a', 1, 800, 0), // milk 8
        b: weight('shelf-a', 2, 10 + 8 * 50, 1), // beans 8
        c: weight('shelf-a', 1, 100, 100), // milk 1 → low
        d: weight('shelf-a', 2, 10 + 7 * 50, 101), // beans 7
        e: weight('shelf-a', 1, 200, 200), // milk 2, still low
        f: weight('shelf-a', 2, 10 + 6 * 50, 201), // beans 6, still ok
      });
      const outputs: StockOutput[] = [];
      pipeline()
        .outputs(messages)
        .subscribe((o) => outputs.push(o));
      scheduler.flush();
      const signals = outputs.filter((o): o is Extract<StockOutput, { type: 'signal' }> => o.type === 'signal').map((o) => o.signal);
      // milk's first 'ok' never held for the debounce (low at 100 ms); beans stay ok and are signalled once;
      // each signal carries the facing's latest reading when it fires
      expect(signals).toEqual([
        { shelfId: 'shelf-a', facing: 2, sku: 'beans', level: 'ok', units: 6, at: 201 },
        { shelfId: 'shelf-a', facing: 1, sku: 'milk', level: 'low', units: 2, at: 200 },
      ]);
      // quantities come when units change: every reading here changes them
      expect(
        outputs
          .filter((o) => o.type === 'quantity')
          .map((o) => (o.type === 'quantity' ? `${o.quantity.shelfId}/${o.quantity.facing}=${o.quantity.units}` : '')),
      ).toEqual(['shelf-a/1=8', 'shelf-a/2=8', 'shelf-a/1=1', 'shelf-a/2=7', 'shelf-a/1=2', 'shelf-a/2=6']);
    });
  });

  it("initialLevel 'low' (an alert is active) and a restocked reading → one 'ok' signal", () => {
    initialLevel.set('shelf-a/1', 'low');
    scheduler.run(({ hot, expectObservable }) => {
      const messages = hot('a', { a: weight('shelf-a', 1, 900, 0) });
      expectObservable(pipeline().outputs(messages)).toBe('a 999ms b', {
        a: quantity('shelf-a', 1, 'milk', 9, 900, 0),
        b: signal({ shelfId: 'shelf-a', facing: 1, sku: 'milk', level: 'ok', units: 9, at: 0 }),
      });
    });
  });

  it('push() after start() feeds outputs to the callback (changes only), and nothing after stop()', () => {
    scheduler.run(() => {
      const seen: StockOutput[] = [];
      const p = pipeline();
      p.start((o) => seen.push(o));
      p.push(weight('shelf-a', 1, 800, 0));
      p.push(weight('shelf-a', 1, 800, 1)); // same units: no output
      p.push(weight('shelf-a', 9, 800, 2)); // not in the planogram: reported, no output
      scheduler.schedule(() => p.push(weight('shelf-a', 1, 100, 5)), 5);
      scheduler.schedule(() => p.stop(), 10);
      scheduler.schedule(() => p.push(weight('shelf-a', 1, 700, 20)), 20);
      scheduler.flush();
      expect(seen).toEqual([quantity('shelf-a', 1, 'milk', 8, 800, 0), quantity('shelf-a', 1, 'milk', 1, 100, 5)]);
      expect(unknown).toEqual([['shelf-a', 9]]);
    });
  });
});

describe('plausible weights (sensor faults)', () => {
  it('an impossible reading is not counted as units: it is reported, and the facing goes faulty once', () => {
    initialStock.set('shelf-a/1', { units: 4, weightG: 400, source: 'weight', lastWeightAt: 0, at: 0 });
    initialLevel.set('shelf-a/1', 'ok');
    scheduler.run(({ hot, expectObservable }) => {
      // 999,999 g once showed as 9,999 units of milk (and 625 of 8 elsewhere)
      const messages = hot('a b c', {
        a: weight('shelf-a', 1, 999_999, 0),
        b: weight('shelf-a', 1, 999_999, 1),
        c: weight('shelf-a', 1, -51, 2),
      });
      expectObservable(pipeline().outputs(messages)).toBe('a', { a: fault('shelf-a', 1, 'milk', true, 999_999, 0) });
    });
    expect(implausible).toEqual([
      ['shelf-a', 1],
      ['shelf-a', 1],
      ['shelf-a', 1],
    ]);
  });

  it('a plausible reading counts as stock at once; the fault ends once plausible readings held for the debounce time', () => {
    const seen: Array<[number, StockOutput]> = [];
    scheduler.run(({ hot }) => {
      const messages = hot(
        marbleAt([
          [0, 'a'],
          [1, 'b'],
          [DEBOUNCE, 'c'],
          [DEBOUNCE + 2, 'd'],
        ]),
        {
          a: weight('shelf-a', 1, 999_999, 0),
          b: weight('shelf-a', 1, 300, 1),
          c: weight('shelf-a', 1, 300, DEBOUNCE), // held 999 ms: not yet
          d: weight('shelf-a', 1, 300, DEBOUNCE + 2),
        },
      );
      pipeline()
        .outputs(messages)
        .subscribe((o) => seen.push([scheduler.now(), o]));
    });
    expect(seen).toEqual([
      [0, fault('shelf-a', 1, 'milk', true, 999_999, 0)],
      [1, quantity('shelf-a', 1, 'milk', 3, 300, 1)],
      [1 + DEBOUNCE, signal({ shelfId: 'shelf-a', facing: 1, sku: 'milk', level: 'ok', units: 3, at: 1 })],
      [DEBOUNCE + 2, fault('shelf-a', 1, 'milk', false, 300, DEBOUNCE + 2)],
    ]);
    expect(implausible).toEqual([['shelf-a', 1]]);
  });

  it('the bounds are inclusive: -sensorToleranceG and capacity × unit weight × 1.5 + tare are plausible, beyond them not', () => {
    const outputs: StockOutput[] = [];
    scheduler.run(({ hot }) => {
      const messages = hot('a b c d e', {
        a: weight('shelf-a', 1, -TOLERANCE, 0),
        b: weight('shelf-a', 1, MILK_MAX_G, 1),
        c: weight('shelf-a', 2, 10 + 10 * 50 * 1.5, 2), // beans: tare 10 g counts on top
        d: weight('shelf-a', 1, MILK_MAX_G + 0.5, 3),
        e: weight('shelf-a', 2, -TOLERANCE - 0.5, 4),
      });
      pipeline()
        .outputs(messages)
        .subscribe((o) => outputs.push(o));
    });
    expect(outputs.filter((o) => o.type === 'quantity').map((o) => (o.type === 'quantity' ? o.quantity.units : -1))).toEqual([0, 15, 15]);
    expect(outputs.filter((o) => o.type === 'sensor-fault')).toEqual([
      fault('shelf-a', 1, 'milk', true, MILK_MAX_G + 0.5, 3),
      fault('shelf-a', 2, 'beans', true, -TOLERANCE - 0.5, 4),
    ]);
    expect(implausible).toEqual([
      ['shelf-a', 1],
      ['shelf-a', 2],
    ]);
  });

  it('a facing that was faulty before the start (its alert is active) ends the fault once plausible readings held', () => {
    initiallyFaulty.add('shelf-b/3');
    const seen: StockOutput[] = [];
    scheduler.run(({ hot }) => {
      const messages = hot(
        marbleAt([
          [0, 'a'],
          [1, 'b'],
          [DEBOUNCE, 'c'],
        ]),
        {
          a: weight('shelf-b', 3, 700, 0),
          b: weight('shelf-a', 1, 700, 1),
          c: weight('shelf-b', 3, 700, DEBOUNCE),
        },
      );
      pipeline()
        .outputs(messages)
        .subscribe((o) => seen.push(o));
    });
    expect(seen.filter((o) => o.type !== 'signal')).toEqual([
      quantity('shelf-b', 3, 'milk', 7, 700, 0),
      quantity('shelf-a', 1, 'milk', 7, 700, 1),
      fault('shelf-b', 3, 'milk', false, 700, DEBOUNCE),
    ]);
  });

  it('push() delivers the fault changes to the callback too, and leaves the ledger untouched', () => {
    scheduler.run(() => {
      const seen: StockOutput[] = [];
      const p = pipeline();
      p.start((o) => seen.push(o));
      p.push(weight('shelf-a', 1, 500, 0));
      p.push(weight('shelf-a', 1, 999_999, 1));
      p.push(weight('shelf-a', 1, 500, 2)); // same units as before the fault: no quantity
      p.push(weight('shelf-a', 1, 500, 2 + DEBOUNCE)); // plausible for the debounce time: repaired
      scheduler.schedule(() => p.stop(), 10);
      scheduler.flush();
      expect(seen).toEqual([
        quantity('shelf-a', 1, 'milk', 5, 500, 0),
        fault('shelf-a', 1, 'milk', true, 999_999, 1),
        fault('shelf-a', 1, 'milk', false, 500, 2 + DEBOUNCE),
      ]);
    });
  });
});
