import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../devices/random.js';
import { PlanogramIndex } from '../../../edge/planogram/planogram.js';
import type { ShelfQuantity } from '../../../edge/stock/low-stock.js';
import { FacingStockLedger } from '../../../edge/stock/facing-stock-ledger.js';
import {
  EMPTY_FACING_STATE,
  applyStockEvent,
  type FacingStock,
  type FacingStockState,
  type StockEvent,
  type StockPolicy,
} from '../../../edge/stock/stock.js';

const UNIT_G = 250;
const PLANOGRAM = new PlanogramIndex({
  products: [{ sku: 'sku-1', name: 'Test', unitWeightG: UNIT_G }],
  facings: [{ shelfId: 'shelf-a', facing: 1, sku: 'sku-1', capacityUnits: 12, lowStockUnits: 2, restockUnits: 5, tareG: 40 }],
});
const PLAN = PLANOGRAM.facing('shelf-a', 1)!;

/** The specification: the pure `applyStockEvent` folded over the events, reporting a quantity when units or source change. */
function reference(events: readonly StockEvent[], policy: StockPolicy, initial?: FacingStock): Array<ShelfQuantity | undefined> {
  let state: FacingStockState = initial ? { window: [], stock: initial } : EMPTY_FACING_STATE;
  return events.map((event) => {
    const previous = state;
    state = applyStockEvent(previous, event, PLAN, UNIT_G, policy);
    const stock = state.stock;
    if (state === previous || !stock) return undefined;
    if (previous.stock && previous.stock.units === stock.units && previous.stock.source === stock.source) return undefined;
    return { shelfId: 'shelf-a', facing: 1, sku: 'sku-1', units: stock.units, weightG: stock.weightG, source: stock.source, at: stock.at };
  });
}

function randomEvents(random: () => number, count: number): StockEvent[] {
  const events: StockEvent[] = [];
  let at = 0;
  let units = Math.floor(random() * 12);
  for (let i = 0; i < count; i++) {
    at += Math.floor(random() * 40_000);
    if (random() < 0.2) {
      events.push({ type: 'sale', qty: 1 + Math.floor(random() * 3), at });
    } else {
      if (random() < 0.3) units = Math.max(0, Math.min(12, units + Math.floor(random() * 5) - 2));
      // jitter, a hand on the shelf now and then, odd and even windows alike
      const bump = random() < 0.05 ? 900 : 0;
      events.push({ type: 'weight', weightG: 40 + units * UNIT_G + (random() - 0.5) * 60 + bump, at });
    }
  }
  return events;
}

describe('FacingStockLedger computes what the pure applyStockEvent specifies', () => {
  it('on 400 random sequences of readings and sales, with windows of 1 to 8 and with or without restored stock', () => {
    const random = seededRandom(20261201);
    for (let run = 0; run < 400; run++) {
      const policy: StockPolicy = { smoothingWindow: 1 + (run % 8), staleAfterMs: 30_000 + Math.floor(random() * 60_000) };
      const initial: FacingStock | undefined =
        run % 3 === 0 ? { units: 7, weightG: 1790, source: 'weight', lastWeightAt: 0, at: 0 } : undefined;
      const events = randomEvents(random, 60);
      const ledger = new FacingStockLedger(PLANOGRAM, policy, () => initial);
      const actual = events.map((event) => ledger.apply(PLAN, event));
      expect(actual, `run ${run}`).toEqual(reference(events, policy, initial));
    }
  });

  it('weight() is apply() of a weight event', () => {
    const policy: StockPolicy = { smoothingWindow: 3, staleAfterMs: 60_000 };
    const a = new FacingStockLedger(PLANOGRAM, policy);
    const b = new FacingStockLedger(PLANOGRAM, policy);
    for (const [weightG, at] of [
      [1040, 1],
      [1290, 2],
      [540, 3],
      [40, 4],
      [790, 5],
    ] as const) {
      expect(a.weight(PLAN, weightG, at)).toEqual(b.apply(PLAN, { type: 'weight', weightG, at }));
    }
    expect(a.units(PLAN)).toBe(b.units(PLAN));
  });
});
