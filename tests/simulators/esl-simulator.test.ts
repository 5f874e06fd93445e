import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EslSimulator } from '../../devices/esl-simulator.js';
import { seededRandom } from '../../devices/random.js';
import { TestBroker, contractProblems, eventually } from './mqtt-test-broker.js';

const logger = pino({ level: 'silent' });
const STORE = 'store-0042';
const SKU = '4006381333931';
const CMD_TOPIC = `store/${STORE}/esl/esl-0001/cmd`;

describe('EslSimulator', () => {
  let broker: TestBroker;
  let label: EslSimulator;

  beforeEach(async () => {
    broker = await TestBroker.start({ 'esl-0001': 'label-secret' });
    label = new EslSimulator({
      brokerUrl: broker.url,
      storeId: STORE,
      deviceId: 'esl-0001',
      secret: 'label-secret',
      logger,
      random: seededRandom(2),
      sku: SKU,
      priceCents: 79,
      statusIntervalMs: 60,
      displayDelayMinMs: 5,
      displayDelayMaxMs: 20,
    });
    await label.start();
  });

  afterEach(async () => {
    await label.stop();
    await broker.close();
  });

  const acks = () => broker.from('esl-0001', 'esl/ack');

  it('reports what it shows at start, per the contract', async () => {
    const status = await broker.waitFor((m) => m.key === 'esl/status');
    expect(status.topic).toBe(`store/${STORE}/esl/esl-0001/status`);
    expect(status.payload).toMatchObject({ displayedPriceCents: 79, sku: SKU, firmware: '1.0.3' });
    expect(status.payload.batteryMv).toBeGreaterThan(2_900);
    expect(status.payload.batteryMv).toBeLessThanOrEqual(3_010);
    expect(contractProblems(status)).toEqual([]);
  });

  it('answers set-price with a matching ack (QoS 1) and shows the new price in its next status', async () => {
    await broker.publish(CMD_TOPIC, { cmdId: 'c-01', type: 'set-price', sku: SKU, priceCents: 219, ts: Date.now() });
    const ack = await broker.waitFor((m) => m.key === 'esl/ack');
    expect(ack.payload).toMatchObject({ cmdId: 'c-01', ok: true, displayedPriceCents: 219 });
    expect(ack.payload.error).toBeUndefined();
    expect(ack.qos).toBe(1);
    expect(label.displayedPriceCents).toBe(219);

    const ackTs = ack.payload.ts as number;
    const status = await broker.waitFor((m) => m.key === 'esl/status' && (m.payload.ts as number) >= ackTs);
    expect(status.payload.displayedPriceCents).toBe(219);
    expect(broker.messages.flatMap(contractProblems)).toEqual([]);
  });

  it('flash: acks find and stop, blinks in between, keeps its price', async () => {
    await broker.publish(CMD_TOPIC, { cmdId: 'f-01', type: 'flash', pattern: 'find', ts: Date.now() });
    expect((await broker.waitFor((m) => m.key === 'esl/ack' && m.payload.cmdId === 'f-01')).payload).toMatchObject({ ok: true });
    expect(label.flashing).toBe(true);
    const price = label.displayedPriceCents;
    await broker.publish(CMD_TOPIC, { cmdId: 'f-02', type: 'flash', pattern: 'stop', ts: Date.now() });
    expect((await broker.waitFor((m) => m.key === 'esl/ack' && m.payload.cmdId === 'f-02')).payload).toMatchObject({ ok: true });
    expect(label.flashing).toBe(false);
    expect(label.displayedPriceCents).toBe(price);
  });

  it('applies commands in arrival order', async () => {
    for (const [cmdId, priceCents] of [
      ['c-1', 100],
      ['c-2', 200],
      ['c-3', 300],
    ] as const) {
      await broker.publish(CMD_TOPIC, { cmdId, type: 'set-price', priceCents, ts: Date.now() });
    }
    await eventually(() => acks().length === 3);
    expect(acks().map((m) => m.payload.cmdId)).toEqual(['c-1', 'c-2', 'c-3']);
    expect(label.displayedPriceCents).toBe(300);
  });

  it('answers an invalid command with ok:false and an error, keeping the old price', async () => {
    await broker.publish(CMD_TOPIC, { cmdId: 'bad-1', type: 'set-price', priceCents: -5, colour: 'red', ts: Date.now() });
    await broker.publish(CMD_TOPIC, { cmdId: 'bad-2', type: 'set-price', ts: Date.now() });
    await broker.publish(CMD_TOPIC, { cmdId: 'bad-3', type: 'set-price', sku: '123', priceCents: 5, ts: Date.now() });
    await eventually(() => acks().length === 3);

    const byId = new Map(acks().map((m) => [m.payload.cmdId, m.payload]));
    for (const payload of byId.values()) {
      expect(payload.ok).toBe(false);
      expect(payload.error).toEqual(expect.any(String));
    }
    expect(byId.get('bad-1')?.error).toMatch(/additional properties|>= 0/);
    expect(byId.get('bad-2')?.error).toMatch(/priceCents/);
    expect(byId.get('bad-3')?.error).toMatch(/sku mismatch/);
    expect(label.displayedPriceCents).toBe(79);
    expect(broker.messages.flatMap(contractProblems)).toEqual([]);
  });

  it('drops what it cannot answer: not JSON, or no cmdId', async () => {
    await broker.publish(CMD_TOPIC, 'not json {');
    await broker.publish(CMD_TOPIC, { type: 'set-price', priceCents: 5, ts: Date.now() });
    await broker.publish(CMD_TOPIC, { cmdId: 'ok-1', type: 'set-price', priceCents: 5, ts: Date.now() });
    // commands are handled in the order they arrive: an ack for either bad one would have come before ok-1's
    await broker.waitFor((m) => m.key === 'esl/ack');
    expect(acks().map((m) => m.payload.cmdId)).toEqual(['ok-1']);
  });

  it('drains its battery slowly', async () => {
    await eventually(() => broker.from('esl-0001', 'esl/status').length >= 3);
    const battery = broker.from('esl-0001', 'esl/status').map((m) => m.payload.batteryMv as number);
    for (let i = 1; i < battery.length; i += 1) {
      expect(battery[i]).toBeLessThanOrEqual(battery[i - 1] as number);
      expect((battery[i - 1] as number) - (battery[i] as number)).toBeLessThanOrEqual(3);
    }
  });
});
