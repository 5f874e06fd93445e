/**
 * The relay's status where people look: `GET /api/relay` (viewer, schema-checked), the live stream's `relay` events
 * that drive the staff page's "HQ offline since …", and the gauges on /metrics.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { RelayStatus } from '../../edge/relay/relay-status.js';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import { hasMosquitto, hqOverrides, startMosquitto } from '../helpers/mosquitto.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';
import { openLiveStream } from '../helpers/live-stream.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

const relayStatus = async (gw: TestGateway) => (await (await gw.api('/api/relay')).json()) as RelayStatus;

/** The `relay` events of the live stream, parsed. */
function relayEvents(url: string): { events: RelayStatus[]; close: () => void } {
  const stream = openLiveStream(url);
  return {
    get events() {
      return stream.events.filter((e) => e.event === 'relay').map((e) => e.data as RelayStatus);
    },
    close: stream.close,
  };
}

describe('relay status', () => {
  it('reports the relay disabled when hq.enabled is false', async () => {
    const gw = await startTestGateway();
    cleanups.push(() => gw.dispose());
    const status = await relayStatus(gw);
    expect(status.enabled).toBe(false);
    expect(status.link.up).toBe(false);
    expect((await gw.api('/api/relay', { token: null })).status).toBe(401);
  });

  it.skipIf(!hasMosquitto)('link down and up reach the API, the live stream and /metrics', async () => {
    const hq = await startMosquitto();
    cleanups.push(() => hq.stop());
    const proxy = await startFaultProxy({ port: hq.port });
    cleanups.push(() => proxy.close());
    const gw = await startTestGateway({ overrides: { hq: hqOverrides(proxy.url) } });
    cleanups.push(() => gw.dispose());
    await eventually(async () => ((await relayStatus(gw)).link.up ? true : undefined), 5_000, 'link up');
    const stream = relayEvents(gw.httpUrl);
    cleanups.push(async () => stream.close());
    await new Promise((r) => setTimeout(r, 200)); // the stream is open

    const cutAt = Date.now();
    proxy.setMode('cut');
    const down = await eventually(() => stream.events.find((s) => !s.link.up), 5_000, 'relay event: link down');
    expect(Date.parse(down.link.since!)).toBeGreaterThanOrEqual(cutAt - 1_000);
    const api = await relayStatus(gw);
    expect(api).toMatchObject({ enabled: true, link: { up: false, since: down.link.since } });
    expect(Object.keys(api.perClass)).toEqual(['critical', 'operational', 'telemetry']);
    const metrics = await (await gw.api('/metrics')).text();
    expect(metrics).toMatch(/^smartstore_relay_link_up 0$/m);
    expect(metrics).toMatch(/^smartstore_relay_budget_bytes\{class="critical"\} \d+$/m);

    proxy.setMode('pass');
    await eventually(() => stream.events.find((s, i) => i > stream.events.indexOf(down) && s.link.up), 5_000, 'relay event: link up');
    expect(await (await gw.api('/metrics')).text()).toMatch(/^smartstore_relay_link_up 1$/m);
  });
});
