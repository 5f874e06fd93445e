/**
 * One price campaign over the three label drivers at once, in a running gateway: 20 direct MQTT labels (kind `esl`,
 * 10 % of their acks lost — the label's next status report shows the price), 160 labels behind a simulated MQTT access
 * point (10 % of its acks lost, 30 % of the labels asleep until they check in) and 20 tags of a simulated
 * OpenEPaperLink AP over real HTTP + websocket (10 % of transfers time out, and the AP reboots mid campaign).
 * Every label must end confirmed or failed with a reason, as GET /api/campaigns/:id reports it, and what it reports
 * confirmed must be what the simulated labels show.
 */
import type { MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MqttApSimulator } from '../../devices/mqtt-ap-simulator.js';
import { OeplApSimulator } from '../../devices/oepl-ap-simulator.js';
import { seededRandom } from '../../devices/random.js';
import type { CampaignView } from '../../edge/campaigns/campaign.js';
import { formatPrice } from '../../edge/labels/oepl-rules.js';
import { TEST_PLANOGRAM, eventually, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

const log = pino({ level: 'silent' });
const PRICES = [
  { sku: '4000000000017', priceCents: 219, shelfId: 'shelf-a', facing: 1 },
  { sku: '4000000000024', priceCents: 849, shelfId: 'shelf-a', facing: 2 },
  { sku: '4000000000031', priceCents: 159, shelfId: 'shelf-b', facing: 1 },
];
const ESL_IDS = Array.from({ length: 20 }, (_, i) => `esl-${String(i).padStart(2, '0')}`);
const AP_LABEL_IDS = Array.from({ length: 160 }, (_, i) => `ap-01-L${String(i).padStart(3, '0')}`);

/** A direct MQTT label: shows every set-price; when its ack is lost, it reports its status a moment later. */
type EslLabel = { id: string; client: MqttClient; shownCents: number | null; acksLost: number };

describe('a campaign over direct MQTT labels, an MQTT access point and an OpenEPaperLink AP', () => {
  let gw: TestGateway;
  let oepl: OeplApSimulator;
  let ap: MqttApSimulator;
  const esls: EslLabel[] = [];
  const priceOf = new Map<string, number>();

  beforeAll(async () => {
    oepl = new OeplApSimulator({
      tagCount: 20,
      logger: log,
      random: seededRandom(21),
      checkInIntervalMs: 300,
      renderDelayMs: 20,
      sysIntervalMs: 100,
      bootDelayMs: 50,
      rebootDelayMs: 100,
      rebootDownMs: 300,
      faults: { xferTimeoutProbability: 0.1 },
    });
    await oepl.start();
    const ids = [...ESL_IDS, ...AP_LABEL_IDS, ...oepl.macs];
    // every driver gets labels of every sku
    const labels = ids.map((label, i) => {
      const place = PRICES[i % PRICES.length]!;
      priceOf.set(label, place.priceCents);
      return { label, shelfId: place.shelfId, facing: place.facing };
    });
    gw = await startTestGateway({
      planogram: { ...TEST_PLANOGRAM, labels },
      overrides: {
        commands: { ackTimeoutMs: 1_500 },
        labels: { accessPoints: [{ name: 'ap-oepl', url: oepl.url }], drivers: { oeplRequestsPerSecond: 100 } },
      },
    });
    const secret = await gw.built.devices.registry.provision('ap-01', 'ap');
    ap = new MqttApSimulator({
      brokerUrl: gw.mqttUrl,
      storeId: 'test-store',
      deviceId: 'ap-01',
      secret,
      logger: log,
      random: seededRandom(5),
      labels: AP_LABEL_IDS.map((labelId) => ({ labelId, priceCents: 100 })),
      awakeRate: 0.7,
      ackLossRate: 0.1,
      checkInIntervalMs: 1_000,
      flushIntervalMs: 20,
    });
    await ap.start();
    let commandsSeen = 0;
    for (const id of ESL_IDS) {
      const client = await gw.connectDevice(id, 'esl');
      const esl: EslLabel = { id, client, shownCents: null, acksLost: 0 };
      await client.subscribeAsync(`store/test-store/esl/${id}/cmd`, { qos: 1 });
      client.on('message', (_topic, payload) => {
        const command = JSON.parse(payload.toString()) as { cmdId: string; type: string; priceCents: number };
        if (command.type !== 'set-price') return;
        esl.shownCents = command.priceCents;
        // every tenth ack is lost (20 labels are too few for a random 10 % to be sure to lose one)
        if (++commandsSeen % 10 === 0) {
          esl.acksLost++;
          // the ack is lost on the radio; the label's next status report shows what it displays
          setTimeout(
            () =>
              client.publish(
                `store/test-store/esl/${id}/status`,
                JSON.stringify({ batteryMv: 2_900, displayedPriceCents: esl.shownCents, ts: Date.now() }),
                { qos: 1 },
              ),
            200,
          );
          return;
        }
        client.publish(
          `store/test-store/esl/${id}/ack`,
          JSON.stringify({ cmdId: command.cmdId, ok: true, displayedPriceCents: command.priceCents, ts: Date.now() }),
          { qos: 1 },
        );
      });
      esls.push(esl);
    }
    // a label is sent to only once a driver carries it: the AP and the OEPL AP report theirs at check-in
    const directory = gw.built.labels.directory;
    await eventually(
      () => (ids.every((id) => directory.driverFor(id) !== undefined) ? true : undefined),
      10_000,
      'every label carried by a driver',
    );
  }, 30_000);

  afterAll(async () => {
    await ap?.stop();
    await gw?.dispose();
    await oepl?.stop();
  });

  it('every one of 200 labels ends confirmed or failed with a reason; confirmed ones show the new price', async () => {
    const token = await gw.addToken('maria', 'manager');
    const created = await gw.api('/api/campaigns', {
      method: 'POST',
      token,
      body: JSON.stringify({ id: 'three-drivers', prices: PRICES.map(({ sku, priceCents }) => ({ sku, priceCents })) }),
    });
    expect(created.status).toBe(201);
    expect(((await created.json()) as CampaignView).total).toBe(200);

    // two transfers time out for sure (and 10 % at random): the tag's queue is dropped, the driver uploads again
    oepl.failNextTransfer(oepl.macs[1]!);
    oepl.failNextTransfer(oepl.macs[2]!);
    // the OEPL AP reboots once a few of its uploads are in
    await eventually(() => (oepl.stats.uploads >= 5 ? true : undefined), 10_000, 'OEPL uploads');
    await oepl.reboot();

    const view = async (): Promise<CampaignView> => {
      const response = await gw.api('/api/campaigns/three-drivers', { token });
      expect(response.status).toBe(200);
      return (await response.json()) as CampaignView;
    };
    let latest: CampaignView | undefined;
    const done = await eventually(
      async () => {
        latest = await view();
        return latest.finishedAt === undefined ? undefined : latest;
        // usually ~10 s; room for the campaign's 30 s ack timeout and a retry, for a transfer the OEPL AP dropped while
        // the driver was disconnected for the reboot (the driver never hears of that one; only the campaign's timer ends it)
      },
      40_000,
      'the campaign to finish',
    ).catch((error: Error) => {
      throw new Error(`${error.message}: ${JSON.stringify(latest?.counts)}, OEPL ${JSON.stringify(oepl.stats)}`);
    });

    expect(done.state).toBe('done');
    expect(done.counts.confirmed + done.counts.failed).toBe(200);
    expect(done.counts).toMatchObject({ pending: 0, sent: 0, waiting: 0, superseded: 0, cancelled: 0 });
    // every failure is listed, with its reason
    expect(done.failed).toHaveLength(done.counts.failed);
    expect(done.failedNotListed).toBe(0);
    for (const failure of done.failed) expect(failure.reason, failure.labelId).toMatch(/\S/);
    expect(done.counts.confirmed).toBeGreaterThanOrEqual(180);

    // what the campaign counts confirmed is on the displays
    const failedIds = new Set(done.failed.map((failure) => failure.labelId));
    const wrong: string[] = [];
    for (const esl of esls) if (!failedIds.has(esl.id) && esl.shownCents !== priceOf.get(esl.id)) wrong.push(esl.id);
    for (const id of AP_LABEL_IDS) if (!failedIds.has(id) && ap.displayedPriceCents(id) !== priceOf.get(id)) wrong.push(id);
    for (const mac of oepl.macs)
      if (!failedIds.has(mac) && !oepl.tag(mac)?.displayedJson?.includes(`"${formatPrice(priceOf.get(mac)!)}"`)) wrong.push(mac);
    expect(wrong).toEqual([]);

    // the faults did happen
    expect(esls.reduce((sum, esl) => sum + esl.acksLost, 0)).toBeGreaterThan(0);
    expect(ap.counts.acksLost).toBeGreaterThan(0);
    expect(oepl.stats.reboots).toBe(1);
    expect(oepl.stats.xferTimeouts).toBeGreaterThan(0);
  }, 60_000);
});
