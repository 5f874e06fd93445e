/** The forwarder against a real Mosquitto (HQ), with an in-memory outbox and a fault proxy in between. */
import mqtt, { type IClientOptions } from 'mqtt';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { Forwarder, type ForwarderOptions } from '../../../edge/relay/forwarder.js';
import type { RelayClass } from '../../../edge/relay/outbox.js';
import { startFaultProxy, type FaultProxy } from '../../helpers/fault-proxy.js';
import { MemoryOutbox, testEvent } from '../../helpers/memory-outbox.js';
import { hasMosquitto, hqSubscriber, startMosquitto, type Mosquitto } from '../../helpers/mosquitto.js';
import { eventually } from '../../helpers/test-gateway.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

function options(url: string, over: Partial<ForwarderOptions> = {}): ForwarderOptions {
  return {
    url,
    storeId: 'store-7',
    clientId: `smartstore-edge-store-7-${Math.random().toString(16).slice(2)}`,
    topicPrefix: 'hq-test',
    username: null,
    password: null,
    sessionExpirySec: 60,
    keepaliveSec: 5,
    connectTimeoutMs: 1_000,
    reconnectMinMs: 50,
    reconnectMaxMs: 200,
    maxInFlight: 50,
    drain: { ratePerS: 0, burst: 100, jitter: 0.2 },
    readBatch: 200,
    ...over,
  };
}

async function setup(
  over: Partial<ForwarderOptions> = {},
  hqOptions: {
    proxy?: boolean;
    extraConfig?: string[];
    connect?: (url: string, o: IClientOptions) => mqtt.MqttClient;
    urlCredentials?: string;
  } = {},
) {
  const hq: Mosquitto = await startMosquitto({ extraConfig: hqOptions.extraConfig ?? [] });
  cleanups.push(() => hq.stop());
  let proxy: FaultProxy | undefined;
  if (hqOptions.proxy) {
    proxy = await startFaultProxy({ port: hq.port });
    cleanups.push(() => (proxy as FaultProxy).close());
  }
  const sub = await hqSubscriber(hq.url, 'hq-test/store-7/events/#');
  cleanups.push(() => sub.close());
  const outbox = new MemoryOutbox();
  const logLines: string[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => void logLines.push(line) });
  const url = (proxy?.url ?? hq.url).replace('//', hqOptions.urlCredentials ? `//${hqOptions.urlCredentials}@` : '//');
  const forwarder = new Forwarder(options(url, over), {
    outbox,
    log,
    now: Date.now,
    ...(hqOptions.connect ? { connect: hqOptions.connect } : {}),
  });
  cleanups.push(() => forwarder.stop());
  return { hq, proxy, sub, outbox, forwarder, logLines };
}

const seedMixed = (outbox: MemoryOutbox, n: number) => {
  const classes: RelayClass[] = ['telemetry', 'operational', 'critical'];
  for (let i = 0; i < n; i++) {
    const c = classes[i % 3] as RelayClass;
    outbox.seed(testEvent(`store.test.${c}`, { i }), c);
  }
};

