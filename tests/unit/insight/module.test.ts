/**
 * The insight module on a real bus with fake alerts, in virtual time (VirtualTimeScheduler: hours of a store in
 * milliseconds): load-cell units and kiosk sales in, stock-out-predicted and phantom-stock alerts and coalesced
 * availability out.
 */
import { pino } from 'pino';
import { VirtualAction, VirtualTimeScheduler } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { Alert, AlertDetails, NewAlert } from '../../../edge/alerts/alerts.js';
import { GatewayBus } from '../../../edge/core/events.js';
import type { SkuAvailability } from '../../../edge/insight/availability.js';
import { InsightModule, insightSettings, type InsightAlerts, type StockFacing } from '../../../edge/insight/module.js';
import type { FacingStockView } from '../../../edge/stock/shelf-stock-book.js';

const MIN = 60_000;
/** 2026-12-07 08:00 UTC: the store's clock starts here */
const T0 = Date.UTC(2026, 11, 7, 8, 0);
const MILK = '4000000000017';
const BEANS = '4000000000024';
const CHOC = '4000000000031';

/** The alert calls the module makes, against a map of active alerts by key. */
class FakeAlerts {
  readonly active = new Map<string, NewAlert & { openedAt: number }>();
  readonly resolved: { key: string; by: string; resolution: string; at: number }[] = [];
  readonly opened: { key: string; at: number }[] = [];
  constructor(
    private readonly now: () => number,
    private readonly stored: Alert[] = [],
  ) {}
  raise(input: NewAlert) {
    const opened = !this.active.has(input.key);
    if (opened) {
      this.active.set(input.key, { ...input, openedAt: this.now() });
      this.opened.push({ key: input.key, at: this.now() });
    }
    return { alert: this.active.get(input.key) as unknown as Alert, opened };
  }
  updateByKey(key: string, details: AlertDetails) {
    const existing = this.active.get(key);
    if (existing) this.active.set(key, { ...existing, ...details });
    return existing as unknown as Alert | undefined;
  }
  resolveByKey(key: string, by: string, resolution: string) {
    const stored = this.stored.findIndex((a) => a.key === key);
    if (stored >= 0) this.stored.splice(stored, 1);
    else if (!this.active.delete(key)) return undefined;
    this.resolved.push({ key, by, resolution, at: this.now() });
    return {} as Alert;
  }
  async list(filter: { kind?: string }) {
    return this.stored.filter((a) => a.kind === filter.kind);
  }
}

function facingView(
  shelfId: string,
  facing: number,
  sku: string,
  units: number | null,
  extra: Partial<FacingStockView> = {},
): FacingStockView {
  return {
    shelfId,
    facing,
    sku,
    name: sku === MILK ? 'Oat milk 1 l' : sku === BEANS ? 'Espresso beans 500 g' : 'Dark chocolate 100 g',
    units,
    weightG: null,
    capacityUnits: 20,
    lowStockUnits: 4,
    restockUnits: 10,
    level: 'ok',
    source: units === null ? null : 'weight',
    updatedAt: null,
    ...extra,
  };
}

