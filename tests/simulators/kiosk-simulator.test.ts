import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CheckoutAbortedError, KioskBusyError, KioskSimulator, type KioskSimulatorOptions } from '../../devices/kiosk-simulator.js';
import { seededRandom } from '../../devices/random.js';
import { TestBroker, contractProblems, eventually } from './mqtt-test-broker.js';

const logger = pino({ level: 'silent' });
const STORE = 'store-0042';
const WATER = { sku: '4006381333931', qty: 2, priceCents: 79, unitWeightG: 1560 };
const CHIPS = { sku: '4005008955594', qty: 1, priceCents: 189 };

describe('KioskSimulator', () => {
  let broker: TestBroker;
  let kiosk: KioskSimulator | undefined;

  beforeEach(async () => {
    broker = await TestBroker.start({ 'kiosk-01': 'kiosk-secret' });
  });

  afterEach(async () => {
    await kiosk?.stop();
    kiosk = undefined;
    await broker.close();
  });

  async function startKiosk(overrides: Partial<KioskSimulatorOptions> = {}): Promise<KioskSimulator> {
    kiosk = new KioskSimulator({
      brokerUrl: broker.url,
      storeId: STORE,
      deviceId: 'kiosk-01',
      secret: 'kiosk-secret',
      logger,
      random: seededRandom(3),
      stepDelayMs: 2,
      assistDurationMs: 5,
      weightMismatchProbability: 0,
      assistProbability: 0,
      ...overrides,
    });
    await kiosk.start();
    return kiosk;
  }

  const events = () => broker.from('kiosk-01', 'kiosk/event');
  const states = () => broker.from('kiosk-01', 'kiosk/status').map((m) => m.payload.state);

  it('publishes basket-open, one item-scanned per item, payment-succeeded, basket-closed (QoS 1)', async () => {
    const simulator = await startKiosk();
    const result = await simulator.checkout([WATER, CHIPS]);

    expect(result.events).toEqual(['basket-open', 'item-scanned', 'item-scanned', 'payment-succeeded', 'basket-closed']);
    expect(result.totalCents).toBe(2 * 79 + 189);
    const published = events();
    expect(published.map((m) => m.payload.type)).toEqual(result.events);
    expect(published.every((m) => m.qos === 1 && m.payload.basketId === result.basketId)).toBe(true);
    expect(published[1]?.payload).toMatchObject({ sku: WATER.sku, qty: 2, priceCents: 79 });
    expect(published[2]?.payload).toMatchObject({ sku: CHIPS.sku, qty: 1, priceCents: 189 });
    expect(published[3]?.payload.priceCents).toBe(result.totalCents);
    // the closing status is QoS 0, sent right after the last event: give it a moment to arrive
    await eventually(() => states().length === 3);
    expect(states()).toEqual(['idle', 'in-use', 'idle']);
    expect(broker.messages.flatMap(contractProblems)).toEqual([]);
  });

  it('reports a weight mismatch and a call for help when they happen', async () => {
    const simulator = await startKiosk({ weightMismatchProbability: 1, assistProbability: 1 });
    const result = await simulator.checkout([WATER]);

    expect(result.events).toEqual([
      'basket-open',
      'item-scanned',
      'weight-mismatch',
      'assist-requested',
      'payment-succeeded',
      'basket-closed',
    ]);
    const mismatch = events().find((m) => m.payload.type === 'weight-mismatch');
    expect(mismatch?.payload.expectedWeightG).toBe(2 * 1560);
    expect(mismatch?.payload.measuredWeightG).not.toBe(2 * 1560);
    await eventually(() => states().length === 5);
    expect(states()).toEqual(['idle', 'in-use', 'assist', 'in-use', 'idle']);
    expect(broker.messages.flatMap(contractProblems)).toEqual([]);
  });

  it('serves baskets one at a time with distinct basket ids, and refuses an overlong queue', async () => {
    const simulator = await startKiosk({ maxQueuedBaskets: 2 });
    const first = simulator.checkout([WATER]);
    const second = simulator.checkout([CHIPS]);
    await expect(simulator.checkout([CHIPS])).rejects.toBeInstanceOf(KioskBusyError);
    const [a, b] = await Promise.all([first, second]);
    expect(a.basketId).not.toBe(b.basketId);
    // no interleaving: every event of the first basket comes before any of the second
    expect(events().map((m) => m.payload.basketId)).toEqual([...Array<string>(4).fill(a.basketId), ...Array<string>(4).fill(b.basketId)]);
  });

  it('aborts the basket in progress on stop', async () => {
    const simulator = await startKiosk({ stepDelayMs: 10_000 });
    const basket = simulator.checkout([WATER]);
    await broker.waitFor((m) => m.key === 'kiosk/event');
    await simulator.stop();
    await expect(basket).rejects.toBeInstanceOf(CheckoutAbortedError);
    expect(events().map((m) => m.payload.type)).toEqual(['basket-open']);
  });

  it('refuses a checkout before start and an empty basket', async () => {
    kiosk = new KioskSimulator({
      brokerUrl: broker.url,
      storeId: STORE,
      deviceId: 'kiosk-01',
      secret: 'kiosk-secret',
      logger,
      random: seededRandom(3),
    });
    await expect(kiosk.checkout([WATER])).rejects.toThrow(/not started/);
    await kiosk.start();
    await expect(kiosk.checkout([])).rejects.toThrow(/empty basket/);
  });
});
