import { describe, expect, it } from 'vitest';
import {
  addTally,
  addToRate,
  bytesToDrop,
  emptyTally,
  forecastFullInS,
  pickOldest,
  rateAt,
  tallyOf,
  type DropCandidate,
} from '../../../edge/relay/relay-budgets.js';

const budgets = { perClass: { critical: 1_000, operational: 500, telemetry: 300 }, totalBytes: 1_500 };
const use = (critical: number, operational: number, telemetry: number, leased = { critical: 0, operational: 0, telemetry: 0 }) => ({
  critical: { bytes: critical, droppableBytes: critical - leased.critical },
  operational: { bytes: operational, droppableBytes: operational - leased.operational },
  telemetry: { bytes: telemetry, droppableBytes: telemetry - leased.telemetry },
});

describe('bytesToDrop', () => {
  it('drops nothing within every budget', () => {
    expect(bytesToDrop(use(1_000, 300, 200), budgets)).toEqual({ critical: 0, operational: 0, telemetry: 0 });
  });

  it('makes a class over its own budget drop its own excess, not another class', () => {
    expect(bytesToDrop(use(100, 700, 0), budgets)).toEqual({ critical: 0, operational: 200, telemetry: 0 });
  });

  it('takes the excess over the total from the lowest class first', () => {
    // 900 + 450 + 250 = 1,600: 100 over the total, all from telemetry
    expect(bytesToDrop(use(900, 450, 250), budgets)).toEqual({ critical: 0, operational: 0, telemetry: 100 });
    // 1,000 + 500 + 300 = 1,800: telemetry entirely (300), then none left to take from operational
    expect(bytesToDrop(use(1_000, 500, 300), budgets)).toEqual({ critical: 0, operational: 0, telemetry: 300 });
    expect(bytesToDrop(use(1_000, 500, 100), budgets)).toEqual({ critical: 0, operational: 0, telemetry: 100 });
    expect(bytesToDrop({ ...use(1_000, 500, 0) }, { ...budgets, totalBytes: 1_200 })).toEqual({
      critical: 0,
      operational: 300,
      telemetry: 0,
    });
    expect(bytesToDrop(use(1_000, 500, 300), { ...budgets, totalBytes: 700 })).toEqual({ critical: 300, operational: 500, telemetry: 300 });
  });

  it('never asks for leased bytes: the class stays over until they are released', () => {
    expect(bytesToDrop(use(0, 0, 600, { critical: 0, operational: 0, telemetry: 500 }), budgets)).toEqual({
      critical: 0,
      operational: 0,
      telemetry: 100,
    });
    // telemetry cannot give more: the total's rest comes from operational
    expect(bytesToDrop(use(900, 500, 300, { critical: 0, operational: 0, telemetry: 300 }), budgets)).toEqual({
      critical: 0,
      operational: 200,
      telemetry: 0,
    });
  });
});

describe('pickOldest', () => {
  const rows: DropCandidate[] = [1, 2, 3, 4, 5].map((seq) => ({ seq, bytes: 100, createdAt: seq * 1_000 }));

  it('picks oldest first until enough is freed, skipping leased rows', () => {
    const picked: DropCandidate[] = [];
    expect(pickOldest(rows, (seq) => seq === 2, 250, picked)).toBe(300);
    expect(picked.map((p) => p.seq)).toEqual([1, 3, 4]);
  });

  it('returns less than asked when the candidates run out', () => {
    const picked: DropCandidate[] = [];
    expect(pickOldest(rows, () => false, 10_000, picked)).toBe(500);
  });
});

describe('drop tallies', () => {
  it('count and first/last createdAt of the dropped rows, added up exactly', () => {
    const a = tallyOf([
      { seq: 1, bytes: 1, createdAt: 5_000 },
      { seq: 2, bytes: 1, createdAt: 7_000 },
    ]);
    expect(a).toEqual({ count: 2, firstAt: 5_000, lastAt: 7_000 });
    expect(addTally(a, tallyOf([{ seq: 9, bytes: 1, createdAt: 9_000 }]))).toEqual({ count: 3, firstAt: 5_000, lastAt: 9_000 });
    expect(addTally(emptyTally(), a)).toEqual(a);
    expect(addTally(a, emptyTally())).toEqual(a);
  });
});

describe('append rate and forecast', () => {
  it('converges to a steady rate and decays when appends stop', () => {
    let rate = { bytesPerS: 0, at: 0 };
    for (let t = 1_000; t <= 1_800_000; t += 1_000) rate = addToRate(rate, 500, t, 300);
    expect(rateAt(rate, 1_800_000, 300)).toBeGreaterThan(495);
    expect(rateAt(rate, 1_800_000, 300)).toBeLessThan(505);
    expect(rateAt(rate, 1_800_000 + 300_000, 300)).toBeCloseTo(rateAt(rate, 1_800_000, 300) / Math.E, 3);
  });

  it('forecasts seconds until full; null when not growing', () => {
    expect(forecastFullInS(1_000_000, 400_000, 600)).toBe(1_000);
    expect(forecastFullInS(1_000, 2_000, 10)).toBe(0);
    expect(forecastFullInS(1_000_000, 400_000, 0)).toBeNull();
  });
});
