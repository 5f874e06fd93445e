/**
 * The planogram's layout through a real gateway: GET /api/shelves places each shelf and lists the aisles in walking
 * order, and the pick list (GET /api/replenishment) groups by aisle, the emptied facing first, with product names.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, startTestGateway, TEST_PLANOGRAM, type TestGateway } from '../helpers/test-gateway.js';

const LAID_OUT = {
  ...TEST_PLANOGRAM,
  layout: [
    { aisle: 2, name: 'Coffee and sweets', left: ['shelf-b'] },
    { aisle: '1', name: 'Dairy', right: ['shelf-a'] },
  ],
};

type Shelves = { shelves: { id: string; place?: unknown }[]; aisles?: unknown[] };
type PickList = {
  lines: { shelfId: string; facing: number; name: string; aisle?: string; urgency: string; unitsToBring: number }[];
  aisles?: { aisle: string | null; lines: { shelfId: string; facing: number }[] }[];
};

describe('store layout over a real gateway', () => {
  let gw: TestGateway | undefined;
  afterEach(async () => {
    await gw?.dispose();
    gw = undefined;
  });

  it('places the shelves on GET /api/shelves and groups the pick list by aisle', async () => {
    gw = await startTestGateway({ planogram: LAID_OUT });
    const shelves = (await (await gw.api('/api/shelves')).json()) as Shelves;
    expect(shelves.aisles).toEqual([
      { aisle: '2', name: 'Coffee and sweets' },
      { aisle: '1', name: 'Dairy' },
    ]);
    expect(shelves.shelves.map((s) => [s.id, s.place])).toEqual([
      ['shelf-a', { aisle: '1', side: 'right', order: 1 }],
      ['shelf-b', { aisle: '2', side: 'left', order: 1 }],
    ]);

    const shelfA = await gw.connectDevice('shelf-a', 'shelf');
    const shelfB = await gw.connectDevice('shelf-b', 'shelf');
    const weigh = (shelf: typeof shelfA, id: string, facing: number, weightG: number) =>
      shelf.publishAsync(`store/test-store/shelf/${id}/weight`, JSON.stringify({ facing, weightG, ts: Date.now() }), { qos: 1 });
    await weigh(shelfA, 'shelf-a', 1, 1 * 1040); // oat milk: 1 left, low
    await weigh(shelfA, 'shelf-a', 2, 8 * 520); // espresso: full
    await weigh(shelfB, 'shelf-b', 1, 0); // chocolate: empty

    const list = await eventually(
      async () => {
        const body = (await (await gw!.api('/api/replenishment')).json()) as PickList;
        return body.lines.length === 2 ? body : undefined;
      },
      5_000,
      'two facings on the pick list',
    );
    expect(list.lines).toEqual([
      expect.objectContaining({
        shelfId: 'shelf-b',
        facing: 1,
        name: 'Dark chocolate 100 g',
        aisle: '2',
        urgency: 'empty',
        unitsToBring: 20,
      }),
      expect.objectContaining({ shelfId: 'shelf-a', facing: 1, name: 'Oat milk 1 l', aisle: '1', urgency: 'low', unitsToBring: 9 }),
    ]);
    expect(list.aisles?.map((g) => [g.aisle, g.lines.map((l) => `${l.shelfId}/${l.facing}`)])).toEqual([
      ['1', ['shelf-a/1']],
      ['2', ['shelf-b/1']],
    ]);
  });

  it('without a layout: no places, no aisles, the pick list ungrouped', async () => {
    gw = await startTestGateway();
    const shelves = (await (await gw.api('/api/shelves')).json()) as Shelves;
    expect(shelves.aisles).toBeUndefined();
    expect(shelves.shelves.every((s) => s.place === undefined)).toBe(true);
    expect(((await (await gw.api('/api/replenishment')).json()) as PickList).aisles).toBeUndefined();
  });
});
