/**
 * The replay harness, small (issue 24): a seeded two-day store of 120 facings — its load cells' raw readings and kiosk
 * sales through the stock room's pipeline into the InsightEngine — scored against the scenario's ground truth. The full
 * day of 500 facings runs in `npm run bench` (BENCH_ONLY=insight).
 */
import { describe, expect, it } from 'vitest';
import { REPLAY_SMOKE, replayStoreDay } from '../../../bench/insight-replay.js';

describe('insight replay (120 facings, a day of history, a scored day)', () => {
  const result = replayStoreDay(REPLAY_SMOKE);

  it('predicts stock-outs at least the lead time ahead, with few false alarms', () => {
    expect(result.prediction.cases).toBeGreaterThan(50);
    expect(result.prediction.recall).toBeGreaterThanOrEqual(0.85);
    expect(result.prediction.precision).toBeGreaterThanOrEqual(0.88);
    expect(result.prediction.medianLeadMin).toBeGreaterThanOrEqual(30);
  });

  it('finds most misplaced and stuck facings as phantom stock within 15 min of their first unexplainable sale, no healthy sku', () => {
    expect(result.phantom.cases).toBeGreaterThanOrEqual(8);
    expect(result.phantom.recall).toBeGreaterThanOrEqual(0.75);
    expect(result.phantom.medianDetectMin).toBeLessThanOrEqual(15);
    expect(result.phantom.falseAlarms).toBe(0);
  });

  it('ran the raw readings through the stock pipeline: the engine saw what it made of them', () => {
    // 126 load cells (120 facings and the 6 blocked extras), every 20 s for two days; and the kiosk sales
    expect(result.stuckScale.readings).toBe(126 * 2 * 24 * 180);
    expect(result.deviceMessages).toBeGreaterThan(result.stuckScale.readings);
    expect(result.stock.signals).toBeGreaterThan(0);
    expect(result.engineEvents).toBeGreaterThan(5_000);
  });

  it('finds most blocked facings as no-sales, and flags no healthy facing', () => {
    expect(result.noSales.cases).toBe(6);
    expect(result.noSales.found).toBeGreaterThanOrEqual(4);
    expect(result.noSales.falseAlarms).toBe(0);
  });

  it('finds stuck load cells from their raw readings once their sku sells, and flags no live cell', () => {
    expect(result.stuckScale.cases).toBe(4);
    expect(result.stuckScale.found + result.stuckScale.detectedLater).toBeGreaterThanOrEqual(3);
    expect(result.stuckScale.falseAlarms).toBe(0);
  });

  it('proposes the drifted offset as the tare of drifted cells that stood empty, and of no healthy cell', () => {
    expect(result.tare.drifted).toBe(10);
    expect(result.tare.cases).toBeGreaterThanOrEqual(2);
    expect(result.tare.found).toBe(result.tare.cases);
    expect(result.tare.falseAlarms).toBe(0);
  });

  it('is deterministic: the same seed gives the same scores', { timeout: 60_000 }, () => {
    const again = replayStoreDay(REPLAY_SMOKE);
    expect(again.deviceMessages).toBe(result.deviceMessages);
    expect({ ...again.stock }).toEqual({ ...result.stock });
    expect({ ...again.prediction }).toEqual({ ...result.prediction });
    expect({ ...again.phantom }).toEqual({ ...result.phantom });
    expect({ ...again.noSales }).toEqual({ ...result.noSales });
    expect({ ...again.stuckScale }).toEqual({ ...result.stuckScale });
    expect({ ...again.tare }).toEqual({ ...result.tare });
  });
});
