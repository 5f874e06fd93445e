import { Ajv } from 'ajv';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GatewayBus } from '../../../edge/core/events.js';
import type { CommandDelivery, DeliveryFailure, DeviceSource, OutboundCommand } from '../../../edge/device-registry/device-source.js';
import type { ApCommand, ApLabelAck, ApLabelReport } from '../../../edge/device-registry/messages.js';
import { apCommandSchema } from '../../../edge/device-registry/schemas.js';
import { configDefaults } from '../../../edge/core/schema-defaults.js';
import type { LabelContent, LabelDriverEvent } from '../../../edge/labels/label-driver.js';
import { MqttApDriverLimitsSchema } from '../../../edge/labels/label-driver-limits.js';
import { MqttApDriver, type MqttApDriverOptions } from '../../../edge/labels/mqtt-ap-driver.js';

const AP = 'ap-01';
const validateBatch = new Ajv({ allErrors: true }).compile(apCommandSchema);

/** A device source that records what it is handed and answers as the test says (the command channel's dispatch, in short). */
class FakeSource implements DeviceSource {
  readonly name = 'fake';
  readonly transport = 'fake';
  carries(deviceId: string): boolean {
    return deviceId === AP;
  }
  readonly batches: ApCommand[] = [];
  readonly dropHandlers: Array<(reason: DeliveryFailure, detail?: string) => void> = [];
  answer: CommandDelivery = { ok: true };
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  deliver(command: OutboundCommand, onDropped: (reason: DeliveryFailure, detail?: string) => void): CommandDelivery {
    if (!this.answer.ok) return this.answer;
    expect(command).toMatchObject({ deviceId: AP, kind: 'ap' });
    expect(validateBatch(command.payload), JSON.stringify(validateBatch.errors)).toBe(true);
    this.batches.push(command.payload as ApCommand);
    this.dropHandlers.push(onDropped);
    return this.answer;
  }
  disconnect(): boolean {
    return false;
  }
  get commands() {
    return this.batches.flatMap((batch) => batch.commands);
  }
  commandFor(labelId: string) {
    return this.commands.filter((command) => command.labelId === labelId).at(-1);
  }
}

