import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { GatewayBus } from '../../../edge/core/events.js';
import { AckGates } from '../../../edge/device-registry/ack-gates.js';
import type { DeviceMessage } from '../../../edge/device-registry/messages.js';
import { cloudEventProblems } from '../../../edge/relay/cloud-event.js';
import { configDefaults } from '../../../edge/core/schema-defaults.js';
import { RecorderConfigSchema } from '../../../edge/relay/outbox-config.js';
import type { OutboxRow, RelayClass, RelayEvent } from '../../../edge/relay/outbox.js';
import { RelayRecorder } from '../../../edge/relay/relay-recorder.js';

type Append = { event: RelayEvent; relayClass: RelayClass; resolve: () => void; reject: (e: Error) => void };

function setup(options: { hold?: boolean } = {}) {
  const appends: Append[] = [];
  const handlerErrors: string[] = [];
  const failed: string[] = [];
  let clock = Date.UTC(2026, 11, 1, 4, 59, 0);
  const bus = new GatewayBus({ onHandlerError: ({ handler }) => handlerErrors.push(handler) });
  const ackGates = new AckGates();
  let n = 0;
  const recorder = new RelayRecorder({
    bus,
    ackGates,
    outbox: {
      append: (event, relayClass) =>
        new Promise<OutboxRow>((resolve, reject) => {
          const row = { seq: ++n, relayClass, id: event.id, type: event.type, createdAt: clock, body: JSON.stringify(event) };
          const entry: Append = { event, relayClass, resolve: () => resolve(row), reject };
          appends.push(entry);
          if (!options.hold) entry.resolve();
        }),
    },
    storeId: 'store-1',
    newId: () => crypto.randomUUID(),
    now: () => clock,
    log: pino({ level: 'silent' }),
    config: configDefaults(RecorderConfigSchema),
    facings: () => [
      { shelfId: 'shelf-a', facing: 1 },
      { shelfId: 'shelf-a', facing: 2 },
      { shelfId: 'shelf-b', facing: 1 },
    ],
    onAppendFailed: (type) => failed.push(type),
  });
  return {
    bus,
    ackGates,
    recorder,
    appends,
    handlerErrors,
    failed,
    setClock: (t: number) => (clock = t),
    get clock() {
      return clock;
    },
  };
}

const kiosk = (payload: Extract<DeviceMessage, { key: 'kiosk/event' }>['payload']): Extract<DeviceMessage, { key: 'kiosk/event' }> => ({
  key: 'kiosk/event',
  deviceId: 'kiosk-1',
  payload,
  receivedAt: 1,
});
const running: RelayRecorder[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) await r.stop();
});

describe('RelayRecorder', () => {
  it('appends each routed bus event as a valid CloudEvent, in its class, under the relay.* handler names', async () => {
    const t = setup();
    running.push(t.recorder);
    await t.recorder.start();
    expect(t.bus.subscriberCount('alert.changed')).toBe(1);
    const alert = {
      id: 'a1',
      kind: 'low-stock',
      key: 'k',
      state: 'open',
      severity: 'warning',
      title: 'Low',
      openedAt: 1,
      updatedAt: 1,
    } as const;
    t.bus.emit('alert.changed', { alert, previous: undefined });
    t.bus.emit('device.connection', { deviceId: 'shelf-a', kind: 'shelf', source: 'mqtt', connected: true, at: 1 });
    t.bus.emit('device.message:kiosk/event', kiosk({ type: 'basket-closed', basketId: 'b1', ts: 1 }));
    expect(t.appends.map((a) => [a.event.type, a.relayClass])).toEqual([
      ['store.alert.changed', 'critical'],
      ['store.device.health', 'operational'],
      ['store.kiosk.event', 'critical'],
      ['store.kiosk.transaction', 'critical'],
    ]);
    for (const a of t.appends) expect(cloudEventProblems(a.event)).toEqual([]);
    expect(t.appends[0]?.event).toMatchObject({ source: '/stores/store-1', subject: 'alert/a1' });
    await Promise.resolve();
    expect(t.recorder.counts.appended).toBe(4);
  });

  it('sends the hourly aggregates of the hour that ended, one event per shelf with readings', async () => {
    const t = setup();
    running.push(t.recorder);
    await t.recorder.start();
    for (const w of [100, 200, 300])
      t.bus.emit('device.message:shelf/weight', {
        key: 'shelf/weight',
        deviceId: 'shelf-a',
        payload: { facing: 2, weightG: w, ts: 1 },
        receivedAt: 1,
      });
    t.bus.emit('device.message:shelf/weight', {
      key: 'shelf/weight',
      deviceId: 'shelf-x',
      payload: { facing: 1, weightG: 5, ts: 1 },
      receivedAt: 1,
    });
    t.recorder.closeHour(t.clock + 30_000); // same hour: nothing
    expect(t.appends).toHaveLength(0);
    t.setClock(Date.UTC(2026, 11, 1, 5, 0, 1));
    t.recorder.closeHour();
    expect(t.appends).toHaveLength(1);
    expect(t.appends[0]).toMatchObject({
      relayClass: 'telemetry',
      event: {
        type: 'store.telemetry.hourly',
        subject: 'shelf/shelf-a',
        data: {
          shelfId: 'shelf-a',
          hourStart: '2026-12-01T04:00:00.000Z',
          hourEnd: '2026-12-01T05:00:00.000Z',
          facings: [{ facing: 2, count: 3, minWeightG: 100, maxWeightG: 300, meanWeightG: 200 }],
        },
      },
    });
  });

  it('counts and logs a failed append; no unhandled rejection', async () => {
    const t = setup({ hold: true });
    running.push(t.recorder);
    await t.recorder.start();
    t.bus.emit('device.lifecycle', { deviceId: 'esl-1', kind: 'esl', change: 'removed', at: 1 });
    t.appends[0]?.reject(new Error('disk full'));
    await new Promise((r) => setTimeout(r, 10));
    expect(t.recorder.counts.appendFailures).toBe(1);
    expect(t.failed).toEqual(['store.device.health']);
    expect(t.handlerErrors).toEqual([]);
  });

  it('holds a kiosk message ack until every append of that message is durable; rejects when one fails', async () => {
    const t = setup({ hold: true });
    running.push(t.recorder);
    await t.recorder.start();
    const gate = t.ackGates.gateFor('kiosk/event');
    expect(gate).toBeDefined();
    expect(t.ackGates.gateFor('shelf/weight')).toBeUndefined();

    const closed = kiosk({ type: 'basket-closed', basketId: 'b1', ts: 1 });
    t.bus.emit('device.message:kiosk/event', closed);
    let acked = false;
    const held = gate?.(closed)?.then(() => (acked = true));
    expect(held).toBeDefined();
    t.appends[0]?.resolve();
    await new Promise((r) => setTimeout(r, 5));
    expect(acked).toBe(false); // the transaction is not durable yet
    t.appends[1]?.resolve();
    await held;
    expect(acked).toBe(true);

    const failing = kiosk({ type: 'assist-requested', ts: 2 });
    t.bus.emit('device.message:kiosk/event', failing);
    const rejected = gate?.(failing);
    t.appends[2]?.reject(new Error('backpressure'));
    await expect(rejected).rejects.toThrow('backpressure');
    // a message the recorder never saw has nothing to wait for
    expect(gate?.(kiosk({ type: 'assist-requested', ts: 3 }))).toBeUndefined();

    await t.recorder.stop();
    expect(t.ackGates.gateFor('kiosk/event')).toBeUndefined();
    expect(t.bus.subscriberCount('device.message:kiosk/event')).toBe(0);
  });
});
