import { describe, expect, it } from 'vitest';
import { lowStockAlert } from '../../../edge/alerts/low-stock-alerts.js';

const FACING = { shelfId: 'shelf-a', facing: 2, sku: 'sku-1', name: 'Oat milk 1 l' };

describe('lowStockAlert', () => {
  it('a facing with units left is a warning', () => {
    expect(lowStockAlert(FACING, 2)).toEqual({
      kind: 'low-stock',
      key: 'low-stock:shelf-a/2',
      severity: 'warning',
      title: 'Low stock: Oat milk 1 l (shelf-a facing 2), 2 left',
      shelfId: 'shelf-a',
      facing: 2,
      sku: 'sku-1',
      units: 2,
    });
  });

  it('an empty facing is critical: out of stock', () => {
    expect(lowStockAlert(FACING, 0)).toEqual({
      kind: 'low-stock',
      key: 'low-stock:shelf-a/2',
      severity: 'critical',
      title: 'Out of stock: Oat milk 1 l (shelf-a facing 2)',
      shelfId: 'shelf-a',
      facing: 2,
      sku: 'sku-1',
      units: 0,
    });
  });
});