describe('MqttApDriver (access point label driver)', () => {
  let now: number;
  let bus: GatewayBus;
  let source: FakeSource;
  let driver: MqttApDriver;
  let events: LabelDriverEvent[];
  /** link events, kept apart so the label events read plainly */
  let links: LabelDriverEvent[];
  let connected: boolean;

  const build = async (options: Partial<MqttApDriverOptions> = {}) => {
    // the test drives ticks itself: the driver's own interval is too long to fire
    driver = new MqttApDriver(
      { ...configDefaults(MqttApDriverLimitsSchema), apId: AP, tickMs: 3_600_000, settleMs: 0, ...options },
      {
        bus,
        commands: { dispatch: (command, onDropped) => source.deliver(command, onDropped) },
        log: pino({ level: 'silent' }),
        now: () => now,
        isConnected: () => connected,
      },
    );
    driver.onEvent((event) => (event.type === 'link' ? links : events).push(event));
    await driver.start();
  };
  const content = (labelId: string, version: number, priceCents = 100 + version): LabelContent => ({
    labelId,
    version,
    sku: '4000000000017',
    productName: 'Oat milk 1 l',
    priceCents,
  });
  const acks = (...list: ApLabelAck[]) =>
    bus.emit('device.message:ap/ack', { key: 'ap/ack', deviceId: AP, payload: { acks: list, ts: now }, receivedAt: now });
  const reports = (...list: ApLabelReport[]) =>
    bus.emit('device.message:ap/labels', { key: 'ap/labels', deviceId: AP, payload: { labels: list, ts: now }, receivedAt: now });
  const link = (up: boolean) => bus.emit('device.connection', { deviceId: AP, kind: 'ap', source: 'mqtt', connected: up, at: now });
  const of = <T extends LabelDriverEvent['type']>(type: T) =>
    events.filter((event): event is Extract<LabelDriverEvent, { type: T }> => event.type === type);

  beforeEach(() => {
    now = 1_764_000_000_000;
    bus = new GatewayBus({
      onHandlerError: ({ error }) => {
        throw error;
      },
    });
    source = new FakeSource();
    events = [];
    links = [];
    connected = true;
  });
  afterEach(async () => driver?.stop());

  it('sends bounded batches paced by the per-AP rate limit and the in-flight window', async () => {
    await build({ maxBatchSize: 50, maxCommandsPerSecond: 100, maxInFlight: 80 });
    for (let i = 0; i < 120; i++) driver.send(content(`L${i}`, 1));
    driver.tick(now);
    expect(source.batches.map((b) => b.commands.length)).toEqual([50]); // a full bucket is one batch
    now += 100;
    driver.tick(now);
    expect(source.batches.map((b) => b.commands.length)).toEqual([50, 10]); // 100/s × 100 ms
    now += 1_000;
    driver.tick(now);
    // the bucket holds 50 again, but only 80 commands may await the AP's ack
    expect(source.commands).toHaveLength(80);
    expect(driver.stats).toMatchObject({ inFlight: 80, queued: 40 });
    acks(
      ...source.commands
        .slice(0, 30)
        .map((c) => ({ cmdId: c.cmdId, labelId: c.labelId, status: 'shown' as const, displayedPriceCents: 101 })),
    );
    now += 1_000;
    driver.tick(now);
    expect(source.commands).toHaveLength(110);
    expect(new Set(source.commands.map((c) => c.cmdId)).size).toBe(110);
    expect(of('confirmed')).toHaveLength(30);
  });

  it('confirms on a `shown` ack matched by cmdId and label; others change nothing', async () => {
    await build();
    driver.send(content('L1', 1, 219));
    driver.send(content('L2', 1, 219));
    driver.tick(now);
    const [c1, c2] = source.commands;
    acks(
      { cmdId: c1!.cmdId, labelId: 'L2', status: 'shown', displayedPriceCents: 219 }, // another label's cmdId
      { cmdId: 'nope', labelId: 'L1', status: 'shown' },
    );
    expect(events).toEqual([]);
    expect(driver.stats.acksIgnored).toBe(2);
    acks(
      { cmdId: c1!.cmdId, labelId: 'L1', status: 'shown', displayedPriceCents: 219 },
      { cmdId: c2!.cmdId, labelId: 'L2', status: 'shown', displayedPriceCents: 199 },
    );
    expect(events).toEqual([
      { type: 'confirmed', labelId: 'L1', version: 1, displayedPriceCents: 219, at: now },
      { type: 'failed', labelId: 'L2', version: 1, reason: 'label shows 199 cents, expected 219', retryable: true, at: now },
    ]);
    acks({ cmdId: c1!.cmdId, labelId: 'L1', status: 'shown', displayedPriceCents: 219 }); // duplicate
    expect(of('confirmed')).toHaveLength(1);
  });

  it("a failed ack fails with the AP's error; no ack in time fails retryable", async () => {
    await build({ ackTimeoutMs: 5_000 });
    driver.send(content('L1', 1));
    driver.send(content('L2', 1));
    driver.tick(now);
    acks({ cmdId: source.commandFor('L1')!.cmdId, labelId: 'L1', status: 'failed', error: 'unknown label', retryable: false });
    now += 5_000;
    driver.tick(now);
    expect(events).toEqual([
      { type: 'failed', labelId: 'L1', version: 1, reason: 'access point ap-01: unknown label', retryable: false, at: now - 5_000 },
      { type: 'failed', labelId: 'L2', version: 1, reason: 'no ack from access point ap-01 within 5000 ms', retryable: true, at: now },
    ]);
    expect(driver.stats.inFlight).toBe(0);
  });

  it('queued at the AP → waiting, then confirmed at check-in (by the `shown` ack or by the report alone)', async () => {
    await build();
    driver.send(content('L1', 1, 250));
    driver.send(content('L2', 1, 260));
    driver.tick(now);
    acks(...source.commands.map((c) => ({ cmdId: c.cmdId, labelId: c.labelId, status: 'queued' as const })));
    expect(of('waiting').map((e) => e.labelId)).toEqual(['L1', 'L2']);
    expect(driver.stats).toMatchObject({ inFlight: 0, waiting: 2 });
    now += 60_000;
    driver.tick(now); // waiting is not an ack timeout
    expect(of('failed')).toEqual([]);
    // L1 checks in: the AP acks shown; L2's ack is lost but its report shows the price
    acks({ cmdId: source.commandFor('L1')!.cmdId, labelId: 'L1', status: 'shown', displayedPriceCents: 250 });
    reports(
      { labelId: 'L2', batteryMv: 2950, displayedPriceCents: 260, seenAt: now },
      { labelId: 'L9', batteryMv: null, displayedPriceCents: null, seenAt: now },
    );
    expect(of('confirmed')).toEqual([
      { type: 'confirmed', labelId: 'L1', version: 1, displayedPriceCents: 250, at: now },
      { type: 'confirmed', labelId: 'L2', version: 1, displayedPriceCents: 260, at: now },
    ]);
    expect(of('check-in')).toEqual([
      { type: 'check-in', labelId: 'L2', batteryMv: 2950, displayedPriceCents: 260, at: now },
      { type: 'check-in', labelId: 'L9', batteryMv: null, at: now },
    ]);
    expect(driver.handles('L9')).toBe(true); // reported by this AP: carried by it
    expect(driver.handles('elsewhere')).toBe(false);
    expect(driver.stats.waiting).toBe(0);
  });

  it('a report showing another price does not confirm; a waiting command gives up after maxWaitingMs', async () => {
    await build({ maxWaitingMs: 10_000 });
    driver.send(content('L1', 1, 300));
    driver.tick(now);
    acks({ cmdId: source.commandFor('L1')!.cmdId, labelId: 'L1', status: 'queued' });
    reports({ labelId: 'L1', batteryMv: 2900, displayedPriceCents: 299, seenAt: now });
    expect(of('confirmed')).toEqual([]);
    now += 10_000;
    driver.tick(now);
    expect(of('failed')).toEqual([
      { type: 'failed', labelId: 'L1', version: 1, reason: 'label not seen within 10000 ms', retryable: true, at: now },
    ]);
  });

  describe('supersede: at most one command in flight per label', () => {
    it('a queued version is replaced at once', async () => {
      await build();
      driver.send(content('L1', 1));
      driver.send(content('L1', 2));
      driver.send(content('L1', 1)); // older than what is queued
      driver.tick(now);
      expect(source.commands.map((c) => [c.labelId, c.type === 'set-price' && c.priceCents])).toEqual([['L1', 102]]);
      expect(of('failed').map((e) => e.type === 'failed' && [e.version, e.reason, e.retryable])).toEqual([
        [1, 'superseded by version 2', false],
        [1, 'superseded by version 2', false],
      ]);
    });

    it('a version in flight is answered first; the newer one goes next', async () => {
      await build();
      driver.send(content('L1', 1));
      driver.tick(now);
      driver.send(content('L1', 2));
      driver.send(content('L1', 3));
      driver.tick(now);
      expect(source.commands).toHaveLength(1); // v1 still awaits its ack
      expect(of('failed')).toEqual([
        { type: 'failed', labelId: 'L1', version: 2, reason: 'superseded by version 3', retryable: false, at: now },
      ]);
      acks({ cmdId: source.commands[0]!.cmdId, labelId: 'L1', status: 'shown', displayedPriceCents: 101 });
      driver.tick(now);
      expect(source.commands.map((c) => c.type === 'set-price' && c.priceCents)).toEqual([101, 103]);
      acks({ cmdId: source.commands[1]!.cmdId, labelId: 'L1', status: 'shown', displayedPriceCents: 103 });
      expect(of('confirmed').map((e) => e.type === 'confirmed' && e.version)).toEqual([1, 3]);
    });

    it('a version waiting at the AP is superseded and sent over; its late `shown` ack is ignored', async () => {
      await build();
      driver.send(content('L1', 1));
      driver.tick(now);
      const first = source.commands[0]!;
      acks({ cmdId: first.cmdId, labelId: 'L1', status: 'queued' });
      driver.send(content('L1', 2));
      driver.tick(now);
      expect(source.commands).toHaveLength(2);
      acks({ cmdId: first.cmdId, labelId: 'L1', status: 'shown', displayedPriceCents: 101 });
      expect(of('confirmed')).toEqual([]);
      acks({ cmdId: source.commands[1]!.cmdId, labelId: 'L1', status: 'shown', displayedPriceCents: 102 });
      expect(events.map((e) => [e.type, 'version' in e ? e.version : undefined])).toEqual([
        ['waiting', 1],
        ['failed', 1],
        ['confirmed', 2],
      ]);
    });
  });

  it('AP offline: link down, nothing sent, in-flight work re-sent on reconnect with new cmdIds', async () => {
    await build();
    driver.send(content('L1', 1));
    driver.send(content('L2', 1));
    driver.tick(now);
    acks({ cmdId: source.commandFor('L2')!.cmdId, labelId: 'L2', status: 'queued' });
    const before = source.commands.map((c) => c.cmdId);
    link(false);
    connected = false;
    driver.send(content('L3', 1));
    now += 1_000;
    driver.tick(now);
    expect(source.commands).toHaveLength(2);
    expect(driver.stats).toMatchObject({ linkUp: false, queued: 2, inFlight: 0, waiting: 1 });
    link(true);
    now += 1_000;
    driver.tick(now);
    expect(
      source.commands
        .slice(2)
        .map((c) => c.labelId)
        .sort(),
    ).toEqual(['L1', 'L2', 'L3']);
    expect(source.commands.slice(2).some((c) => before.includes(c.cmdId))).toBe(false);
    acks(
      ...source.commands.slice(2).map((c) => ({ cmdId: c.cmdId, labelId: c.labelId, status: 'shown' as const, displayedPriceCents: 101 })),
    );
    expect(links.map((e) => e.type === 'link' && e.up)).toEqual([true, false, true]);
    expect(
      of('confirmed')
        .map((e) => e.labelId)
        .sort(),
    ).toEqual(['L1', 'L2', 'L3']);
    expect(of('waiting')).toHaveLength(1); // announced once, not again after the re-send
  });

  it('the link drops while v1 awaits its ack and v2 is held back: v1 is superseded, only v2 goes on reconnect', async () => {
    await build();
    driver.send(content('L1', 1));
    driver.tick(now);
    driver.send(content('L1', 2));
    link(false);
    connected = false;
    expect(of('failed')).toEqual([
      { type: 'failed', labelId: 'L1', version: 1, reason: 'superseded by version 2', retryable: false, at: now },
    ]);
    link(true);
    now += 1_000;
    driver.tick(now);
    expect(source.commands.map((c) => c.type === 'set-price' && c.priceCents)).toEqual([101, 102]);
    acks({ cmdId: source.commands[1]!.cmdId, labelId: 'L1', status: 'shown', displayedPriceCents: 102 });
    expect(of('confirmed').map((e) => e.version)).toEqual([2]);
  });

  it('queued sends wait for an offline AP only so long, and only so many', async () => {
    connected = false;
    await build({ offlineQueueTimeoutMs: 60_000, maxQueued: 2 });
    driver.send(content('L1', 1));
    driver.send(content('L2', 1));
    driver.send(content('L3', 1));
    expect(of('failed')).toEqual([
      { type: 'failed', labelId: 'L3', version: 1, reason: 'queue full (2 labels)', retryable: true, at: now },
    ]);
    now += 60_000;
    driver.tick(now);
    expect(of('failed').map((e) => e.type === 'failed' && [e.labelId, e.reason])).toEqual([
      ['L3', 'queue full (2 labels)'],
      ['L1', 'access point ap-01 offline for more than 60000 ms'],
      ['L2', 'access point ap-01 offline for more than 60000 ms'],
    ]);
    expect(source.commands).toEqual([]);
  });

  it('a batch the transport refuses or drops later is queued again, not lost', async () => {
    await build();
    driver.send(content('L1', 1));
    source.answer = { ok: false, reason: 'backed-up', detail: 'socket full' };
    driver.tick(now);
    expect(driver.stats).toMatchObject({ queued: 1, inFlight: 0, linkUp: true });
    source.answer = { ok: true };
    now += 1_000;
    driver.tick(now);
    expect(source.commands).toHaveLength(1);
    source.dropHandlers[0]!('backed-up');
    expect(driver.stats).toMatchObject({ queued: 1, inFlight: 0 });
    now += 1_000;
    driver.tick(now);
    expect(source.commands).toHaveLength(2);
    expect(events).toEqual([]);
  });

  it('flashes ride in the batches; stop() ends what is not shown', async () => {
    await build();
    driver.send(content('L1', 1));
    driver.flash('L1', 'find');
    driver.tick(now);
    expect(source.commands.map((c) => c.type)).toEqual(['flash', 'set-price']);
    await driver.stop();
    expect(links).toEqual([{ type: 'link', up: true, detail: 'access point connected', at: now }]);
    expect(events).toEqual([{ type: 'failed', labelId: 'L1', version: 1, reason: 'gateway stopping', retryable: true, at: now }]);
  });
});

