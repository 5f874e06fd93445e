/**
 * A kiosk's QoS 1 PUBLISH is PUBACKed only once its event is durable in the relay's outbox: the real broker, the real
 * SQLite outbox file, the recorder wired to the gateway's bus and ack gates (as the relay module does).
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configDefaults } from '../../edge/core/schema-defaults.js';
import { OutboxConfigSchema, RecorderConfigSchema } from '../../edge/relay/outbox-config.js';
import { OUTBOX_FILE, SqliteOutbox } from '../../edge/relay/outbox-store.js';
import type { OutboxRow, RelayClass, RelayEvent } from '../../edge/relay/outbox.js';
import { RelayRecorder } from '../../edge/relay/relay-recorder.js';
import { SqliteDatabase } from '../../edge/storage/database.js';
import { eventually, nextEvent, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

let gw: TestGateway;
let outbox: SqliteOutbox;
let recorder: RelayRecorder;
/** kiosk appends to refuse before they reach the outbox (a failing disk, seen from the recorder) */
let failAppends = 0;
/** a write lock a failed test left held: released first, or the outbox's stop waits out busy_timeout */
let heldLock: (() => Promise<void>) | undefined;

beforeEach(async () => {
  gw = await startTestGateway();
  outbox = new SqliteOutbox(gw.dataDir, configDefaults(OutboxConfigSchema), {
    storeId: gw.config.storeId,
    newId: randomUUID,
    now: Date.now,
    log: pino({ level: 'silent' }),
  });
  await outbox.start();
  failAppends = 0;
  recorder = new RelayRecorder({
    bus: gw.built.bus,
    ackGates: gw.built.devices.ackGates,
    outbox: {
      append: (event: RelayEvent, relayClass: RelayClass): Promise<OutboxRow> => {
        if (failAppends > 0 && event.type.startsWith('store.kiosk.')) {
          failAppends--;
          return Promise.reject(new Error('disk refused the write'));
        }
        return outbox.append(event, relayClass);
      },
    },
    storeId: gw.config.storeId,
    newId: randomUUID,
    now: Date.now,
    log: pino({ level: 'silent' }),
    config: configDefaults(RecorderConfigSchema),
    facings: () => [],
  });
  await recorder.start();
});

afterEach(async () => {
  await heldLock?.();
  await recorder.stop();
  await gw.stop();
  await outbox.stop();
  await gw.dispose();
});

const topic = 'store/test-store/kiosk/kiosk-1/event';

/** Publishes at QoS 1 and records when the PUBACK came. */
function publishTracked(client: MqttClient, t: string, payload: object): { acked: () => boolean; done: Promise<void> } {
  let acked = false;
  const done = new Promise<void>((resolve, reject) =>
    client.publish(t, JSON.stringify(payload), { qos: 1 }, (error) => {
      if (error) return reject(error);
      acked = true;
      resolve();
    }),
  );
  done.catch(() => undefined);
  return { acked: () => acked, done };
}

/** Another connection holds the outbox file's write lock: the outbox's group commit waits (busy_timeout) until released. */
async function holdOutboxCommits(): Promise<() => Promise<void>> {
  const blocker = new SqliteDatabase(join(gw.dataDir, OUTBOX_FILE));
  await blocker.open();
  await blocker.exec('BEGIN IMMEDIATE');
  heldLock = async () => {
    heldLock = undefined;
    await blocker.exec('ROLLBACK');
    await blocker.close();
  };
  return heldLock;
}

async function kioskRows(): Promise<OutboxRow[]> {
  const rows = await outbox.read('critical', 0, 1000);
  outbox.release(rows.map((r) => r.seq));
  return rows.filter((r) => r.type.startsWith('store.kiosk.'));
}

describe('durable PUBACK for kiosk events', () => {
  it('holds the PUBACK while the outbox cannot commit, and sends it once the event is on disk', async () => {
    const kiosk = await gw.connectDevice('kiosk-1', 'kiosk');
    const shelf = await gw.connectDevice('shelf-a', 'shelf');
    await eventually(
      () => (outbox.pendingAppends === 0 && outbox.counts.commits > 0 ? true : undefined),
      2_000,
      'the connection events to be committed',
    );
    const release = await holdOutboxCommits();
    const commitsBefore = outbox.counts.commits;
    const seen = nextEvent(gw, 'device.message:kiosk/event', (m) => m.payload.type === 'basket-closed');
    const closed = publishTracked(kiosk, topic, { type: 'basket-closed', basketId: 'b-1', ts: Date.now() });
    // the gateway has the message (alerts and the recorder got it) and the outbox tries to commit it
    await seen;
    await eventually(() => (outbox.pendingAppends === 0 ? true : undefined), 2_000, 'the commit to start');
    // a shelf reading has no gate: its PUBACK does not wait for the outbox
    await shelf.publishAsync('store/test-store/shelf/shelf-a/weight', JSON.stringify({ facing: 1, weightG: 5_000, ts: Date.now() }), {
      qos: 1,
    });
    expect(closed.acked()).toBe(false);
    expect(outbox.counts.commits).toBe(commitsBefore);

    await release();
    await closed.done;
    // acknowledged only after COMMIT: the rows are there, the kiosk event and its transaction
    expect(outbox.counts.commits).toBeGreaterThan(commitsBefore);
    const rows = await kioskRows();
    expect(rows.map((r) => r.type)).toEqual(['store.kiosk.event', 'store.kiosk.transaction']);
    expect(JSON.parse((rows[1] as OutboxRow).body)).toMatchObject({
      type: 'store.kiosk.transaction',
      data: { basketId: 'b-1', kioskId: 'kiosk-1', complete: false },
    });
  });

  it('does not acknowledge an event it could not make durable: the connection closes and the kiosk resends it', async () => {
    const kiosk = await gw.connectDevice('kiosk-1', 'kiosk', { reconnectPeriod: 200, clean: false });
    let closes = 0;
    kiosk.on('close', () => closes++);
    failAppends = 1;
    const published = publishTracked(kiosk, topic, { type: 'assist-requested', basketId: 'b-2', ts: 1_700_000_000_000 });
    await eventually(() => (closes > 0 ? true : undefined), 5_000, 'the connection to close');
    expect(published.acked()).toBe(false);
    expect(recorder.counts.appendFailures).toBe(1);
    // mqtt.js resends the unacknowledged PUBLISH after reconnecting; this time the append succeeds
    await published.done;
    const rows = await kioskRows();
    expect(rows).toHaveLength(1);
    expect(JSON.parse((rows[0] as OutboxRow).body)).toMatchObject({
      data: { type: 'assist-requested', basketId: 'b-2', ts: 1_700_000_000_000 },
    });
  });
});
