/**
 * HQ → store commands through a real Mosquitto: a price command delivered twice runs its handler once and its result
 * event reaches HQ; without a handler a command is reported `unsupported`; a command sent while the store is offline
 * arrives when it reconnects (persistent session).
 */
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import type { CommandResult } from '../../edge/relay/hq-commands.js';
import type { RelayStatus } from '../../edge/relay/relay-status.js';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import { hasMosquitto, hqOverrides, hqSubscriber, startMosquitto } from '../helpers/mosquitto.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

const relayStatus = async (gw: TestGateway) => (await (await gw.api('/api/relay')).json()) as RelayStatus;

async function setup() {
  const hq = await startMosquitto();
  cleanups.push(() => hq.stop());
  const proxy = await startFaultProxy({ port: hq.port });
  cleanups.push(() => proxy.close());
  const sub = await hqSubscriber(hq.url, 'hq-it/test-store/events/store.command.result');
  cleanups.push(() => sub.close());
  const operator = await mqtt.connectAsync(hq.url, { protocolVersion: 5, reconnectPeriod: 0 });
  cleanups.push(() => operator.endAsync(true));
  const gw = await startTestGateway({ overrides: { hq: hqOverrides(proxy.url) } });
  cleanups.push(() => gw.dispose());
  await eventually(async () => ((await relayStatus(gw)).link.up ? true : undefined), 5_000, 'link up');
  // the subscription is made right after the CONNACK; give it a moment before commands are published
  await new Promise((r) => setTimeout(r, 200));
  const send = (type: string, body: unknown) =>
    operator.publishAsync(`hq-it/test-store/commands/${type}`, JSON.stringify(body), { qos: 1 });
  const results = () => sub.messages.map((m) => m.event.data as CommandResult);
  return { hq, proxy, sub, gw, send, results };
}

const priceCommand = {
  id: 'cmd-price-1',
  type: 'price-campaign',
  campaignId: 'summer',
  prices: [{ sku: '4000000000017', priceCents: 169 }],
};

describe.skipIf(!hasMosquitto)('relay: HQ commands', () => {
  it('a price command delivered twice reaches its handler once; its result event arrives at HQ', async () => {
    const { gw, send, results, sub } = await setup();
    const seen: unknown[] = [];
    gw.built.unregisterHqCommandHandlers(); // a stand-in handler counts the runs (relay-price-command.test.ts runs the real one)
    gw.built.relay.commands!.registerHandler('price-campaign', async (command) => {
      seen.push(command);
      return { outcome: 'ok', detail: { labels: command.prices.length } };
    });
    await send('price-campaign', priceCommand);
    await send('price-campaign', priceCommand);
    await eventually(() => (sub.messages.length >= 2 ? true : undefined), 5_000, 'two result reports');
    expect(seen).toHaveLength(1);
    expect(new Set(sub.messages.map((m) => m.event.id)).size).toBe(1); // HQ dedupes the second report by id
    expect(results()[0]).toMatchObject({ commandId: 'cmd-price-1', commandType: 'price-campaign', outcome: 'ok', detail: { labels: 1 } });
    const status = await relayStatus(gw);
    expect(status.commands).toMatchObject({ ok: 1, replays: 1 });
  });

  it('reports unsupported without a handler and rejected with the reason for a malformed command', async () => {
    const { gw, send, results, sub } = await setup();
    gw.built.unregisterHqCommandHandlers();
    await send('label-flash', { id: 'cmd-flash-1', type: 'label-flash', labels: ['esl-1'] });
    await send('price-campaign', { id: 'cmd-bad-1', type: 'price-campaign', campaignId: 'x' });
    await eventually(() => (sub.messages.length >= 2 ? true : undefined), 5_000, 'two results');
    expect(results().find((r) => r.commandId === 'cmd-flash-1')).toMatchObject({ outcome: 'unsupported' });
    expect(results().find((r) => r.commandId === 'cmd-bad-1')).toMatchObject({
      outcome: 'rejected',
      reason: expect.stringContaining('prices') as string,
    });
  });

  it('a command sent while the store is offline arrives when it reconnects (persistent session)', async () => {
    const { gw, proxy, send, results } = await setup();
    proxy.setMode('cut');
    await eventually(async () => ((await relayStatus(gw)).link.up ? undefined : true), 5_000, 'link down');
    await send('config-reload', { id: 'cmd-offline-1', type: 'config-reload' });
    proxy.setMode('pass');
    const result = await eventually(() => results().find((r) => r.commandId === 'cmd-offline-1'), 8_000, 'result after reconnect');
    expect(result.outcome).toBe('unsupported');
  });
});