describe('MqttApDriver settle time after a (re)connect', () => {
  it('sends nothing until settleMs after the AP connected (its SUBSCRIBE comes right after CONNACK)', async () => {
    let now = 1_000;
    const sent: unknown[] = [];
    const bus = new GatewayBus({ onHandlerError: () => undefined });
    const commands = { dispatch: (command: unknown) => (sent.push(command), { ok: true as const }) };
    const driver = new MqttApDriver(
      { ...configDefaults(MqttApDriverLimitsSchema), apId: 'ap-9', tickMs: 3_600_000, settleMs: 250 },
      { bus, commands, log: pino({ level: 'silent' }), now: () => now, isConnected: () => true },
    );
    await driver.start();
    driver.send({ labelId: 'L1', version: 1, sku: 's', productName: 'p', priceCents: 100 });
    driver.tick(now + 100);
    expect(sent).toHaveLength(0);
    now += 250;
    driver.tick(now);
    expect(sent).toHaveLength(1);
    await driver.stop();
  });

  it("sends as soon as the AP subscribed to its command topic, not on another topic or another AP's subscription", async () => {
    const now = 1_000;
    const sent: unknown[] = [];
    const bus = new GatewayBus({ onHandlerError: () => undefined });
    const commands = { dispatch: (command: unknown) => (sent.push(command), { ok: true as const }) };
    const driver = new MqttApDriver(
      { ...configDefaults(MqttApDriverLimitsSchema), apId: 'ap-9', tickMs: 3_600_000, settleMs: 10_000 },
      { bus, commands, log: pino({ level: 'silent' }), now: () => now, isConnected: () => false },
    );
    await driver.start();
    bus.emit('device.connection', { deviceId: 'ap-9', kind: 'ap', source: 'mqtt', connected: true, at: now });
    driver.send({ labelId: 'L1', version: 1, sku: 's', productName: 'p', priceCents: 100 });
    bus.emit('device.subscribed', { deviceId: 'ap-8', kind: 'ap', topics: ['store/s/ap/ap-8/cmd'], at: now });
    bus.emit('device.subscribed', { deviceId: 'ap-9', kind: 'ap', topics: ['store/s/ap/ap-9/other'], at: now });
    driver.tick(now + 1);
    expect(sent).toHaveLength(0);
    bus.emit('device.subscribed', { deviceId: 'ap-9', kind: 'ap', topics: ['store/s/ap/ap-9/cmd'], at: now + 2 });
    driver.tick(now + 2);
    expect(sent).toHaveLength(1);
    await driver.stop();
  });
});
