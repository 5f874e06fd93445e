import { describe, expect, it } from 'vitest';
import type { GatewayEvents } from '../../../edge/core/events.js';
import { RELAY_ROUTES, RELAY_TYPES, RelayRouteState, type RelayOutput } from '../../../edge/relay/relay-events.js';
import type { FacingStockView } from '../../../edge/stock/shelf-stock-book.js';

const state = () =>
  new RelayRouteState({
    maxOpenPerKiosk: 4,
    maxOpen: 100,
    staleAfterMs: 3_600_000,
    maxLines: 100,
    maxStockFacings: 100,
    maxAggregateFacings: 100,
  });

function translate<K extends keyof GatewayEvents>(event: K, payload: GatewayEvents[K], s = state(), now = 1_000): RelayOutput[] {
  const route = RELAY_ROUTES.find((r) => r.event === event);
  if (!route) throw new Error(`no route for ${event}`);
  const out = (
    route.translate as (p: GatewayEvents[K], s: RelayRouteState, now: number) => RelayOutput | readonly RelayOutput[] | undefined
  )(payload, s, now);
  // concat takes one output or a list of them alike
  return new Array<RelayOutput>().concat(out ?? []);
}

const view = (units: number | null, level: FacingStockView['level'] = 'ok'): FacingStockView => ({
  shelfId: 'shelf-a',
  facing: 2,
  sku: '400',
  name: 'Beans',
  units,
  weightG: null,
  capacityUnits: 8,
  lowStockUnits: 2,
  restockUnits: 4,
  level,
  source: 'weight',
  updatedAt: 5,
});

