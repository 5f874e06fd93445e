import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { availabilityChanges, skuAvailability, type SkuAvailability } from '../../../edge/insight/availability.js';

const avail = (sku: string, availableUnits: number, at = 0): SkuAvailability => ({
  sku,
  availableUnits,
  shelfUnits: availableUnits + 2,
  unknownFacings: 0,
  at,
});

describe('availability for online orders', () => {
  it('sums the facings with known units, minus the safety buffer, never below zero', () => {
    expect(skuAvailability('a', [5, 3, null], 2, 1)).toEqual({ sku: 'a', availableUnits: 6, shelfUnits: 8, unknownFacings: 1, at: 1 });
    expect(skuAvailability('a', [1], 2, 1).availableUnits).toBe(0);
    expect(skuAvailability('a', [], 2, 1)).toMatchObject({ availableUnits: 0, shelfUnits: 0, unknownFacings: 0 });
  });

  it('per sku: change-only, at most one per period, the latest value at its end; skus independent', () => {
    const scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
    scheduler.run(({ cold, expectObservable }) => {
      const values = { a: avail('x', 5), b: avail('x', 4), c: avail('x', 3), d: avail('y', 9), e: avail('x', 5) };
      // x: 5, 4, 3 within one 10 ms period → 3 once at its end; y on its own; x back to 5 and again 5: one update
      const input = cold('a-b-c-d---------e-e-e-----|', values);
      const output = '   ----------c-----d---------(e|)';
      expectObservable(input.pipe(availabilityChanges(10, scheduler))).toBe(output, values);
    });
  });
});
