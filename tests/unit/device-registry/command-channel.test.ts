import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { HandlerErrorReport } from '../../../edge/core/event-bus.js';
import { GatewayBus } from '../../../edge/core/events.js';
import {
  CommandChannel,
  type CommandChannelDeps,
  type CommandOutcome,
  type CommandResult,
} from '../../../edge/device-registry/command-channel.js';
import {
  publishDeviceMessage,
  type CommandDelivery,
  type DeliveryFailure,
  type DeviceSource,
  type OutboundCommand,
} from '../../../edge/device-registry/device-source.js';
import type { DeviceAck } from '../../../edge/device-registry/messages.js';

/** A transport that records what it is handed; `next` is what deliver() answers; it carries `carried` (default: all). */
class FakeSource implements DeviceSource {
  readonly name: string;
  readonly delivered: Array<{ command: OutboundCommand; onDropped: (reason: DeliveryFailure, detail?: string) => void }> = [];
  next: CommandDelivery | (() => CommandDelivery) = { ok: true };
  constructor(
    readonly transport = 'fake',
    private readonly carried?: ReadonlySet<string>,
  ) {
    this.name = `${transport}-source`;
  }
  carries(deviceId: string): boolean {
    return this.carried?.has(deviceId) ?? true;
  }
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  deliver(command: OutboundCommand, onDropped: (reason: DeliveryFailure, detail?: string) => void): CommandDelivery {
    this.delivered.push({ command, onDropped });
    return typeof this.next === 'function' ? this.next() : this.next;
  }
  disconnect(): boolean {
    return false;
  }
  last() {
    const entry = this.delivered.at(-1);
    if (!entry) throw new Error('nothing delivered');
    return entry;
  }
}

let clock: number;
let ids: number;
let bus: GatewayBus;
let busErrors: HandlerErrorReport[];
let source: FakeSource;
let outcomes: CommandOutcome[];
let published: CommandResult[];
let channel: CommandChannel;

function build(overrides: Partial<CommandChannelDeps> = {}): CommandChannel {
  return new CommandChannel({
    bus,
    sources: () => [source],
    now: () => clock,
    newId: () => `cmd-${++ids}`,
    onOutcome: (outcome) => outcomes.push(outcome),
    defaultTimeoutMs: 10_000,
    maxPending: 100,
    ...overrides,
  });
}

beforeEach(async () => {
  clock = 1_000;
  ids = 0;
  busErrors = [];
  bus = new GatewayBus({ onHandlerError: (report) => busErrors.push(report) });
  source = new FakeSource();
  outcomes = [];
  published = [];
  bus.on('command.result', 'test', (result) => published.push(result));
  channel = build();
  await channel.start();
});

afterEach(async () => {
  await channel.stop();
  vi.useRealTimers();
  // the channel's own bus subscribers never throw
  expect(busErrors).toEqual([]);
});

const setPrice = { deviceId: 'esl-1', kind: 'esl' as const, type: 'set-price', params: { sku: '4000000000017', priceCents: 219 } };

function ack(
  deviceId: string,
  payload: Partial<DeviceAck> & { cmdId: string },
  key: 'esl/ack' | 'shelf/ack' | 'kiosk/ack' = 'esl/ack',
): void {
  publishDeviceMessage(bus, { key, deviceId, payload: { ok: true, ts: clock, ...payload }, receivedAt: clock });
}

/** Whether a promise has settled by now (after the microtasks queued so far). */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(() => (done = true));
  await Promise.resolve();
  await Promise.resolve();
  return done;
}

