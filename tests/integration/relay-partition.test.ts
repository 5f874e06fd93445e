/**
 * Partition: HQ (Mosquitto) is cut off behind a fault proxy while a kiosk publishes 10,000 QoS 1 events; when the link
 * heals, every event reaches HQ exactly once after dedupe by id, in order, flagged historical — and a live event sent
 * during the drain arrives within a second, unflagged.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { RelayStatus } from '../../edge/relay/relay-status.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { hasMosquitto, hqOverrides, hqSubscriber, startMosquitto, type HqMessage } from '../helpers/mosquitto.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

const relayStatus = async (gw: TestGateway) => (await (await gw.api('/api/relay')).json()) as RelayStatus;
const basketOf = (m: HqMessage) => (m.event.data as { basketId?: string }).basketId;

describe.skipIf(!hasMosquitto)('relay: partition and heal', () => {
  it('10,000 kiosk events queued while HQ is cut off arrive after the heal once each, in order, historical; a live one first', async () => {
    const hq = await startMosquitto();
    cleanups.push(() => hq.stop());
    const proxy: FaultProxy = await startFaultProxy({ port: hq.port });
    cleanups.push(() => proxy.close());
    const sub = await hqSubscriber(hq.url, 'hq-it/test-store/events/store.kiosk.event');
    cleanups.push(() => sub.close());
    // 10,000 events from one kiosk at once: above its message rate limit, which would pace them over ~16 s
    const deviceRateLimit = { messagesPerSecond: 100_000, burst: 100_000, disconnectAfterMs: 10_000 };
    const gw = await startTestGateway({
      overrides: { mqtt: { deviceRateLimit }, hq: hqOverrides(proxy.url, { drain: { ratePerS: 4_000, burst: 200 } }) },
    });
    cleanups.push(() => gw.dispose());
    await eventually(async () => ((await relayStatus(gw)).link.up ? true : undefined), 5_000, 'link up');

    proxy.setMode('cut');
    const down = await eventually(
      async () => {
        const s = await relayStatus(gw);
        return s.link.up ? undefined : s;
      },
      5_000,
      'link down',
    );
    expect(down.link.since).not.toBeNull();

    const kiosk = await gw.connectDevice('kiosk-1', 'kiosk');
    const N = 10_000;
    const publishes: Promise<unknown>[] = [];
    for (let i = 0; i < N; i++) {
      publishes.push(
        kiosk.publishAsync(
          'store/test-store/kiosk/kiosk-1/event',
          JSON.stringify({ type: 'basket-open', basketId: `b-${i}`, ts: Date.now() }),
          { qos: 1 },
        ),
      );
    }
    await Promise.all(publishes); // every PUBACK: every event is durable in the outbox
    const backlog = await relayStatus(gw);
    expect(backlog.perClass.critical.rows).toBeGreaterThanOrEqual(N);
    expect(backlog.perClass.critical.backlogRows).toBe(backlog.perClass.critical.rows);
    expect(sub.messages).toHaveLength(0);

    proxy.setMode('pass');
    await eventually(() => (sub.messages.length >= 100 ? true : undefined), 5_000, 'the drain started');
    const liveSentAt = Date.now();
    await kiosk.publishAsync(
      'store/test-store/kiosk/kiosk-1/event',
      JSON.stringify({ type: 'basket-open', basketId: 'live-1', ts: Date.now() }),
      { qos: 1 },
    );
    const live = await eventually(() => sub.messages.find((m) => basketOf(m) === 'live-1'), 2_000, 'live event at HQ');
    expect(live.receivedAt - liveSentAt).toBeLessThan(1_000);
    expect(live.historical).toBe(false);
    expect(sub.messages.filter((m) => m.historical).length).toBeLessThan(N); // it did not wait for the backlog

    await eventually(() => (new Set(sub.messages.map(basketOf)).size >= N + 1 ? true : undefined), 15_000, 'all events at HQ');
    // dedupe by id as HQ does, keeping the first copy
    const seen = new Set<string>();
    const unique = sub.messages.filter((m) => (seen.has(m.event.id) ? false : (seen.add(m.event.id), true)));
    expect(unique).toHaveLength(N + 1);
    expect(sub.messages.length - unique.length).toBeLessThanOrEqual(200); // re-sends only of what was in flight at a cut
    const backlogOrder = unique.filter((m) => basketOf(m) !== 'live-1').map((m) => Number(basketOf(m)!.slice(2)));
    expect(backlogOrder).toEqual([...Array(N).keys()]);
    expect(unique.filter((m) => basketOf(m) !== 'live-1').every((m) => m.historical)).toBe(true);

    const after = await eventually(
      async () => {
        const s = await relayStatus(gw);
        return s.perClass.critical.rows === 0 ? s : undefined;
      },
      5_000,
      'outbox drained',
    );
    expect(after.lanes.backlog.acked).toBeGreaterThanOrEqual(N);
    expect(after.lanes.live.acked).toBeGreaterThanOrEqual(1);
  }, 30_000);
});
