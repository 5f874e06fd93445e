import { createHash } from 'node:crypto';
import type { AisleSide, FacingPlan, LayoutAisle, Planogram, PlanogramLabelEntry, Product, ShelfPlace } from './planogram.js';
import type { SqliteDatabase } from '../storage/database.js';

type ProductRow = { sku: string; name: string; unit_weight_g: number; price_cents: number | null };
type FacingRow = {
  shelf_id: string;
  facing: number;
  sku: string;
  capacity_units: number;
  low_stock_units: number;
  restock_units: number;
  tare_g: number;
};

const FINGERPRINT_KEY = 'planogram.sha256';

/** Fingerprint of a planogram file's text. */
export function planogramFingerprint(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The planogram in SQLite: replaced whole when a planogram file is loaded, read at start. */
export class PlanogramStore {
  constructor(private readonly db: SqliteDatabase) {}

  /** Fingerprint of the planogram file stored last, to skip parsing and rewriting an unchanged file at start. */
  async storedFingerprint(): Promise<string | undefined> {
    return (await this.db.get<{ value: string }>('SELECT value FROM gateway_meta WHERE key = ?', [FINGERPRINT_KEY]))?.value;
  }

  /** Replaces the planogram; `fingerprint` is remembered with it (none: forgotten, the next file load rewrites). */
  async replace(planogram: Planogram, fingerprint?: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.run('DELETE FROM planogram');
      await tx.run('DELETE FROM products');
      await tx.run('DELETE FROM planogram_labels');
      await tx.run('DELETE FROM planogram_layout');
      await tx.run('DELETE FROM planogram_aisles');
      await tx.runMany(
        'INSERT INTO products (sku, name, unit_weight_g, price_cents) VALUES (?, ?, ?, ?)',
        planogram.products.map((p) => [p.sku, p.name, p.unitWeightG, p.priceCents ?? null]),
      );
      await tx.runMany(
        `INSERT INTO planogram (shelf_id, facing, sku, capacity_units, low_stock_units, restock_units, tare_g)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
        planogram.facings.map((f) => [f.shelfId, f.facing, f.sku, f.capacityUnits, f.lowStockUnits, f.restockUnits, f.tareG]),
      );
      await tx.runMany(
        'INSERT INTO planogram_labels (position, label, shelf_id, facing) VALUES (?, ?, ?, ?)',
        (planogram.labels ?? []).map((l, i) => [i, l.label, l.shelfId, l.facing]),
      );
      await tx.runMany(
        'INSERT INTO planogram_aisles (position, aisle, name) VALUES (?, ?, ?)',
        (planogram.layout?.aisles ?? []).map((a, i) => [i, a.aisle, a.name ?? null]),
      );
      await tx.runMany(
        'INSERT INTO planogram_layout (shelf_id, aisle, side, position) VALUES (?, ?, ?, ?)',
        (planogram.layout?.shelves ?? []).map((p) => [p.shelfId, p.aisle, p.side, p.order]),
      );
      if (fingerprint)
        await tx.run('INSERT INTO gateway_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [
          FINGERPRINT_KEY,
          fingerprint,
        ]);
      else await tx.run('DELETE FROM gateway_meta WHERE key = ?', [FINGERPRINT_KEY]);
    });
  }

  async load(): Promise<Planogram> {
    const products = await this.db.all<ProductRow>('SELECT * FROM products ORDER BY sku');
    const facings = await this.db.all<FacingRow>('SELECT * FROM planogram ORDER BY shelf_id, facing');
    const labels = await this.db.all<{ label: string; shelf_id: string; facing: number }>(
      'SELECT label, shelf_id, facing FROM planogram_labels ORDER BY position',
    );
    const aisles = await this.db.all<{ aisle: string; name: string | null }>('SELECT aisle, name FROM planogram_aisles ORDER BY position');
    const places = await this.db.all<{ shelf_id: string; aisle: string; side: AisleSide; position: number }>(
      // the file's order: aisles as walked, left side before right, each side from the aisle's start
      `SELECT l.shelf_id, l.aisle, l.side, l.position FROM planogram_layout l JOIN planogram_aisles a ON a.aisle = l.aisle
       ORDER BY a.position, l.side, l.position`,
    );
    return {
      ...(aisles.length === 0
        ? {}
        : {
            layout: {
              aisles: aisles.map((row): LayoutAisle => (row.name === null ? { aisle: row.aisle } : { aisle: row.aisle, name: row.name })),
              shelves: places.map((row): ShelfPlace => ({ shelfId: row.shelf_id, aisle: row.aisle, side: row.side, order: row.position })),
            },
          }),
      ...(labels.length === 0
        ? {}
        : { labels: labels.map((row): PlanogramLabelEntry => ({ label: row.label, shelfId: row.shelf_id, facing: row.facing })) }),
      products: products.map((row): Product => {
        const product: Product = { sku: row.sku, name: row.name, unitWeightG: row.unit_weight_g };
        if (row.price_cents !== null) product.priceCents = row.price_cents;
        return product;
      }),
      facings: facings.map((row): FacingPlan => ({
        shelfId: row.shelf_id,
        facing: row.facing,
        sku: row.sku,
        capacityUnits: row.capacity_units,
        lowStockUnits: row.low_stock_units,
        restockUnits: row.restock_units,
        tareG: row.tare_g,
      })),
    };
  }
}
