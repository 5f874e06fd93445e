import { naturalCompare } from '../core/natural-order.js';
import { facingKey, type PlanogramIndex } from '../planogram/planogram.js';
import type { StockLevel, StockSource } from './stock.js';
import type { FacingSnapshot } from './facing-state-store.js';
import type { ShelfQuantity, StockSignal } from './low-stock.js';

/** What staff and the API see of a facing (docs/http-api.md `FacingStock`). */
export type FacingStockView = {
  shelfId: string;
  facing: number;
  sku: string;
  name: string;
  units: number | null;
  weightG: number | null;
  capacityUnits: number;
  lowStockUnits: number;
  restockUnits: number;
  level: StockLevel | 'unknown';
  source: StockSource | null;
  updatedAt: number | null;
};

/**
 * Current stock of every facing of the planogram, for the API and the live stream. Updated from the pipeline;
 * tells its caller when something a person would see changed (units, level, source), so only those changes are
 * streamed and persisted — not every reading.
 */
export class ShelfStockBook {
  private readonly facings = new Map<string, FacingStockView>();

  constructor(planogram: PlanogramIndex, restored: readonly FacingSnapshot[] = []) {
    for (const plan of planogram.planogram.facings) {
      this.facings.set(facingKey(plan.shelfId, plan.facing), {
        shelfId: plan.shelfId,
        facing: plan.facing,
        sku: plan.sku,
        name: planogram.product(plan.sku)?.name ?? plan.sku,
        units: null,
        weightG: null,
        capacityUnits: plan.capacityUnits,
        lowStockUnits: plan.lowStockUnits,
        restockUnits: plan.restockUnits,
        level: 'unknown',
        source: null,
        updatedAt: null,
      });
    }
    for (const snapshot of restored) {
      const view = this.facings.get(facingKey(snapshot.shelfId, snapshot.facing));
      if (view)
        Object.assign(view, {
          units: snapshot.units,
          weightG: snapshot.weightG,
          level: snapshot.level,
          source: snapshot.source,
          updatedAt: snapshot.updatedAt,
        });
    }
  }

  get(shelfId: string, facing: number): FacingStockView | undefined {
    return this.facings.get(facingKey(shelfId, facing));
  }

  /** Returns the new view when units or source changed, else undefined (the reading only refreshed the weight). */
  applyQuantity(q: ShelfQuantity): FacingStockView | undefined {
    const view = this.facings.get(facingKey(q.shelfId, q.facing));
    if (!view) return undefined;
    const changed = view.units !== q.units || view.source !== q.source;
    view.weightG = q.weightG;
    view.updatedAt = q.at;
    if (!changed) return undefined;
    view.units = q.units;
    view.source = q.source;
    return { ...view };
  }

  applySignal(signal: StockSignal): FacingStockView | undefined {
    const view = this.facings.get(facingKey(signal.shelfId, signal.facing));
    if (!view || view.level === signal.level) return undefined;
    view.level = signal.level;
    return { ...view };
  }

  shelves(): { id: string; facings: FacingStockView[] }[] {
    const byShelf = new Map<string, FacingStockView[]>();
    for (const view of this.facings.values()) {
      const list = byShelf.get(view.shelfId) ?? [];
      list.push({ ...view });
      byShelf.set(view.shelfId, list);
    }
    return [...byShelf.entries()]
      .sort(([a], [b]) => naturalCompare(a, b))
      .map(([id, facings]) => ({ id, facings: facings.sort((a, b) => a.facing - b.facing) }));
  }
}

export function toSnapshot(view: FacingStockView): FacingSnapshot | undefined {
  if (view.units === null || view.source === null || view.level === 'unknown' || view.updatedAt === null) return undefined;
  return {
    shelfId: view.shelfId,
    facing: view.facing,
    units: view.units,
    weightG: view.weightG,
    source: view.source,
    level: view.level,
    updatedAt: view.updatedAt,
  };
}