describe('CommandChannel', () => {
  it('hands the command to the source with its cmdId, type, params and ts', () => {
    void channel.send(setPrice);
    expect(source.last().command).toEqual({
      cmdId: 'cmd-1',
      deviceId: 'esl-1',
      kind: 'esl',
      payload: { cmdId: 'cmd-1', type: 'set-price', sku: '4000000000017', priceCents: 219, ts: 1_000 },
    });
    expect(channel.pendingCount).toBe(1);
  });

  it('confirmed: the same device acks ok', async () => {
    const result = channel.send(setPrice);
    clock = 1_250;
    ack('esl-1', { cmdId: 'cmd-1', ok: true, displayedPriceCents: 219 });
    const expected: CommandResult = {
      cmdId: 'cmd-1',
      deviceId: 'esl-1',
      kind: 'esl',
      type: 'set-price',
      outcome: 'confirmed',
      ack: { cmdId: 'cmd-1', ok: true, displayedPriceCents: 219, ts: 1_250 },
      sentAt: 1_000,
      endedAt: 1_250,
    };
    expect(await result).toEqual(expected);
    expect(outcomes).toEqual(['confirmed']);
    expect(published).toEqual([expected]);
    expect(channel.pendingCount).toBe(0);
  });

  it('acks of shelves and kiosks confirm their commands too', async () => {
    const shelf = channel.send({ deviceId: 'shelf-1', kind: 'shelf', type: 'tare' });
    const kiosk = channel.send({ deviceId: 'kiosk-1', kind: 'kiosk', type: 'reboot' });
    ack('shelf-1', { cmdId: 'cmd-1' }, 'shelf/ack');
    ack('kiosk-1', { cmdId: 'cmd-2' }, 'kiosk/ack');
    expect((await shelf).outcome).toBe('confirmed');
    expect((await kiosk).outcome).toBe('confirmed');
  });

  it('rejected: the device acks ok:false; the detail is the device error', async () => {
    const result = channel.send(setPrice);
    ack('esl-1', { cmdId: 'cmd-1', ok: false, error: 'sku not on this label' });
    expect(await result).toMatchObject({
      outcome: 'rejected',
      detail: 'sku not on this label',
      ack: { ok: false, error: 'sku not on this label' },
    });
    expect(outcomes).toEqual(['rejected']);
    expect(published.map((r) => r.outcome)).toEqual(['rejected']);
  });

  it('rejected without an error from the device still says why', async () => {
    const result = channel.send(setPrice);
    ack('esl-1', { cmdId: 'cmd-1', ok: false });
    expect(await result).toMatchObject({ outcome: 'rejected', detail: 'rejected by the device' });
  });

  it('timed-out: no ack within the command timeout (or the default)', async () => {
    vi.useFakeTimers();
    const quick = channel.send({ ...setPrice, timeoutMs: 500 });
    const slow = channel.send({ ...setPrice, deviceId: 'esl-2' });
    await vi.advanceTimersByTimeAsync(499);
    expect(await settled(quick)).toBe(false);
    clock = 1_500;
    await vi.advanceTimersByTimeAsync(1);
    expect(await quick).toMatchObject({
      cmdId: 'cmd-1',
      outcome: 'timed-out',
      detail: 'no ack within 500 ms',
      sentAt: 1_000,
      endedAt: 1_500,
    });
    expect(channel.pendingCount).toBe(1);

    await vi.advanceTimersByTimeAsync(10_000 - 501);
    expect(await settled(slow)).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await slow).toMatchObject({ cmdId: 'cmd-2', outcome: 'timed-out', detail: 'no ack within 10000 ms' });
    expect(outcomes).toEqual(['timed-out', 'timed-out']);
    expect(published.map((r) => r.cmdId)).toEqual(['cmd-1', 'cmd-2']);
  });

  it('an ack ends the command: its timer does not fire later', async () => {
    vi.useFakeTimers();
    const result = channel.send({ ...setPrice, timeoutMs: 500 });
    ack('esl-1', { cmdId: 'cmd-1' });
    await vi.advanceTimersByTimeAsync(1_000);
    expect((await result).outcome).toBe('confirmed');
    expect(outcomes).toEqual(['confirmed']);
    expect(vi.getTimerCount()).toBe(0);
  });

  describe('dropped', () => {
    it('the source says the device is not connected', async () => {
      source.next = { ok: false, reason: 'not-connected' };
      const result = await channel.send(setPrice);
      expect(result).toMatchObject({ cmdId: 'cmd-1', outcome: 'dropped', detail: 'not-connected', sentAt: 1_000, endedAt: 1_000 });
      expect(outcomes).toEqual(['dropped']);
      expect(published).toEqual([result]);
      expect(channel.pendingCount).toBe(0);
    });

    it('the source refuses with a detail', async () => {
      source.next = { ok: false, reason: 'backed-up', detail: '70000 bytes unread' };
      expect(await channel.send(setPrice)).toMatchObject({ outcome: 'dropped', detail: 'backed-up: 70000 bytes unread' });
    });

    it('the source gives the command up later (onDropped)', async () => {
      const result = channel.send(setPrice);
      expect(await settled(result)).toBe(false);
      clock = 1_100;
      source.last().onDropped('backed-up', 'client is not reading');
      expect(await result).toMatchObject({ outcome: 'dropped', detail: 'backed-up: client is not reading', endedAt: 1_100 });
      expect(outcomes).toEqual(['dropped']);
    });

    it('the device disconnects before it acks; another device disconnecting, or a connect, changes nothing', async () => {
      const result = channel.send(setPrice);
      bus.emit('device.connection', { deviceId: 'esl-2', kind: 'esl', source: 'fake', connected: false, at: 1_050 });
      bus.emit('device.connection', { deviceId: 'esl-1', kind: 'esl', source: 'fake', connected: true, at: 1_060 });
      expect(await settled(result)).toBe(false);
      bus.emit('device.connection', { deviceId: 'esl-1', kind: 'esl', source: 'fake', connected: false, at: 1_100 });
      expect(await result).toMatchObject({ outcome: 'dropped', detail: 'not-connected: device disconnected before it acknowledged' });
      expect(outcomes).toEqual(['dropped']);
    });

    it('every command of a disconnecting device is dropped', async () => {
      const results = [channel.send(setPrice), channel.send(setPrice), channel.send({ ...setPrice, deviceId: 'esl-2' })];
      bus.emit('device.connection', { deviceId: 'esl-1', kind: 'esl', source: 'fake', connected: false, at: 1_100 });
      expect((await results[0]!).outcome).toBe('dropped');
      expect((await results[1]!).outcome).toBe('dropped');
      expect(await settled(results[2]!)).toBe(false);
      expect(channel.pendingCount).toBe(1);
    });

    it('the channel stops: pending commands are dropped, later ones too', async () => {
      const pending = channel.send(setPrice);
      await channel.stop();
      expect(await pending).toMatchObject({ outcome: 'dropped', detail: 'gateway stopping' });
      expect(await channel.send(setPrice)).toMatchObject({ outcome: 'dropped', detail: 'not-started' });
      expect(source.delivered).toHaveLength(1);
      expect(outcomes).toEqual(['dropped', 'dropped']);
      // after stop the channel no longer listens: an ack or a disconnect reaches nobody
      for (const key of ['esl', 'shelf', 'kiosk'] as const) expect(bus.subscriberCount(`device.message:${key}/ack`)).toBe(0);
      expect(bus.subscriberCount('device.connection')).toBe(0);
    });

    it('before start, a command is dropped at once', async () => {
      const fresh = build();
      expect(await fresh.send(setPrice)).toMatchObject({ outcome: 'dropped', detail: 'not-started' });
      expect(source.delivered).toHaveLength(0);
    });

    it('the pending bound is reached: a new command is dropped without reaching the source', async () => {
      await channel.stop();
      channel = build({ maxPending: 2 });
      await channel.start();
      const first = channel.send(setPrice);
      const second = channel.send(setPrice);
      expect(await channel.send(setPrice)).toMatchObject({ cmdId: 'cmd-3', outcome: 'dropped', detail: 'too-many-pending' });
      expect(source.delivered.map((d) => d.command.cmdId)).toEqual(['cmd-1', 'cmd-2']);
      // a slot frees when a command ends
      ack('esl-1', { cmdId: 'cmd-1' });
      expect((await first).outcome).toBe('confirmed');
      void channel.send(setPrice);
      expect(source.delivered.map((d) => d.command.cmdId)).toEqual(['cmd-1', 'cmd-2', 'cmd-4']);
      expect(await settled(second)).toBe(false);
    });

    it('no source carries the device: not connected, and no source is handed the command', async () => {
      await channel.stop();
      const elsewhere = new FakeSource('mqtt', new Set(['esl-2']));
      channel = build({ sources: () => [elsewhere] });
      await channel.start();
      expect(await channel.send(setPrice)).toMatchObject({ outcome: 'dropped', detail: 'not-connected' });
      expect(elsewhere.delivered).toEqual([]);
      expect(outcomes).toEqual(['dropped']);
      expect(channel.pendingCount).toBe(0);
    });

    it('a source that throws (a payload it cannot encode) drops the command instead of leaving it pending', async () => {
      vi.useFakeTimers();
      source.next = () => {
        throw new TypeError('Do not know how to serialize a BigInt');
      };
      const result = channel.send({ ...setPrice, params: { priceCents: 219n }, timeoutMs: 500 });
      await expect(result).resolves.toMatchObject({ outcome: 'dropped', detail: 'transport-error: Do not know how to serialize a BigInt' });
      await vi.advanceTimersByTimeAsync(1_000);
      expect(outcomes).toEqual(['dropped']);
      expect(channel.pendingCount).toBe(0);
    });
  });

  it('an ack from ANOTHER device for the cmdId changes nothing; the right device still confirms it', async () => {
    const result = channel.send(setPrice);
    ack('esl-2', { cmdId: 'cmd-1', ok: true });
    ack('esl-2', { cmdId: 'cmd-1', ok: false, error: 'spoofed' });
    expect(await settled(result)).toBe(false);
    expect(outcomes).toEqual([]);
    expect(channel.pendingCount).toBe(1);
    ack('esl-1', { cmdId: 'cmd-1', ok: true });
    expect((await result).outcome).toBe('confirmed');
  });

  it('an ack for an unknown cmdId changes nothing', async () => {
    const result = channel.send(setPrice);
    ack('esl-1', { cmdId: 'cmd-99' });
    expect(await settled(result)).toBe(false);
    expect(outcomes).toEqual([]);
  });

  it('each command ends exactly once, whatever comes after its end', async () => {
    vi.useFakeTimers();
    const result = channel.send({ ...setPrice, timeoutMs: 500 });
    ack('esl-1', { cmdId: 'cmd-1', ok: true });
    // late and duplicate acks, a late drop, a disconnect, the timeout, the channel stopping
    ack('esl-1', { cmdId: 'cmd-1', ok: true });
    ack('esl-1', { cmdId: 'cmd-1', ok: false, error: 'late' });
    source.last().onDropped('transport-error', 'late');
    bus.emit('device.connection', { deviceId: 'esl-1', kind: 'esl', source: 'fake', connected: false, at: 1_100 });
    await vi.advanceTimersByTimeAsync(1_000);
    await channel.stop();
    expect((await result).outcome).toBe('confirmed');
    expect(outcomes).toEqual(['confirmed']);
    expect(published).toHaveLength(1);
  });

  it('a source that drops a command while handing it over and then reports the failure ends it once', async () => {
    source.next = () => {
      source.last().onDropped('not-connected');
      return { ok: false, reason: 'not-connected' };
    };
    expect(await channel.send(setPrice)).toMatchObject({ outcome: 'dropped', detail: 'not-connected' });
    expect(outcomes).toEqual(['dropped']);
    expect(published).toHaveLength(1);
  });

  it('every outcome reaches onOutcome and command.result on the bus, with the same result the caller gets', async () => {
    vi.useFakeTimers();
    const confirmed = channel.send({ ...setPrice, deviceId: 'esl-1' });
    const rejected = channel.send({ ...setPrice, deviceId: 'esl-2' });
    const timedOut = channel.send({ ...setPrice, deviceId: 'esl-3', timeoutMs: 100 });
    source.next = { ok: false, reason: 'not-connected' };
    const dropped = channel.send({ ...setPrice, deviceId: 'esl-4' });
    ack('esl-1', { cmdId: 'cmd-1', ok: true });
    ack('esl-2', { cmdId: 'cmd-2', ok: false, error: 'busy' });
    await vi.advanceTimersByTimeAsync(100);
    const results = await Promise.all([confirmed, rejected, timedOut, dropped]);
    expect(results.map((r) => r.outcome)).toEqual(['confirmed', 'rejected', 'timed-out', 'dropped']);
    expect([...outcomes].sort()).toEqual(['confirmed', 'dropped', 'rejected', 'timed-out']);
    expect([...published].sort((a, b) => a.cmdId.localeCompare(b.cmdId))).toEqual(results);
  });
});

