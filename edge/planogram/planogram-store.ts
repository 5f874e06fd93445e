import { createHash } from 'node:crypto';
import type { FacingPlan, Planogram, PlanogramLabelEntry, Product } from './planogram.js';
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
    return {
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
