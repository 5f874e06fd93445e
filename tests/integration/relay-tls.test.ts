/** The relay connects to HQ over TLS, trusting the CA from `hq.tls.ca` — and refuses a broker it cannot verify. */
import { afterEach, describe, expect, it } from 'vitest';
import type { RelayStatus } from '../../edge/relay/relay-status.js';
import { hasMosquitto, hqOverrides, hqSubscriber, startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

const relayStatus = async (gw: TestGateway) => (await (await gw.api('/api/relay')).json()) as RelayStatus;

describe.skipIf(!hasMosquitto)('relay: TLS to HQ', () => {
  let hq: Mosquitto;

  it('relays over mqtts:// with the test CA', async () => {
    hq = await startMosquitto({ tls: true });
    cleanups.push(() => hq.stop());
    const sub = await hqSubscriber(hq.url, 'hq-it/test-store/events/#');
    cleanups.push(() => sub.close());
    const gw = await startTestGateway({ overrides: { hq: hqOverrides(hq.tlsUrl!, { tls: { ca: hq.caFile } }) } });
    cleanups.push(() => gw.dispose());
    await eventually(async () => ((await relayStatus(gw)).link.up ? true : undefined), 5_000, 'TLS link up');
    const kiosk = await gw.connectDevice('kiosk-1', 'kiosk');
    await kiosk.publishAsync(
      'store/test-store/kiosk/kiosk-1/event',
      JSON.stringify({ type: 'basket-open', basketId: 'tls-1', ts: Date.now() }),
      { qos: 1 },
    );
    const got = await eventually(
      () => sub.messages.find((m) => (m.event.data as { basketId?: string }).basketId === 'tls-1'),
      3_000,
      'event over TLS',
    );
    expect(got.topic).toBe('hq-it/test-store/events/store.kiosk.event');
    expect(got.event.source).toBe('/stores/test-store');
  });

  it('stays down, naming the error, when it cannot verify HQ (no CA configured)', async () => {
    hq = await startMosquitto({ tls: true });
    cleanups.push(() => hq.stop());
    const gw = await startTestGateway({ overrides: { hq: hqOverrides(hq.tlsUrl!) } });
    cleanups.push(() => gw.dispose());
    const status = await eventually(
      async () => {
        const s = await relayStatus(gw);
        return s.link.attempts >= 2 ? s : undefined;
      },
      5_000,
      'failed attempts',
    );
    expect(status.link.up).toBe(false);
    expect(status.link.lastError).toMatch(/certificate/i);
  });
});
