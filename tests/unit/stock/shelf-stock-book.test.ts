import { describe, expect, it } from 'vitest';
import { PlanogramIndex } from '../../../edge/planogram/planogram.js';
import type { ShelfQuantity, StockSignal } from '../../../edge/stock/low-stock.js';
import { ShelfStockBook, toSnapshot, type FacingStockView } from '../../../edge/stock/shelf-stock-book.js';
import type { FacingSnapshot } from '../../../edge/stock/facing-state-store.js';

const facing = (shelfId: string, n: number, sku: string) => ({
  shelfId,
  facing: n,
  sku,
  capacityUnits: 12,
  lowStockUnits: 2,
  restockUnits: 6,
  tareG: 0,
});

// deliberately out of order: shelves and facings are sorted on the way out
const PLANOGRAM = new PlanogramIndex({
  products: [
    { sku: 'milk', name: 'Oat milk 1 l', unitWeightG: 1040 },
    { sku: 'beans', name: 'Espresso beans', unitWeightG: 520 },
  ],
  facings: [
    facing('shelf-b', 10, 'milk'),
    facing('shelf-b', 2, 'beans'),
    facing('shelf-a', 1, 'milk'),
    facing('shelf-b', 1, 'unlisted-sku'),
  ],
});

const q = (
  shelfId: string,
  n: number,
  units: number,
  weightG: number | null,
  at: number,
  source: ShelfQuantity['source'] = 'weight',
): ShelfQuantity => ({
  shelfId,
  facing: n,
  sku: 'milk',
  units,
  weightG,
  source,
  at,
});
const s = (shelfId: string, n: number, level: StockSignal['level'], units = 1, at = 1): StockSignal => ({
  shelfId,
  facing: n,
  sku: 'milk',
  level,
  units,
  at,
});

const unknownView = (shelfId: string, n: number, sku: string, name: string): FacingStockView => ({
  shelfId,
  facing: n,
  sku,
  name,
  units: null,
  weightG: null,
  capacityUnits: 12,
  lowStockUnits: 2,
  restockUnits: 6,
  level: 'unknown',
  source: null,
  updatedAt: null,
});

