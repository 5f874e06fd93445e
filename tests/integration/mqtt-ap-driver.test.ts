/**
 * The access point label driver against simulated access points over the gateway's real broker: the APs are
 * provisioned devices of kind `ap`, batches go out through the command channel to the broker (the device-source port),
 * acks and check-ins come back as validated `ap/ack` and `ap/labels` messages on the bus.
 */
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MqttApSimulator, type MqttApSimulatorOptions } from '../../devices/mqtt-ap-simulator.js';
import { seededRandom } from '../../devices/random.js';
import { configDefaults } from '../../edge/core/schema-defaults.js';
import type { LabelContent, LabelDriverEvent } from '../../edge/labels/label-driver.js';
import { MqttApDriverLimitsSchema } from '../../edge/labels/label-driver-limits.js';
import { MqttApDriver } from '../../edge/labels/mqtt-ap-driver.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

const log = pino({ level: 'silent' });
type Ended = Extract<LabelDriverEvent, { type: 'confirmed' | 'failed' }>;

describe('MQTT access points behind the LabelDriver port', () => {
  let gw: TestGateway;
  const aps: MqttApSimulator[] = [];
  const drivers: MqttApDriver[] = [];
  let events: LabelDriverEvent[];

  beforeEach(async () => {
    gw = await startTestGateway();
    events = [];
  });
  afterEach(async () => {
    for (const driver of drivers.splice(0)) await driver.stop();
    for (const ap of aps.splice(0)) await ap.stop();
    await gw?.dispose();
  });

  const labelIds = (apId: string, count: number) => Array.from({ length: count }, (_, i) => `${apId}-L${String(i).padStart(3, '0')}`);

  /** provisions an AP, starts its driver and the simulated AP serving `count` labels (all showing 100) */
  async function accessPoint(apId: string, count: number, options: Partial<MqttApSimulatorOptions>, seed: number) {
    const secret = await gw.built.devices.registry.provision(apId, 'ap');
    const ids = labelIds(apId, count);
    const driver = new MqttApDriver(
      { ...configDefaults(MqttApDriverLimitsSchema), apId, ackTimeoutMs: 1_500, tickMs: 20, maxBatchSize: 50, maxCommandsPerSecond: 2_000 },
      {
        bus: gw.built.bus,
        commands: gw.built.devices.commands,
        log,
        now: Date.now,
        isConnected: (id) => gw.built.devices.liveness.isConnected(id),
        labels: ids,
      },
    );
    driver.onEvent((event) => events.push(event));
    await driver.start();
    drivers.push(driver);
    const ap = new MqttApSimulator({
      brokerUrl: gw.mqttUrl,
      storeId: 'test-store',
      deviceId: apId,
      secret,
      logger: log,
      random: seededRandom(seed),
      labels: ids.map((labelId) => ({ labelId, priceCents: 100 })),
      flushIntervalMs: 20,
      ...options,
    });
    await ap.start();
    aps.push(ap);
    await eventually(() => (driver.stats.linkUp ? true : undefined), 3_000, `${apId} link up`);
    return { driver, ap, ids };
  }

  const content = (labelId: string, version: number, priceCents: number): LabelContent => ({
    labelId,
    version,
    sku: '4000000000017',
    productName: 'Oat milk 1 l',
    priceCents,
  });
  const ended = (labelId: string, version: number) =>
    events.find((e): e is Ended => (e.type === 'confirmed' || e.type === 'failed') && e.labelId === labelId && e.version === version);
  const endsOf = (labelId: string) =>
    events.filter((e): e is Ended => (e.type === 'confirmed' || e.type === 'failed') && e.labelId === labelId);

  it('200 labels behind 2 APs, 10 % of acks lost: every send ends confirmed or failed with a reason; retries confirm all', async () => {
    const options = { ackLossRate: 0.1, awakeRate: 0.7, checkInIntervalMs: 2_500 };
    const a = await accessPoint('ap-01', 100, options, 11);
    const b = await accessPoint('ap-02', 100, options, 12);
    const all = [...a.ids.map((id) => ({ id, driver: a.driver, ap: a.ap })), ...b.ids.map((id) => ({ id, driver: b.driver, ap: b.ap }))];
    for (const { id, driver } of all) driver.send(content(id, 1, 249));

    await eventually(() => (all.every(({ id }) => ended(id, 1)) ? true : undefined), 10_000, 'every label to end version 1');
    for (const { id } of all) {
      const ends = endsOf(id);
      expect(ends, id).toHaveLength(1); // exactly once
      const end = ends[0]!;
      if (end.type === 'failed') expect(end.reason).toMatch(/no ack from access point ap-0[12] within 1500 ms|label shows/);
      else expect(end.displayedPriceCents).toBe(249);
    }
    expect(events.some((e) => e.type === 'waiting')).toBe(true); // asleep labels got it at their check-in
    expect(a.ap.counts.acksLost + b.ap.counts.acksLost).toBeGreaterThan(0);
    expect(a.driver.stats.batchesSent).toBeLessThan(100); // batched, not one publish per label

    // what a campaign does with retryable failures: send the same content again (a new version)
    let version = 1;
    for (let round = 0; round < 5; round++) {
      const failed = all.filter(({ id }) => endsOf(id).at(-1)?.type === 'failed');
      if (failed.length === 0) break;
      version++;
      for (const { id, driver } of failed) driver.send(content(id, version, 249));
      await eventually(
        () => (failed.every(({ id }) => endsOf(id).length === endsOf(id).filter((e) => e.version < version).length + 1) ? true : undefined),
        10_000,
        `retry round ${round}`,
      );
    }
    expect(all.filter(({ id }) => endsOf(id).at(-1)?.type !== 'confirmed').map(({ id }) => id)).toEqual([]);
    expect(all.every(({ id, ap }) => ap.displayedPriceCents(id) === 249)).toBe(true);
    // check-ins carried battery and displayed price for the labels
    const checkIn = events.find((e) => e.type === 'check-in');
    expect(checkIn).toMatchObject({ batteryMv: expect.any(Number) as number, displayedPriceCents: expect.any(Number) as number });
    // every AP message was valid: nothing counted invalid
    expect(await gw.built.metrics.value('smartstore_device_messages_invalid_total', { reason: 'schema' })).toBe(0);
  }, 60_000);

  it('a label that is asleep: waiting, then confirmed when it checks in', async () => {
    const { driver, ap, ids } = await accessPoint('ap-01', 5, { awakeRate: 0, checkInIntervalMs: 3_600_000 }, 3);
    for (const id of ids) driver.send(content(id, 1, 333));
    await eventually(
      () => (ids.every((id) => events.some((e) => e.type === 'waiting' && e.labelId === id)) ? true : undefined),
      10_000,
      'all waiting',
    );
    expect(ids.map((id) => ended(id, 1))).toEqual(ids.map(() => undefined));
    ap.checkInNow(ids[0]!);
    ap.checkInNow(ids[1]!);
    await eventually(() => ended(ids[1]!, 1), 10_000, 'confirmed at check-in');
    expect(ended(ids[0]!, 1)).toMatchObject({ type: 'confirmed', displayedPriceCents: 333 });
    expect(ended(ids[1]!, 1)).toMatchObject({ type: 'confirmed', displayedPriceCents: 333 });
    expect(ended(ids[2]!, 1)).toBeUndefined();
    expect(driver.stats.waiting).toBe(3);
  });

  it('supersede: a newer version while one waits at the AP; the label ends up showing the newest', async () => {
    const { driver, ap, ids } = await accessPoint('ap-01', 1, { awakeRate: 0, checkInIntervalMs: 3_600_000 }, 4);
    const id = ids[0]!;
    driver.send(content(id, 1, 111));
    await eventually(() => events.find((e) => e.type === 'waiting' && e.version === 1), 10_000, 'v1 waiting');
    driver.send(content(id, 2, 222));
    await eventually(() => events.find((e) => e.type === 'waiting' && e.version === 2), 10_000, 'v2 waiting');
    ap.checkInNow(id);
    await eventually(() => ended(id, 2), 10_000, 'v2 confirmed');
    expect(endsOf(id)).toEqual([
      expect.objectContaining({ type: 'failed', version: 1, reason: 'superseded by version 2', retryable: false }),
      expect.objectContaining({ type: 'confirmed', version: 2, displayedPriceCents: 222 }),
    ]);
    expect(ap.displayedPriceCents(id)).toBe(222);
  });

  it('AP disconnect and reconnect: link down, sends wait, then everything not shown goes again and confirms', async () => {
    const { driver, ap, ids } = await accessPoint('ap-01', 10, { awakeRate: 0, checkInIntervalMs: 3_600_000 }, 5);
    for (const id of ids.slice(0, 5)) driver.send(content(id, 1, 500));
    await eventually(() => (driver.stats.waiting === 5 ? true : undefined), 10_000, 'five waiting at the AP');
    const links: boolean[] = [];
    driver.onEvent((e) => {
      if (e.type === 'link') links.push(e.up);
    });
    await ap.stop(); // the AP reboots: it forgets what it held
    await eventually(() => (driver.stats.linkUp ? undefined : true), 10_000, 'link down');
    for (const id of ids.slice(5)) driver.send(content(id, 1, 600));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(driver.stats).toMatchObject({ linkUp: false, queued: 5, inFlight: 0 });
    const batchesWhileDown = driver.stats.batchesSent;

    await ap.start();
    await eventually(() => (driver.stats.waiting === 10 ? true : undefined), 10_000, 'all ten queued at the AP again');
    expect(driver.stats.batchesSent).toBeGreaterThan(batchesWhileDown);
    expect(ap.queuedCommands).toBe(10);
    for (const id of ids) ap.checkInNow(id);
    await eventually(() => (ids.every((id) => ended(id, 1)) ? true : undefined), 10_000, 'all confirmed');
    expect(ids.map((id) => ended(id, 1)?.type)).toEqual(Array(10).fill('confirmed'));
    expect(ids.map((id) => ap.displayedPriceCents(id))).toEqual([...Array<number>(5).fill(500), ...Array<number>(5).fill(600)]);
    expect(links).toEqual([false, true]);
  });
});
