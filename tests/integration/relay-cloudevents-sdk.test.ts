/**
 * HQ as HQ writes it: every event type the store sends, received from a real Mosquitto (MQTT 5) and read with the
 * official CNCF CloudEvents JS SDK (`cloudevents`, a dev dependency) through its MQTT binding, then validated by the SDK
 * (`new CloudEvent(…)` in strict mode: spec 1.0 required attributes, attribute names, extension value types).
 *
 * The store publishes in the binding's structured content mode (CloudEvents MQTT Protocol Binding 1.0, §3.2 "Structured
 * Content Mode": MQTT 5 PUBLISH with the Content Type property set to `application/cloudevents+json`, the whole event
 * JSON in the payload); the SDK's `MQTT.toEvent` recognises that mode by the Content Type alone, so the message handed
 * to it is built from nothing but what the PUBLISH carried.
 */
import { CloudEvent, MQTT, type CloudEventV1 } from 'cloudevents';
import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { relayTypeOf } from '../../edge/relay/cloud-event.js';
import { RELAY_TYPES } from '../../edge/relay/relay-events.js';
import type { RelayStatus } from '../../edge/relay/relay-status.js';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import { hasMosquitto, hqOverrides, startMosquitto } from '../helpers/mosquitto.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

type Received = { topic: string; event: CloudEventV1<unknown>; userProperties: Record<string, unknown> };

/** An HQ consumer: each PUBLISH → the SDK's MQTT message → `MQTT.toEvent` → a strict (validating) CloudEvent. */
async function sdkConsumer(url: string, topic: string): Promise<{ received: Received[]; problems: string[]; client: MqttClient }> {
  const client = await mqtt.connectAsync(url, { protocolVersion: 5, reconnectPeriod: 0, clientId: `hq-sdk-${process.pid}` });
  const received: Received[] = [];
  const problems: string[] = [];
  client.on('message', (t, payload, packet: IPublishPacket) => {
    const userProperties = (packet.properties?.userProperties ?? {}) as Record<string, unknown>;
    const message = {
      PUBLISH: { 'Content Type': packet.properties?.contentType },
      body: payload.toString('utf8'),
      headers: userProperties as Record<string, string>,
      get payload() {
        return this.body;
      },
      get 'User Properties'() {
        return this.headers;
      },
    };
    try {
      if (!MQTT.isEvent(message)) throw new Error('not a CloudEvent for the SDK (Content Type missing or wrong)');
      const parsed = MQTT.toEvent(message) as CloudEventV1<unknown>;
      // strict: throws a ValidationError for a missing required attribute or a bad extension name or value
      const event = new CloudEvent({ ...parsed }, true);
      received.push({ topic: t, event, userProperties });
    } catch (error) {
      problems.push(`${t}: ${(error as Error).message} ${JSON.stringify((error as { errors?: unknown }).errors ?? '')}`);
    }
  });
  await client.subscribeAsync(topic, { qos: 1 });
  return { received, problems, client };
}

const relayStatus = async (gw: TestGateway) => (await (await gw.api('/api/relay')).json()) as RelayStatus;
const UNIT_G = 1040; // shelf-a facing 1 (TEST_PLANOGRAM): low at ≤ 2 units

