/**
 * HQ black-holed (connections accepted, nothing answered): the gateway notices the dead link, keeps serving devices
 * and alerts, keeps nothing in flight, keeps its outbox within budget — and relays everything kept once HQ answers again.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { RelayStatus } from '../../edge/relay/relay-status.js';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import { hasMosquitto, hqOverrides, hqSubscriber, startMosquitto } from '../helpers/mosquitto.js';
import { eventually, nextEvent, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

const KiB = 1024;
const relayStatus = async (gw: TestGateway) => (await (await gw.api('/api/relay')).json()) as RelayStatus;

describe.skipIf(!hasMosquitto)('relay: black-holed HQ', () => {
  it('detects the hang, keeps serving devices and alerts, stays within budget, and delivers after the heal', async () => {
    const hq = await startMosquitto();
    cleanups.push(() => hq.stop());
    const proxy = await startFaultProxy({ port: hq.port });
    cleanups.push(() => proxy.close());
    const sub = await hqSubscriber(hq.url, 'hq-it/test-store/events/#');
    cleanups.push(() => sub.close());
    const budgets = { criticalBytes: 128 * KiB, operationalBytes: 64 * KiB, telemetryBytes: 64 * KiB, totalBytes: 192 * KiB };
    const gw = await startTestGateway({
      overrides: { hq: hqOverrides(proxy.url, { keepaliveSec: 1, outbox: { budgets, droppedReportIntervalMs: 200 } }) },
    });
    cleanups.push(() => gw.dispose());
    await eventually(async () => ((await relayStatus(gw)).link.up ? true : undefined), 5_000, 'link up');

    const liveEvents: string[] = [];
    gw.built.bus.on('relay.status', 'test', (s) => liveEvents.push(s.link.up ? 'up' : 'down'));
    proxy.setMode('black-hole');
    // keepalive 1 s: a link that stops answering is down within ~2 s, and new attempts time out (connectTimeoutMs)
    await eventually(async () => ((await relayStatus(gw)).link.up ? undefined : true), 5_000, 'hang detected');
    expect(liveEvents).toContain('down');

    // devices and alerts go on: a kiosk asks for help → an alert, while events pile up for HQ
    const kiosk = await gw.connectDevice('kiosk-1', 'kiosk');
    const alert = nextEvent(gw, 'alert.changed', () => true);
    await kiosk.publishAsync(
      'store/test-store/kiosk/kiosk-1/event',
      JSON.stringify({ type: 'assist-requested', reason: 'help', ts: Date.now() }),
      { qos: 1 },
    );
    await alert;
    const alerts = (await (await gw.api('/api/alerts')).json()) as { alerts: unknown[] };
    expect(alerts.alerts.length).toBeGreaterThan(0);

    // ~400 KiB of operational events into a 64 KiB class budget
    const filler = 'y'.repeat(900);
    const appends: Promise<unknown>[] = [];
    for (let i = 0; i < 400; i++) {
      appends.push(
        gw.built.relay.outbox!.append(
          {
            specversion: '1.0',
            id: `op-${i}`,
            source: '/stores/test-store',
            type: 'store.test.operational',
            time: new Date().toISOString(),
            datacontenttype: 'application/json',
            data: { i, filler },
          },
          'operational',
        ),
      );
    }
    await Promise.all(appends);
    const during = await relayStatus(gw);
    expect(during.link.up).toBe(false);
    expect(during.inFlight).toBe(0);
    expect(during.perClass.operational.bytes).toBeLessThanOrEqual(budgets.operationalBytes);
    expect(during.perClass.operational.dropped.count).toBeGreaterThan(0);
    const heap = process.memoryUsage().heapUsed;
    expect(heap).toBeLessThan(1024 * 1024 * 1024);

    proxy.setMode('pass');
    await eventually(
      () => (sub.messages.some((m) => m.event.id === 'op-399') ? true : undefined),
      8_000,
      'newest event at HQ after the heal',
    );
    const kept = during.perClass.operational.rows;
    await eventually(
      () => (sub.messages.filter((m) => m.event.type === 'store.test.operational').length >= kept ? true : undefined),
      5_000,
      'all kept events',
    );
    expect(sub.messages.some((m) => m.event.type === 'com.smartstore.store.kiosk.event')).toBe(true);
    expect(sub.messages.some((m) => m.event.type === 'com.smartstore.store.alert.changed')).toBe(true);
  }, 20_000);
});
