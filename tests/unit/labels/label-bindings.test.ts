/** Label bindings: the planogram's `labels` section (checked like the rest of the file), the API's stored bindings on top. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import {
  LabelBindingError,
  LabelBindingStore,
  checkBinding,
  labelKey,
  mergeBindings,
  withSku,
} from '../../../edge/labels/label-bindings.js';
import { PlanogramFileError, parsePlanogram, parsePlanogramLabels } from '../../../edge/planogram/planogram-file.js';
import { SqliteDatabase } from '../../../edge/storage/database.js';
import { migrate } from '../../../edge/storage/migrate.js';

const PLANOGRAM = {
  products: [
    { sku: '4000000000017', name: 'Oat milk 1 l', unitWeightG: 1040 },
    { sku: '4000000000024', name: 'Espresso beans 500 g', unitWeightG: 520 },
  ],
  shelves: [
    {
      id: 'shelf-a',
      facings: [
        { facing: 1, sku: '4000000000017', capacityUnits: 10, lowStockUnits: 2 },
        { facing: 2, sku: '4000000000024', capacityUnits: 8, lowStockUnits: 2 },
      ],
    },
  ],
};
const skuAt = (shelfId: string, facing: number) =>
  shelfId === 'shelf-a' ? ({ 1: '4000000000017', 2: '4000000000024' } as Record<number, string>)[facing] : undefined;

describe('the planogram file: labels section', () => {
  it('reads the bindings and leaves the planogram as it was', () => {
    const text = stringify({
      ...PLANOGRAM,
      labels: [
        { label: 'esl-a1', shelfId: 'shelf-a', facing: 1 },
        { label: '0000021da0000001', shelfId: 'shelf-a', facing: 2 },
      ],
    });
    expect(parsePlanogramLabels(text, 'p.yaml')).toEqual([
      { label: 'esl-a1', shelfId: 'shelf-a', facing: 1 },
      { label: '0000021da0000001', shelfId: 'shelf-a', facing: 2 },
    ]);
    expect(parsePlanogram(text, 'p.yaml').facings).toHaveLength(2);
    expect(parsePlanogramLabels(stringify(PLANOGRAM), 'p.yaml')).toEqual([]);
  });

  it('lists every problem of the section with its path', () => {
    const text = stringify({
      ...PLANOGRAM,
      labels: [
        { label: 'esl-a1', shelfId: 'shelf-a', facing: 9 },
        { label: 'ESL-A1', shelfId: 'shelf-a', facing: 1 },
        { label: 'bad label!', shelfId: 'shelf-a', facing: 1, colour: 'red' },
        { shelfId: 'shelf-a', facing: 0 },
      ],
    });
    let error: unknown;
    try {
      parsePlanogramLabels(text, 'p.yaml');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(PlanogramFileError);
    const problems = (error as PlanogramFileError).problems;
    expect(problems).toEqual(
      expect.arrayContaining([
        '/labels/0/facing: facing 9 of shelf-a is not in shelves',
        '/labels/1/label: label "ESL-A1" is bound twice (first at /labels/0/label)',
        '/labels/2/colour: unknown property',
        expect.stringMatching(/^\/labels\/2\/label: must match/),
        '/labels/3/label: is required',
        expect.stringMatching(/^\/labels\/3\/facing: must be >= 1/),
        '/labels/3/facing: facing 0 of shelf-a is not in shelves',
      ]),
    );
    expect(problems).toHaveLength(7);
  });
});

describe('merging and checking bindings', () => {
  it('an API binding wins over the planogram for the same label, macs in any spelling are one label', () => {
    const merged = mergeBindings(
      [
        { labelId: 'esl-a1', shelfId: 'shelf-a', facing: 1 },
        { labelId: '0000021da0000001', shelfId: 'shelf-a', facing: 1 },
      ],
      [{ labelId: '0000021DA0000001', shelfId: 'shelf-a', facing: 2, boundBy: 'anna', boundAt: 5 }],
    );
    expect([...merged.values()]).toEqual([
      { labelId: 'esl-a1', shelfId: 'shelf-a', facing: 1, source: 'planogram' },
      { labelId: '0000021DA0000001', shelfId: 'shelf-a', facing: 2, source: 'api' },
    ]);
    expect(labelKey('0000021da0000001')).toBe('0000021DA0000001');
    expect(labelKey('esl-a1')).toBe('esl-a1');
  });

  it('the sku is the one the facing holds now; a facing gone from the planogram has no binding', () => {
    expect(withSku({ labelId: 'esl-a1', shelfId: 'shelf-a', facing: 2, source: 'api' }, skuAt)).toEqual({
      labelId: 'esl-a1',
      shelfId: 'shelf-a',
      facing: 2,
      sku: '4000000000024',
    });
    expect(withSku({ labelId: 'esl-a1', shelfId: 'shelf-x', facing: 2, source: 'api' }, skuAt)).toBeUndefined();
  });

  it('refuses an unknown facing and a new label past the bound, with the label and facing in the error', () => {
    const bindings = new Map([['esl-a1', {}]]);
    expect(() => checkBinding('esl-a2', { shelfId: 'shelf-a', facing: 7 }, { skuAt, bindings, maxLabels: 10 })).toThrow(
      new LabelBindingError('esl-a2', { shelfId: 'shelf-a', facing: 7 }, 'no such facing in the planogram'),
    );
    expect(() => checkBinding('esl-a2', { shelfId: 'shelf-a', facing: 1 }, { skuAt, bindings, maxLabels: 1 })).toThrow(
      /esl-a2 .* 1 labels are bound already/,
    );
    // rebinding a label already bound is fine at the bound
    expect(() => checkBinding('esl-a1', { shelfId: 'shelf-a', facing: 2 }, { skuAt, bindings, maxLabels: 1 })).not.toThrow();
  });
});

describe('LabelBindingStore', () => {
  let dir: string;
  let db: SqliteDatabase;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'smartstore-label-bindings-'));
    db = new SqliteDatabase(join(dir, 'gateway.db'));
    await db.open();
    await migrate(db);
  });
  afterEach(async () => {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps one binding per label (mac normalized), the latest winning, and survives a reopen', async () => {
    const store = new LabelBindingStore(db);
    await store.put({ labelId: 'esl-a1', shelfId: 'shelf-a', facing: 1, boundBy: 'anna', boundAt: 1 });
    await store.put({ labelId: '0000021da0000001', shelfId: 'shelf-a', facing: 1, boundBy: 'anna', boundAt: 2 });
    await store.put({ labelId: 'esl-a1', shelfId: 'shelf-a', facing: 2, boundBy: 'ben', boundAt: 3 });
    await db.close();
    db = new SqliteDatabase(join(dir, 'gateway.db'));
    await db.open();
    expect(await new LabelBindingStore(db).loadAll(100)).toEqual([
      { labelId: '0000021DA0000001', shelfId: 'shelf-a', facing: 1, boundBy: 'anna', boundAt: 2 },
      { labelId: 'esl-a1', shelfId: 'shelf-a', facing: 2, boundBy: 'ben', boundAt: 3 },
    ]);
    expect(await new LabelBindingStore(db).loadAll(1)).toHaveLength(1);
  });
});
