/**
 * HQ → store commands carried out by the labels room, through a real Mosquitto: a price command published twice at HQ
 * creates exactly one campaign (created by `hq`), its MQTT labels confirm the new price, and one result reaches HQ; a
 * second command naming the same campaign creates nothing; a label-flash command flashes the label and stops it after
 * `durationS`, naming the labels no driver carries.
 */
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandResult } from '../../edge/relay/hq-commands.js';
import type { RelayStatus } from '../../edge/relay/relay-status.js';
import { hasMosquitto, hqOverrides, hqSubscriber, startMosquitto } from '../helpers/mosquitto.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';
import { CAMPAIGN_PLANOGRAM, connectLabels, type FakeLabel } from './campaign-labels.js';

const MILK = '4000000000017'; // on esl-m1 and esl-m2
const cleanups: (() => Promise<unknown>)[] = [];
let gw: TestGateway;
let labels: FakeLabel[];
let sub: Awaited<ReturnType<typeof hqSubscriber>>;
/** every flash command each label received, in order */
const flashes = new Map<string, string[]>();
let send: (body: { id: string; type: string; [field: string]: unknown }) => Promise<unknown>;

const results = (commandId: string) => sub.messages.filter((m) => (m.event.data as CommandResult).commandId === commandId);
const resultOf = (commandId: string) =>
  eventually(() => results(commandId)[0]?.event.data as CommandResult | undefined, 8_000, `result of ${commandId}`);
const hqCampaigns = () => gw.built.campaigns.list().filter((campaign) => campaign.createdBy === 'hq');

describe.skipIf(!hasMosquitto)('relay: HQ price and flash commands reach the labels room', () => {
  beforeAll(async () => {
    const hq = await startMosquitto();
    cleanups.push(() => hq.stop());
    sub = await hqSubscriber(hq.url, 'hq-it/test-store/events/store.command.result');
    cleanups.push(() => sub.close());
    const operator = await mqtt.connectAsync(hq.url, { protocolVersion: 5, reconnectPeriod: 0 });
    cleanups.push(() => operator.endAsync(true));
    gw = await startTestGateway({
      planogram: CAMPAIGN_PLANOGRAM,
      overrides: { hq: hqOverrides(hq.url), commands: { ackTimeoutMs: 2_000 } },
    });
    cleanups.push(() => gw.dispose());
    labels = await connectLabels(gw);
    for (const label of labels) {
      label.client.on('message', (_topic, payload) => {
        const command = JSON.parse(payload.toString()) as { type: string; pattern?: string };
        if (command.type === 'flash') flashes.set(label.id, [...(flashes.get(label.id) ?? []), String(command.pattern)]);
      });
    }
    await eventually(
      async () => (((await (await gw.api('/api/relay')).json()) as RelayStatus).link.up ? true : undefined),
      5_000,
      'link up',
    );
    // the store subscribes right after its CONNACK: give it a moment before HQ publishes
    await new Promise((resolve) => setTimeout(resolve, 200));
    send = (body) => operator.publishAsync(`hq-it/test-store/commands/${body.type}`, JSON.stringify(body), { qos: 1 });
  });
  afterAll(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  });

  it('a price command delivered twice creates one campaign by hq; its labels confirm; HQ gets one result', async () => {
    const command = { id: 'cmd-price-twice', type: 'price-campaign', campaignId: 'hq-summer', prices: [{ sku: MILK, priceCents: 169 }] };
    await send(command);
    await send(command);
    await eventually(() => (results(command.id).length >= 2 ? true : undefined), 8_000, 'two result reports');
    expect(new Set(results(command.id).map((m) => m.event.id)).size).toBe(1); // the replay's report has the same id: HQ keeps one
    expect(results(command.id)[0]?.event.data).toMatchObject({
      commandType: 'price-campaign',
      outcome: 'ok',
      detail: { campaignId: 'hq-summer', labels: 2, unmappedSkus: [] },
    });
    expect(hqCampaigns().map((campaign) => campaign.id)).toEqual(['hq-summer']);

    const done = await eventually(
      () => {
        const view = gw.built.campaigns.get('hq-summer');
        return view?.finishedAt === undefined ? undefined : view;
      },
      8_000,
      'campaign hq-summer done',
    );
    expect(done).toMatchObject({ state: 'done', createdBy: 'hq', total: 2, counts: { confirmed: 2, failed: 0 } });
    for (const id of ['esl-m1', 'esl-m2'])
      expect(labels.find((label) => label.id === id)?.commands).toEqual([{ sku: MILK, priceCents: 169 }]);
    const status = (await (await gw.api('/api/relay')).json()) as RelayStatus;
    expect(status.commands).toMatchObject({ ok: 1, replays: 1 });
  });

  it('a second command for the same campaign answers ok with that campaign and sends nothing again', async () => {
    await send({ id: 'cmd-price-again', type: 'price-campaign', campaignId: 'hq-summer', prices: [{ sku: MILK, priceCents: 169 }] });
    expect(await resultOf('cmd-price-again')).toMatchObject({ outcome: 'ok', detail: { campaignId: 'hq-summer', existing: true } });
    expect(hqCampaigns()).toHaveLength(1);
    expect(labels.find((label) => label.id === 'esl-m1')?.commands).toHaveLength(1);
  });

  it('a price command that cannot be a campaign fails with the reason and creates nothing', async () => {
    await send({
      id: 'cmd-price-bad-time',
      type: 'price-campaign',
      campaignId: 'hq-later',
      prices: [{ sku: MILK, priceCents: 150 }],
      startsAt: 'tomorrow-ish',
    });
    expect(await resultOf('cmd-price-bad-time')).toMatchObject({
      outcome: 'failed',
      reason: expect.stringContaining('startsAt') as string,
    });
    expect(gw.built.campaigns.get('hq-later')).toBeUndefined();
  });

  it('a label-flash command flashes the label, stops it after durationS and names the unknown labels', async () => {
    await send({ id: 'cmd-flash-1', type: 'label-flash', labels: ['esl-b1', 'no-such-label'], durationS: 1 });
    expect(await resultOf('cmd-flash-1')).toMatchObject({ outcome: 'ok', detail: { flashed: ['esl-b1'], unknown: ['no-such-label'] } });
    await eventually(() => (flashes.get('esl-b1')?.length === 2 ? true : undefined), 5_000, 'flash then stop');
    expect(flashes.get('esl-b1')).toEqual(['find', 'stop']);
    expect(flashes.get('esl-m1')).toBeUndefined();
  });
});
