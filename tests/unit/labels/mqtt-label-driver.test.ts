import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GatewayBus } from '../../../edge/core/events.js';
import type { CommandOutcome, CommandRequest, CommandResult } from '../../../edge/device-registry/command-channel.js';
import { configDefaults } from '../../../edge/core/schema-defaults.js';
import type { LabelContent, LabelDriverEvent } from '../../../edge/labels/label-driver.js';
import { MqttLabelDriverLimitsSchema } from '../../../edge/labels/label-driver-limits.js';
import { MqttLabelDriver } from '../../../edge/labels/mqtt-label-driver.js';

type Sent = { request: CommandRequest; answer: (outcome: CommandOutcome, extra?: Partial<CommandResult>) => Promise<void> };

describe('MqttLabelDriver (direct MQTT labels through the command channel)', () => {
  const now = 1_764_000_000_000;
  let bus: GatewayBus;
  let sent: Sent[];
  let driver: MqttLabelDriver;
  let events: LabelDriverEvent[];

  const content = (labelId: string, version: number, priceCents = 100 + version): LabelContent => ({
    labelId,
    version,
    sku: '4000000000017',
    productName: 'Oat milk 1 l',
    priceCents,
  });
  const labelEvents = () => events.filter((event) => event.type !== 'link');
  const flush = () => new Promise((resolve) => setImmediate(resolve));

  const build = async (maxInFlight = 200) => {
    driver = new MqttLabelDriver(
      { ...configDefaults(MqttLabelDriverLimitsSchema), maxInFlight },
      {
        bus,
        log: pino({ level: 'silent' }),
        now: () => now,
        isDirectLabel: (id) => id.startsWith('esl-'),
        // a command channel whose commands end when the test answers them
        commands: {
          send: (request) =>
            new Promise<CommandResult>((resolve) => {
              const cmdId = `c${sent.length}`;
              sent.push({
                request,
                answer: async (outcome, extra = {}) => {
                  resolve({
                    cmdId,
                    deviceId: request.deviceId,
                    kind: 'esl',
                    type: request.type,
                    outcome,
                    sentAt: now,
                    endedAt: now,
                    ...extra,
                  });
                  await flush();
                },
              });
            }),
        },
      },
    );
    driver.onEvent((event) => events.push(event));
    await driver.start();
  };
  const ok = (priceCents: number) => ({ ack: { cmdId: 'x', ok: true, displayedPriceCents: priceCents, ts: now } });
  const status = (deviceId: string, displayedPriceCents: number | null) =>
    bus.emit('device.message:esl/status', {
      key: 'esl/status',
      deviceId,
      payload: { batteryMv: 2950, displayedPriceCents, ts: now },
      receivedAt: now,
    });

  beforeEach(() => {
    bus = new GatewayBus({
      onHandlerError: ({ error }) => {
        throw error;
      },
    });
    sent = [];
    events = [];
  });
  afterEach(async () => driver?.stop());

  it("sends set-price through the command channel; the ack's displayed price confirms", async () => {
    await build();
    expect(driver.handles('esl-1')).toBe(true);
    expect(driver.handles('oepl-1')).toBe(false);
    driver.send(content('esl-1', 1, 219));
    driver.send(content('esl-2', 1, 219));
    driver.send(content('esl-3', 1, 219));
    expect(sent.map((s) => s.request)).toEqual(
      ['esl-1', 'esl-2', 'esl-3'].map((deviceId) => ({
        deviceId,
        kind: 'esl',
        type: 'set-price',
        params: { sku: '4000000000017', priceCents: 219 },
      })),
    );
    await sent[0]!.answer('confirmed', ok(219));
    await sent[1]!.answer('confirmed', ok(199));
    await sent[2]!.answer('rejected', { detail: 'sku mismatch' });
    expect(labelEvents()).toEqual([
      { type: 'confirmed', labelId: 'esl-1', version: 1, displayedPriceCents: 219, at: now },
      { type: 'failed', labelId: 'esl-2', version: 1, reason: 'label shows 199 cents, expected 219', retryable: true, at: now },
      { type: 'failed', labelId: 'esl-3', version: 1, reason: 'rejected by the label: sku mismatch', retryable: false, at: now },
    ]);
  });

  it('a timed-out command fails retryable', async () => {
    await build();
    driver.send(content('esl-1', 1));
    await sent[0]!.answer('timed-out', { detail: 'no ack within 10000 ms' });
    expect(labelEvents()).toEqual([
      { type: 'failed', labelId: 'esl-1', version: 1, reason: 'timed-out: no ack within 10000 ms', retryable: true, at: now },
    ]);
  });

  it('a label that is not connected waits, and gets the content when it checks in', async () => {
    await build();
    driver.send(content('esl-1', 1, 250));
    await sent[0]!.answer('dropped', { detail: 'not-connected' });
    expect(labelEvents()).toEqual([{ type: 'waiting', labelId: 'esl-1', version: 1, at: now }]);
    status('esl-1', 240); // checks in showing the old price: the content goes out now
    expect(sent).toHaveLength(2);
    expect(labelEvents()[1]).toEqual({ type: 'check-in', labelId: 'esl-1', batteryMv: 2950, displayedPriceCents: 240, at: now });
    await sent[1]!.answer('confirmed', ok(250));
    expect(labelEvents().at(-1)).toEqual({ type: 'confirmed', labelId: 'esl-1', version: 1, displayedPriceCents: 250, at: now });
  });

  it('a waiting label that reconnects gets it; one that already shows the price is confirmed by its status', async () => {
    await build();
    driver.send(content('esl-1', 1, 250));
    driver.send(content('esl-2', 1, 260));
    await sent[0]!.answer('dropped', { detail: 'not-connected' });
    await sent[1]!.answer('dropped', { detail: 'not-connected' });
    bus.emit('device.connection', { deviceId: 'esl-1', kind: 'esl', source: 'mqtt', connected: true, at: now });
    expect(sent.map((s) => s.request.deviceId)).toEqual(['esl-1', 'esl-2', 'esl-1']);
    status('esl-2', 260);
    expect(sent).toHaveLength(3);
    expect(labelEvents().filter((e) => e.type === 'confirmed')).toEqual([
      { type: 'confirmed', labelId: 'esl-2', version: 1, displayedPriceCents: 260, at: now },
    ]);
  });

  it('supersede: one command in flight per label; a newer version goes out after it, one not sent is replaced', async () => {
    await build();
    driver.send(content('esl-1', 1));
    driver.send(content('esl-1', 2));
    driver.send(content('esl-1', 3));
    expect(sent).toHaveLength(1);
    await sent[0]!.answer('confirmed', ok(101));
    expect(sent.map((s) => s.request.params)).toEqual([
      { sku: '4000000000017', priceCents: 101 },
      { sku: '4000000000017', priceCents: 103 },
    ]);
    await sent[1]!.answer('dropped', { detail: 'not-connected' });
    driver.send(content('esl-1', 4)); // waiting for the label: replaced at once
    expect(sent).toHaveLength(3);
    await sent[2]!.answer('confirmed', ok(104));
    expect(labelEvents().map((e) => [e.type, 'version' in e ? e.version : undefined, e.type === 'failed' ? e.reason : undefined])).toEqual([
      ['failed', 2, 'superseded by version 3'],
      ['confirmed', 1, undefined],
      ['waiting', 3, undefined],
      ['failed', 3, 'superseded by version 4'],
      ['confirmed', 4, undefined],
    ]);
  });

  it('a version between the one in flight and the one held back fails superseded (it is never sent)', async () => {
    await build();
    driver.send(content('esl-1', 1));
    driver.send(content('esl-1', 3));
    driver.send(content('esl-1', 2)); // older than the version held back
    await sent[0]!.answer('confirmed', ok(101));
    await sent[1]!.answer('confirmed', ok(103));
    expect(sent.map((s) => s.request.params?.priceCents)).toEqual([101, 103]);
    expect(labelEvents().map((e) => [e.type, 'version' in e ? e.version : undefined, e.type === 'failed' ? e.reason : undefined])).toEqual([
      ['failed', 2, 'superseded by version 3'],
      ['confirmed', 1, undefined],
      ['confirmed', 3, undefined],
    ]);
  });

  it('maxInFlight bounds commands over all labels; the rest go as others end', async () => {
    await build(2);
    for (let i = 1; i <= 5; i++) driver.send(content(`esl-${i}`, 1));
    expect(sent).toHaveLength(2);
    await sent[0]!.answer('confirmed', ok(101));
    expect(sent).toHaveLength(3);
    await sent[1]!.answer('confirmed', ok(101));
    await sent[2]!.answer('confirmed', ok(101));
    expect(sent.map((s) => s.request.deviceId)).toEqual(['esl-1', 'esl-2', 'esl-3', 'esl-4', 'esl-5']);
  });

  it('stop ends waiting content; link events say up and down', async () => {
    await build();
    driver.send(content('esl-1', 1));
    await sent[0]!.answer('dropped', { detail: 'not-connected' });
    await driver.stop();
    expect(events.map((e) => e.type)).toEqual(['link', 'waiting', 'failed', 'link']);
    expect(events[2]).toMatchObject({ reason: 'gateway stopping', retryable: true });
  });
});
