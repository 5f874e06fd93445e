import { describe, expect, it } from 'vitest';
import {
  DEFAULT_STUCK_SCALE_PARAMS as P,
  emptyStuckScaleState,
  observeReading,
  observeSkuSale,
} from '../../../edge/insight/stuck-scale.js';

describe('stuck load cell', () => {
  it('30 identical readings while the sku sells twice: stuck; a different reading: moving again', () => {
    const state = emptyStuckScaleState();
    for (let i = 0; i < 10; i++) expect(observeReading(state, 1234.5, P)).toBe(0);
    expect(observeSkuSale(state, 1, P)).toBe(0);
    expect(observeSkuSale(state, 1, P)).toBe(0);
    // the run is long enough at its 30th reading
    for (let i = 10; i < 29; i++) expect(observeReading(state, 1234.5, P)).toBe(0);
    expect(observeReading(state, 1234.5, P)).toBe(1);
    expect(observeReading(state, 1234.5, P)).toBe(0);
    expect(observeSkuSale(state, 1, P)).toBe(0);
    expect(observeReading(state, 1236.1, P)).toBe(-1);
    expect(state.stuck).toBe(false);
  });

  it('a long run is stuck once the second sale comes', () => {
    const state = emptyStuckScaleState();
    for (let i = 0; i < 100; i++) observeReading(state, 500, P);
    expect(observeSkuSale(state, 1, P)).toBe(0);
    expect(observeSkuSale(state, 1, P)).toBe(1);
  });

  it('a jittering live cell is never stuck however much sells, and a quiet identical one is not either', () => {
    const live = emptyStuckScaleState();
    for (let i = 0; i < 1000; i++) {
      expect(observeReading(live, 1200 + (i % 5) * 0.7, P)).toBe(0);
      if (i % 10 === 0) expect(observeSkuSale(live, 1, P)).toBe(0);
    }
    const quiet = emptyStuckScaleState();
    for (let i = 0; i < 1000; i++) expect(observeReading(quiet, 0, P)).toBe(0);
    expect(observeSkuSale(quiet, 1, P)).toBe(0);
  });

  it('sales before the run began do not count: a new value starts a new run', () => {
    const state = emptyStuckScaleState();
    observeSkuSale(state, 5, P);
    observeReading(state, 10, P);
    observeSkuSale(state, 5, P);
    observeReading(state, 11, P);
    for (let i = 0; i < 50; i++) expect(observeReading(state, 11, P)).toBe(0);
    expect(state.salesDuringRun).toBe(0);
  });
});
