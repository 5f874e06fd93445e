import { describe, expect, it } from 'vitest';
import { byAisle, facingsWithAisles, pickList, type ReplenishmentFacing } from '../../../edge/insight/replenishment.js';

const facing = (shelfId: string, n: number, units: number): Omit<ReplenishmentFacing, 'aisle'> => ({
  shelfId,
  facing: n,
  sku: `sku-${shelfId}-${n}`,
  name: `Product ${shelfId}/${n}`,
  units,
  capacityUnits: 10,
  lowStockUnits: 2,
});

describe('pick list by the layout’s aisles', () => {
  const shelves = [
    { id: 'shelf-a', facings: [facing('shelf-a', 1, 2), facing('shelf-a', 2, 0)] },
    { id: 'shelf-b', facings: [facing('shelf-b', 1, 0)] },
    { id: 'shelf-c', facings: [facing('shelf-c', 1, 1)] },
  ];
  const aisles: Record<string, string> = { 'shelf-a': '10', 'shelf-b': '2' };

  it('gives each facing its shelf’s aisle; a shelf the layout leaves out keeps none', () => {
    const facings = facingsWithAisles(shelves, (id) => aisles[id]);
    expect(facings.map((f) => [`${f.shelfId}/${f.facing}`, f.aisle])).toEqual([
      ['shelf-a/1', '10'],
      ['shelf-a/2', '10'],
      ['shelf-b/1', '2'],
      ['shelf-c/1', undefined],
    ]);
    expect('aisle' in facings[3]!).toBe(false);
  });

  it('groups by aisle (2 before 10), each by urgency with the units to bring and the product name, unplaced last', () => {
    const lines = pickList(
      facingsWithAisles(shelves, (id) => aisles[id]),
      new Map(),
      100,
    );
    expect(byAisle(lines).map((g) => [g.aisle, g.lines.map((l) => `${l.name}: ${l.urgency}, bring ${l.unitsToBring}`)])).toEqual([
      ['2', ['Product shelf-b/1: empty, bring 10']],
      ['10', ['Product shelf-a/2: empty, bring 10', 'Product shelf-a/1: low, bring 8']],
      [null, ['Product shelf-c/1: low, bring 9']],
    ]);
  });

  it('without a layout the facings are as they were', () => {
    const facings = facingsWithAisles(shelves, () => undefined);
    expect(facings).toEqual(shelves.flatMap((s) => s.facings));
  });
});