describe('CommandChannel routing: each command goes to the source that carries its device', () => {
  const caseCommand = { deviceId: 'case-opcua', kind: 'case' as const, type: 'set-limits', params: { maxC: 7 } };
  const eslCommand = { ...setPrice, deviceId: 'esl-mqtt' };

  for (const order of ['broker first', 'opc ua driver first'] as const) {
    it(`an OPC UA device's command goes to the OPC UA source, an MQTT device's to the broker (${order})`, async () => {
      const broker = new FakeSource('mqtt', new Set(['esl-mqtt', 'ap-1']));
      const opcua = new FakeSource('opcua', new Set(['case-opcua']));
      await channel.stop();
      channel = build({ sources: () => (order === 'broker first' ? [broker, opcua] : [opcua, broker]) });
      await channel.start();

      void channel.send(caseCommand);
      void channel.send(eslCommand);
      const batch = { cmdId: 'b-1', deviceId: 'ap-1', kind: 'ap' as const, payload: { batchId: 'b-1', commands: [], ts: 1 } };
      expect(channel.dispatch(batch, () => undefined)).toEqual({ ok: true });

      expect(opcua.delivered.map((d) => d.command.deviceId)).toEqual(['case-opcua']);
      expect(broker.delivered.map((d) => d.command.deviceId)).toEqual(['esl-mqtt', 'ap-1']);
    });
  }

  it('the OPC UA source answers for its device even when it cannot take the command (not sent to the broker instead)', async () => {
    const broker = new FakeSource('mqtt', new Set(['esl-mqtt']));
    const opcua = new FakeSource('opcua', new Set(['case-opcua']));
    opcua.next = { ok: false, reason: 'not-connected', detail: 'OPC UA devices take no commands' };
    await channel.stop();
    channel = build({ sources: () => [broker, opcua] });
    await channel.start();
    expect(await channel.send(caseCommand)).toMatchObject({ outcome: 'dropped', detail: 'not-connected: OPC UA devices take no commands' });
    expect(broker.delivered).toEqual([]);
  });
});

