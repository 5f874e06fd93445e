import { pino } from 'pino';
import { Subject, VirtualAction, VirtualTimeScheduler, type OperatorFunction, type SchedulerLike } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { doorOpenTooLong, temperatureExcursions } from '../../edge/cold-chain/cold-chain.js';
import { loadConfig } from '../../edge/config/load-config.js';
import type { DeviceCredential } from '../../devices/credentials-file.js';
import { loadPlanogramFile } from '../../edge/planogram/planogram-file.js';
import { seededRandom } from '../../devices/random.js';
import {
  DEMO_MQTT_CASE_ID,
  SimulationSetupError,
  StoreSimulation,
  bindLabelsToFacings,
  demoDeviceIds,
  type StoreSimulationOptions,
} from '../../devices/store-simulation.js';
import type { Planogram } from '../../edge/planogram/planogram.js';
import { ManualTimers } from './manual-timers.js';
import { TestBroker, contractProblems, eventually } from './mqtt-test-broker.js';

const logger = pino({ level: 'silent' });
const STORE = 'store-0042';
const DEMO = new URL('../../config/planogram.demo.yaml', import.meta.url).pathname;
const DEMO_CONFIG = new URL('../../config/demo.yaml', import.meta.url).pathname;

const SMALL: Planogram = {
  products: [
    { sku: '4006381333931', name: 'Sparkling water 1.5 l', unitWeightG: 1560, priceCents: 79 },
    { sku: '4005008955594', name: 'Salted chips 175 g', unitWeightG: 185, priceCents: 189 },
    { sku: '4005000497467', name: 'Milk chocolate 100 g', unitWeightG: 105, priceCents: 119 },
  ],
  facings: [
    { shelfId: 'shelf-01', facing: 1, sku: '4006381333931', capacityUnits: 10, lowStockUnits: 3, restockUnits: 5, tareG: 0 },
    { shelfId: 'shelf-01', facing: 2, sku: '4005008955594', capacityUnits: 10, lowStockUnits: 3, restockUnits: 5, tareG: 0 },
    { shelfId: 'shelf-02', facing: 1, sku: '4005000497467', capacityUnits: 12, lowStockUnits: 3, restockUnits: 6, tareG: 20 },
  ],
};

function credentialsFor(planogram: Planogram): DeviceCredential[] {
  return demoDeviceIds(planogram).map(({ deviceId, kind }) => ({ deviceId, kind, secret: `secret-of-${deviceId}` }));
}

/** What the gateway's own cold-chain operators make of readings at these times (ms from the first). */
function replay<T, S>(readings: readonly { at: number; value: T }[], operator: (scheduler: SchedulerLike) => OperatorFunction<T, S>): S[] {
  const scheduler = new VirtualTimeScheduler(VirtualAction, Infinity);
  const values = new Subject<T>();
  const signals: S[] = [];
  values.pipe(operator(scheduler)).subscribe((signal) => signals.push(signal));
  for (const { at, value } of readings) scheduler.schedule(() => values.next(value), at);
  scheduler.flush();
  return signals;
}

function secretsOf(credentials: readonly DeviceCredential[]): Record<string, string> {
  return Object.fromEntries(credentials.map((c) => [c.deviceId, c.secret]));
}

describe('demoDeviceIds and bindLabelsToFacings', () => {
  it('lists the demo store devices: its shelves, one label per facing, two kiosks, one MQTT case', async () => {
    const planogram = await loadPlanogramFile(DEMO);
    const devices = demoDeviceIds(planogram);
    expect(devices.filter((d) => d.kind === 'shelf').map((d) => d.deviceId)).toEqual(['shelf-01', 'shelf-02', 'shelf-03', 'shelf-04']);
    const labels = devices.filter((d) => d.kind === 'esl').map((d) => d.deviceId);
    expect(labels).toHaveLength(24);
    expect(labels[0]).toBe('esl-0001');
    expect(labels[23]).toBe('esl-0024');
    expect(devices.filter((d) => d.kind === 'kiosk').map((d) => d.deviceId)).toEqual(['kiosk-01', 'kiosk-02']);
    expect(devices.filter((d) => d.kind === 'case')).toEqual([{ deviceId: DEMO_MQTT_CASE_ID, kind: 'case' }]);
    expect(devices).toHaveLength(4 + 24 + 2 + 1);

    const bindings = bindLabelsToFacings(planogram, [...labels].reverse());
    expect(bindings[0]).toEqual({ deviceId: 'esl-0001', shelfId: 'shelf-01', facing: 1, sku: '4006381333931' });
    expect(bindings[23]).toMatchObject({ deviceId: 'esl-0024', shelfId: 'shelf-04', facing: 6 });
  });
});

