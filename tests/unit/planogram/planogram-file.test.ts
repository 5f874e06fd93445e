import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PlanogramFileError, loadPlanogramFile } from '../../../edge/planogram/planogram-file.js';
import { PlanogramIndex } from '../../../edge/planogram/planogram.js';

const DEMO = new URL('../../../config/planogram.demo.yaml', import.meta.url).pathname;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'planogram-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function fixture(name: string, yaml: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, yaml);
  return path;
}

async function problemsOf(path: string): Promise<string[]> {
  const error = await loadPlanogramFile(path).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(PlanogramFileError);
  expect((error as PlanogramFileError).path).toBe(path);
  return (error as PlanogramFileError).problems;
}

describe('loadPlanogramFile', () => {
  it('accepts the demo planogram: 4 shelves × 6 facings, 24 products', async () => {
    const planogram = await loadPlanogramFile(DEMO);
    const index = new PlanogramIndex(planogram);
    expect(planogram.products).toHaveLength(24);
    expect(planogram.facings).toHaveLength(24);
    expect(index.shelfIds()).toEqual(['shelf-01', 'shelf-02', 'shelf-03', 'shelf-04']);
    expect(new Set(planogram.facings.map((f) => f.sku)).size).toBe(24);
    for (const product of planogram.products) {
      expect(product.sku).toMatch(/^\d{13}$/);
      expect(product.unitWeightG).toBeGreaterThanOrEqual(90);
      expect(product.unitWeightG).toBeLessThanOrEqual(1600);
      expect(product.priceCents).toBeGreaterThan(0);
    }
    for (const facing of planogram.facings) {
      expect(facing.capacityUnits).toBeGreaterThanOrEqual(8);
      expect(facing.capacityUnits).toBeLessThanOrEqual(24);
      expect(facing.lowStockUnits / facing.capacityUnits).toBeCloseTo(0.25, 0);
      expect(facing.restockUnits).toBeGreaterThan(facing.lowStockUnits);
      expect(facing.restockUnits).toBeLessThanOrEqual(facing.capacityUnits);
      expect(facing.tareG).toBe(0);
      expect(index.product(facing.sku)).toBeDefined();
    }
    expect(planogram.facings[0]).toEqual({
      shelfId: 'shelf-01',
      facing: 1,
      sku: '4006381333931',
      capacityUnits: 12,
      lowStockUnits: 3,
      restockUnits: 6,
      tareG: 0,
    });
  });

  it('fills tareG 0 and restockUnits = lowStockUnits + 2 (at most capacity) when left out', async () => {
    const path = await fixture(
      'defaults.yaml',
      `
products:
  - { sku: "1", name: "One", unitWeightG: 100 }
shelves:
  - id: s-1
    facings:
      - { facing: 1, sku: "1", capacityUnits: 10, lowStockUnits: 3 }
      - { facing: 2, sku: "1", capacityUnits: 3, lowStockUnits: 2, tareG: 40.5 }
`,
    );
    const planogram = await loadPlanogramFile(path);
    expect(planogram.products).toEqual([{ sku: '1', name: 'One', unitWeightG: 100 }]);
    expect(planogram.facings).toEqual([
      { shelfId: 's-1', facing: 1, sku: '1', capacityUnits: 10, lowStockUnits: 3, restockUnits: 5, tareG: 0 },
      { shelfId: 's-1', facing: 2, sku: '1', capacityUnits: 3, lowStockUnits: 2, restockUnits: 3, tareG: 40.5 },
    ]);
  });

  it('rejects a bad file listing every problem with its path', async () => {
    const path = await fixture(
      'bad.yaml',
      `
products:
  - { sku: "111", name: "Water", unitWeightG: 1560, priceCents: 79 }
  - { sku: 222, name: "Chips", unitWeightG: 185, colour: red }
  - { sku: "111", name: "Water again", unitWeightG: -1 }
shelves:
  - id: shelf-01
    facings:
      - { facing: 1, sku: "111", capacityUnits: 12, lowStockUnits: 3, restockUnits: 3 }
      - { facing: 1, sku: "999", capacityUnits: 12, lowStockUnits: 3 }
      - { facing: 2, sku: "111", lowStockUnits: 3 }
      - { facing: 3, sku: "111", capacityUnits: 4, lowStockUnits: 4 }
  - id: "bad/shelf"
    facings: []
`,
    );
    const problems = await problemsOf(path);
    expect(problems.sort()).toEqual(
      [
        '/products/1/sku: must be string',
        '/products/1/colour: unknown property',
        '/products/2/unitWeightG: must be > 0',
        '/products/2/sku: duplicate sku "111" (first at /products/0/sku)',
        '/shelves/0/facings/0/restockUnits: must be greater than lowStockUnits (3)',
        '/shelves/0/facings/1/facing: facing 1 of shelf-01 is defined twice (first at /shelves/0/facings/0/facing)',
        '/shelves/0/facings/1/sku: unknown sku "999" (not in products)',
        '/shelves/0/facings/2/capacityUnits: is required',
        '/shelves/0/facings/3/lowStockUnits: must be less than capacityUnits (4)',
        '/shelves/1/id: must match ^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$',
        '/shelves/1/facings: must NOT have fewer than 1 items',
      ].sort(),
    );
  });

  it('reports YAML syntax errors with line and column', async () => {
    const path = await fixture('syntax.yaml', 'products:\n  - { sku: "1", name: x\nshelves: [\n');
    const problems = await problemsOf(path);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0]).toMatch(/^line \d+, column \d+: /);
  });

  it('reports an empty file, a missing top-level key and a missing file', async () => {
    expect(await problemsOf(await fixture('empty.yaml', ''))).toEqual(['/: must be object']);
    expect(await problemsOf(await fixture('no-shelves.yaml', 'products:\n  - { sku: "1", name: x, unitWeightG: 1 }\n'))).toEqual([
      '/shelves: is required',
    ]);
    expect(await problemsOf(join(dir, 'nope.yaml'))).toEqual(['file not found']);
  });

  it('puts every problem in the error message, one per line', async () => {
    const path = await fixture('two.yaml', 'products: []\nshelves: []\nextra: 1\n');
    const error = await loadPlanogramFile(path).then(
      () => undefined,
      (err: unknown) => err as Error,
    );
    expect(error?.message.split('\n')).toEqual([
      `planogram ${path} is invalid:`,
      '  - /extra: unknown property',
      '  - /products: must NOT have fewer than 1 items',
      '  - /shelves: must NOT have fewer than 1 items',
    ]);
  });
});
