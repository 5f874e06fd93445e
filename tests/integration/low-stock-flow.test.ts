import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import type { Alert } from '../../edge/alerts/alerts.js';
import { eventually, startTestGateway, type TestGateway, nextEvent } from '../helpers/test-gateway.js';

const UNIT_G = 1040; // oat milk, shelf-a facing 1: low at ≤ 2, ok again at ≥ 5
const WEIGHT_TOPIC = 'store/test-store/shelf/shelf-a/weight';
const SHELF_SECRET = 'shelf-a-secret-0123456789';

async function activeAlerts(gw: TestGateway): Promise<Alert[]> {
  const response = await gw.api('/api/alerts?state=active');
  expect(response.status).toBe(200);
  return ((await response.json()) as { alerts: Alert[] }).alerts;
}

async function facingOf(gw: TestGateway, shelfId: string, facing: number): Promise<{ units: number | null; level: string } | undefined> {
  const body = (await (await gw.api('/api/shelves')).json()) as {
    shelves: { id: string; facings: { facing: number; units: number | null; level: string }[] }[];
  };
  return body.shelves.find((s) => s.id === shelfId)?.facings.find((f) => f.facing === facing);
}

/** shelf-a with a secret the test knows, so it can connect again to a restarted gateway (where it is registered). */
async function connectShelfA(gw: TestGateway, clients: MqttClient[], options: { provision: boolean }): Promise<MqttClient> {
  if (options.provision) await gw.built.devices.registry.provision('shelf-a', 'shelf', SHELF_SECRET);
  const client = await mqtt.connectAsync(gw.mqttUrl, {
    clientId: 'shelf-a',
    username: 'shelf-a',
    password: SHELF_SECRET,
    reconnectPeriod: 0,
    keepalive: 30,
  });
  clients.push(client);
  return client;
}

const publishUnits = (shelf: MqttClient, units: number) =>
  shelf.publishAsync(WEIGHT_TOPIC, JSON.stringify({ facing: 1, weightG: units * UNIT_G + 3.5, ts: Date.now() }), { qos: 1 });

describe('shelf drains over MQTT → one alert → restock → resolved', () => {
  let gw: TestGateway;
  const clients: MqttClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.endAsync(true).catch(() => undefined)));
    await gw?.dispose();
  });

  it('opens exactly one low-stock alert for a draining facing and resolves it on restock', async () => {
    gw = await startTestGateway();
    const shelf = await gw.connectDevice('shelf-a', 'shelf');

    for (const units of [10, 9, 8, 6, 5, 4, 3, 2, 1, 1, 0, 0, 1, 0]) await publishUnits(shelf, units);

    const [alert] = await eventually(
      async () => {
        const alerts = await activeAlerts(gw);
        return alerts.length > 0 ? alerts : undefined;
      },
      5_000,
      'a low-stock alert',
    );
    expect(alert).toMatchObject({ kind: 'low-stock', state: 'open', shelfId: 'shelf-a', facing: 1, sku: '4000000000017' });

    // readings keep arriving while the facing stays low: the alert follows their units, still one alert, not one per
    // reading; having been empty it keeps that worst level (critical, "Out of stock") until it is restocked
    const followed = nextEvent(gw, 'alert.changed', ({ alert: a }) => a.units === 1);
    for (const units of [0, 1, 0, 2, 1]) await publishUnits(shelf, units);
    const { alert: following } = await followed;
    expect(following.id).toBe(alert!.id);
    expect(following).toMatchObject({ severity: 'critical', title: expect.stringMatching(/out of stock/i) as string });
    expect(await activeAlerts(gw)).toHaveLength(1);
    expect(await gw.built.metrics.value('smartstore_alerts_opened_total', { kind: 'low-stock' })).toBe(1);

    // staff acknowledge through the API
    const ack = await gw.api(`/api/alerts/${alert!.id}/ack`, {
      method: 'POST',
      token: await gw.addToken('maria', 'staff'),
      body: JSON.stringify({}),
    });
    expect(ack.status).toBe(200);
    expect(await ack.json()).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'maria' });

    // restocked to capacity: the alert resolves by itself
    for (let i = 0; i < 3; i++) await publishUnits(shelf, 10);
    const resolved = await eventually(
      async () => {
        const response = await gw.api(`/api/alerts/${alert!.id}`);
        const body = (await response.json()) as Alert;
        return body.state === 'resolved' ? body : undefined;
      },
      5_000,
      'the alert to resolve',
    );
    expect(resolved).toMatchObject({ resolvedBy: 'system', resolution: 'restocked' });
    expect(await activeAlerts(gw)).toHaveLength(0);
    expect(await facingOf(gw, 'shelf-a', 1)).toMatchObject({ units: 10, level: 'ok' });
  });

  it('a facing between the marks stays low across a restart: same alert, no duplicate, ok only at the restock mark', async () => {
    gw = await startTestGateway();
    let shelf = await connectShelfA(gw, clients, { provision: true });
    for (const units of [6, 1]) await publishUnits(shelf, units);
    const [before] = await eventually(
      async () => {
        const alerts = await activeAlerts(gw);
        return alerts.length ? alerts : undefined;
      },
      5_000,
      'a low-stock alert',
    );
    // back up to 3: between low (2) and restock (5), so still low; the alert follows to 3 left
    const atThree = nextEvent(gw, 'alert.changed', ({ alert }) => alert.units === 3);
    await publishUnits(shelf, 3);
    await atThree;
    expect(await facingOf(gw, 'shelf-a', 1)).toEqual(expect.objectContaining({ units: 3, level: 'low' }));
    await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
    await gw.stop();

    const restarted = await startTestGateway({ dataDir: gw.dataDir });
    try {
      expect(await facingOf(restarted, 'shelf-a', 1)).toEqual(expect.objectContaining({ units: 3, level: 'low' }));
      expect(await activeAlerts(restarted)).toEqual([
        expect.objectContaining({ id: before!.id, state: 'open', key: 'low-stock:shelf-a/1', units: 3 }),
      ]);

      // 4 is still below the restock mark: the debounced level after the restart is low, and the alert is the old one
      shelf = await connectShelfA(restarted, clients, { provision: false });
      const stillLow = nextEvent(restarted, 'stock.level', (s) => s.view.shelfId === 'shelf-a' && s.view.facing === 1);
      await publishUnits(shelf, 4);
      expect(await stillLow).toMatchObject({ level: 'low', units: 4 });
      expect(await activeAlerts(restarted)).toEqual([expect.objectContaining({ id: before!.id, state: 'open', units: 4 })]);
      expect(await restarted.built.metrics.value('smartstore_alerts_opened_total')).toBe(0);

      // at the restock mark it turns ok and the alert resolves
      const ok = nextEvent(restarted, 'stock.level', (s) => s.view.shelfId === 'shelf-a' && s.view.facing === 1);
      await publishUnits(shelf, 5);
      expect(await ok).toMatchObject({ level: 'ok', units: 5 });
      expect(await activeAlerts(restarted)).toEqual([]);
      expect((await (await restarted.api(`/api/alerts/${before!.id}`)).json()) as Alert).toMatchObject({
        state: 'resolved',
        resolvedBy: 'system',
      });
    } finally {
      await Promise.all(clients.splice(0).map((c) => c.endAsync(true).catch(() => undefined)));
      await restarted.stop();
    }
  });
});
