/**
 * Hostile input, issue 8: 200 devices flood the broker and then all drop their TCP connections at the same moment
 * (a store's Wi-Fi access point rebooting), with messages still in flight.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeviceKind } from '../../edge/device-registry/topics.js';
import { memoryInUseMb } from '../helpers/memory-in-use.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

const SHELVES = 150;
const KIOSKS = 50;
const BURST = 100; // messages per device, QoS 0: 20,000 in all, most still in flight when the sockets go

type Device = { id: string; kind: DeviceKind; secret: string; client: MqttClient };

describe('a flood, then every device disconnects at once', () => {
  let gw: TestGateway;
  let bystander: MqttClient;
  const devices: Device[] = [];
  const metric = (name: string, labels: Record<string, string> = {}) => gw.built.metrics.value(name, labels);

  beforeAll(async () => {
    gw = await startTestGateway();
    bystander = await gw.connectDevice('shelf-a', 'shelf');
    const specs: { id: string; kind: DeviceKind }[] = [
      ...Array.from({ length: SHELVES }, (_, i) => ({ id: `flood-shelf-${i}`, kind: 'shelf' as const })),
      ...Array.from({ length: KIOSKS }, (_, i) => ({ id: `flood-kiosk-${i}`, kind: 'kiosk' as const })),
    ];
    const secrets = await Promise.all(specs.map((s) => gw.built.devices.registry.provision(s.id, s.kind)));
    const clients = await Promise.all(
      specs.map((s, i) =>
        mqtt.connectAsync(gw.mqttUrl, { clientId: s.id, username: s.id, password: secrets[i], reconnectPeriod: 0, keepalive: 30 }),
      ),
    );
    specs.forEach((s, i) => devices.push({ ...s, secret: secrets[i] as string, client: clients[i] as MqttClient }));
  }, 30_000);
  afterAll(async () => {
    await Promise.all(devices.map((d) => d.client.endAsync(true).catch(() => undefined)));
    await gw?.dispose();
  });

  it('survives: counts stay consistent, nothing is left connected, health is ok, and a new device connects', async () => {
    await eventually(() => (gw.built.broker.connectedDevices === 1 + SHELVES + KIOSKS ? true : undefined), 2_000, 'every device connected');
    const acceptedBefore = await metric('smartstore_device_messages_total');
    const invalidBefore = await metric('smartstore_device_messages_invalid_total');
    const alertsBefore = await metric('smartstore_alerts_opened_total');
    const disconnects = new Set<string>();
    const unsubscribe = gw.built.bus.on('device.connection', 'test', (event) => {
      if (!event.connected) disconnects.add(event.deviceId);
    });
    const inUseBefore = memoryInUseMb();

    const total = devices.length * BURST;
    // the moment the gateway raises its 10th kiosk alert — in the middle of ingesting the flood — every socket dies
    let acceptedAtCut = -1;
    const cut = new Promise<void>((resolve) => {
      let seen = 0;
      const untrigger = gw.built.bus.on('alert.changed', 'test', () => {
        if (++seen !== 10) return;
        untrigger();
        for (const device of devices) device.client.stream.destroy();
        void metric('smartstore_device_messages_total').then((n) => {
          acceptedAtCut = n - acceptedBefore;
          resolve();
        });
      });
    });
    // every device writes its burst at once
    const ts = Date.now();
    for (const device of devices) {
      for (let n = 0; n < BURST; n++) {
        if (device.kind === 'shelf') {
          device.client.publish(
            `store/test-store/shelf/${device.id}/status`,
            JSON.stringify({ firmware: '2.4.1', tempC: 20 + (n % 5), faults: [], ts: ts + n }),
          );
        } else {
          const event =
            n === 0
              ? { type: 'assist-requested', basketId: `b-${device.id}`, ts }
              : { type: 'item-scanned', basketId: `b-${device.id}`, sku: '4000000000031', qty: 1, ts: ts + n };
          device.client.publish(`store/test-store/kiosk/${device.id}/event`, JSON.stringify(event));
        }
      }
    }
    await cut;

    await eventually(() => (gw.built.broker.connectedDevices === 1 ? true : undefined), 5_000, 'every flooding device to be gone');
    await eventually(() => (disconnects.size === SHELVES + KIOSKS ? true : undefined), 2_000, 'a disconnect event per device');
    unsubscribe();
    // what the gateway (and the test's own clients) still hold once every flooding connection is gone
    const inUseGrowthMb = memoryInUseMb() - inUseBefore;

    // whatever got in before the sockets died was ingested once and valid; nothing more than was sent
    const accepted = (await metric('smartstore_device_messages_total')) - acceptedBefore;
    expect(acceptedAtCut).toBeGreaterThan(0);
    expect(acceptedAtCut).toBeLessThan(total); // the cut really came mid-flood
    expect(accepted).toBeGreaterThanOrEqual(acceptedAtCut);
    expect(accepted).toBeLessThanOrEqual(total);
    expect((await metric('smartstore_device_messages_invalid_total')) - invalidBefore).toBe(0);
    // kiosks whose assist request got in opened one alert each, and no more
    const alertsOpened = (await metric('smartstore_alerts_opened_total')) - alertsBefore;
    expect(alertsOpened).toBeLessThanOrEqual(KIOSKS);
    const alerts = (await (await gw.api('/api/alerts?state=active&kind=kiosk-assist&limit=1000')).json()) as { alerts: unknown[] };
    expect(alerts.alerts).toHaveLength(alertsOpened);
    expect(await metric('smartstore_mqtt_connected_devices')).toBe(1);
    expect(inUseGrowthMb).toBeLessThan(10); // measured ~0 MB; keeping the 20,000 flooded messages would be ~20 MB

    // the gateway is whole: healthy, listing every device as disconnected, and serving old and new devices
    const health = await gw.api('/api/health');
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({
      status: 'ok',
      checks: { storage: { ok: true }, broker: { ok: true, connectedDevices: 1 } },
    });
    const listed = (await (await gw.api('/api/devices')).json()) as { devices: { id: string; connected: boolean }[] };
    expect(listed.devices.filter((d) => d.id.startsWith('flood-') && d.connected)).toEqual([]);
    expect(listed.devices.find((d) => d.id === 'shelf-a')?.connected).toBe(true);

    const newcomer = await gw.connectDevice('kiosk-new', 'kiosk');
    const before = await metric('smartstore_device_messages_total', { channel: 'kiosk/status' });
    await newcomer.publishAsync('store/test-store/kiosk/kiosk-new/status', JSON.stringify({ state: 'idle', ts: Date.now() }), { qos: 1 });
    await bystander.publishAsync('store/test-store/shelf/shelf-a/status', JSON.stringify({ ts: Date.now() }), { qos: 1 });
    await eventually(
      async () => ((await metric('smartstore_device_messages_total', { channel: 'kiosk/status' })) === before + 1 ? true : undefined),
      2_000,
      'the newcomer status',
    );

    // the access point is back: the same devices reconnect at once and are accepted
    const back = devices.slice(0, 50);
    for (const d of back)
      d.client = await Promise.resolve(
        mqtt.connectAsync(gw.mqttUrl, { clientId: d.id, username: d.id, password: d.secret, reconnectPeriod: 0, keepalive: 30 }),
      );
    await eventually(() => (gw.built.broker.connectedDevices === 2 + back.length ? true : undefined), 2_000, 'the devices to be back');
  });
});
