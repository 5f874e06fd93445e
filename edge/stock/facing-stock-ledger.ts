import type { FacingPlan, PlanogramIndex } from '../planogram/planogram.js';
import type { ShelfQuantity } from './low-stock.js';
import { medianOf, unitsFromWeight, type FacingStock, type StockEvent, type StockPolicy, type StockSource } from './stock.js';

/**
 * One facing's running stock, changed in place: the last `smoothingWindow` readings in a ring, and the quantity they
 * stand for. It computes exactly what folding the pure `applyStockEvent` over the same events gives (a property test
 * compares the two), without the four allocations per reading that the immutable state costs on the hot path.
 */
class FacingCell {
  private readonly ring: Float64Array;
  private count = 0;
  private next = 0;
  hasStock = false;
  units = 0;
  weightG: number | null = null;
  source: StockSource = 'weight';
  lastWeightAt = 0;
  at = 0;

  constructor(
    readonly plan: FacingPlan,
    private readonly unitWeightG: number,
    windowSize: number,
  ) {
    this.ring = new Float64Array(windowSize);
  }

  restore(stock: FacingStock): void {
    this.hasStock = true;
    this.units = stock.units;
    this.weightG = stock.weightG;
    this.source = stock.source;
    this.lastWeightAt = stock.lastWeightAt;
    this.at = stock.at;
  }

  /** Adds a reading; returns whether the units or the source changed (or this is the first quantity). */
  weight(weightG: number, at: number, scratch: Float64Array): boolean {
    const size = this.ring.length;
    this.ring[this.next] = weightG;
    this.next = this.next + 1 === size ? 0 : this.next + 1;
    if (this.count < size) this.count++;
    const smoothed = medianOf(this.ring, this.count, scratch);
    const units = unitsFromWeight(smoothed, this.plan, this.unitWeightG);
    const changed = !this.hasStock || this.units !== units || this.source !== 'weight';
    this.hasStock = true;
    this.units = units;
    this.weightG = smoothed;
    this.source = 'weight';
    this.lastWeightAt = at;
    this.at = at;
    return changed;
  }

  /** A sale counts only once the load cell has been quiet for `staleAfterMs`; returns whether the quantity changed. */
  sale(qty: number, at: number, staleAfterMs: number): boolean {
    if (!this.hasStock || at - this.lastWeightAt < staleAfterMs) return false;
    const units = Math.max(0, this.units - qty);
    const changed = this.units !== units || this.source !== 'sales-estimate';
    this.units = units;
    this.weightG = null;
    this.source = 'sales-estimate';
    this.at = at;
    return changed;
  }

  /** The smoothed weight now; `stable` once the window is full and the latest reading agrees with its units. */
  live(): LiveWeight | undefined {
    if (this.weightG === null || this.count === 0) return undefined;
    const size = this.ring.length;
    const latest = this.ring[(this.next + size - 1) % size] as number;
    const stable = this.count === size && unitsFromWeight(latest, this.plan, this.unitWeightG) === this.units;
    return { weightG: this.weightG, tareG: this.plan.tareG, stable, at: this.lastWeightAt };
  }

  quantity(): ShelfQuantity {
    const { plan } = this;
    return {
      shelfId: plan.shelfId,
      facing: plan.facing,
      sku: plan.sku,
      units: this.units,
      weightG: this.weightG,
      source: this.source,
      at: this.at,
    };
  }
}

/** A facing's load cell as it reads now (smoothed gross weight), for readers that ask on demand (OPC UA). */
export type LiveWeight = { weightG: number; tareG: number; stable: boolean; at: number };

/**
 * The running stock of every facing: folds each weight reading or sale into its facing and tells when the quantity a
 * person would see — units or source — changed. This runs for every reading, tens of thousands a second, so it is a
 * plain map lookup and an in-place update rather than a chain of stream operators per reading; the streams downstream
 * (hysteresis, debounce, alerts) see only the changes. The rules are the pure ones of `stock.ts`.
 */
export class FacingStockLedger {
  private readonly cells = new Map<FacingPlan, FacingCell>();
  private readonly scratch: Float64Array;

  constructor(
    planogram: PlanogramIndex,
    private readonly policy: StockPolicy,
    initialStock: (plan: FacingPlan) => FacingStock | undefined = () => undefined,
  ) {
    this.scratch = new Float64Array(policy.smoothingWindow);
    for (const plan of planogram.planogram.facings) {
      const cell = new FacingCell(plan, planogram.product(plan.sku)?.unitWeightG ?? 1, policy.smoothingWindow);
      const stock = initialStock(plan);
      if (stock) cell.restore(stock);
      this.cells.set(plan, cell);
    }
  }

  /** A weight reading of a planogram facing (the hot path); returns its quantity when units or source changed. */
  weight(plan: FacingPlan, weightG: number, at: number): ShelfQuantity | undefined {
    const cell = this.cells.get(plan);
    return cell && cell.weight(weightG, at, this.scratch) ? cell.quantity() : undefined;
  }

  /** Folds one event into the facing; returns its quantity when units or source changed, else undefined. */
  apply(plan: FacingPlan, event: StockEvent): ShelfQuantity | undefined {
    if (event.type === 'weight') return this.weight(plan, event.weightG, event.at);
    const cell = this.cells.get(plan);
    return cell && cell.sale(event.qty, event.at, this.policy.staleAfterMs) ? cell.quantity() : undefined;
  }

  /** The facing's smoothed weight, or undefined before its first reading (or while sales estimate it). Read-only. */
  liveWeight(plan: FacingPlan): LiveWeight | undefined {
    return this.cells.get(plan)?.live();
  }

  /** Current units of a facing, or null before its first reading. */
  units(plan: FacingPlan): number | null {
    const cell = this.cells.get(plan);
    return cell?.hasStock ? cell.units : null;
  }
}
