import { describe, expect, it } from 'vitest';
import { alertWordsByFacing, facingFill, historySummary, mapPlan } from '../../../dashboards/staff/src/views/map/map-model.js';
import { pickGroups, totalWords, urgencyWords, type PickLine } from '../../../dashboards/staff/src/views/pick-list/pick-list-model.js';

const MIN = 60_000;

describe('store map model', () => {
  it('names the fill: empty, low at or below the mark or while the gateway says low, ok, no reading', () => {
    const stock = (units: number | null, level = 'ok') => ({ units, capacityUnits: 10, lowStockUnits: 2, level });
    expect(facingFill(stock(0, 'low'))).toEqual({ level: 'empty', ratio: 0 });
    expect(facingFill(stock(2))).toEqual({ level: 'low', ratio: 0.2 });
    expect(facingFill(stock(4, 'low'))).toEqual({ level: 'low', ratio: 0.4 });
    expect(facingFill(stock(12))).toEqual({ level: 'ok', ratio: 1 });
    expect(facingFill(stock(null, 'unknown'))).toEqual({ level: 'unknown', ratio: 0 });
  });

  it('places shelves by aisle, side and order; shelves without a place (or without a layout) are unplaced', () => {
    const layout = {
      shelves: [
        { id: 's3', place: { aisle: '1', side: 'left' as const, order: 2 } },
        { id: 's1', place: { aisle: '1', side: 'left' as const, order: 1 } },
        { id: 's2', place: { aisle: '2', side: 'right' as const, order: 1 } },
        { id: 's4' },
      ],
      aisles: [{ aisle: '2', name: 'Dairy' }, { aisle: '1' }, { aisle: '9' }],
    };
    expect(mapPlan(['s4', 's3', 's2', 's1', 's10'], layout)).toEqual({
      aisles: [
        { aisle: '2', name: 'Dairy', left: [], right: ['s2'] },
        { aisle: '1', left: ['s1', 's3'], right: [] },
      ],
      unplaced: ['s4', 's10'],
    });
    expect(mapPlan(['s2', 's1'], null)).toEqual({ aisles: [], unplaced: ['s1', 's2'] });
  });

  it('sums up open alerts per facing in words', () => {
    const words = alertWordsByFacing([
      { shelfId: 'a', facing: 1, severity: 'warning' },
      { shelfId: 'a', facing: 1, severity: 'critical' },
      { shelfId: 'b', facing: 2, severity: 'warning' },
      { severity: 'critical' },
    ]);
    expect([...words]).toEqual([
      ['a/1', '2 open alerts, critical'],
      ['b/2', '1 open alert'],
    ]);
  });

  it('says a history in one sentence: range, time empty, refills', () => {
    const window = { from: 0, to: 120 * MIN };
    const points = [
      { at: 0, units: 6 },
      { at: 30 * MIN, units: 0 },
      { at: 55 * MIN, units: 10 },
      { at: 90 * MIN, units: 8 },
    ];
    expect(historySummary(points, window, 'last 2 hours')).toBe(
      'In the last 2 hours: between 0 and 10 units, 8 at the last change; empty for 25 min; refilled once.',
    );
    expect(historySummary([], window, 'last 24 hours')).toBe('No change of units recorded in the last 24 hours.');
  });
});

describe('pick list model', () => {
  const line = (urgency: PickLine['urgency'], unitsToBring: number, emptyAt?: number): PickLine => ({
    shelfId: 's',
    facing: 1,
    sku: '1',
    name: 'Oat milk',
    urgency,
    units: 1,
    unitsToBring,
    ...(emptyAt === undefined ? {} : { emptyAt }),
  });

  it('groups by the answer’s aisles, or one group of every line without a layout', () => {
    const lines = [line('empty', 10), line('low', 3)];
    expect(pickGroups({ at: 0, lines })).toEqual([{ aisle: null, lines }]);
    expect(pickGroups({ at: 0, lines: [] })).toEqual([]);
    const aisles = [{ aisle: '1', lines }];
    expect(pickGroups({ at: 0, lines, aisles })).toBe(aisles);
    expect(pickGroups({ at: 0, lines, aisles }, 'urgency')).toEqual([{ aisle: null, lines }]);
    expect(totalWords(aisles)).toBe('2 facings to restock, 13 units to bring');
  });

  it('says why a line is there', () => {
    const clock = (ms: number) => `${ms / MIN} min`;
    expect(urgencyWords(line('empty', 1), clock)).toBe('Empty');
    expect(urgencyWords(line('predicted', 1, 30 * MIN), clock)).toBe('Runs out about 30 min');
    expect(urgencyWords(line('low', 1), clock)).toBe('Low');
  });
});
