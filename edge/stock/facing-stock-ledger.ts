import type { FacingPlan, PlanogramIndex } from '../planogram/planogram.js';
import { EMPTY_FACING_STATE, applyStockEvent, type FacingStock, type FacingStockState, type StockEvent, type StockPolicy } from './stock.js';
import type { ShelfQuantity } from './low-stock.js';

/**
 * The running stock of every facing: folds each weight reading or sale into its facing's state (pure
 * `applyStockEvent`) and tells when the quantity a person would see — units or source — changed. This runs for every
 * reading, tens of thousands a second, so it is a plain map update rather than a chain of stream operators per
 * reading; the streams downstream (hysteresis, debounce, alerts) see only the changes.
 */
export class FacingStockLedger {
  private readonly states = new Map<FacingPlan, FacingStockState>();

  constructor(
    private readonly planogram: PlanogramIndex,
    private readonly policy: StockPolicy,
    initialStock: (plan: FacingPlan) => FacingStock | undefined = () => undefined,
  ) {
    for (const plan of planogram.planogram.facings) {
      const stock = initialStock(plan);
      if (stock) this.states.set(plan, { window: [], stock });
    }
  }

  /** Folds one event into the facing; returns its quantity when units or source changed, else undefined. */
  apply(plan: FacingPlan, event: StockEvent): ShelfQuantity | undefined {
    const previous = this.states.get(plan) ?? EMPTY_FACING_STATE;
    const next = applyStockEvent(previous, event, plan, this.planogram.product(plan.sku)?.unitWeightG ?? 1, this.policy);
    if (next === previous) return undefined;
    this.states.set(plan, next);
    const stock = next.stock;
    if (!stock || (previous.stock && previous.stock.units === stock.units && previous.stock.source === stock.source)) return undefined;
    return { shelfId: plan.shelfId, facing: plan.facing, sku: plan.sku, units: stock.units, weightG: stock.weightG, source: stock.source, at: stock.at };
  }

  /** Current units of a facing, or null before its first reading. */
  units(plan: FacingPlan): number | null {
    return this.states.get(plan)?.stock?.units ?? null;
  }
}
