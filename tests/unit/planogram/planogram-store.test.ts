import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Planogram } from '../../../edge/planogram/planogram.js';
import type { SqliteDatabase } from '../../../edge/storage/database.js';
import { migratedDatabase, type MigratedDatabase } from '../../helpers/migrated-database.js';
import { PlanogramStore, planogramFingerprint } from '../../../edge/planogram/planogram-store.js';

let fixture: MigratedDatabase;
let db: SqliteDatabase;
let store: PlanogramStore;

beforeEach(async () => {
  fixture = await migratedDatabase('smartstore-planogram-test-');
  db = fixture.db;
  store = new PlanogramStore(db);
});

afterEach(async () => {
  await fixture.dispose();
});

// already in load() order: products by sku, facings by shelf and facing
const FIRST: Planogram = {
  products: [
    { sku: '4000000000017', name: 'Oat milk 1 l', unitWeightG: 1040, priceCents: 189 },
    { sku: '4000000000024', name: 'Espresso beans 500 g', unitWeightG: 520.5 },
  ],
  facings: [
    { shelfId: 'shelf-a', facing: 1, sku: '4000000000017', capacityUnits: 10, lowStockUnits: 2, restockUnits: 5, tareG: 0 },
    { shelfId: 'shelf-a', facing: 2, sku: '4000000000024', capacityUnits: 8, lowStockUnits: 2, restockUnits: 4, tareG: 12.5 },
    { shelfId: 'shelf-b', facing: 1, sku: '4000000000017', capacityUnits: 20, lowStockUnits: 4, restockUnits: 10, tareG: 3 },
  ],
};

const SECOND: Planogram = {
  products: [{ sku: '4000000000031', name: 'Dark chocolate 100 g', unitWeightG: 105, priceCents: 149 }],
  facings: [{ shelfId: 'shelf-c', facing: 3, sku: '4000000000031', capacityUnits: 30, lowStockUnits: 5, restockUnits: 12, tareG: 0 }],
};

describe('PlanogramStore', () => {
  it('remembers the fingerprint of the file it was loaded from, and forgets it on a plain replace', async () => {
    expect(await store.storedFingerprint()).toBeUndefined();
    await store.replace(FIRST, planogramFingerprint('first file'));
    expect(await store.storedFingerprint()).toBe(planogramFingerprint('first file'));
    expect(planogramFingerprint('first file')).not.toBe(planogramFingerprint('first file '));
    await store.replace(SECOND);
    expect(await store.storedFingerprint()).toBeUndefined();
    expect(await store.load()).toEqual(SECOND);
  });

  it('an empty database has an empty planogram', async () => {
    expect(await store.load()).toEqual({ products: [], facings: [] });
  });

  it('replace then load round-trips (a product without a price has no priceCents key)', async () => {
    await store.replace(FIRST);
    const loaded = await store.load();
    expect(loaded).toEqual(FIRST);
    expect('priceCents' in loaded.products[1]!).toBe(false);
  });

  it("keeps the file's labels section in file order, and a replace without one drops it", async () => {
    const labels = [
      { label: 'esl-z', shelfId: FIRST.facings[0]!.shelfId, facing: FIRST.facings[0]!.facing },
      { label: '0000AABBCCDDEEFF', shelfId: FIRST.facings[0]!.shelfId, facing: FIRST.facings[0]!.facing },
    ];
    await store.replace({ ...FIRST, labels });
    expect((await store.load()).labels).toEqual(labels);
    await store.replace(FIRST);
    expect('labels' in (await store.load())).toBe(false);
  });

  it('load orders products by sku and facings by shelf and facing', async () => {
    await store.replace({ products: [...FIRST.products].reverse(), facings: [...FIRST.facings].reverse() });
    expect(await store.load()).toEqual(FIRST);
  });

  it('replacing again updates products in place (name, weight, price)', async () => {
    await store.replace(FIRST);
    const renamed: Planogram = {
      ...FIRST,
      products: [{ ...FIRST.products[0]!, name: 'Oat milk 1 l (new)', priceCents: 199 }, FIRST.products[1]!],
    };
    await store.replace(renamed);
    expect(await store.load()).toEqual(renamed);
  });

  it('replace replaces the whole planogram: facings and products that are gone are gone', async () => {
    await store.replace(FIRST);
    await store.replace(SECOND);
    expect(await store.load()).toEqual(SECOND);
  });

  it('a planogram whose facing names an unknown product is refused and the previous one stays', async () => {
    await store.replace(FIRST);
    const broken: Planogram = { products: [], facings: [{ ...SECOND.facings[0]!, sku: 'no-such-sku' }] };
    await expect(store.replace(broken)).rejects.toMatchObject({ code: 'SQLITE_CONSTRAINT' });
    expect(await store.load()).toEqual(FIRST);
  });
});