describe('StoreSimulation', () => {
  let broker: TestBroker | undefined;
  let simulation: StoreSimulation | undefined;

  afterEach(async () => {
    await simulation?.stop();
    simulation = undefined;
    await broker?.close();
    broker = undefined;
  });

  function build(planogram: Planogram, options: Partial<StoreSimulationOptions> = {}): StoreSimulation {
    if (!broker) throw new Error('start the broker first');
    simulation = new StoreSimulation({
      brokerUrl: broker.url,
      storeId: STORE,
      planogram,
      credentials: credentialsFor(planogram),
      logger,
      random: seededRandom(42),
      ...options,
    });
    return simulation;
  }

  it('at high speed, shoppers drain a hot facing, check out, and staff restock it', async () => {
    broker = await TestBroker.start(secretsOf(credentialsFor(SMALL)));
    const store = build(SMALL, { speed: 20, hotFacingCount: 1, timing: { restockDelayMs: 10_000 } });
    const start = store.facingSnapshots();
    const hot = start.find((f) => f.hot);
    if (!hot) throw new Error('no hot facing');
    expect(hot.units).toBe(Math.round(hot.capacityUnits * 0.6));
    for (const facing of start) {
      expect(facing.units).toBeGreaterThan(facing.lowStockUnits);
      expect(facing.units).toBeGreaterThanOrEqual(Math.ceil(facing.capacityUnits * 0.5));
    }

    await store.start();
    const unitWeightG = SMALL.products.find((p) => p.sku === hot.sku)?.unitWeightG ?? 0;
    const tareG = SMALL.facings.find((f) => f.shelfId === hot.shelfId && f.facing === hot.facing)?.tareG ?? 0;
    const hotWeights = (): number[] =>
      (broker?.from(hot.shelfId, 'shelf/weight') ?? [])
        .filter((m) => m.payload.facing === hot.facing)
        .map((m) => m.payload.weightG as number);
    // The load cell saw the facing go low, then full again: the gateway would see the same.
    const drainedThenRestocked = (): boolean => {
      const weights = hotWeights();
      const lowAt = weights.findIndex((w) => w <= tareG + hot.lowStockUnits * unitWeightG + 10);
      return lowAt >= 0 && weights.slice(lowAt).some((w) => w >= tareG + hot.capacityUnits * unitWeightG - 10);
    };
    await eventually(drainedThenRestocked, 6_000, 'hot facing drained and restocked');

    await eventually(() => store.stats().checkouts > 0, 2_000, 'a checkout');
    const stats = store.stats();
    expect(stats.takes).toBeGreaterThan(0);
    expect(stats.restocks).toBeGreaterThan(0);
    expect(stats.published).toBeGreaterThan(0);
    const scanned = broker.messages.filter((m) => m.key === 'kiosk/event' && m.payload.type === 'item-scanned');
    expect(scanned.length).toBeGreaterThan(0);
    const skus = new Set(SMALL.products.map((p) => p.sku));
    for (const message of scanned) expect(skus.has(message.payload.sku as string)).toBe(true);
    expect(broker.messages.flatMap(contractProblems)).toEqual([]);

    await store.stop();
    await eventually(() => broker?.connectedClients === 0, 2_000, 'all devices disconnected');
  });

  it('in the default demo, a facing runs low within 40 s and stop() leaves no timer behind', async () => {
    const planogram = await loadPlanogramFile(DEMO);
    const credentials = credentialsFor(planogram);
    broker = await TestBroker.start(secretsOf(credentials));
    for (const seed of [1, 42, 2024]) {
      const timers = new ManualTimers();
      const store = build(planogram, { random: seededRandom(seed), timers, clock: timers.clock });
      const startedAt = timers.now;
      await store.start();
      await timers.advance(40_000);

      const ranLow = store.facingSnapshots().filter((f) => f.lowSince !== undefined && f.lowSince - startedAt <= 40_000);
      expect(ranLow.length, `seed ${seed}`).toBeGreaterThan(0);
      expect(store.stats().restocks, 'staff wait 60 s').toBe(0);

      await store.stop();
      simulation = undefined;
      expect(timers.active, `seed ${seed}: timers left after stop`).toBe(0);
    }
    await eventually(() => broker?.connectedClients === 0, 2_000, 'all devices disconnected');
  });

  it("the demo's case reports valid telemetry; its doors left open and warm spells outlast config/demo.yaml's limits", async () => {
    const config = await loadConfig({ file: DEMO_CONFIG, env: {} });
    const policy = config.coldChain.cases.find((limits) => limits.id === DEMO_MQTT_CASE_ID);
    if (!policy) throw new Error(`config/demo.yaml has no coldChain.cases entry for ${DEMO_MQTT_CASE_ID}`);
    broker = await TestBroker.start(secretsOf(credentialsFor(SMALL)));
    const timers = new ManualTimers();
    const store = build(SMALL, { random: seededRandom(42), timers, clock: timers.clock });
    const startedAt = timers.now;
    await store.start();
    // simulated time until the case has had both a door left open and a warm spell (an hour at most), then long
    // enough for both to end
    for (let step = 0; step < 180 && (store.stats().doorsLeftOpen === 0 || store.stats().warmSpells === 0); step += 1) {
      await timers.advance(20_000);
    }
    await timers.advance(150_000);
    const { doorsLeftOpen, warmSpells } = store.stats();
    expect(doorsLeftOpen, 'a door left open within the hour').toBeGreaterThan(0);
    expect(warmSpells, 'a warm spell within the hour').toBeGreaterThan(0);
    const lastReportAt = timers.now - ((timers.now - startedAt) % 2_000);
    const telemetry = () => broker?.from(DEMO_MQTT_CASE_ID, 'case/telemetry') ?? [];
    await eventually(() => telemetry().some((m) => m.payload.ts === lastReportAt), 10_000, 'the last case report');
    await store.stop();
    simulation = undefined;

    expect(telemetry()[0]?.topic).toBe(`store/${STORE}/case/${DEMO_MQTT_CASE_ID}/telemetry`);
    expect(broker.messages.flatMap(contractProblems)).toEqual([]);
    const readings = [...telemetry()].sort((a, b) => (a.payload.ts as number) - (b.payload.ts as number));
    const at = (ts: unknown) => (ts as number) - startedAt;
    const temperatures = replay(
      readings.map((m) => ({ at: at(m.payload.ts), value: m.payload.temperatureC as number })),
      (scheduler) => temperatureExcursions(policy, scheduler),
    );
    const doors = replay(
      readings.map((m) => ({ at: at(m.payload.ts), value: m.payload.doorOpen as boolean })),
      (scheduler) => doorOpenTooLong(policy, scheduler),
    );
    // every warm spell is one cold-chain excursion that recovers; every door left open one door alert, closed again;
    // the brief openings in between raise nothing
    const times = <T>(count: number, pair: T[]): T[] => Array.from({ length: count }, () => pair).flat();
    expect(temperatures.map((signal) => signal.type)).toEqual(times(warmSpells, ['excursion', 'recovered']));
    expect(doors.map((signal) => signal.type)).toEqual(times(doorsLeftOpen, ['door-open-too-long', 'door-closed']));
    expect(readings.filter((m) => m.payload.doorOpen === true).length, 'the door is also opened briefly').toBeGreaterThan(doorsLeftOpen);
  });

  it('fails to start when a device is refused, and leaves nothing connected', async () => {
    const credentials = credentialsFor(SMALL);
    broker = await TestBroker.start({ ...secretsOf(credentials), 'esl-0002': 'another secret' });
    const store = build(SMALL);
    await expect(store.start()).rejects.toThrow(/1 of 8 devices could not connect; first: esl-0002/);
    await eventually(() => broker?.connectedClients === 0, 2_000, 'all devices disconnected');
  });

  it('refuses to build without shelf credentials or with a nonsense speed', () => {
    const noShelf = credentialsFor(SMALL).filter((c) => c.deviceId !== 'shelf-02');
    const options = { brokerUrl: 'mqtt://127.0.0.1:1', storeId: STORE, planogram: SMALL, logger, random: seededRandom(1) };
    expect(() => new StoreSimulation({ ...options, credentials: noShelf })).toThrow(SimulationSetupError);
    expect(() => new StoreSimulation({ ...options, credentials: noShelf })).toThrow(/shelf shelf-02: no credentials/);
    expect(() => new StoreSimulation({ ...options, credentials: credentialsFor(SMALL), speed: 0 })).toThrow(RangeError);
  });
});