describe.skipIf(!hasMosquitto)('Forwarder → Mosquitto', () => {
  it('drains the backlog class by class (critical first), in seq order, flagged historical, and removes rows only once acked', async () => {
    const { sub, outbox, forwarder } = await setup();
    seedMixed(outbox, 300);
    forwarder.start();
    await eventually(() => (sub.messages.length >= 300 ? true : undefined), 5_000, '300 events at HQ');
    const classes = sub.messages.map((m) => m.topic.split('/').pop()!.replace('store.test.', ''));
    expect(classes.indexOf('operational')).toBe(100);
    expect(classes.lastIndexOf('critical')).toBe(99);
    expect(classes.indexOf('telemetry')).toBe(200);
    for (const cls of ['critical', 'operational', 'telemetry']) {
      const seen = sub.messages.filter((m) => m.topic.endsWith(cls)).map((m) => (m.event.data as { i: number }).i);
      expect(seen).toEqual([...seen].sort((a, b) => a - b));
    }
    expect(sub.messages.every((m) => m.historical)).toBe(true);
    // in the envelope too (a CloudEvents extension attribute), for consumers whose SDK drops MQTT user properties
    expect(sub.messages.every((m) => m.event.historical === true)).toBe(true);
    expect(sub.messages[0]?.topic).toBe('hq-test/store-7/events/store.test.critical');
    await eventually(() => (outbox.rows.size === 0 ? true : undefined), 2_000, 'outbox emptied');
    expect(outbox.removed).toHaveLength(300);
    expect(sub.messages).toHaveLength(300); // a healthy link sends each row once
    expect(forwarder.status().lanes.backlog.acked).toBe(300);
  });

  it('sends live events at once, without the historical flag, while a capped backlog drains', async () => {
    const { sub, outbox, forwarder } = await setup({ drain: { ratePerS: 400, burst: 20, jitter: 0.2 } });
    for (let i = 0; i < 1_000; i++) outbox.seed(testEvent('store.telemetry.hourly', { i }), 'telemetry');
    forwarder.start();
    await eventually(() => (sub.messages.length >= 50 ? true : undefined), 5_000, 'backlog started');
    const sentAt = Date.now();
    const live = await outbox.append(testEvent('store.alert.changed', { live: true }), 'critical');
    const arrived = await eventually(() => sub.messages.find((m) => m.event.id === live.id), 2_000, 'live event at HQ');
    expect(arrived.receivedAt - sentAt).toBeLessThan(1_000);
    expect(arrived.historical).toBe(false);
    expect('historical' in arrived.event).toBe(false);
    const backlogBefore = sub.messages.filter((m) => m.historical && m.receivedAt <= arrived.receivedAt).length;
    expect(backlogBefore).toBeLessThan(1_000); // it overtook the backlog
    const status = forwarder.status();
    expect(status.link.up).toBe(true);
    expect(status.lanes.live.acked).toBe(1);
    expect(status.backlogPerClass.telemetry.rows).toBeGreaterThan(0);
    // the cap holds: 400/s with a burst of 20 and up to 20 % jitter
    const first = sub.messages.find((m) => m.historical)!.receivedAt;
    await eventually(() => (sub.messages.filter((m) => m.historical).length >= 400 ? true : undefined), 5_000, '400 backlog events');
    const hist = sub.messages.filter((m) => m.historical);
    expect((hist[399] as { receivedAt: number }).receivedAt - first).toBeGreaterThan(800);
  });

  it('a cut link: in-flight rows released, it reconnects with backoff, every row arrives (duplicates at most maxInFlight)', async () => {
    const { sub, outbox, forwarder, proxy } = await setup({ drain: { ratePerS: 3_000, burst: 100, jitter: 0.2 } }, { proxy: true });
    for (let i = 0; i < 3_000; i++) outbox.seed(testEvent('store.kiosk.transaction', { i }), 'critical');
    forwarder.start();
    await eventually(() => (sub.messages.length >= 500 ? true : undefined), 5_000, '500 events');
    proxy!.setMode('cut');
    await eventually(() => (forwarder.status().link.up ? undefined : true), 2_000, 'link down');
    const down = forwarder.status().link;
    expect(down.since).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 300)); // a few reconnect attempts fail
    expect(forwarder.status().link.attempts).toBeGreaterThan(1);
    expect(outbox.leased.size).toBe(0); // nothing stays leased while the link is down
    proxy!.setMode('pass');
    await eventually(() => (sub.ids().size >= 3_000 ? true : undefined), 8_000, 'every event at HQ');
    expect(sub.messages.length - sub.ids().size).toBeLessThanOrEqual(50);
    await eventually(() => (outbox.rows.size === 0 ? true : undefined), 2_000, 'outbox emptied');
  });

  it("bounds publishes in flight by HQ's Receive Maximum", async () => {
    let outstanding = 0;
    let maxOutstanding = 0;
    const connect = (url: string, o: IClientOptions) => {
      const client = mqtt.connect(url, o);
      const publish = client.publish.bind(client) as (...args: unknown[]) => mqtt.MqttClient;
      (client as { publish: unknown }).publish = (topic: string, body: string, opts: unknown, cb: (e?: Error) => void) => {
        outstanding++;
        maxOutstanding = Math.max(maxOutstanding, outstanding);
        return publish(topic, body, opts, (error?: Error) => {
          outstanding--;
          cb(error);
        });
      };
      return client;
    };
    const { sub, outbox, forwarder } = await setup({ maxInFlight: 100 }, { extraConfig: ['max_inflight_messages 4'], connect });
    for (let i = 0; i < 200; i++) outbox.seed(testEvent('store.stock.changed', { i }), 'operational');
    forwarder.start();
    await eventually(() => (sub.messages.length >= 200 ? true : undefined), 5_000, '200 events');
    expect(forwarder.status().maxInFlight).toBe(4);
    expect(maxOutstanding).toBe(4);
  });

  it('never logs the password', async () => {
    const { forwarder, logLines, proxy } = await setup(
      { username: 'store-7', password: 'hunter2-very-secret' },
      { proxy: true, urlCredentials: 'store-7:hunter2-in-url' },
    );
    proxy!.setMode('cut');
    forwarder.start();
    await eventually(() => (forwarder.status().link.attempts >= 2 ? true : undefined), 3_000, 'failed attempts');
    proxy!.setMode('pass');
    await eventually(() => (forwarder.status().link.up ? true : undefined), 3_000, 'link up');
    expect(logLines.some((l) => l.includes('HQ link up'))).toBe(true);
    expect(logLines.join('\n')).not.toContain('hunter2');
  });
});
