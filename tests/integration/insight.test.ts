/**
 * The insight room through a real gateway (issue 24): shelf weights and kiosk sales over MQTT, alerts and the pick list
 * over HTTP. The gateway's clock is moved ahead between readings (startTestGateway's `now`), so a facing selling a unit
 * every 4 minutes plays out in seconds: the prediction needs 20 minutes of watching before it trusts a rate.
 */
import type { MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import type { Alert } from '../../edge/alerts/alerts.js';
import type { PickLine } from '../../edge/insight/replenishment.js';
import type { SkuAvailability } from '../../edge/insight/availability.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

const MIN = 60_000;
const MILK = '4000000000017'; // shelf-a facing 1: 1040 g, capacity 10, low at ≤ 2
const BEANS = '4000000000024';
const CHOC = '4000000000031'; // shelf-b facing 1: 105 g, capacity 20

async function active(gw: TestGateway, kind: Alert['kind']): Promise<Alert[]> {
  const response = await gw.api(`/api/alerts?state=active&kind=${kind}`);
  expect(response.status).toBe(200);
  return ((await response.json()) as { alerts: Alert[] }).alerts;
}

async function unitsOf(gw: TestGateway, shelfId: string, facing: number): Promise<number | null | undefined> {
  const body = (await (await gw.api('/api/shelves')).json()) as {
    shelves: { id: string; facings: { facing: number; units: number | null }[] }[];
  };
  return body.shelves.find((s) => s.id === shelfId)?.facings.find((f) => f.facing === facing)?.units;
}

describe('insight through the gateway', () => {
  let gw: TestGateway | undefined;
  afterEach(async () => {
    await gw?.dispose();
    gw = undefined;
  });

  it('a facing selling fast: stock-out-predicted before low-stock, on the pick list; phantom stock; availability', async () => {
    let offsetMs = 0;
    const now = () => Date.now() + offsetMs;
    gw = await startTestGateway({
      now,
      overrides: { store: { timeZone: 'UTC' }, insight: { restockLeadTimeMin: 30, availabilitySafetyUnits: 2 } },
    });
    const gateway = gw;
    const shelfA = await gateway.connectDevice('shelf-a', 'shelf');
    /** the shelf reports the facing's weight at the gateway's clock; resolves once the stock room has the units */
    const shelfShows = async (shelf: MqttClient, shelfId: string, unitG: number, units: number) => {
      const payload = { facing: 1, weightG: units * unitG + 3.5, ts: now() };
      await shelf.publishAsync(`store/test-store/shelf/${shelfId}/weight`, JSON.stringify(payload), { qos: 1 });
      await eventually(async () => ((await unitsOf(gateway, shelfId, 1)) === units ? true : undefined), 5_000, `${shelfId}/1 at ${units}`);
    };

    // oat milk: a unit every 4 minutes from a full facing (10); it would be low (2) at 32 min and empty at 40
    let predicted: Alert | undefined;
    let pickLines: PickLine[] = [];
    for (let units = 10; units >= 2; units--) {
      if (units < 10) offsetMs += 4 * MIN;
      await shelfShows(shelfA, 'shelf-a', 1040, units);
      if (predicted !== undefined || units <= 2) continue;
      predicted = (await active(gateway, 'stock-out-predicted'))[0];
      if (predicted === undefined) continue;
      // the moment it opened: not low yet, and on the pick list as predicted
      expect(await active(gateway, 'low-stock')).toEqual([]);
      const response = await gateway.api('/api/replenishment?limit=10');
      expect(response.status).toBe(200);
      pickLines = ((await response.json()) as { lines: PickLine[] }).lines;
    }
    expect(predicted, 'a stock-out-predicted alert before the facing was low').toMatchObject({
      kind: 'stock-out-predicted',
      key: 'stock-out-predicted:shelf-a/1',
      severity: 'warning',
      shelfId: 'shelf-a',
      facing: 1,
      sku: MILK,
    });
    expect(predicted!.title).toMatch(/^Oat milk 1 l will run out by \d\d:\d\d: bring \d+ \(\d+ left\)$/);
    expect(pickLines).toEqual([
      expect.objectContaining({ shelfId: 'shelf-a', facing: 1, sku: MILK, name: 'Oat milk 1 l', urgency: 'predicted' }),
    ]);
    const line = pickLines[0] as PickLine;
    expect(line.units + line.unitsToBring).toBe(10);
    expect(line.emptyAt).toBeGreaterThan(predicted!.openedAt);
    // at ≤ 2 the low-stock alert follows, later than the prediction by at least the lead time's worth of sales
    const [low] = await eventually(async () => {
      const alerts = await active(gateway, 'low-stock');
      return alerts.length > 0 ? alerts : undefined;
    });
    expect(low!.openedAt - predicted!.openedAt).toBeGreaterThanOrEqual(8 * MIN);
    // on the pick list both ways it is urgent; the prediction stays until it comes true or a restock
    expect((await active(gateway, 'stock-out-predicted')).map((a) => a.id)).toEqual([predicted!.id]);

    // chocolate: its shelf reports once and never moves, while the kiosks sell it
    const shelfB = await gateway.connectDevice('shelf-b', 'shelf');
    await shelfShows(shelfB, 'shelf-b', 105, 20);
    const kiosk = await gateway.connectDevice('kiosk-1', 'kiosk');
    for (const basketId of ['b-1', 'b-2']) {
      const scan = { type: 'item-scanned', basketId, sku: CHOC, qty: 1, priceCents: 149, ts: now() };
      await kiosk.publishAsync('store/test-store/kiosk/kiosk-1/event', JSON.stringify(scan), { qos: 1 });
    }
    // it opens at the first unexplained sale; the second one raises its count of unexplained units to 2
    const [phantom] = await eventually(async () => {
      const alerts = await active(gateway, 'phantom-stock');
      return alerts.some((alert) => alert.units === 2) ? alerts : undefined;
    });
    expect(phantom).toMatchObject({ kind: 'phantom-stock', key: `phantom-stock:${CHOC}`, severity: 'warning', sku: CHOC, units: 2 });
    expect(phantom!.title).toContain('Dark chocolate 100 g sells at the kiosks but its shelf (shelf-b/1) does not move');

    // availability: the shelf's units minus the safety buffer, per sku
    const one = await gateway.api(`/api/availability?sku=${MILK}`);
    expect(one.status).toBe(200);
    expect(((await one.json()) as { availability: SkuAvailability[] }).availability).toEqual([
      expect.objectContaining({ sku: MILK, shelfUnits: 2, availableUnits: 0, unknownFacings: 0 }),
    ]);
    const all = (await (await gateway.api('/api/availability')).json()) as { availability: SkuAvailability[] };
    expect(all.availability.map((a) => [a.sku, a.availableUnits, a.unknownFacings])).toEqual([
      [MILK, 0, 0],
      [BEANS, 0, 1],
      [CHOC, 18, 0],
    ]);
    expect((await gateway.api('/api/availability?sku=0000000000000')).status).toBe(404);
    expect((await gateway.api('/api/replenishment', { token: null })).status).toBe(401);
  }, 60_000);

  it('a cell repeating its weight while its sku sells: scale-stuck, resolved when it moves; an empty offset: a tare proposal', async () => {
    let offsetMs = 0;
    const now = () => Date.now() + offsetMs;
    gw = await startTestGateway({ now, overrides: { store: { timeZone: 'UTC' } } });
    const gateway = gw;
    const shelfB = await gateway.connectDevice('shelf-b', 'shelf');
    const kiosk = await gateway.connectDevice('kiosk-1', 'kiosk');
    const weigh = (weightG: number) =>
      shelfB.publishAsync('store/test-store/shelf/shelf-b/weight', JSON.stringify({ facing: 1, weightG, ts: now() }), { qos: 1 });

    // chocolate's cell sends 2103.5 g, to the tenth, 30 times while two bars are paid for at the kiosk
    for (let i = 0; i < 30; i++) await weigh(20 * 105 + 3.5);
    for (const basketId of ['b-1', 'b-2']) {
      const scan = { type: 'item-scanned', basketId, sku: CHOC, qty: 1, priceCents: 149, ts: now() };
      await kiosk.publishAsync('store/test-store/kiosk/kiosk-1/event', JSON.stringify(scan), { qos: 1 });
    }
    const [stuck] = await eventually(async () => {
      const alerts = await active(gateway, 'scale-stuck');
      return alerts.length > 0 ? alerts : undefined;
    });
    expect(stuck).toMatchObject({ kind: 'scale-stuck', key: 'scale-stuck:shelf-b/1', severity: 'warning', shelfId: 'shelf-b', sku: CHOC });
    await weigh(20 * 105 + 1.2);
    await eventually(async () => ((await active(gateway, 'scale-stuck')).length === 0 ? true : undefined), 5_000, 'scale-stuck resolved');

    // emptied: the facing reads 12–13 g over its tare (0) for 11 minutes of the gateway's clock, a reading every 10 s
    await weigh(12);
    await eventually(async () => ((await unitsOf(gateway, 'shelf-b', 1)) === 0 ? true : undefined), 5_000, 'shelf-b/1 empty');
    for (let i = 0; i < 66; i++) {
      offsetMs += 10_000;
      await weigh(12 + (i % 2));
    }
    const proposals = await eventually(async () => {
      const response = await gateway.api('/api/insight/tare-proposals');
      expect(response.status).toBe(200);
      const body = (await response.json()) as { proposals: Array<Record<string, unknown>> };
      return body.proposals.length > 0 ? body.proposals : undefined;
    });
    expect(proposals.map(({ shelfId, facing, sku, currentTareG }) => ({ shelfId, facing, sku, currentTareG }))).toEqual([
      { shelfId: 'shelf-b', facing: 1, sku: CHOC, currentTareG: 0 },
    ]);
    expect([12, 13]).toContain(proposals[0]!.proposedTareG);
    expect((await gateway.api('/api/insight/tare-proposals', { token: null })).status).toBe(401);
  }, 60_000);
});
