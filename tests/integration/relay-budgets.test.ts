/**
 * Budgets end to end: with HQ cut off, the outbox is filled past its total budget; the lowest class (telemetry) is
 * dropped first, oldest first, the higher class keeps everything, and after the heal the `store.relay.dropped` reports
 * HQ receives count exactly the events that never arrive.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { RelayClass } from '../../edge/relay/outbox.js';
import type { RelayStatus } from '../../edge/relay/relay-status.js';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import { hasMosquitto, hqOverrides, hqSubscriber, startMosquitto } from '../helpers/mosquitto.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

const KiB = 1024;
const relayStatus = async (gw: TestGateway) => (await (await gw.api('/api/relay')).json()) as RelayStatus;
type Dropped = { perClass: Record<RelayClass, { count: number }> };

describe.skipIf(!hasMosquitto)('relay: disk budgets', () => {
  it('drops the lowest class first, oldest first, and reports exactly what HQ will never get', async () => {
    const hq = await startMosquitto();
    cleanups.push(() => hq.stop());
    const proxy = await startFaultProxy({ port: hq.port });
    cleanups.push(() => proxy.close());
    proxy.setMode('cut');
    const sub = await hqSubscriber(hq.url, 'hq-it/test-store/events/#');
    cleanups.push(() => sub.close());
    const budgets = { criticalBytes: 256 * KiB, operationalBytes: 192 * KiB, telemetryBytes: 192 * KiB, totalBytes: 256 * KiB };
    const gw = await startTestGateway({
      overrides: { hq: hqOverrides(proxy.url, { outbox: { budgets, droppedReportIntervalMs: 0 }, drain: { ratePerS: 0 } }) },
    });
    cleanups.push(() => gw.dispose());
    const outbox = gw.built.relay.outbox!;
    const filler = 'x'.repeat(900); // ~1 KiB per event
    const event = (type: string, i: number) => ({
      specversion: '1.0' as const,
      id: `${type}-${i}`,
      source: '/stores/test-store',
      type,
      time: new Date().toISOString(),
      datacontenttype: 'application/json' as const,
      data: { i, filler },
    });

    const OPS = 150;
    const TEL = 250;
    for (let i = 0; i < OPS; i++) await outbox.append(event('store.test.operational', i), 'operational');
    const appends: Promise<unknown>[] = [];
    for (let i = 0; i < TEL; i++) appends.push(outbox.append(event('store.test.telemetry', i), 'telemetry'));
    await Promise.all(appends);

    const full = await relayStatus(gw);
    // the drop reports (critical) are never dropped: they are the budget's headroom, so the events proper stay within it
    expect(full.perClass.operational.bytes + full.perClass.telemetry.bytes).toBeLessThanOrEqual(budgets.totalBytes);
    expect(full.perClass.critical.rows).toBeGreaterThan(0);
    expect(full.perClass.operational.dropped.count).toBe(0);
    expect(full.perClass.telemetry.dropped.count).toBeGreaterThan(50);
    expect(full.perClass.telemetry.forecastFullInS === null || full.perClass.telemetry.forecastFullInS >= 0).toBe(true);

    proxy.setMode('pass');
    await eventually(
      async () =>
        (await relayStatus(gw)).perClass.telemetry.rows === 0 && (await relayStatus(gw)).perClass.critical.rows === 0 ? true : undefined,
      8_000,
      'drained',
    );
    await eventually(
      () => (sub.ids().size >= OPS + TEL - full.perClass.telemetry.dropped.count ? true : undefined),
      5_000,
      'HQ has the rest',
    );

    const ids = sub.ids();
    const operational = [...Array(OPS).keys()].filter((i) => ids.has(`store.test.operational-${i}`));
    expect(operational).toHaveLength(OPS);
    const missingTelemetry = [...Array(TEL).keys()].filter((i) => !ids.has(`store.test.telemetry-${i}`));
    // oldest first: what is missing is a prefix
    expect(missingTelemetry).toEqual([...Array(missingTelemetry.length).keys()]);
    const reports = sub.messages.filter((m) => m.event.type === 'com.smartstore.store.relay.dropped');
    const unique = new Map(reports.map((m) => [m.event.id, m.event.data as Dropped]));
    const reported = (c: RelayClass) => [...unique.values()].reduce((n, d) => n + d.perClass[c].count, 0);
    expect(reported('telemetry')).toBe(missingTelemetry.length);
    expect(reported('operational')).toBe(0);
    expect(reported('critical')).toBe(0);
    expect(reported('telemetry')).toBe(full.perClass.telemetry.dropped.count);
  }, 20_000);
});