function fixture(options: { enabled?: boolean; stored?: Alert[]; restored?: Partial<Record<string, number>> } = {}) {
  const scheduler = new VirtualTimeScheduler(VirtualAction, 24 * 60 * MIN);
  const now = () => T0 + scheduler.now();
  const alerts = new FakeAlerts(now, options.stored);
  const bus = new GatewayBus({
    onHandlerError: ({ error }) => {
      throw error;
    },
  });
  const facings: StockFacing[] = [
    facingView('shelf-a', 1, MILK, options.restored?.['shelf-a/1'] ?? null),
    facingView('shelf-a', 2, BEANS, options.restored?.['shelf-a/2'] ?? null),
    facingView('shelf-b', 1, CHOC, options.restored?.['shelf-b/1'] ?? null),
  ];
  const settings = insightSettings(
    {
      enabled: options.enabled ?? true,
      restockLeadTimeMin: 30,
      availabilitySafetyUnits: 2,
      availabilityCoalesceSec: 5,
      tickSec: 300,
      minWatchMin: 20,
      noSalesBeforeTrafficKnown: false,
      timeZone: null,
    },
    'UTC',
  );
  const handlerErrors: unknown[] = [];
  const module = new InsightModule({
    bus,
    alerts: (): InsightAlerts => alerts,
    facings: () => facings,
    // chocolate's cell is tared at 30 g and holds 100 g bars; the other facings' scales are not known
    scales: () => new Map([['shelf-b/1', { tareG: 30, unitWeightG: 100 }]]),
    settings,
    scheduler,
    now,
    log: pino({ level: 'silent' }),
    onHandlerError: (_handler, error) => handlerErrors.push(error),
  });
  const availability: Array<SkuAvailability & { emittedAt: number }> = [];
  bus.on('insight.availability', 'test', (a) => availability.push({ ...a, emittedAt: now() }));

  /** at `atMs` after T0, what the stock room publishes when a facing's load cell shows `units` */
  const units = (atMs: number, shelfId: string, facing: number, n: number, source: 'weight' | 'sales-estimate' = 'weight') =>
    scheduler.schedule(() => {
      const view = facings.find((f) => f.shelfId === shelfId && f.facing === facing) as StockFacing;
      Object.assign(view, { units: n, source, updatedAt: now() });
      bus.emit('stock.changed', { view: facingView(shelfId, facing, view.sku, n, { source, updatedAt: now() }), cause: 'quantity' });
    }, atMs);
  const sale = (atMs: number, sku: string, qty = 1) =>
    scheduler.schedule(() => {
      bus.emit('device.message:kiosk/event', {
        key: 'kiosk/event',
        deviceId: 'kiosk-1',
        payload: { type: 'item-scanned', basketId: `b-${atMs}`, sku, qty, ts: now() },
        receivedAt: now(),
      });
    }, atMs);
  /** at `atMs` after T0, a raw load-cell reading from the shelf controller */
  const reading = (atMs: number, shelfId: string, facing: number, weightG: number) =>
    scheduler.schedule(() => {
      bus.emit('device.message:shelf/weight', {
        key: 'shelf/weight',
        deviceId: shelfId,
        payload: { facing, weightG, ts: now() },
        receivedAt: now(),
      });
    }, atMs);
  const at = (atMs: number, run: () => void) => scheduler.schedule(run, atMs);
  return { scheduler, module, alerts, bus, facings, units, sale, reading, at, availability, handlerErrors, now };
}