describe('ShelfStockBook', () => {
  it('starts with every planogram facing unknown, named after its product (or its sku)', () => {
    const book = new ShelfStockBook(PLANOGRAM);
    expect(book.get('shelf-a', 1)).toEqual(unknownView('shelf-a', 1, 'milk', 'Oat milk 1 l'));
    expect(book.get('shelf-b', 1)?.name).toBe('unlisted-sku');
    expect(book.get('shelf-z', 1)).toBeUndefined();
    expect(book.get('shelf-a', 1)?.units ?? null).toBeNull();
    expect(book.get('shelf-z', 1)?.units ?? null).toBeNull();
  });

  it('shelves() sorts shelves by id and facings by number (10 after 2)', () => {
    const shelves = new ShelfStockBook(PLANOGRAM).shelves();
    expect(shelves.map((shelf) => [shelf.id, shelf.facings.map((f) => f.facing)])).toEqual([
      ['shelf-a', [1]],
      ['shelf-b', [1, 2, 10]],
    ]);
  });

  it('shelves() orders shelf ids as people read them: shelf-2 before shelf-10', () => {
    const planogram = new PlanogramIndex({
      products: [{ sku: 'milk', name: 'Oat milk 1 l', unitWeightG: 1040 }],
      facings: [facing('shelf-10', 1, 'milk'), facing('shelf-2', 1, 'milk'), facing('shelf-9', 1, 'milk')],
    });
    expect(new ShelfStockBook(planogram).shelves().map((shelf) => shelf.id)).toEqual(['shelf-2', 'shelf-9', 'shelf-10']);
  });

  it('shelves() returns copies: changing them does not change the book', () => {
    const book = new ShelfStockBook(PLANOGRAM);
    const first = book.shelves()[0]!.facings[0]!;
    first.units = 99;
    expect(book.get('shelf-a', 1)?.units).toBeNull();
  });

  describe('applyQuantity', () => {
    it('returns the new view when the units change', () => {
      const book = new ShelfStockBook(PLANOGRAM);
      expect(book.applyQuantity(q('shelf-a', 1, 5, 5200, 100))).toEqual({
        ...unknownView('shelf-a', 1, 'milk', 'Oat milk 1 l'),
        units: 5,
        weightG: 5200,
        source: 'weight',
        updatedAt: 100,
      });
      expect(book.get('shelf-a', 1)?.units ?? null).toBe(5);
      expect(book.applyQuantity(q('shelf-a', 1, 4, 4160, 200))?.units).toBe(4);
    });

    it('returns undefined when only the weight moved, but still records weight and time', () => {
      const book = new ShelfStockBook(PLANOGRAM);
      book.applyQuantity(q('shelf-a', 1, 5, 5200, 100));
      expect(book.applyQuantity(q('shelf-a', 1, 5, 5230, 200))).toBeUndefined();
      expect(book.get('shelf-a', 1)).toMatchObject({ units: 5, weightG: 5230, updatedAt: 200, source: 'weight' });
    });

    it('returns the view when only the source changes', () => {
      const book = new ShelfStockBook(PLANOGRAM);
      book.applyQuantity(q('shelf-a', 1, 5, 5200, 100));
      expect(book.applyQuantity(q('shelf-a', 1, 5, null, 200, 'sales-estimate'))).toMatchObject({
        units: 5,
        weightG: null,
        source: 'sales-estimate',
        updatedAt: 200,
      });
    });

    it('ignores a facing that is not in the planogram', () => {
      const book = new ShelfStockBook(PLANOGRAM);
      expect(book.applyQuantity(q('shelf-z', 1, 5, 5200, 100))).toBeUndefined();
      expect(
        book
          .shelves()
          .flatMap((shelf) => shelf.facings)
          .some((f) => f.shelfId === 'shelf-z'),
      ).toBe(false);
    });

    it('the returned view is a copy', () => {
      const book = new ShelfStockBook(PLANOGRAM);
      const view = book.applyQuantity(q('shelf-a', 1, 5, 5200, 100))!;
      view.units = 0;
      expect(book.get('shelf-a', 1)?.units ?? null).toBe(5);
    });
  });

  describe('applySignal', () => {
    it('returns the view only when the level changes', () => {
      const book = new ShelfStockBook(PLANOGRAM);
      expect(book.applySignal(s('shelf-a', 1, 'ok'))?.level).toBe('ok');
      expect(book.applySignal(s('shelf-a', 1, 'ok'))).toBeUndefined();
      expect(book.applySignal(s('shelf-a', 1, 'low'))).toMatchObject({ shelfId: 'shelf-a', facing: 1, level: 'low' });
      expect(book.applySignal(s('shelf-a', 1, 'low'))).toBeUndefined();
      expect(book.get('shelf-a', 1)?.level).toBe('low');
    });

    it('ignores a facing that is not in the planogram', () => {
      expect(new ShelfStockBook(PLANOGRAM).applySignal(s('shelf-z', 3, 'low'))).toBeUndefined();
    });
  });

  describe('restored snapshots', () => {
    const snapshot: FacingSnapshot = {
      shelfId: 'shelf-b',
      facing: 2,
      units: 3,
      weightG: 1560,
      source: 'weight',
      level: 'low',
      updatedAt: 5_000,
    };

    it('start from the last known state; unknown facings in the snapshot are dropped', () => {
      const book = new ShelfStockBook(PLANOGRAM, [snapshot, { ...snapshot, shelfId: 'gone', facing: 1 }]);
      expect(book.get('shelf-b', 2)).toEqual({
        ...unknownView('shelf-b', 2, 'beans', 'Espresso beans'),
        units: 3,
        weightG: 1560,
        source: 'weight',
        level: 'low',
        updatedAt: 5_000,
      });
      expect(book.get('gone', 1)).toBeUndefined();
      expect(book.get('shelf-b', 2)?.units ?? null).toBe(3);
    });

    it('the same units after a restart is not a change; the same level is not either', () => {
      const book = new ShelfStockBook(PLANOGRAM, [snapshot]);
      expect(book.applyQuantity({ ...q('shelf-b', 2, 3, 1570, 6_000), sku: 'beans' })).toBeUndefined();
      expect(book.applySignal({ ...s('shelf-b', 2, 'low'), sku: 'beans' })).toBeUndefined();
      expect(book.applySignal({ ...s('shelf-b', 2, 'ok'), sku: 'beans' })?.level).toBe('ok');
    });

    it('toSnapshot round-trips a known view and refuses an incomplete one', () => {
      const book = new ShelfStockBook(PLANOGRAM, [snapshot]);
      expect(toSnapshot(book.get('shelf-b', 2)!)).toEqual(snapshot);
      expect(toSnapshot(book.get('shelf-a', 1)!)).toBeUndefined();
      book.applyQuantity(q('shelf-a', 1, 5, 5200, 100)); // units known, level still unknown
      expect(toSnapshot(book.get('shelf-a', 1)!)).toBeUndefined();
      book.applySignal(s('shelf-a', 1, 'ok'));
      expect(toSnapshot(book.get('shelf-a', 1)!)).toEqual({
        shelfId: 'shelf-a',
        facing: 1,
        units: 5,
        weightG: 5200,
        source: 'weight',
        level: 'ok',
        updatedAt: 100,
      });
    });
  });
});
