import { describe, expect, it } from 'vitest';
import { DEFAULT_PHANTOM_PARAMS as P, emptyPhantomState, observeDrop, observeSale } from '../../../edge/insight/phantom-stock.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 11, 7, 10, 0);

describe('phantom stock', () => {
  it('sales each preceded by a drop within the shopping time are explained: never phantom', () => {
    const state = emptyPhantomState();
    for (let i = 0; i < 50; i++) {
      observeDrop(state, 1, T0 + i * 4 * MIN, P);
      expect(observeSale(state, 1, T0 + i * 4 * MIN + 3 * MIN, P)).toEqual({ changed: false });
    }
    expect(state.phantom).toBe(false);
  });

  it('sales with no drop turn the sku phantom at the second unexplained unit, and drops explaining sales again clear it', () => {
    const state = emptyPhantomState();
    expect(observeSale(state, 1, T0, P)).toEqual({ changed: false });
    expect(observeSale(state, 1, T0 + 9 * MIN, P)).toEqual({ changed: true, phantom: true, unexplainedUnits: 2 });
    expect(observeSale(state, 1, T0 + 12 * MIN, P)).toEqual({ changed: false });
    // the product is back where the planogram says: drops explain the next sales
    for (let i = 0; i < 2; i++) {
      observeDrop(state, 1, T0 + (20 + i * 5) * MIN, P);
      expect(observeSale(state, 1, T0 + (22 + i * 5) * MIN, P)).toEqual({ changed: false });
    }
    observeDrop(state, 1, T0 + 30 * MIN, P);
    expect(observeSale(state, 1, T0 + 32 * MIN, P)).toEqual({ changed: true, phantom: false, unexplainedUnits: 0 });
  });

  it('a drop that settles just after the kiosk event still explains it; one long after does not', () => {
    const state = emptyPhantomState();
    for (let i = 0; i < 5; i++) {
      observeSale(state, 1, T0 + i * 10 * MIN, P);
      observeDrop(state, 1, T0 + i * 10 * MIN + 30_000, P);
    }
    expect(state.phantom).toBe(false);
    const late = emptyPhantomState();
    observeSale(late, 1, T0, P);
    observeDrop(late, 1, T0 + 10 * MIN, P);
    // (the drop waits for a later sale instead)
    expect(late.drops).toEqual([[T0 + 10 * MIN, 1]]);
    expect(late.unexplained).toHaveLength(1);
  });

  it('unexplained sales spread wider than the window are forgiven (a drop missed now and then is no phantom)', () => {
    const state = emptyPhantomState();
    for (let i = 0; i < 6; i++) expect(observeSale(state, 1, T0 + i * 70 * MIN, P)).toEqual({ changed: false });
  });

  it('stays bounded under a burst', () => {
    const state = emptyPhantomState();
    for (let i = 0; i < 10_000; i++) observeDrop(state, 1, T0 + i, P);
    expect(state.drops.length).toBeLessThanOrEqual(256);
  });
});