describe('InsightModule', () => {
  it('a facing selling fast gets a stock-out-predicted warning before it is low, on the pick list; a restock resolves it', async () => {
    const f = fixture();
    await f.module.start();
    // oat milk: one unit every 4 minutes from 20 — empty in 80 min, low (4) after 64 min
    for (let i = 0; i <= 10; i++) f.units(i * 4 * MIN, 'shelf-a', 1, 20 - i);
    let pickedWhileOpen: ReturnType<InsightModule['pickList']>;
    f.at(41 * MIN, () => (pickedWhileOpen = f.module.pickList(10)));
    f.units(45 * MIN, 'shelf-a', 1, 20); // restocked
    f.scheduler.flush();
    await f.module.stop();

    const key = 'stock-out-predicted:shelf-a/1';
    const opened = f.alerts.opened.find((o) => o.key === key);
    expect(opened, 'a prediction opened').toBeDefined();
    // before the facing was low (64 min) and at least the lead time (30 min) before it would have run empty (80 min)
    expect((opened as { at: number }).at - T0).toBeLessThanOrEqual(50 * MIN);
    expect(f.alerts.resolved).toContainEqual(expect.objectContaining({ key, by: 'system', resolution: 'restocked before it ran out' }));
    expect(f.alerts.active.has(key)).toBe(false);
    expect(pickedWhileOpen!).toEqual([
      expect.objectContaining({ shelfId: 'shelf-a', facing: 1, sku: MILK, urgency: 'predicted', unitsToBring: 10 }),
    ]);
    expect(pickedWhileOpen![0]!.emptyAt).toBeGreaterThan(T0 + 41 * MIN);
  });

  it('the alert names the product, when it runs out (store clock) and the units to bring; warning, with the facing', async () => {
    const f = fixture();
    await f.module.start();
    for (let i = 0; i <= 10; i++) f.units(i * 4 * MIN, 'shelf-a', 1, 20 - i);
    let alert: NewAlert | undefined;
    f.at(41 * MIN, () => (alert = f.alerts.active.get('stock-out-predicted:shelf-a/1')));
    f.scheduler.flush();
    await f.module.stop();
    expect(alert).toMatchObject({ kind: 'stock-out-predicted', severity: 'warning', shelfId: 'shelf-a', facing: 1, sku: MILK });
    expect(alert!.title).toMatch(/^Oat milk 1 l will run out by \d\d:\d\d: bring \d+ \(\d+ left\)$/);
    expect(alert!.units).toBe(20 - 10);
  });

  it('the periodic look follows the clock: a facing that stops selling has its prediction resolved with no reading', async () => {
    const f = fixture();
    await f.module.start();
    for (let i = 0; i <= 8; i++) f.units(i * 4 * MIN, 'shelf-a', 1, 20 - i);
    f.at(6 * 60 * MIN, () => void f.module.stop());
    f.scheduler.flush();
    const key = 'stock-out-predicted:shelf-a/1';
    expect(f.alerts.opened.map((o) => o.key)).toContain(key);
    expect(f.alerts.resolved).toContainEqual(
      expect.objectContaining({ key, resolution: 'sales slowed: no longer expected to run out within the lead time' }),
    );
    // after the last reading (32 min) only ticks (every 5 min) came
    expect((f.alerts.resolved.find((r) => r.key === key) as { at: number }).at - T0).toBeGreaterThan(32 * MIN);
  });

  it('kiosk sales of a sku whose shelf does not move open phantom-stock; sales its shelf explains open nothing', async () => {
    const f = fixture();
    await f.module.start();
    // chocolate: its shelf reported once and never moves; two units sold at the kiosks
    f.units(0, 'shelf-b', 1, 20);
    f.sale(10 * MIN, CHOC);
    f.sale(12 * MIN, CHOC);
    // beans: each unit leaves the shelf minutes before it is paid for
    f.units(0, 'shelf-a', 2, 20);
    for (let i = 1; i <= 4; i++) {
      f.units(i * 6 * MIN, 'shelf-a', 2, 20 - i);
      f.sale(i * 6 * MIN + 3 * MIN, BEANS);
    }
    f.scheduler.flush();
    await f.module.stop();
    expect(f.alerts.active.get(`phantom-stock:${CHOC}`)).toMatchObject({
      kind: 'phantom-stock',
      severity: 'warning',
      sku: CHOC,
      units: 2,
    });
    expect(f.alerts.active.get(`phantom-stock:${CHOC}`)?.title).toContain(
      'Dark chocolate 100 g sells at the kiosks but its shelf (shelf-b/1) does not move',
    );
    expect(f.alerts.opened.map((o) => o.key)).toEqual([`phantom-stock:${CHOC}`]);
  });

  it('a load cell repeating the same raw weight while its sku sells opens scale-stuck; a different weight resolves it', async () => {
    const f = fixture();
    await f.module.start();
    f.units(0, 'shelf-a', 1, 20);
    // oat milk's cell reads 2064.0 g every second, to the gram, for a minute; two units sold meanwhile
    for (let s = 0; s < 60; s++) f.reading(s * 1000, 'shelf-a', 1, 2064);
    f.sale(10_000, MILK);
    f.sale(20_000, MILK);
    // the beans' cell jitters: never stuck, though beans sell too
    for (let s = 0; s < 60; s++) f.reading(s * 1000, 'shelf-a', 2, 5012 + (s % 3) * 0.4);
    f.sale(15_000, BEANS);
    f.sale(25_000, BEANS);
    // a reading of a facing not in the planogram is counted, not a crash
    f.reading(5_000, 'shelf-x', 9, 100);
    f.reading(61_000, 'shelf-a', 1, 1961.5);
    const key = 'scale-stuck:shelf-a/1';
    f.at(60_500, () =>
      expect(f.alerts.active.get(key)).toMatchObject({
        kind: 'scale-stuck',
        severity: 'warning',
        shelfId: 'shelf-a',
        facing: 1,
        sku: MILK,
      }),
    );
    f.scheduler.flush();
    await f.module.stop();
    // the run reached 30 readings at 29 s, after the second sale (20 s)
    expect(f.alerts.opened.filter((o) => o.key.startsWith('scale-stuck'))).toEqual([{ key, at: T0 + 29_000 }]);
    expect(f.alerts.resolved.find((r) => r.key === key)).toMatchObject({ by: 'system', at: T0 + 61_000 });
    expect(f.module.health()).toMatchObject({ scaleStuckOpened: 1, scaleStuckResolved: 1, readingsUnknownFacing: 1 });
  });

  it("a kiosk's sales estimate is not a shelf moving: only the load cell's units explain kiosk sales", async () => {
    const f = fixture();
    await f.module.start();
    f.units(0, 'shelf-b', 1, 20);
    // the stock room's estimate follows the kiosk's sales: were it taken as drops, the sales would explain themselves
    f.units(10 * MIN, 'shelf-b', 1, 19, 'sales-estimate');
    f.sale(10 * MIN, CHOC);
    f.units(12 * MIN, 'shelf-b', 1, 18, 'sales-estimate');
    f.sale(12 * MIN, CHOC);
    f.scheduler.flush();
    await f.module.stop();
    expect(f.alerts.active.has(`phantom-stock:${CHOC}`)).toBe(true);
  });

  it('sales of a sku whose shelf never reported are missing data: no phantom-stock, counted', async () => {
    const f = fixture();
    await f.module.start();
    f.sale(10 * MIN, CHOC, 3);
    f.sale(12 * MIN, CHOC, 3);
    f.scheduler.flush();
    await f.module.stop();
    expect(f.alerts.opened).toEqual([]);
    expect(f.module.health()).toMatchObject({ ok: true, noShelfUnits: 2 });
  });

  it('availability per sku: change-only, at most one per coalesce period with the latest units, minus the safety buffer', async () => {
    const f = fixture();
    await f.module.start();
    f.units(0, 'shelf-a', 1, 20);
    f.units(1_000, 'shelf-a', 1, 19);
    f.units(2_000, 'shelf-a', 1, 18);
    f.units(60_000, 'shelf-a', 2, 7);
    // back to the 18 HQ last got within one period: nothing to send
    f.units(120_000, 'shelf-a', 1, 17);
    f.units(121_000, 'shelf-a', 1, 18);
    f.scheduler.flush();
    await f.module.stop();
    expect(
      f.availability.map(({ sku, availableUnits, shelfUnits, emittedAt }) => ({
        sku,
        availableUnits,
        shelfUnits,
        s: (emittedAt - T0) / 1000,
      })),
    ).toEqual([
      { sku: MILK, availableUnits: 16, shelfUnits: 18, s: 5 },
      { sku: BEANS, availableUnits: 5, shelfUnits: 7, s: 65 },
    ]);
    expect(f.module.availability(MILK)).toEqual([expect.objectContaining({ sku: MILK, availableUnits: 16, unknownFacings: 0 })]);
    expect(f.module.availability(CHOC)).toEqual([expect.objectContaining({ availableUnits: 0, shelfUnits: 0, unknownFacings: 1 })]);
    expect(f.module.availability('not-a-sku')).toEqual([]);
    expect(f.module.availability()?.map((a) => a.sku)).toEqual([MILK, BEANS, CHOC].sort());
  });

  it("starts from the stock room's restored units, and resolves the insight alerts a previous run left open", async () => {
    const stored = ['stock-out-predicted:shelf-a/1', `phantom-stock:${CHOC}`].map(
      (key) => ({ key, kind: key.slice(0, key.indexOf(':')), state: 'open' }) as Alert,
    );
    const f = fixture({ stored, restored: { 'shelf-a/1': 12 } });
    await f.module.start();
    expect(f.alerts.resolved.map((r) => [r.key, r.resolution])).toEqual([
      ['stock-out-predicted:shelf-a/1', 'gateway restarted: watched again from new readings'],
      [`phantom-stock:${CHOC}`, 'gateway restarted: watched again from new readings'],
    ]);
    expect(f.module.availability(MILK)).toEqual([expect.objectContaining({ shelfUnits: 12, availableUnits: 10 })]);
    await f.module.stop();
  });

  it('disabled: follows nothing, raises nothing, and the readers say so (undefined)', async () => {
    const f = fixture({ enabled: false });
    await f.module.start();
    f.units(0, 'shelf-b', 1, 20);
    f.sale(10 * MIN, CHOC, 5);
    f.scheduler.flush();
    await f.module.stop();
    expect(f.alerts.opened).toEqual([]);
    expect(f.availability).toEqual([]);
    expect(f.module.pickList(10)).toBeUndefined();
    expect(f.module.availability()).toBeUndefined();
    expect(f.bus.subscriberCount('device.message:kiosk/event')).toBe(0);
  });

  it('stop() unsubscribes from the bus and ends the periodic look', async () => {
    const f = fixture();
    await f.module.start();
    expect(f.bus.subscriberCount('stock.changed')).toBe(1);
    await f.module.stop();
    expect(f.bus.subscriberCount('stock.changed')).toBe(0);
    expect(f.bus.subscriberCount('device.message:kiosk/event')).toBe(0);
    // nothing left scheduled: a flush returns at once instead of ticking through the day
    f.scheduler.flush();
    expect(f.scheduler.now()).toBe(0);
  });

  it('an empty facing reading a steady offset gets a tare proposal; one whose tare and unit weight are unknown does not', async () => {
    const f = fixture();
    await f.module.start();
    f.units(0, 'shelf-b', 1, 0);
    f.units(0, 'shelf-a', 1, 0);
    // chocolate's empty facing reads 41 or 42 g every second (10 s each): 11–12 g over its tare, a liner left on it
    for (let s = 0; s < 11 * 60; s++) {
      f.reading(s * 1000, 'shelf-b', 1, 41 + (Math.floor(s / 10) % 2));
      f.reading(s * 1000, 'shelf-a', 1, 25);
    }
    const proposals: unknown[] = [];
    f.at(9 * MIN, () => proposals.push(f.module.tareProposals()));
    f.at(11 * MIN, () => proposals.push(f.module.tareProposals()));
    f.scheduler.flush();
    await f.module.stop();
    expect(proposals[0]).toEqual([]);
    expect(proposals[1]).toEqual([
      {
        shelfId: 'shelf-b',
        facing: 1,
        sku: CHOC,
        currentTareG: 30,
        proposedTareG: 42,
        evidence: { medianNetG: 12, spreadG: 1, samples: 64, emptySince: T0 },
      },
    ]);
  });
});
