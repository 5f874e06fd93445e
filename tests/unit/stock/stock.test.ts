import { describe, expect, it } from 'vitest';
import type { FacingPlan } from '../../../edge/planogram/planogram.js';
import {
  EMPTY_FACING_STATE,
  applyStockEvent,
  median,
  nextStockLevel,
  pushWindow,
  unitsFromWeight,
  type FacingStockState,
  type StockEvent,
  type StockLevel,
  type StockPolicy,
} from '../../../edge/stock/stock.js';

const PLAN: FacingPlan = { shelfId: 'shelf-a', facing: 1, sku: 'sku-1', capacityUnits: 10, lowStockUnits: 2, restockUnits: 5, tareG: 200 };
const UNIT_G = 100;
const POLICY: StockPolicy = { smoothingWindow: 3, staleAfterMs: 60_000 };

function fold(events: StockEvent[], state: FacingStockState = EMPTY_FACING_STATE, policy = POLICY): FacingStockState {
  return events.reduce((s, e) => applyStockEvent(s, e, PLAN, UNIT_G, policy), state);
}

describe('unitsFromWeight', () => {
  it('subtracts the tare before dividing by the unit weight', () => {
    expect(unitsFromWeight(200 + 3 * UNIT_G, PLAN, UNIT_G)).toBe(3);
    expect(unitsFromWeight(200, PLAN, UNIT_G)).toBe(0);
    expect(unitsFromWeight(300, { tareG: 0 }, UNIT_G)).toBe(3);
  });

  it('rounds to the nearest unit (half a unit rounds up)', () => {
    expect(unitsFromWeight(200 + 249, PLAN, UNIT_G)).toBe(2);
    expect(unitsFromWeight(200 + 250, PLAN, UNIT_G)).toBe(3);
    expect(unitsFromWeight(200 + 351, PLAN, UNIT_G)).toBe(4);
    expect(unitsFromWeight(200 + 49, PLAN, UNIT_G)).toBe(0);
  });

  it('is never negative, even far below the tare', () => {
    expect(unitsFromWeight(150, PLAN, UNIT_G)).toBe(0);
    expect(unitsFromWeight(-5_000, PLAN, UNIT_G)).toBe(0);
  });
});

describe('median', () => {
  it('takes the middle of an odd window regardless of order', () => {
    expect(median([5])).toBe(5);
    expect(median([9, 1, 5])).toBe(5);
    expect(median([100, 1, 2, 3, 4])).toBe(3);
  });

  it('averages the two middle values of an even window', () => {
    expect(median([1, 3])).toBe(2);
    expect(median([10, 1, 4, 2])).toBe(3);
  });

  it('sorts numerically, not as strings, and does not mutate its input', () => {
    const values = [10, 9, 100];
    expect(median(values)).toBe(10);
    expect(values).toEqual([10, 9, 100]);
  });

  it('one spike does not move a window of three', () => {
    expect(median([500, 5_000, 500])).toBe(500);
  });
});

describe('pushWindow', () => {
  it('appends until the window is full, then drops the oldest', () => {
    let window: number[] = [];
    for (const v of [1, 2, 3]) window = pushWindow(window, v, 3);
    expect(window).toEqual([1, 2, 3]);
    window = pushWindow(window, 4, 3);
    expect(window).toEqual([2, 3, 4]);
    window = pushWindow(window, 5, 3);
    expect(window).toEqual([3, 4, 5]);
  });

  it('returns a new array and leaves the old one untouched', () => {
    const before = [1, 2];
    const after = pushWindow(before, 3, 5);
    expect(after).toEqual([1, 2, 3]);
    expect(before).toEqual([1, 2]);
    expect(after).not.toBe(before);
  });

  it('keeps exactly one value with size 1 and shrinks an oversized window to the bound', () => {
    expect(pushWindow([1, 2, 3], 9, 1)).toEqual([9]);
    expect(pushWindow([1, 2, 3, 4, 5], 6, 2)).toEqual([5, 6]);
  });

  it('never grows past the bound over many pushes', () => {
    let window: number[] = [];
    for (let i = 0; i < 1_000; i++) window = pushWindow(window, i, 5);
    expect(window).toEqual([995, 996, 997, 998, 999]);
  });
});