describe.skipIf(!hasMosquitto)('relay: every event type read by the CloudEvents JS SDK over MQTT 5', () => {
  it('parses and validates each type the store emits; backlog events carry the historical extension', async () => {
    const hq = await startMosquitto();
    cleanups.push(() => hq.stop());
    const proxy = await startFaultProxy({ port: hq.port });
    cleanups.push(() => proxy.close());
    const consumer = await sdkConsumer(hq.url, 'hq-it/test-store/events/#');
    cleanups.push(() => consumer.client.endAsync(true));
    const operator = await mqtt.connectAsync(hq.url, { protocolVersion: 5, reconnectPeriod: 0 });
    cleanups.push(() => operator.endAsync(true));
    // a tiny telemetry budget, reported at once: a burst of telemetry makes the outbox drop and report it
    const outbox = { budgets: { telemetryBytes: 64 * 1024 }, droppedReportIntervalMs: 0 };
    // availability changes are coalesced per sku (5 s by default): 1 s keeps store.availability well inside the wait below
    const insight = { availabilityCoalesceSec: 1 };
    const gw = await startTestGateway({ overrides: { hq: hqOverrides(proxy.url, { outbox }), insight } });
    cleanups.push(() => gw.dispose());
    await eventually(async () => ((await relayStatus(gw)).link.up ? true : undefined), 5_000, 'link up');
    // the relay types (store.kiosk.event), from the CloudEvents types with the default prefix (com.smartstore.store.kiosk.event)
    const typesSeen = () => new Set(consumer.received.map((r) => relayTypeOf('com.smartstore', r.event.type)));

    // store.device.health (connected), store.stock.changed, store.alert.changed (low stock)
    const shelf = await gw.connectDevice('shelf-a', 'shelf');
    for (const units of [8, 1]) {
      const reading = JSON.stringify({ facing: 1, weightG: units * UNIT_G + 3.5, ts: Date.now() });
      await shelf.publishAsync('store/test-store/shelf/shelf-a/weight', reading, { qos: 1 });
      await eventually(async () => ((await facingOfA1(gw)) === units ? true : undefined), 5_000, `${units} units`);
    }
    // store.kiosk.event and store.kiosk.transaction
    const kiosk = await gw.connectDevice('kiosk-1', 'kiosk');
    const kioskTopic = 'store/test-store/kiosk/kiosk-1/event';
    for (const payload of [
      { type: 'basket-open', basketId: 'b-1', ts: Date.now() },
      { type: 'item-scanned', basketId: 'b-1', sku: '4000000000017', qty: 1, priceCents: 189, ts: Date.now() },
      { type: 'payment-succeeded', basketId: 'b-1', ts: Date.now() },
      { type: 'basket-closed', basketId: 'b-1', ts: Date.now() },
    ]) {
      await kiosk.publishAsync(kioskTopic, JSON.stringify(payload), { qos: 1 });
    }
    // store.device.command: a command to a label that is not connected ends `dropped`
    const params = { sku: '4000000000017', priceCents: 219 };
    await gw.built.devices.commands.send({ deviceId: 'esl-absent', kind: 'esl', type: 'set-price', params, timeoutMs: 500 });
    // store.command.result: an HQ command, sent as a structured CloudEvent by the SDK (config-reload: `unsupported`)
    await eventually(() => (typesSeen().has('store.kiosk.transaction') ? true : undefined), 5_000, 'kiosk events at HQ');
    const command = MQTT.structured(new CloudEvent({ id: 'cmd-sdk-1', source: '/hq/it', type: 'com.smartstore.command.config-reload' }));
    const contentType = command.PUBLISH?.['Content Type'];
    const commandTopic = 'hq-it/test-store/commands/config-reload';
    await operator.publishAsync(commandTopic, JSON.stringify(command.body), { qos: 1, properties: { contentType } });
    // and one in binary content mode (binding §3.1: attributes as user properties, data as the payload)
    const flashEvent = { id: 'cmd-sdk-2', source: '/hq/it', type: 'com.smartstore.command.label-flash', data: { labels: ['esl-x'] } };
    const flash = MQTT.binary(new CloudEvent(flashEvent));
    const attributes = Object.entries(flash.headers)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]): [string, string] => [k, String(v)]);
    const binaryProperties = { userProperties: Object.fromEntries(attributes), contentType: 'application/json' };
    const flashTopic = 'hq-it/test-store/commands/label-flash';
    await operator.publishAsync(flashTopic, JSON.stringify(flash.body), { qos: 1, properties: binaryProperties });
    // store.telemetry.hourly: the hour with shelf-a's readings ends
    gw.built.relay.recorder!.closeHour(Date.now() + 3_600_000);
    const hourly = (r: Received) => r.event.type === 'com.smartstore.store.telemetry.hourly' && r.event.subject === 'shelf/shelf-a';
    // at HQ before the burst below, which drops the oldest telemetry
    await eventually(() => consumer.received.find(hourly), 5_000, "shelf-a's hour");
    // store.relay.dropped: a burst over the telemetry budget, in one group commit
    const filler = 'x'.repeat(900);
    const fillerEvent = (i: number) => ({
      specversion: '1.0' as const,
      id: `filler-${i}`,
      source: '/stores/test-store',
      type: 'store.telemetry.hourly',
      subject: 'shelf/filler',
      time: new Date().toISOString(),
      datacontenttype: 'application/json' as const,
      data: { i, filler },
    });
    const tooMuch = [...Array(100).keys()].map((i) => gw.built.relay.outbox!.append(fillerEvent(i), 'telemetry'));
    await Promise.all(tooMuch);

    const allTypes = Object.keys(RELAY_TYPES);
    await eventually(() => (allTypes.every((t) => typesSeen().has(t)) ? true : undefined), 10_000, 'every type at HQ');
    expect(consumer.problems).toEqual([]);
    const result = consumer.received.find((r) => r.event.type === 'com.smartstore.store.command.result');
    expect(result?.event.data).toMatchObject({ commandId: 'cmd-sdk-1', commandType: 'config-reload', outcome: 'unsupported' });
    const isFlash = (r: Received) => (r.event.data as { commandId?: string }).commandId === 'cmd-sdk-2';
    const flashed = await eventually(() => consumer.received.find(isFlash), 5_000, 'flash result');
    // no label esl-x in this store: the labels room answers failed (not rejected: the command was read)
    expect(flashed.event.data).toMatchObject({ commandType: 'label-flash', outcome: 'failed' });
    for (const { topic, event } of consumer.received) {
      expect(event.source).toBe('/stores/test-store');
      expect(event.datacontenttype).toBe('application/json');
      expect(typeof event.subject).toBe('string');
      // reverse-DNS types (spec 1.0 "type"), topics as before: …/events/<the type without the prefix>
      if (!event.id.startsWith('filler-')) expect(event.type).toMatch(/^com\.smartstore\.store\./);
      expect(topic).toBe(`hq-it/test-store/events/${relayTypeOf('com.smartstore', event.type)}`);
      expect(event.data).toBeTypeOf('object');
      // live events: no historical extension
      expect((event as Record<string, unknown>).historical).toBeUndefined();
    }

    // a backlog: events made while HQ is unreachable arrive flagged, in the envelope as well as the user property
    proxy.setMode('cut');
    await eventually(async () => ((await relayStatus(gw)).link.up ? undefined : true), 5_000, 'link down');
    await kiosk.publishAsync(kioskTopic, JSON.stringify({ type: 'basket-open', basketId: 'b-2', ts: Date.now() }), { qos: 1 });
    proxy.setMode('pass');
    const isB2 = (r: Received) => r.event.subject === 'kiosk/kiosk-1' && (r.event.data as { basketId?: string }).basketId === 'b-2';
    const backlog = await eventually(() => consumer.received.find(isB2), 8_000, 'the backlog event');
    expect(backlog.event.historical).toBe(true);
    expect(backlog.userProperties.historical).toBe('true');
    expect(consumer.problems).toEqual([]);
  }, 30_000);
});

async function facingOfA1(gw: TestGateway): Promise<number | null | undefined> {
  type Shelves = { shelves: { id: string; facings: { facing: number; units: number | null }[] }[] };
  const body = (await (await gw.api('/api/shelves')).json()) as Shelves;
  return body.shelves.find((s) => s.id === 'shelf-a')?.facings.find((f) => f.facing === 1)?.units;
}
