import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { MqttApSimulator, type MqttApSimulatorOptions } from '../../devices/mqtt-ap-simulator.js';
import { seededRandom } from '../../devices/random.js';
import { ManualTimers } from './manual-timers.js';
import { TestBroker, contractProblems, eventually } from './mqtt-test-broker.js';

const logger = pino({ level: 'silent' });
const STORE = 'store-0042';
const CMD_TOPIC = `store/${STORE}/ap/ap-01/cmd`;

type Ack = { cmdId: string; labelId: string; status: string; displayedPriceCents?: number; error?: string; retryable?: boolean };
type Report = { labelId: string; batteryMv: number | null; displayedPriceCents: number | null; seenAt: number };

describe('MqttApSimulator', () => {
  let broker: TestBroker;
  let ap: MqttApSimulator;
  let timers: ManualTimers;

  const start = async (labelCount: number, options: Partial<MqttApSimulatorOptions> = {}) => {
    broker = await TestBroker.start({ 'ap-01': 'ap-secret' });
    timers = new ManualTimers();
    ap = new MqttApSimulator({
      brokerUrl: broker.url,
      storeId: STORE,
      deviceId: 'ap-01',
      secret: 'ap-secret',
      logger,
      random: seededRandom(7),
      clock: timers.clock,
      timers,
      labels: Array.from({ length: labelCount }, (_, i) => ({ labelId: `L${i}`, priceCents: 100 })),
      checkInIntervalMs: 10_000,
      flushIntervalMs: 25,
      ...options,
    });
    await ap.start();
  };
  afterEach(async () => {
    await ap?.stop();
    await broker?.close();
  });

  const acks = () => broker.from('ap-01', 'ap/ack').flatMap((m) => m.payload.acks as Ack[]);
  const reports = () => broker.from('ap-01', 'ap/labels').flatMap((m) => m.payload.labels as Report[]);
  /** publishes a batch as the gateway would and waits until the AP has read it (acks go out at its next flush) */
  const batch = async (commands: object[]) => {
    const before = ap.counts.commands;
    await broker.publish(CMD_TOPIC, { batchId: `b-${Math.random()}`, commands, ts: timers.now });
    await eventually(() => ap.counts.commands === before + commands.length, 2_000, 'the AP to read the batch');
  };
  const setPrice = (cmdId: string, labelId: string, priceCents: number) => ({
    cmdId,
    labelId,
    type: 'set-price',
    sku: '4000000000017',
    priceCents,
  });

  it('every label checks in within one interval, reported in bounded batches per the contract', async () => {
    await start(120, { maxBatchItems: 50 });
    await timers.advance(11_025);
    await eventually(() => new Set(reports().map((r) => r.labelId)).size === 120, 2_000, 'every label reported');
    const messages = broker.from('ap-01', 'ap/labels');
    expect(messages.every((m) => (m.payload.labels as Report[]).length <= 50)).toBe(true);
    expect(messages.every((m) => m.qos === 1)).toBe(true);
    expect(messages.flatMap(contractProblems)).toEqual([]);
    expect(reports()[0]).toMatchObject({ displayedPriceCents: 100, batteryMv: expect.any(Number) as number });
  });

  it('an awake label shows a command at once; an asleep one is queued and shown at its check-in', async () => {
    await start(3, { awakeRate: 1 });
    await batch([setPrice('c1', 'L0', 219)]);
    await timers.advance(25);
    await eventually(() => acks().length === 1);
    expect(acks()).toEqual([{ cmdId: 'c1', labelId: 'L0', status: 'shown', displayedPriceCents: 219 }]);
    expect(ap.displayedPriceCents('L0')).toBe(219);

    ap.setAwakeRate(0);
    await batch([setPrice('c2', 'L1', 300), setPrice('c3', 'L1', 310)]); // the newer replaces the older at the AP
    await timers.advance(25);
    await eventually(() => acks().length === 3);
    expect(
      acks()
        .slice(1)
        .map((a) => [a.cmdId, a.status]),
    ).toEqual([
      ['c2', 'queued'],
      ['c3', 'queued'],
    ]);
    expect(ap.displayedPriceCents('L1')).toBe(100);
    expect(ap.queuedCommands).toBe(1);

    ap.checkInNow('L1');
    await timers.advance(25);
    await eventually(() => acks().length === 4 && reports().some((r) => r.labelId === 'L1' && r.displayedPriceCents === 310));
    expect(acks()[3]).toEqual({ cmdId: 'c3', labelId: 'L1', status: 'shown', displayedPriceCents: 310 });
    expect(broker.messages.flatMap(contractProblems)).toEqual([]);
  });

  it('answers an unknown label with a failure; drops a batch that breaks the contract', async () => {
    await start(1);
    await broker.publish(CMD_TOPIC, 'not json');
    await broker.publish(CMD_TOPIC, {
      batchId: 'b',
      commands: [{ cmdId: 'x', labelId: 'L0', type: 'set-price', priceCents: -1, sku: '1' }],
      ts: 1,
    });
    await eventually(() => ap.counts.invalidBatches === 2, 2_000, 'both bad batches read');
    await batch([setPrice('c1', 'nobody', 100)]);
    await timers.advance(25);
    await eventually(() => acks().length === 1);
    expect(acks()).toEqual([{ cmdId: 'c1', labelId: 'nobody', status: 'failed', error: 'unknown label', retryable: false }]);
    expect(ap.counts.invalidBatches).toBe(2);
  });

  it('loses the configured share of acks', async () => {
    await start(100, { awakeRate: 1, ackLossRate: 0.3, checkInIntervalMs: 3_600_000 });
    await batch(Array.from({ length: 100 }, (_, i) => setPrice(`c${i}`, `L${i}`, 150)));
    await timers.advance(25);
    await eventually(() => acks().length === ap.counts.acksSent && ap.counts.commands === 100);
    expect(ap.counts.acksLost + ap.counts.acksSent).toBe(100);
    expect(ap.counts.acksLost).toBeGreaterThan(15);
    expect(ap.counts.acksLost).toBeLessThan(45);
    // the labels show the price all the same: only the answers were lost
    expect(Array.from({ length: 100 }, (_, i) => ap.displayedPriceCents(`L${i}`))).toEqual(Array(100).fill(150));
  });

  it('a restart forgets what it held; stop clears every timer', async () => {
    await start(2, { awakeRate: 0, checkInIntervalMs: 3_600_000 });
    await batch([setPrice('c1', 'L0', 500)]);
    await timers.advance(25);
    await eventually(() => ap.queuedCommands === 1);
    await ap.stop();
    expect(timers.active).toBe(0);
    expect(ap.queuedCommands).toBe(0);
    await ap.start();
    expect(ap.connected).toBe(true);
    ap.checkInNow('L0');
    await timers.advance(25);
    await eventually(() => reports().some((r) => r.labelId === 'L0'));
    expect(reports().find((r) => r.labelId === 'L0')?.displayedPriceCents).toBe(100);
  });
});
