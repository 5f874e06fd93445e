/**
 * Label bindings: which label (a device id, or an OpenEPaperLink mac) shows which facing. Two sources: the `labels`
 * section of the planogram file, and staff binding a label through the API (stored, and winning over the file).
 * The pure part merges and checks them; `LabelBindingStore` keeps the API's bindings in SQLite.
 */
import type { SqliteDatabase, TransactionStep } from '../storage/database.js';
import type { LabelBinding } from './label-directory.js';
import { normalizeOeplMac } from './oepl-messages.js';

export type BindingTarget = { shelfId: string; facing: number };
export type BindingSource = 'planogram' | 'api';
export type StoredBinding = BindingTarget & { labelId: string; boundBy: string; boundAt: number };
export type PlanogramLabel = BindingTarget & { labelId: string };
export type ResolvedBinding = BindingTarget & { labelId: string; source: BindingSource };

export class LabelBindingError extends Error {
  constructor(
    readonly labelId: string,
    readonly target: BindingTarget,
    reason: string,
  ) {
    super(`label ${labelId} cannot be bound to ${target.shelfId}/${target.facing}: ${reason}`);
    this.name = 'LabelBindingError';
  }
}

/** One spelling per label: a mac in any case or with the short form is the AP's 16-digit upper-case mac. */
export function labelKey(labelId: string): string {
  return normalizeOeplMac(labelId) ?? labelId;
}

/** The planogram's bindings with the API's on top (same label: the API's, set later by staff, wins). */
export function mergeBindings(fromPlanogram: readonly PlanogramLabel[], stored: readonly StoredBinding[]): Map<string, ResolvedBinding> {
  const bindings = new Map<string, ResolvedBinding>();
  for (const { labelId, shelfId, facing } of fromPlanogram)
    bindings.set(labelKey(labelId), { labelId: labelKey(labelId), shelfId, facing, source: 'planogram' });
  for (const { labelId, shelfId, facing } of stored)
    bindings.set(labelKey(labelId), { labelId: labelKey(labelId), shelfId, facing, source: 'api' });
  return bindings;
}

/**
 * A binding as the campaign service sees it: with the sku the facing holds now (so a planogram change moves the
 * label to the new product); undefined when the facing is no longer in the planogram.
 */
export function withSku(
  binding: ResolvedBinding,
  skuAt: (shelfId: string, facing: number) => string | undefined,
): LabelBinding | undefined {
  const sku = skuAt(binding.shelfId, binding.facing);
  return sku === undefined ? undefined : { labelId: binding.labelId, shelfId: binding.shelfId, facing: binding.facing, sku };
}

/** Refuses a binding to a facing the planogram does not have, or beyond the bound on labels tracked. */
export function checkBinding(
  labelId: string,
  target: BindingTarget,
  context: { skuAt: (shelfId: string, facing: number) => string | undefined; bindings: ReadonlyMap<string, unknown>; maxLabels: number },
): void {
  if (context.skuAt(target.shelfId, target.facing) === undefined)
    throw new LabelBindingError(labelId, target, 'no such facing in the planogram');
  if (!context.bindings.has(labelKey(labelId)) && context.bindings.size >= context.maxLabels) {
    throw new LabelBindingError(labelId, target, `${context.maxLabels} labels are bound already`);
  }
}

type BindingRow = { label_id: string; shelf_id: string; facing: number; bound_by: string; bound_at: number };

/** The bindings staff set through the API, one row per label. */
export class LabelBindingStore {
  constructor(private readonly db: SqliteDatabase) {}

  async loadAll(limit: number): Promise<StoredBinding[]> {
    const rows = await this.db.all<BindingRow>(
      'SELECT label_id, shelf_id, facing, bound_by, bound_at FROM label_bindings ORDER BY bound_at LIMIT ?',
      [limit],
    );
    return rows.map((row) => ({
      labelId: row.label_id,
      shelfId: row.shelf_id,
      facing: row.facing,
      boundBy: row.bound_by,
      boundAt: row.bound_at,
    }));
  }

  /** `withChange` (the audit entry) commits in the same transaction: the binding and its entry are both on disk, or neither. */
  async put(binding: StoredBinding, withChange?: TransactionStep): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.run(
        `INSERT INTO label_bindings (label_id, shelf_id, facing, bound_by, bound_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (label_id) DO UPDATE SET
           shelf_id = excluded.shelf_id, facing = excluded.facing, bound_by = excluded.bound_by, bound_at = excluded.bound_at`,
        [labelKey(binding.labelId), binding.shelfId, binding.facing, binding.boundBy, binding.boundAt],
      );
      await withChange?.(tx);
    });
  }
}
