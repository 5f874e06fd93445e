import { afterEach, describe, expect, it } from 'vitest';
import type { Alert } from '../../edge/alerts/alerts.js';
import type { DeviceMessage } from '../../edge/device-registry/messages.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

const UNIT_G = 1040; // oat milk, shelf-a facing 1 (capacity 10, low at ≤ 2)
const WEIGHT_TOPIC = 'store/test-store/shelf/shelf-a/weight';
const THROWER = 'test-thrower';

describe('a throwing bus subscriber does not stop the gateway', () => {
  let gw: TestGateway;
  afterEach(async () => gw?.dispose());

  it('readings still drain a facing and open the low-stock alert; every throw is counted under the handler name', async () => {
    gw = await startTestGateway();
    const { bus, metrics } = gw.built;
    let thrown = 0;
    bus.on('device.message:shelf/weight', THROWER, (message) => {
      if (message.key !== 'shelf/weight') return;
      thrown++;
      throw new Error(`subscriber bug on ${message.deviceId}`);
    });
    // a subscriber after the thrower: it still gets every message
    const witnessed: DeviceMessage[] = [];
    bus.on('device.message:shelf/weight', 'test-witness', (message) => witnessed.push(message));

    const shelf = await gw.connectDevice('shelf-a', 'shelf');
    const units = [10, 9, 7, 5, 4, 3, 2, 1, 1, 0, 0];
    for (const u of units)
      await shelf.publishAsync(WEIGHT_TOPIC, JSON.stringify({ facing: 1, weightG: u * UNIT_G, ts: Date.now() }), { qos: 1 });

    // the stock pipeline (subscribed before the thrower) saw the readings: the facing drained …
    await eventually(
      async () => {
        const body = (await (await gw.api('/api/shelves')).json()) as {
          shelves: { id: string; facings: { facing: number; units: number | null }[] }[];
        };
        return body.shelves.find((s) => s.id === 'shelf-a')?.facings.find((f) => f.facing === 1)?.units === 0 ? true : undefined;
      },
      5_000,
      'facing shelf-a/1 to drain to 0 units',
    );
    // … and the low-stock alert opened
    const alert = await eventually(
      async () => {
        const body = (await (await gw.api('/api/alerts?state=active')).json()) as { alerts: Alert[] };
        return body.alerts.find((a) => a.key === 'low-stock:shelf-a/1');
      },
      5_000,
      'the low-stock alert',
    );
    expect(alert).toMatchObject({ kind: 'low-stock', state: 'open', shelfId: 'shelf-a', facing: 1 });

    // every reading reached the thrower and the subscriber after it; each throw was counted under its name
    await eventually(
      () => (witnessed.filter((m) => m.key === 'shelf/weight').length === units.length ? true : undefined),
      5_000,
      'every reading',
    );
    expect(thrown).toBe(units.length);
    expect(await metrics.value('smartstore_event_handler_errors_total', { handler: THROWER })).toBe(units.length);
    // no other subscriber failed
    expect(await metrics.value('smartstore_event_handler_errors_total')).toBe(units.length);

    // the broker goes on: the device is still connected and the health check is fine
    expect(shelf.connected).toBe(true);
    const health = await gw.api('/api/health');
    expect(health.status).toBe(200);
  });
});
