/**
 * The labels room in a running gateway, with a simulated MQTT access point (device kind `ap`, over the real broker)
 * and a simulated OpenEPaperLink AP (real HTTP + websocket): bindings from the planogram and the API, label state on
 * GET /api/labels, label-offline / label-battery-low alerts that resolve themselves, find-my-facing flashes that reach
 * the access points, counts on /metrics.
 */
import type { MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MqttApSimulator } from '../../devices/mqtt-ap-simulator.js';
import { OeplApSimulator } from '../../devices/oepl-ap-simulator.js';
import { seededRandom } from '../../devices/random.js';
import type { Alert } from '../../edge/alerts/alerts.js';
import type { LabelView } from '../../edge/labels/label-routes.js';
import { TEST_PLANOGRAM, eventually, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

const log = pino({ level: 'silent' });
const UNIT_G = 1040; // oat milk, shelf-a facing 1: low at ≤ 2, ok again at ≥ 5
const WEIGHT_TOPIC = 'store/test-store/shelf/shelf-a/weight';

describe('labels module: bindings, label health and find-my-facing over simulated access points', () => {
  let gw: TestGateway;
  let oepl: OeplApSimulator;
  let ap: MqttApSimulator;
  let shelf: MqttClient;
  let esl: MqttClient;
  let oeplMac: string;
  let oeplApiMac: string;

  beforeAll(async () => {
    oepl = new OeplApSimulator({
      tagCount: 3,
      logger: log,
      random: seededRandom(7),
      checkInIntervalMs: 200,
      renderDelayMs: 20,
      sysIntervalMs: 100,
      bootDelayMs: 50,
    });
    await oepl.start();
    [oeplMac, oeplApiMac] = oepl.macs as [string, string];
    gw = await startTestGateway({
      planogram: {
        ...TEST_PLANOGRAM,
        labels: [
          { label: 'ap-01-L000', shelfId: 'shelf-a', facing: 1 },
          // written in lower case: the gateway knows it by the AP's spelling
          { label: oeplMac.toLowerCase(), shelfId: 'shelf-a', facing: 1 },
          { label: 'ap-01-L001', shelfId: 'shelf-a', facing: 2 },
          { label: 'esl-01', shelfId: 'shelf-b', facing: 1 },
        ],
      },
      overrides: {
        labels: {
          accessPoints: [{ name: 'ap-1', url: oepl.url }],
          // OEPL reports check-ins in whole seconds: the window leaves room for that
          health: { checkInIntervalMs: 1_000, missedCheckIns: 3, lowBatteryMv: 2_400, checkEveryMs: 100 },
        },
      },
    });
    const secret = await gw.built.devices.registry.provision('ap-01', 'ap');
    ap = new MqttApSimulator({
      brokerUrl: gw.mqttUrl,
      storeId: 'test-store',
      deviceId: 'ap-01',
      secret,
      logger: log,
      random: seededRandom(3),
      labels: [
        { labelId: 'ap-01-L000', priceCents: 189, batteryMv: 2_950 },
        { labelId: 'ap-01-L001', priceCents: 799, batteryMv: 2_100 },
      ],
      checkInIntervalMs: 200,
      flushIntervalMs: 20,
    });
    await ap.start();
    shelf = await gw.connectDevice('shelf-a', 'shelf');
    // a direct MQTT label: its status message is its check-in
    esl = await gw.connectDevice('esl-01', 'esl');
    await esl.publishAsync(
      'store/test-store/esl/esl-01/status',
      JSON.stringify({ batteryMv: 2_950, displayedPriceCents: 149, ts: Date.now() }),
      { qos: 1 },
    );
  }, 20_000);

  afterAll(async () => {
    await ap?.stop();
    await gw?.dispose();
    await oepl?.stop();
  });

  const labels = async (): Promise<Map<string, LabelView>> => {
    const response = await gw.api('/api/labels');
    expect(response.status).toBe(200);
    const body = (await response.json()) as { labels: LabelView[]; truncated: boolean };
    return new Map(body.labels.map((label) => [label.labelId, label]));
  };
  const activeAlerts = async (): Promise<Alert[]> => ((await (await gw.api('/api/alerts')).json()) as { alerts: Alert[] }).alerts;
  const alertOf = (alerts: Alert[], kind: string, labelId: string) => alerts.find((a) => a.kind === kind && a.deviceId === labelId);

  it('GET /api/labels shows each label with its binding, driver, battery and last check-in', async () => {
    const startedAt = Date.now();
    const seen = await eventually(
      async () => {
        const all = await labels();
        const ready = ['ap-01-L000', 'ap-01-L001', oeplMac, 'esl-01'].every((id) => (all.get(id)?.lastSeenAt ?? null) !== null);
        return ready ? all : undefined;
      },
      8_000,
      'every bound label to check in',
    );
    expect(seen.get('ap-01-L000')).toMatchObject({
      state: 'ok',
      driverId: 'mqtt-ap:ap-01',
      driverLinkUp: true,
      shelfId: 'shelf-a',
      facing: 1,
      sku: '4000000000017',
      bindingSource: 'planogram',
      displayedPriceCents: 189,
    });
    expect(seen.get('ap-01-L001')).toMatchObject({
      state: 'battery-low',
      driverId: 'mqtt-ap:ap-01',
      shelfId: 'shelf-a',
      facing: 2,
      sku: '4000000000024',
    });
    expect(seen.get('esl-01')).toMatchObject({
      state: 'ok',
      driverId: 'mqtt-esl',
      batteryMv: 2_950,
      displayedPriceCents: 149,
      shelfId: 'shelf-b',
      facing: 1,
      sku: '4000000000031',
    });
    expect(seen.get(oeplMac)).toMatchObject({
      state: 'ok',
      driverId: 'oepl:ap-1',
      driverLinkUp: true,
      shelfId: 'shelf-a',
      facing: 1,
      bindingSource: 'planogram',
    });
    // the simulated labels drain a little with every check-in
    expect(seen.get('ap-01-L000')?.batteryMv).toBeGreaterThan(2_900);
    expect(seen.get('ap-01-L001')?.batteryMv).toBeLessThanOrEqual(2_100);
    expect(seen.get(oeplMac)?.batteryMv).toBeGreaterThan(2_400);
    expect(seen.get('ap-01-L000')!.lastSeenAt!).toBeGreaterThanOrEqual(startedAt - 1_000);
    // an unbound tag the AP reports is tracked too, without a binding
    expect(seen.get(oepl.macs[2]!)).toMatchObject({ driverId: 'oepl:ap-1', shelfId: null, bindingSource: null });

    const metrics = await (await gw.api('/metrics')).text();
    expect(metrics).toMatch(/^smartstore_labels\{state="battery-low"\} 1$/m);
    expect(metrics).toMatch(/^smartstore_labels_battery_low 1$/m);
  });

  it('PUT /api/labels/:id/binding binds a label (manager), refuses an unknown facing (400) and a viewer (403)', async () => {
    const put = (id: string, body: unknown, token?: string) =>
      gw.api(`/api/labels/${id}/binding`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        ...(token ? { token } : {}),
      });
    const bound = await put(oeplApiMac.toLowerCase(), { shelfId: 'shelf-b', facing: 1 });
    expect(bound.status).toBe(200);
    expect(await bound.json()).toMatchObject({
      labelId: oeplApiMac,
      shelfId: 'shelf-b',
      facing: 1,
      sku: '4000000000031',
      bindingSource: 'api',
      driverId: 'oepl:ap-1',
    });
    expect(gw.built.labels.directory.labelsForSku('4000000000031')).toEqual(['esl-01', oeplApiMac]);
    expect(gw.built.labels.directory.driverFor('esl-01')?.driverId).toBe('mqtt-esl');
    expect(gw.built.labels.directory.bindingOf(oeplApiMac)).toEqual({
      labelId: oeplApiMac,
      shelfId: 'shelf-b',
      facing: 1,
      sku: '4000000000031',
    });
    expect(gw.built.labels.directory.driverFor(oeplApiMac)?.driverId).toBe('oepl:ap-1');
    expect(gw.built.labels.directory.labelsForSku('4000000000017')).toEqual(['ap-01-L000', oeplMac]);

    const unknownFacing = await put('esl-x', { shelfId: 'shelf-a', facing: 9 });
    expect(unknownFacing.status).toBe(400);
    expect(((await unknownFacing.json()) as { message: string }).message).toMatch(/esl-x .*shelf-a\/9: no such facing/);
    const viewer = await gw.addToken('viewer-1', 'viewer');
    expect((await put('esl-x', { shelfId: 'shelf-a', facing: 1 }, viewer)).status).toBe(403);
    expect((await labels()).has('esl-x')).toBe(false);
    // the binding is in the audit trail under the token's name; the refused ones are not
    const trail = await eventually(
      async () => {
        const rows = await gw.built.storage.db.all<{ actor: string; action: string; subject: string }>(
          "SELECT actor, action, subject FROM audit_log WHERE action = 'label.bound'",
        );
        return rows.length > 0 ? rows : undefined;
      },
      3_000,
      'the binding audited',
    );
    expect(trail).toEqual([{ actor: 'api-token (config)', action: 'label.bound', subject: `label/${oeplApiMac}` }]);
  });

  it('a low battery opens label-battery-low naming the label and its facing', async () => {
    const alert = await eventually(async () => alertOf(await activeAlerts(), 'label-battery-low', 'ap-01-L001'), 5_000, 'battery alert');
    expect(alert).toMatchObject({ key: 'label-battery-low:ap-01-L001', shelfId: 'shelf-a', facing: 2, severity: 'warning' });
    expect(alert.title).toMatch(/battery low: 2[01]\d\d mV \(below 2400 mV\)/);
    expect(alertOf(await activeAlerts(), 'label-battery-low', 'ap-01-L000')).toBeUndefined();
  });

  it('a label that stops checking in raises label-offline, and it resolves itself when the label is back', async () => {
    ap.setAway('ap-01-L000', true);
    oepl.setTagReachable(oeplMac, false);
    const [mqttOffline, oeplOffline] = await eventually(
      async () => {
        const alerts = await activeAlerts();
        const found = [alertOf(alerts, 'label-offline', 'ap-01-L000'), alertOf(alerts, 'label-offline', oeplMac)];
        return found.every(Boolean) ? (found as Alert[]) : undefined;
      },
      10_000,
      'both labels offline',
    );
    expect(mqttOffline).toMatchObject({ key: 'label-offline:ap-01-L000', shelfId: 'shelf-a', facing: 1, state: 'open' });
    expect(oeplOffline).toMatchObject({ key: `label-offline:${oeplMac}`, shelfId: 'shelf-a', facing: 1 });
    expect((await labels()).get('ap-01-L000')?.state).toBe('offline');
    // the others kept checking in
    expect(alertOf(await activeAlerts(), 'label-offline', 'ap-01-L001')).toBeUndefined();

    ap.setAway('ap-01-L000', false);
    oepl.setTagReachable(oeplMac, true);
    await eventually(
      async () => {
        const alerts = await activeAlerts();
        return !alertOf(alerts, 'label-offline', 'ap-01-L000') && !alertOf(alerts, 'label-offline', oeplMac) ? true : undefined;
      },
      8_000,
      'both labels back',
    );
    const resolved = (await (await gw.api('/api/alerts?state=resolved&kind=label-offline')).json()) as { alerts: Alert[] };
    expect(resolved.alerts.map((a) => [a.deviceId, a.resolvedBy, a.resolution]).sort()).toEqual(
      [
        ['ap-01-L000', 'system', 'label checked in again'],
        [oeplMac, 'system', 'label checked in again'],
      ].sort(),
    );
    expect((await labels()).get('ap-01-L000')?.state).toBe('ok');
  }, 25_000);

  it("a low-stock alert flashes the facing's labels at both access points; restocking stops the flash", async () => {
    const publishUnits = (units: number) =>
      shelf.publishAsync(WEIGHT_TOPIC, JSON.stringify({ facing: 1, weightG: units * UNIT_G + 3.5, ts: Date.now() }), { qos: 1 });
    const apCommandsBefore = ap.counts.commands;
    const ledBefore = oepl.tag(oeplMac)!.ledFlashes;
    for (const units of [10, 6, 2, 1, 1]) await publishUnits(units);
    await eventually(
      async () =>
        (await activeAlerts()).some((a) => a.kind === 'low-stock' && a.shelfId === 'shelf-a' && a.facing === 1) ? true : undefined,
      5_000,
      'low-stock alert',
    );

    // the MQTT AP received a flash command for ap-01-L000 (nothing else is sent to it in this test)
    await eventually(() => (ap.counts.commands > apCommandsBefore ? true : undefined), 5_000, 'flash at the MQTT AP');
    // the OEPL tag took the long LED flash at its next check-in
    await eventually(
      () => (oepl.tag(oeplMac)!.lastLedCommand === 'ledflash_long' && oepl.tag(oeplMac)!.ledFlashes > ledBefore ? true : undefined),
      8_000,
      'LED flash at the OEPL tag',
    );
    const apCommandsAtFind = ap.counts.commands;

    for (let i = 0; i < 3; i++) await publishUnits(10);
    await eventually(
      async () => ((await activeAlerts()).some((a) => a.kind === 'low-stock') ? undefined : true),
      5_000,
      'low-stock resolved by restock',
    );
    await eventually(() => (ap.counts.commands > apCommandsAtFind ? true : undefined), 5_000, 'stop at the MQTT AP');
    await eventually(
      () => (oepl.tag(oeplMac)!.lastLedCommand === 'ledflash_stop' ? true : undefined),
      8_000,
      'LED flash stopped at the OEPL tag',
    );
    // the facing's other labels were not flashed: the label of facing 2 got nothing
    expect(oepl.tag(oeplApiMac)!.ledFlashes).toBe(0);
  }, 30_000);
});
