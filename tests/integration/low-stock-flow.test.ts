import { afterEach, describe, expect, it } from 'vitest';
import type { Alert } from '../../edge/alerts/alerts.js';
import { TEST_TOKEN, eventually, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

const UNIT_G = 1040; // oat milk, shelf-a facing 1
const WEIGHT_TOPIC = 'store/test-store/shelf/shelf-a/weight';

async function activeAlerts(gw: TestGateway): Promise<Alert[]> {
  const response = await gw.api('/api/alerts?state=active');
  expect(response.status).toBe(200);
  return ((await response.json()) as { alerts: Alert[] }).alerts;
}

describe('shelf drains over MQTT → one alert → restock → resolved', () => {
  let gw: TestGateway;
  afterEach(async () => gw?.dispose());

  it('opens exactly one low-stock alert for a draining facing and resolves it on restock', async () => {
    gw = await startTestGateway();
    const shelf = await gw.connectDevice('shelf-a', 'shelf');
    const publishUnits = (units: number) =>
      shelf.publishAsync(WEIGHT_TOPIC, JSON.stringify({ facing: 1, weightG: units * UNIT_G + 3.5, ts: Date.now() }), { qos: 1 });

    for (const units of [10, 9, 8, 6, 5, 4, 3, 2, 1, 1, 0, 0, 1, 0]) await publishUnits(units);

    const [alert] = await eventually(async () => {
      const alerts = await activeAlerts(gw);
      return alerts.length > 0 ? alerts : undefined;
    }, 5_000, 'a low-stock alert');
    expect(alert).toMatchObject({ kind: 'low-stock', state: 'open', shelfId: 'shelf-a', facing: 1, sku: '4000000000017' });

    // readings keep arriving while the facing stays low: still one alert, not one per reading
    for (const units of [0, 1, 0, 2, 1]) await publishUnits(units);
    await new Promise((r) => setTimeout(r, 400));
    expect(await activeAlerts(gw)).toHaveLength(1);

    // staff acknowledge through the API
    const ack = await gw.api(`/api/alerts/${alert!.id}/ack`, { method: 'POST', token: TEST_TOKEN, body: JSON.stringify({ by: 'maria' }) });
    expect(ack.status).toBe(200);
    expect(await ack.json()).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'maria' });

    // restocked to capacity: the alert resolves by itself
    for (let i = 0; i < 3; i++) await publishUnits(10);
    const resolved = await eventually(async () => {
      const response = await gw.api(`/api/alerts/${alert!.id}`);
      const body = (await response.json()) as Alert;
      return body.state === 'resolved' ? body : undefined;
    }, 5_000, 'the alert to resolve');
    expect(resolved).toMatchObject({ resolvedBy: 'system', resolution: 'restocked' });
    expect(await activeAlerts(gw)).toHaveLength(0);

    const shelves = (await (await gw.api('/api/shelves')).json()) as { shelves: { id: string; facings: { facing: number; units: number; level: string }[] }[] };
    const facing = shelves.shelves.find((s) => s.id === 'shelf-a')?.facings.find((f) => f.facing === 1);
    expect(facing).toMatchObject({ units: 10, level: 'ok' });
  });

  it('keeps open alerts across a restart', async () => {
    gw = await startTestGateway();
    const shelf = await gw.connectDevice('shelf-a', 'shelf');
    for (const units of [1, 1, 1]) {
      await shelf.publishAsync(WEIGHT_TOPIC, JSON.stringify({ facing: 1, weightG: units * UNIT_G, ts: Date.now() }), { qos: 1 });
    }
    const [before] = await eventually(async () => {
      const alerts = await activeAlerts(gw);
      return alerts.length ? alerts : undefined;
    });
    await gw.stop();

    const restarted = await startTestGateway({ dataDir: gw.dataDir });
    try {
      const after = await activeAlerts(restarted);
      expect(after).toHaveLength(1);
      expect(after[0]).toMatchObject({ id: before!.id, state: 'open', key: 'low-stock:shelf-a/1' });
      // the facing is still low after the restart: the restored alert is reused, not duplicated
      const shelfAgain = await restarted.connectDevice('shelf-a-2', 'shelf').catch(() => undefined);
      void shelfAgain;
      const stock = (await (await restarted.api('/api/shelves')).json()) as { shelves: { id: string; facings: { facing: number; units: number }[] }[] };
      expect(stock.shelves.find((s) => s.id === 'shelf-a')?.facings.find((f) => f.facing === 1)?.units).toBe(1);
    } finally {
      await restarted.stop();
      await gw.dispose();
    }
  });
});
