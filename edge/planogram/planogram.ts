/** The planogram: which product sits on which shelf facing, and the stock policy of each facing. */

export type Product = {
  sku: string;
  name: string;
  /** weight of one unit as the load cell sees it, grams */
  unitWeightG: number;
  priceCents?: number;
};

export type FacingPlan = {
  shelfId: string;
  /** 1-based position on the shelf, as the load cell reports it */
  facing: number;
  sku: string;
  capacityUnits: number;
  /** at or below this many units the facing is low */
  lowStockUnits: number;
  /** the facing is back to ok only at or above this many units (hysteresis) */
  restockUnits: number;
  /** weight the load cell reports with the facing empty, grams */
  tareG: number;
};

/** A shelf label bound to a facing in the planogram file (the labels room also takes bindings through its API). */
export type PlanogramLabelEntry = { label: string; shelfId: string; facing: number };
/** Which side of its aisle a shelf stands on, walking the aisle from its start. */
export type AisleSide = 'left' | 'right';
/** Where a shelf stands: its aisle, the side, and its place along that side (1 = nearest the aisle's start). */
export type ShelfPlace = { shelfId: string; aisle: string; side: AisleSide; order: number };
/** An aisle of the layout, in the store's walking order; `name` is what staff call it ("Drinks"). */
export type LayoutAisle = { aisle: string; name?: string };
/** The optional `layout` section: aisles in walking order and the place of each shelf the store placed. */
export type PlanogramLayout = { aisles: LayoutAisle[]; shelves: ShelfPlace[] };
/** `labels`: the file's label bindings, in file order (absent: none). `layout`: absent when the file has none. */
export type Planogram = { products: Product[]; facings: FacingPlan[]; labels?: PlanogramLabelEntry[]; layout?: PlanogramLayout };

export function facingKey(shelfId: string, facing: number): string {
  return `${shelfId}/${facing}`;
}

/** Read-only lookups the pipelines need; built once per planogram load. */
export class PlanogramIndex {
  /** shelf → facing → plan: looked up for every reading, so without building a key string */
  private readonly facingsByShelf = new Map<string, Map<number, FacingPlan>>();
  private readonly productsBySku = new Map<string, Product>();
  private readonly facingsBySku = new Map<string, FacingPlan[]>();
  private readonly placesByShelf = new Map<string, ShelfPlace>();

  constructor(readonly planogram: Planogram) {
    for (const place of planogram.layout?.shelves ?? []) this.placesByShelf.set(place.shelfId, place);
    for (const product of planogram.products) this.productsBySku.set(product.sku, product);
    for (const plan of planogram.facings) {
      let shelf = this.facingsByShelf.get(plan.shelfId);
      if (!shelf) this.facingsByShelf.set(plan.shelfId, (shelf = new Map<number, FacingPlan>()));
      shelf.set(plan.facing, plan);
      const list = this.facingsBySku.get(plan.sku) ?? [];
      list.push(plan);
      this.facingsBySku.set(plan.sku, list);
    }
  }

  facing(shelfId: string, facing: number): FacingPlan | undefined {
    return this.facingsByShelf.get(shelfId)?.get(facing);
  }

  product(sku: string): Product | undefined {
    return this.productsBySku.get(sku);
  }

  facingsOf(sku: string): readonly FacingPlan[] {
    return this.facingsBySku.get(sku) ?? [];
  }

  /** Where the layout places a shelf; undefined without a layout or for a shelf it leaves out. */
  placeOf(shelfId: string): ShelfPlace | undefined {
    return this.placesByShelf.get(shelfId);
  }

  shelfIds(): string[] {
    return [...this.facingsByShelf.keys()].sort();
  }
}