describe('CommandChannel.dispatch (a sender that matches its acks itself: an access point batch)', () => {
  const batch = (cmdId: string) => ({ cmdId, deviceId: 'ap-1', kind: 'ap' as const, payload: { batchId: cmdId, commands: [], ts: 1 } });

  it('hands the command over as is, keeps nothing pending and counts no outcome', () => {
    const onDropped = vi.fn();
    expect(channel.dispatch(batch('b-1'), onDropped)).toEqual({ ok: true });
    expect(source.last().command).toEqual(batch('b-1'));
    // a later drop reaches the sender's handler, not the channel's outcomes
    source.last().onDropped('transport-error', 'aedes said no');
    expect(onDropped).toHaveBeenCalledWith('transport-error', 'aedes said no');
    expect(channel.pendingCount).toBe(0);
    expect(outcomes).toEqual([]);
    expect(published).toEqual([]);
  });

  it("answers what the transport answers, not-connected when no source carries the AP, and a thrower's error", async () => {
    source.next = { ok: false, reason: 'backed-up', detail: '70000 bytes unread' };
    expect(channel.dispatch(batch('b-1'), () => undefined)).toEqual({ ok: false, reason: 'backed-up', detail: '70000 bytes unread' });
    source.next = () => {
      throw new Error('cannot encode');
    };
    expect(channel.dispatch(batch('b-2'), () => undefined)).toEqual({ ok: false, reason: 'transport-error', detail: 'cannot encode' });
    await channel.stop();
    channel = build({ sources: () => [new FakeSource('mqtt', new Set(['ap-2']))] });
    await channel.start();
    expect(channel.dispatch(batch('b-3'), () => undefined)).toEqual({ ok: false, reason: 'not-connected' });
  });

  it('before start and after stop: not-started', async () => {
    await channel.stop();
    expect(channel.dispatch(batch('b-1'), () => undefined)).toEqual({ ok: false, reason: 'not-started' });
    expect(source.delivered).toEqual([]);
  });
});
