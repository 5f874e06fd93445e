import { describe, expect, it } from 'vitest';
import { PlanogramIndex } from '../../../edge/planogram/planogram.js';
import { SensorFaultTracker, isPlausibleWeight, plausibleWeightRange } from '../../../edge/stock/plausible-weight.js';
import type { SensorFaultChange } from '../../../edge/stock/stock-events.js';

describe('plausibleWeightRange ("plausible weight")', () => {
  it('from -sensorToleranceG to capacity × unit weight × 1.5 + tare', () => {
    expect(plausibleWeightRange({ capacityUnits: 8, tareG: 120 }, 250, 50)).toEqual({ minG: -50, maxG: 8 * 250 * 1.5 + 120 });
  });

  it('without a known unit weight there is no upper bound', () => {
    expect(plausibleWeightRange({ capacityUnits: 8, tareG: 0 }, undefined, 50).maxG).toBe(Number.POSITIVE_INFINITY);
  });

  it('the 999,999 g that once showed as 625 of 8 units is not plausible; the bounds themselves are; NaN is not', () => {
    const range = plausibleWeightRange({ capacityUnits: 8, tareG: 0 }, 1_600, 50);
    expect(isPlausibleWeight(999_999, range)).toBe(false);
    expect(isPlausibleWeight(range.maxG, range)).toBe(true);
    expect(isPlausibleWeight(-50, range)).toBe(true);
    expect(isPlausibleWeight(-50.01, range)).toBe(false);
    expect(isPlausibleWeight(Number.NaN, range)).toBe(false);
  });
});

describe('SensorFaultTracker', () => {
  const planogram = new PlanogramIndex({
    products: [{ sku: 'milk', name: 'Milk', unitWeightG: 100 }],
    facings: [{ shelfId: 's', facing: 1, sku: 'milk', capacityUnits: 10, lowStockUnits: 2, restockUnits: 5, tareG: 0 }],
  });
  const plan = planogram.facing('s', 1)!;

  it('reports only the transitions: to faulty and back', () => {
    const changes: SensorFaultChange[] = [];
    const tracker = new SensorFaultTracker(
      planogram,
      50,
      0,
      () => false,
      (c) => changes.push(c),
    );
    expect([
      tracker.accept(plan, 500, 1),
      tracker.accept(plan, 5_000, 2),
      tracker.accept(plan, 6_000, 3),
      tracker.accept(plan, 400, 4),
      tracker.accept(plan, 300, 5),
    ]).toEqual([true, false, false, true, true]);
    expect(changes).toEqual([
      { shelfId: 's', facing: 1, sku: 'milk', faulty: true, weightG: 5_000, at: 2 },
      { shelfId: 's', facing: 1, sku: 'milk', faulty: false, weightG: 400, at: 4 },
    ]);
    expect(tracker.isFaulty(plan)).toBe(false);
  });

  it('starts faulty when told so, and stays quiet while the readings stay impossible', () => {
    const changes: SensorFaultChange[] = [];
    const tracker = new SensorFaultTracker(
      planogram,
      50,
      0,
      () => true,
      (c) => changes.push(c),
    );
    expect(tracker.isFaulty(plan)).toBe(true);
    expect(tracker.accept(plan, -500, 1)).toBe(false);
    expect(changes).toEqual([]);
  });

  it('a faulty sensor is repaired only once plausible readings held for clearAfterMs; a bad one restarts the wait', () => {
    const changes: SensorFaultChange[] = [];
    const tracker = new SensorFaultTracker(
      planogram,
      50,
      1_000,
      () => false,
      (c) => changes.push(c),
    );
    // good, bad, good, bad, good … every 400 ms: one fault, never cleared while it flips
    const flips = [500, 5_000, 400, 5_000, 400, 5_000, 400].map((weightG, i) => tracker.accept(plan, weightG, i * 400));
    expect(flips).toEqual([true, false, true, false, true, false, true]);
    expect(changes).toEqual([{ shelfId: 's', facing: 1, sku: 'milk', faulty: true, weightG: 5_000, at: 400 }]);
    // plausible from 2,400 ms on: still faulty at 3,000 ms, repaired at 3,400 ms
    tracker.accept(plan, 400, 3_000);
    expect(tracker.isFaulty(plan)).toBe(true);
    tracker.accept(plan, 400, 3_400);
    expect(tracker.isFaulty(plan)).toBe(false);
    expect(changes.at(-1)).toEqual({ shelfId: 's', facing: 1, sku: 'milk', faulty: false, weightG: 400, at: 3_400 });
    expect(changes).toHaveLength(2);
  });
});
