import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PlanogramFileError, loadPlanogramFile, parsePlanogram } from '../../../edge/planogram/planogram-file.js';
import { PlanogramIndex } from '../../../edge/planogram/planogram.js';
import { PlanogramStore } from '../../../edge/planogram/planogram-store.js';
import type { SqliteDatabase } from '../../../edge/storage/database.js';
import { migratedDatabase, type MigratedDatabase } from '../../helpers/migrated-database.js';

const DEMO = new URL('../../../config/planogram.demo.yaml', import.meta.url).pathname;

const BASE = `
products:
  - { sku: "1", name: Oat milk 1 l, unitWeightG: 1040 }
shelves:
  - { id: shelf-a, facings: [{ facing: 1, sku: "1", capacityUnits: 10, lowStockUnits: 2 }] }
  - { id: shelf-b, facings: [{ facing: 1, sku: "1", capacityUnits: 10, lowStockUnits: 2 }] }
  - { id: shelf-c, facings: [{ facing: 1, sku: "1", capacityUnits: 10, lowStockUnits: 2 }] }
`;

function problemsOf(layout: string): string[] {
  try {
    parsePlanogram(`${BASE}layout:\n${layout}`, 'test.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(PlanogramFileError);
    return (error as PlanogramFileError).problems;
  }
  throw new Error('the planogram was accepted');
}

describe('planogram layout', () => {
  it('places each shelf by aisle, side and order along the side; aisles keep the walking order of the file', () => {
    const planogram = parsePlanogram(
      `${BASE}layout:\n  - { aisle: 7, name: Dairy, right: [shelf-b, shelf-a] }\n  - { aisle: "2a", left: [shelf-c] }\n`,
      'test.yaml',
    );
    expect(planogram.layout).toEqual({
      aisles: [{ aisle: '7', name: 'Dairy' }, { aisle: '2a' }],
      shelves: [
        { shelfId: 'shelf-b', aisle: '7', side: 'right', order: 1 },
        { shelfId: 'shelf-a', aisle: '7', side: 'right', order: 2 },
        { shelfId: 'shelf-c', aisle: '2a', side: 'left', order: 1 },
      ],
    });
    const index = new PlanogramIndex(planogram);
    expect(index.placeOf('shelf-a')).toEqual({ shelfId: 'shelf-a', aisle: '7', side: 'right', order: 2 });
  });

  it('is optional, and a shelf the layout leaves out still works', () => {
    expect(parsePlanogram(BASE, 'test.yaml').layout).toBeUndefined();
    const planogram = parsePlanogram(`${BASE}layout:\n  - { aisle: "1", left: [shelf-a] }\n`, 'test.yaml');
    const index = new PlanogramIndex(planogram);
    expect(index.placeOf('shelf-b')).toBeUndefined();
    expect(index.facing('shelf-b', 1)?.sku).toBe('1');
  });

  it('the demo planogram places its four shelves in two aisles', async () => {
    const index = new PlanogramIndex(await loadPlanogramFile(DEMO));
    expect(index.planogram.layout?.aisles.map((a) => a.aisle)).toEqual(['1', '2']);
    expect(index.shelfIds().map((id) => index.placeOf(id)?.aisle)).toEqual(['1', '1', '2', '2']);
  });

  it('refuses an unknown shelf, a shelf placed twice, an aisle listed twice and an aisle with no shelf, all at once', () => {
    expect(
      problemsOf(
        [
          '  - { aisle: "1", left: [shelf-a, shelf-x] }',
          '  - { aisle: 1, right: [shelf-a] }',
          '  - { aisle: "3" }',
          '  - { aisle: "4", left: [shelf-b], middle: [shelf-c] }',
        ].join('\n'),
      ),
    ).toEqual([
      '/layout/3/middle: unknown property',
      '/layout/0/left/1: unknown shelf "shelf-x" (not in shelves)',
      '/layout/1/aisle: aisle "1" is listed twice (first at /layout/0/aisle)',
      '/layout/1/right/0: shelf "shelf-a" is placed twice (first at /layout/0/left/0); a shelf stands in one place',
      '/layout/2: places no shelf (list its shelves under left or right)',
    ]);
  });

  it('refuses an aisle that is neither text nor a number', () => {
    expect(problemsOf('  - { aisle: [1], left: [shelf-a] }')).toEqual(['/layout/0/aisle: must be string,integer']);
  });
});

describe('PlanogramStore with a layout', () => {
  let fixture: MigratedDatabase;
  let db: SqliteDatabase;
  beforeEach(async () => {
    fixture = await migratedDatabase('smartstore-layout-test-');
    db = fixture.db;
  });
  afterEach(() => fixture.dispose());

  it('round-trips the layout in the walking order, and a planogram without one clears it', async () => {
    const store = new PlanogramStore(db);
    const withLayout = parsePlanogram(
      `${BASE}layout:\n  - { aisle: "9", left: [shelf-c] }\n  - { aisle: "1", name: Bakery, right: [shelf-b, shelf-a] }\n`,
      'test.yaml',
    );
    await store.replace(withLayout);
    expect((await store.load()).layout).toEqual(withLayout.layout);
    await store.replace(parsePlanogram(BASE, 'test.yaml'));
    expect((await store.load()).layout).toBeUndefined();
  });
});
