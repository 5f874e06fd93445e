import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Alert } from '../../../edge/alerts/alerts.js';
import { GatewayBus } from '../../../edge/core/events.js';
import { KpiStore } from '../../../edge/kpis/kpi-store.js';
import { KpisModule } from '../../../edge/kpis/module.js';
import type { SqliteDatabase } from '../../../edge/storage/database.js';
import { migratedDatabase, type MigratedDatabase } from '../../helpers/migrated-database.js';

let fixture: MigratedDatabase;
let db: SqliteDatabase;
const log = pino({ level: 'silent' });
const NOW = Date.UTC(2026, 11, 1, 12);

beforeEach(async () => {
  fixture = await migratedDatabase('smartstore-kpis-');
  db = fixture.db;
});
afterEach(async () => {
  await fixture.dispose();
});

const lowStock = (id: string, openedAt: number, resolvedAt: number): { alert: Alert; previous: Alert } => {
  const previous: Alert = {
    id,
    kind: 'low-stock',
    key: `low-stock:shelf-a/${id}`,
    state: 'open',
    severity: 'warning',
    title: 'low',
    openedAt,
    updatedAt: openedAt,
  };
  return {
    previous,
    alert: { ...previous, state: 'resolved', resolvedAt, resolvedBy: 'system', resolution: 'restocked', updatedAt: resolvedAt },
  };
};

describe('KpisModule', () => {
  it('samples restocks, campaign progress (latest counts win) and mismatches from the bus; reads them back after a restart', async () => {
    const handlerErrors: unknown[] = [];
    const bus = new GatewayBus({ onHandlerError: ({ error }) => handlerErrors.push(error) });
    const module = new KpisModule({ bus, db, now: () => NOW, log, timeZone: 'UTC' });
    await module.start();
    bus.emit('alert.changed', lowStock('1', NOW - 60_000, NOW - 30_000));
    bus.emit('alert.changed', lowStock('2', NOW - 200_000, NOW - 20_000));
    const counts = { pending: 0, sent: 0, waiting: 0, confirmed: 1, failed: 0, superseded: 0, cancelled: 0 };
    bus.emit('campaign.progress', { campaignId: 'c1', state: 'running', total: 4, counts });
    bus.emit('campaign.progress', {
      campaignId: 'c1',
      state: 'done',
      total: 4,
      counts: { ...counts, confirmed: 3, failed: 1 },
      finishedAt: NOW,
    });
    const mismatch: Alert = {
      id: 'm',
      kind: 'price-mismatch',
      key: 'price-mismatch:sku:1',
      state: 'open',
      severity: 'critical',
      title: 't',
      openedAt: NOW,
      updatedAt: NOW,
    };
    bus.emit('alert.changed', { alert: mismatch, previous: undefined });
    bus.emit('alert.changed', { alert: { ...mismatch, title: 'u' }, previous: mismatch });

    const expected = {
      timeToReplenish: { count: 2, meanMs: 105_000, p90Ms: 180_000 },
      priceUpdates: { confirmed: 3, failed: 1, successPercent: 75 },
      priceMismatchesPerDay: [{ day: '2026-12-01', count: 1 }],
    };
    expect(module.kpis(86_400_000)).toMatchObject(expected);
    expect(handlerErrors).toEqual([]);
    await module.stop();

    const restarted = new KpisModule({
      bus: new GatewayBus({ onHandlerError: () => undefined }),
      db,
      now: () => NOW,
      log,
      timeZone: 'UTC',
    });
    await restarted.start();
    expect(restarted.kpis(86_400_000)).toMatchObject(expected);
    await restarted.stop();
  });
});

describe('KpiStore', () => {
  it('keeps at most its row limits, the newest', async () => {
    const store = new KpiStore(db, { maxReplenishSamples: 3, maxCampaigns: 2, maxMismatchDays: 2 });
    for (let i = 1; i <= 5; i++) {
      await store.addReplenish({ alertId: `a${i}`, openedAt: i * 1_000 - 500, resolvedAt: i * 1_000 });
      await store.putCampaign({ campaignId: `c${i}`, confirmed: i, failed: 0, updatedAt: i });
      await store.putMismatchDay({ day: `2026-12-0${i}`, count: i });
    }
    const loaded = await store.load();
    expect(loaded.replenish.map((s) => s.alertId)).toEqual(['a3', 'a4', 'a5']);
    expect(loaded.campaigns.map((c) => c.campaignId)).toEqual(['c4', 'c5']);
    expect(loaded.mismatches).toEqual([
      { day: '2026-12-04', count: 4 },
      { day: '2026-12-05', count: 5 },
    ]);
    expect(await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM kpi_replenish')).toEqual({ n: 3 });
  });
});
