/**
 * The stock → alert policy: which low-stock alert a facing's level asks for. Pure: the caller keeps the state.
 */
import type { FacingStockView } from '../stock/shelf-stock-book.js';
import { lowStockKey, type NewAlert } from './alerts.js';

/** The alert a low facing raises: out of stock (critical) at 0 units, low stock (warning) above. */
export function lowStockAlert(facing: Pick<FacingStockView, 'shelfId' | 'facing' | 'sku' | 'name'>, units: number): NewAlert {
  const empty = units === 0;
  return {
    kind: 'low-stock',
    key: lowStockKey(facing.shelfId, facing.facing),
    severity: empty ? 'critical' : 'warning',
    title: empty
      ? `Out of stock: ${facing.name} (${facing.shelfId} facing ${facing.facing})`
      : `Low stock: ${facing.name} (${facing.shelfId} facing ${facing.facing}), ${units} left`,
    shelfId: facing.shelfId,
    facing: facing.facing,
    sku: facing.sku,
    units,
  };
}
