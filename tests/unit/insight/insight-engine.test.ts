/**
 * The engine's no-sales and scale-stuck decisions (the detectors are tested alone in no-sales.test.ts and
 * stuck-scale.test.ts): a day of a busy facing teaches the store's traffic and the facing's pace, the next day it goes
 * silent at 10:00.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_DEPLETION_PARAMS } from '../../../edge/insight/depletion.js';
import { InsightEngine, type FacingAlert, type InsightDecision } from '../../../edge/insight/insight-engine.js';
import { DEFAULT_NO_SALES_PARAMS } from '../../../edge/insight/no-sales.js';
import { DEFAULT_PHANTOM_PARAMS } from '../../../edge/insight/phantom-stock.js';
import { DEFAULT_PREDICTION_POLICY } from '../../../edge/insight/stock-out-prediction.js';
import { DEFAULT_STUCK_SCALE_PARAMS } from '../../../edge/insight/stuck-scale.js';
import { DEFAULT_TARE_PARAMS } from '../../../edge/insight/tare-proposal.js';

const MIN = 60_000;
const DAY0 = Date.UTC(2026, 11, 7);

function engine() {
  return new InsightEngine([{ shelfId: 'shelf-a', facing: 1, sku: '400', name: 'Beans', capacityUnits: 1000 }], {
    // one facing: its stocked hours are the store's (20 facing-hours per hour of day would take 20 days)
    depletion: { ...DEFAULT_DEPLETION_PARAMS, trafficMinFacingHours: 0.5 },
    prediction: { ...DEFAULT_PREDICTION_POLICY, leadTimeMs: 30 * MIN },
    phantom: DEFAULT_PHANTOM_PARAMS,
    noSales: DEFAULT_NO_SALES_PARAMS,
    stuckScale: DEFAULT_STUCK_SCALE_PARAMS,
    tare: DEFAULT_TARE_PARAMS,
    availabilitySafetyUnits: 0,
    hourOf: (at) => new Date(at).getUTCHours(),
    formatTime: () => '',
  });
}

describe('InsightEngine: no-sales', () => {
  it('a unit every 6 min at open hours (8–20), silent from 10:00 the next day: no-sales after 1–1.5 h, resolved by a sale', () => {
    const insight = engine();
    const noSales: Array<{ at: number; decision: InsightDecision }> = [];
    let units = 1000;
    const observe = (at: number, decisions: InsightDecision[]) => {
      for (const decision of decisions) if (decision.type.startsWith('no-sales')) noSales.push({ at, decision });
    };
    observe(DAY0, insight.facingUnits('shelf-a', 1, units, DAY0));
    const silentFrom = DAY0 + (24 + 10) * 60 * MIN;
    for (let at = DAY0 + 5 * MIN; at <= DAY0 + (24 + 13) * 60 * MIN; at += MIN) {
      const hour = new Date(at).getUTCHours();
      const open = hour >= 8 && hour < 20;
      if (open && (at - DAY0) % (6 * MIN) === 0 && at < silentFrom) observe(at, insight.facingUnits('shelf-a', 1, --units, at));
      if ((at - DAY0) % (5 * MIN) === 0) observe(at, insight.tick(at));
    }
    // 10 units a traffic-hour: 10 drops expected after an hour of silence — a little more here, as this one-facing
    // store's silence also teaches it that 10:00 is quieter than yesterday
    expect(noSales.map((n) => n.decision.type)).toEqual(['no-sales-open']);
    const opened = noSales[0] as { at: number; decision: { alert: FacingAlert } };
    expect(opened.at - silentFrom).toBeGreaterThanOrEqual(60 * MIN);
    expect(opened.at - silentFrom).toBeLessThanOrEqual(90 * MIN);
    expect(opened.decision.alert).toMatchObject({ key: 'no-sales:shelf-a/1', shelfId: 'shelf-a', facing: 1, sku: '400' });
    expect(opened.decision.alert.units).toBeGreaterThanOrEqual(10);
    const sale = DAY0 + (24 + 13) * 60 * MIN + 3 * MIN;
    expect(insight.facingUnits('shelf-a', 1, units - 1, sale).filter((d) => d.type.startsWith('no-sales'))).toEqual([
      { type: 'no-sales-resolve', key: 'no-sales:shelf-a/1' },
    ]);
  });
});

describe('InsightEngine: phantom stock', () => {
  const phantomOf = (decisions: InsightDecision[]) => decisions.filter((d) => d.type.startsWith('phantom'));

  it('a restock masks a take it may have hidden; the next unexplained sale opens phantom-stock at once, and its count grows', () => {
    const insight = engine();
    const at = (min: number) => Date.UTC(2026, 11, 8, 15, min);
    insight.facingUnits('shelf-a', 1, 12, at(0) - 30 * MIN);
    // 12 → 10 → 1000 read as 12 → 1000: the rolling median had not shown the take when staff filled the facing up
    insight.facingUnits('shelf-a', 1, 1000, at(0));
    expect(phantomOf(insight.sale('400', 2, at(10)))).toEqual([]);
    // 3 units of mask: the next sale of 2 has one unit no drop covers
    const [open] = phantomOf(insight.sale('400', 2, at(14)));
    expect(open).toMatchObject({ type: 'phantom-open', alert: { key: 'phantom-stock:400', sku: '400', unexplainedUnits: 1 } });
    expect(phantomOf(insight.sale('400', 1, at(20)))).toMatchObject([{ type: 'phantom-open', alert: { unexplainedUnits: 2 } }]);
    // the shelf moves with the sales again: three explained units resolve it
    for (let i = 0; i < 2; i++) {
      insight.facingUnits('shelf-a', 1, 999 - i, at(30 + i * 5));
      expect(phantomOf(insight.sale('400', 1, at(32 + i * 5)))).toEqual([]);
    }
    insight.facingUnits('shelf-a', 1, 997, at(40));
    expect(phantomOf(insight.sale('400', 1, at(42)))).toEqual([{ type: 'phantom-resolve', key: 'phantom-stock:400' }]);
  });
});
