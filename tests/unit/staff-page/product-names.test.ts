/** The campaigns view's product names: one map while the names stay the same, whatever the units do. */
import { describe, expect, it } from 'vitest';
import { facings, type FacingStock } from '../../../dashboards/staff/src/live.js';
import { productNames } from '../../../dashboards/staff/src/views/campaigns/product-names.js';

const milk: FacingStock = {
  shelfId: 'shelf-a',
  facing: 1,
  sku: '4000000000017',
  name: 'Oat milk 1 l',
  units: 10,
  weightG: 10_400,
  capacityUnits: 12,
  lowStockUnits: 3,
  restockUnits: 10,
  level: 'ok',
  source: 'weight',
  updatedAt: 1,
};

describe('product names for the campaigns view', () => {
  it('keeps its map when only units change, and makes a new one when a name does', () => {
    facings.value = new Map([['shelf-a/1', milk]]);
    const first = productNames.value;
    expect(first.get('4000000000017')).toBe('Oat milk 1 l');
    facings.value = new Map([['shelf-a/1', { ...milk, units: 2, level: 'low', updatedAt: 2 }]]);
    expect(productNames.value).toBe(first);
    facings.value = new Map([['shelf-a/1', { ...milk, name: 'Oat drink 1 l', updatedAt: 3 }]]);
    expect(productNames.value).not.toBe(first);
    expect(productNames.value.get('4000000000017')).toBe('Oat drink 1 l');
  });
});