describe('the relay table', () => {
  it('is one table: every type but the drop report and command results comes from a route; handler names are unique relay.*', () => {
    const sent = new Set(RELAY_ROUTES.flatMap((r) => r.sends.map((s) => s.type)));
    // written by the outbox itself and by the HQ command handler, not by a bus route
    const notFromTheBus = ['store.relay.dropped', 'store.command.result'];
    expect([...sent].sort()).toEqual(
      Object.keys(RELAY_TYPES)
        .filter((t) => !notFromTheBus.includes(t))
        .sort(),
    );
    const handlers = RELAY_ROUTES.map((r) => r.handler);
    expect(new Set(handlers).size).toBe(handlers.length);
    expect(handlers.every((h) => h.startsWith('relay.'))).toBe(true);
    expect(RELAY_ROUTES.filter((r) => r.holdsAck).map((r) => r.event)).toEqual(['device.message:kiosk/event']);
  });

  it('alert.changed → store.alert.changed, critical, subject alert/<id>', () => {
    const alert = {
      id: 'a1',
      kind: 'low-stock',
      key: 'low-stock:shelf-a/2',
      state: 'acknowledged',
      severity: 'warning',
      title: 'Low',
      openedAt: 1,
      updatedAt: 2,
    } as const;
    expect(translate('alert.changed', { alert, previous: { ...alert, state: 'open' } })).toEqual([
      { type: 'store.alert.changed', relayClass: 'critical', subject: 'alert/a1', data: { ...alert, previousState: 'open' } },
    ]);
  });

  it('insight.availability → store.availability (operational), subject sku/<sku>: every one (the insight room coalesced them)', () => {
    const availability = { sku: '400', availableUnits: 3, shelfUnits: 5, unknownFacings: 0, at: 9 };
    const s = state();
    for (let i = 0; i < 2; i++) {
      expect(translate('insight.availability', availability, s)).toEqual([
        { type: 'store.availability', relayClass: 'operational', subject: 'sku/400', data: availability },
      ]);
    }
  });

  it('kiosk events → store.kiosk.event (critical); basket-closed also → store.kiosk.transaction', () => {
    const s = state();
    const msg = (payload: GatewayEvents['device.message:kiosk/event']['payload']) => ({
      key: 'kiosk/event' as const,
      deviceId: 'kiosk-1',
      payload,
      receivedAt: 7,
    });
    expect(translate('device.message:kiosk/event', msg({ type: 'basket-open', basketId: 'b1', ts: 1 }), s)).toEqual([
      {
        type: 'store.kiosk.event',
        relayClass: 'critical',
        subject: 'kiosk/kiosk-1',
        data: { kioskId: 'kiosk-1', type: 'basket-open', basketId: 'b1', ts: 1, receivedAt: 7 },
      },
    ]);
    translate('device.message:kiosk/event', msg({ type: 'item-scanned', basketId: 'b1', sku: 'A', qty: 3, priceCents: 100, ts: 2 }), s);
    translate('device.message:kiosk/event', msg({ type: 'payment-succeeded', basketId: 'b1', ts: 3 }), s);
    const closed = translate('device.message:kiosk/event', msg({ type: 'basket-closed', basketId: 'b1', ts: 4 }), s, 9_000);
    expect(closed.map((o) => [o.type, o.relayClass, o.subject])).toEqual([
      ['store.kiosk.event', 'critical', 'kiosk/kiosk-1'],
      ['store.kiosk.transaction', 'critical', 'kiosk/kiosk-1/basket/b1'],
    ]);
    expect(closed[1]?.data).toMatchObject({
      basketId: 'b1',
      kioskId: 'kiosk-1',
      items: [{ sku: 'A', qty: 3, priceCents: 100 }],
      totalCents: 300,
      payment: 'succeeded',
      complete: true,
    });
  });

  it('stock.changed → store.stock.changed (operational), either cause, change-only per facing', () => {
    const s = state();
    const first = translate('stock.changed', { view: view(5), cause: 'quantity' }, s);
    expect(first).toEqual([
      {
        type: 'store.stock.changed',
        relayClass: 'operational',
        subject: 'facing/shelf-a/2',
        data: {
          shelfId: 'shelf-a',
          facing: 2,
          sku: '400',
          units: 5,
          capacityUnits: 8,
          level: 'ok',
          source: 'weight',
          updatedAt: 5,
          cause: 'quantity',
        },
      },
    ]);
    expect(translate('stock.changed', { view: view(5), cause: 'quantity' }, s)).toEqual([]);
    expect(translate('stock.changed', { view: view(4, 'low'), cause: 'quantity' }, s)).toHaveLength(1);
    expect(translate('stock.changed', { view: view(4, 'low'), cause: 'quantity' }, s)).toEqual([]);
    expect(translate('stock.changed', { view: { ...view(4, 'low'), source: 'sales-estimate' }, cause: 'quantity' }, s)).toHaveLength(1);
  });

  it('a level-only change (the facing turns low, units unchanged) reaches HQ, once', () => {
    const s = state();
    translate('stock.changed', { view: view(3), cause: 'quantity' }, s);
    // the debounced level follows later with the same units: HQ's view must turn low as the store's does
    const low = translate('stock.changed', { view: view(3, 'low'), cause: 'level' }, s);
    expect(low).toEqual([
      expect.objectContaining({
        type: 'store.stock.changed',
        data: expect.objectContaining({ units: 3, level: 'low', cause: 'level' }) as unknown,
      }),
    ]);
    expect(translate('stock.changed', { view: view(3, 'low'), cause: 'level' }, s)).toEqual([]);
    expect(translate('stock.changed', { view: view(3, 'ok'), cause: 'level' }, s)).toEqual([
      expect.objectContaining({ data: expect.objectContaining({ level: 'ok' }) as unknown }),
    ]);
  });

  it('device connection and lifecycle → store.device.health; command results → store.device.command (operational)', () => {
    expect(translate('device.connection', { deviceId: 'shelf-a', kind: 'shelf', source: 'mqtt', connected: false, at: 3 })).toEqual([
      {
        type: 'store.device.health',
        relayClass: 'operational',
        subject: 'device/shelf-a',
        data: { deviceId: 'shelf-a', kind: 'shelf', change: 'disconnected', transport: 'mqtt', at: 3 },
      },
    ]);
    expect(translate('device.lifecycle', { deviceId: 'esl-1', kind: 'esl', change: 'disabled', at: 4 })).toEqual([
      {
        type: 'store.device.health',
        relayClass: 'operational',
        subject: 'device/esl-1',
        data: { deviceId: 'esl-1', kind: 'esl', change: 'disabled', at: 4 },
      },
    ]);
    const result = {
      cmdId: 'c1',
      deviceId: 'esl-1',
      kind: 'esl' as const,
      type: 'set-price',
      outcome: 'confirmed' as const,
      sentAt: 1,
      endedAt: 2,
    };
    expect(translate('command.result', result)).toEqual([
      { type: 'store.device.command', relayClass: 'operational', subject: 'device/esl-1', data: result },
    ]);
  });

  it('shelf readings send nothing; they feed the hourly aggregates', () => {
    const s = state();
    s.aggregates.setFacings([{ shelfId: 'shelf-a', facing: 1 }]);
    expect(
      translate(
        'device.message:shelf/weight',
        { key: 'shelf/weight', deviceId: 'shelf-a', payload: { facing: 1, weightG: 500, ts: 1 }, receivedAt: 1 },
        s,
      ),
    ).toEqual([]);
    expect(s.aggregates.takeHour(0)[0]?.facings[0]).toMatchObject({ count: 1, meanWeightG: 500 });
  });
});