describe('applyStockEvent', () => {
  it('a weight reading sets units from the rolling median of the window', () => {
    const state = fold([
      { type: 'weight', weightG: 700, at: 1_000 },
      { type: 'weight', weightG: 700, at: 2_000 },
    ]);
    expect(state.window).toEqual([700, 700]);
    expect(state.stock).toEqual({ units: 5, weightG: 700, source: 'weight', lastWeightAt: 2_000, at: 2_000 });
  });

  it('a single spike inside the window does not change the units', () => {
    const state = fold([
      { type: 'weight', weightG: 700, at: 1 },
      { type: 'weight', weightG: 700, at: 2 },
      { type: 'weight', weightG: 50_000, at: 3 },
    ]);
    expect(state.window).toEqual([700, 700, 50_000]);
    expect(state.stock?.units).toBe(5);
    expect(state.stock?.weightG).toBe(700);
  });

  it('the window is bounded by smoothingWindow', () => {
    const state = fold([1, 2, 3, 4, 5].map((n) => ({ type: 'weight' as const, weightG: 200 + n * 100, at: n })));
    expect(state.window).toEqual([500, 600, 700]);
    expect(state.stock?.units).toBe(4);
  });

  it('a sale before any stock is known changes nothing', () => {
    const state = fold([{ type: 'sale', qty: 1, at: 1_000_000 }]);
    expect(state).toBe(EMPTY_FACING_STATE);
  });

  it('a sale is ignored while the load cell is fresh (the weight already shows it)', () => {
    const weighed = fold([{ type: 'weight', weightG: 700, at: 10_000 }]);
    const justBefore = applyStockEvent(weighed, { type: 'sale', qty: 2, at: 10_000 + 59_999 }, PLAN, UNIT_G, POLICY);
    expect(justBefore).toBe(weighed);
    expect(justBefore.stock?.units).toBe(5);
    expect(justBefore.stock?.source).toBe('weight');
  });

  it('a sale lowers the units once the load cell is stale, as a sales estimate', () => {
    const weighed = fold([{ type: 'weight', weightG: 700, at: 10_000 }]);
    const sold = applyStockEvent(weighed, { type: 'sale', qty: 2, at: 70_000 }, PLAN, UNIT_G, POLICY);
    expect(sold.stock).toEqual({ units: 3, weightG: null, source: 'sales-estimate', lastWeightAt: 10_000, at: 70_000 });
    expect(sold.window).toEqual([700]);
  });

  it('sales never take the units below zero', () => {
    const weighed = fold([{ type: 'weight', weightG: 400, at: 0 }]);
    expect(weighed.stock?.units).toBe(2);
    const sold = fold(
      [
        { type: 'sale', qty: 1, at: 100_000 },
        { type: 'sale', qty: 5, at: 100_001 },
        { type: 'sale', qty: 1, at: 100_002 },
      ],
      weighed,
    );
    expect(sold.stock?.units).toBe(0);
    expect(sold.stock?.source).toBe('sales-estimate');
  });

  it('a new weight reading takes over from the sales estimate', () => {
    const state = fold([
      { type: 'weight', weightG: 700, at: 0 },
      { type: 'sale', qty: 1, at: 70_000 },
      { type: 'weight', weightG: 700, at: 80_000 },
    ]);
    expect(state.stock).toEqual({ units: 5, weightG: 700, source: 'weight', lastWeightAt: 80_000, at: 80_000 });
  });

  it('does not mutate the state it is given', () => {
    const weighed = fold([{ type: 'weight', weightG: 700, at: 0 }]);
    const copy = structuredClone(weighed);
    fold(
      [
        { type: 'weight', weightG: 300, at: 1 },
        { type: 'sale', qty: 1, at: 999_999 },
      ],
      weighed,
    );
    expect(weighed).toEqual(copy);
  });
});

describe('nextStockLevel (low at ≤ 2, ok again at ≥ 5)', () => {
  const plan = { lowStockUnits: 2, restockUnits: 5 };
  const table: Array<[StockLevel | undefined, number, StockLevel]> = [
    [undefined, 10, 'ok'],
    [undefined, 3, 'ok'],
    [undefined, 2, 'low'],
    [undefined, 0, 'low'],
    ['ok', 3, 'ok'],
    ['ok', 2, 'low'],
    ['ok', 1, 'low'],
    ['low', 0, 'low'],
    ['low', 2, 'low'],
    ['low', 3, 'low'],
    ['low', 4, 'low'],
    ['low', 5, 'ok'],
    ['low', 6, 'ok'],
  ];
  it.each(table)('previous %s, %i units → %s', (previous, units, expected) => {
    expect(nextStockLevel(previous, units, plan)).toBe(expected);
  });

  it('jitter around the low threshold does not flap', () => {
    let level: StockLevel | undefined;
    const levels = [4, 3, 2, 3, 2, 3, 4, 3, 4, 2, 4].map((units) => (level = nextStockLevel(level, units, plan)));
    expect(levels).toEqual(['ok', 'ok', 'low', 'low', 'low', 'low', 'low', 'low', 'low', 'low', 'low']);
  });

  it('jitter around the restock threshold after restocking does not flap', () => {
    let level: StockLevel | undefined = 'low';
    const levels = [5, 4, 5, 3, 4, 5].map((units) => (level = nextStockLevel(level, units, plan)));
    expect(levels).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'ok']);
  });
});
