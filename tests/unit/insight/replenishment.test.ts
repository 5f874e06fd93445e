import { describe, expect, it } from 'vitest';
import { byAisle, pickList, type ReplenishmentFacing } from '../../../edge/insight/replenishment.js';

const facing = (shelfId: string, n: number, units: number | null, aisle?: string): ReplenishmentFacing => ({
  shelfId,
  facing: n,
  sku: `sku-${shelfId}-${n}`,
  name: `Product ${shelfId}/${n}`,
  units,
  capacityUnits: 20,
  lowStockUnits: 4,
  ...(aisle === undefined ? {} : { aisle }),
});

describe('pick list', () => {
  const facings = [
    facing('s1', 1, 12, 'A2'), // fine: not listed
    facing('s1', 2, 3, 'A2'), // low
    facing('s2', 1, 0, 'A1'), // empty
    facing('s2', 2, 9, 'A1'), // predicted at 12:40
    facing('s3', 1, 7), // predicted at 12:20, no aisle
    facing('s3', 2, null), // unknown: not listed
    facing('s3', 3, 1), // low, fewer units than s1/2
  ];
  const predicted = new Map([
    ['s2/2', 1_240],
    ['s3/1', 1_220],
  ]);

  it('lists empty, then predicted (soonest first), then low (fewest units first), with the units that fill each', () => {
    const lines = pickList(facings, predicted, 100);
    expect(lines.map((l) => [`${l.shelfId}/${l.facing}`, l.urgency, l.unitsToBring])).toEqual([
      ['s2/1', 'empty', 20],
      ['s3/1', 'predicted', 13],
      ['s2/2', 'predicted', 11],
      ['s3/3', 'low', 19],
      ['s1/2', 'low', 17],
    ]);
    expect(lines[1]).toMatchObject({ name: 'Product s3/1', emptyAt: 1_220 });
    expect(pickList(facings, predicted, 2)).toHaveLength(2);
  });

  it('groups by aisle in natural order, facings without an aisle last, each group keeping the urgency order', () => {
    const groups = byAisle(pickList(facings, predicted, 100));
    expect(groups.map((g) => [g.aisle, g.lines.map((l) => `${l.shelfId}/${l.facing}`)])).toEqual([
      ['A1', ['s2/1', 's2/2']],
      ['A2', ['s1/2']],
      [null, ['s3/1', 's3/3']],
    ]);
  });

  it('breaks ties between shelves and orders aisles as people read them: shelf-2 before shelf-10, aisle 9 before aisle 10', () => {
    const tied = [facing('shelf-10', 1, 0, 'aisle 10'), facing('shelf-2', 1, 0, 'aisle 9'), facing('shelf-9', 1, 0, 'aisle 10')];
    const lines = pickList(tied, new Map(), 100);
    expect(lines.map((l) => l.shelfId)).toEqual(['shelf-2', 'shelf-9', 'shelf-10']);
    expect(byAisle(lines).map((g) => g.aisle)).toEqual(['aisle 9', 'aisle 10']);
  });
});
