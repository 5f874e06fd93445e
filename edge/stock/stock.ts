/**
 * On-shelf quantity of a facing, from its load cell and, when the load cell goes quiet, from kiosk sales.
 * Pure functions: no clock, no I/O — time arrives as `at` on each event.
 */
import type { FacingPlan } from '../planogram/planogram.js';

export type StockLevel = 'ok' | 'low';
export type StockSource = 'weight' | 'sales-estimate';

export type StockEvent = { type: 'weight'; weightG: number; at: number } | { type: 'sale'; qty: number; at: number };

export type FacingStock = {
  units: number;
  /** smoothed net weight behind `units`, null when units are a sales estimate */
  weightG: number | null;
  source: StockSource;
  /** when the last weight reading arrived; sales only count once the load cell has been quiet for a while */
  lastWeightAt: number;
  at: number;
};

export type StockPolicy = {
  /** readings in the rolling median */
  smoothingWindow: number;
  /** without a weight reading for this long, sales lower the estimate */
  staleAfterMs: number;
};

/** Units a net weight stands for; never negative. */
export function unitsFromWeight(weightG: number, plan: Pick<FacingPlan, 'tareG'>, unitWeightG: number): number {
  return Math.max(0, Math.round((weightG - plan.tareG) / unitWeightG));
}

/** Median of a small window: one bump (a hand on the shelf, a dropped box) does not move it. */
export function median(values: readonly number[]): number {
  return medianOf(values, values.length, new Float64Array(values.length));
}

/**
 * Median of the first `count` values (their order does not matter), insertion-sorted into `scratch` — the window is a
 * handful of readings. The facing ledger calls this with its ring and one reused scratch buffer: no allocation.
 */
export function medianOf(values: ArrayLike<number>, count: number, scratch: Float64Array): number {
  for (let i = 0; i < count; i++) {
    const value = values[i] as number;
    let j = i - 1;
    while (j >= 0 && (scratch[j] as number) > value) {
      scratch[j + 1] = scratch[j] as number;
      j--;
    }
    scratch[j + 1] = value;
  }
  const middle = count >> 1;
  return count % 2 === 1 ? (scratch[middle] as number) : ((scratch[middle - 1] as number) + (scratch[middle] as number)) / 2;
}

/** Appends to a bounded window (oldest dropped), returning a new array. */
export function pushWindow(window: readonly number[], value: number, size: number): number[] {
  const next = window.length >= size ? window.slice(window.length - size + 1) : window.slice();
  next.push(value);
  return next;
}

export type FacingStockState = { window: number[]; stock: FacingStock | undefined };

export const EMPTY_FACING_STATE: FacingStockState = { window: [], stock: undefined };

/**
 * Folds one event into a facing's state. A weight reading sets the units (rolling median of the window);
 * a sale lowers them only when the load cell has been silent for `staleAfterMs` — while it reports, the weight
 * already shows the units that were taken, and counting the sale as well would count them twice.
 */
export function applyStockEvent(
  state: FacingStockState,
  event: StockEvent,
  plan: FacingPlan,
  unitWeightG: number,
  policy: StockPolicy,
): FacingStockState {
  if (event.type === 'weight') {
    const window = pushWindow(state.window, event.weightG, policy.smoothingWindow);
    const weightG = median(window);
    return {
      window,
      stock: { units: unitsFromWeight(weightG, plan, unitWeightG), weightG, source: 'weight', lastWeightAt: event.at, at: event.at },
    };
  }
  const stock = state.stock;
  if (!stock || event.at - stock.lastWeightAt < policy.staleAfterMs) return state;
  return {
    window: state.window,
    stock: { ...stock, units: Math.max(0, stock.units - event.qty), weightG: null, source: 'sales-estimate', at: event.at },
  };
}

/**
 * Hysteresis: a facing becomes low at or below `lowStockUnits` and is ok again only at or above `restockUnits`,
 * so readings jittering around the threshold do not flap.
 */
export function nextStockLevel(
  previous: StockLevel | undefined,
  units: number,
  plan: Pick<FacingPlan, 'lowStockUnits' | 'restockUnits'>,
): StockLevel {
  if (units <= plan.lowStockUnits) return 'low';
  if (previous === 'low' && units < plan.restockUnits) return 'low';
  return 'ok';
}
