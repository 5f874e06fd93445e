import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { MqttApSimulator } from '../../devices/mqtt-ap-simulator.js';
import { seededRandom } from '../../devices/random.js';
import type { CampaignView } from '../../edge/campaigns/campaign.js';
import type { LabelView } from '../../edge/labels/label-routes.js';
import { startTestGateway, TEST_PLANOGRAM, type TestGateway } from '../helpers/test-gateway.js';
import { CAMPAIGN_PLANOGRAM, connectLabels, until } from './campaign-labels.js';

const dirs: string[] = [];
let tg: TestGateway | undefined;
const aps: MqttApSimulator[] = [];

afterAll(async () => {
  for (const ap of aps) await ap.stop();
  await tg?.stop();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('a campaign across a gateway restart', () => {
  it('resumes: labels confirmed before the restart are not sent again, the others are delivered after it', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'smartstore-campaign-restart-'));
    dirs.push(dataDir);
    tg = await startTestGateway({ dataDir, planogram: CAMPAIGN_PLANOGRAM });
    const token = await tg.addToken('maria', 'manager');
    // only the beans label is online; the milk labels are not connected: their sends wait
    const beans = await tg.connectDevice('esl-b1', 'esl');
    let beansCommands = 0;
    await beans.subscribeAsync('store/test-store/esl/esl-b1/cmd', { qos: 1 });
    beans.on('message', (_topic, payload) => {
      const command = JSON.parse(payload.toString()) as { cmdId: string; priceCents: number };
      beansCommands += 1;
      beans.publish(
        'store/test-store/esl/esl-b1/ack',
        JSON.stringify({ cmdId: command.cmdId, ok: true, displayedPriceCents: command.priceCents, ts: Date.now() }),
        { qos: 1 },
      );
    });
    const gateway = tg;
    const view = async (): Promise<CampaignView> =>
      (await (await gateway.api('/api/campaigns/restart-1', { token })).json()) as CampaignView;
    const created = await tg.api('/api/campaigns', {
      method: 'POST',
      token,
      body: JSON.stringify({
        id: 'restart-1',
        prices: [
          { sku: '4000000000017', priceCents: 239 },
          { sku: '4000000000024', priceCents: 869 },
        ],
      }),
    });
    expect(created.status).toBe(201);
    await until('the beans label to confirm', async () => ((await view()).counts.confirmed === 1 ? true : undefined));
    expect((await view()).counts).toMatchObject({ confirmed: 1 });
    await tg.stop();

    tg = await startTestGateway({ dataDir, planogram: CAMPAIGN_PLANOGRAM });
    const again = tg;
    const token2 = await again.addToken('maria-2', 'manager');
    const resumed = (await (await again.api('/api/campaigns/restart-1', { token: token2 })).json()) as CampaignView;
    expect(resumed).toMatchObject({ state: 'running', counts: { confirmed: 1 } });
    const labels = await connectLabels(again, [], ['esl-m1', 'esl-m2']);
    const done = await until('the campaign to finish after the restart', async () => {
      const current = (await (await again.api('/api/campaigns/restart-1', { token: token2 })).json()) as CampaignView;
      return current.finishedAt === undefined ? undefined : current;
    });
    expect(done).toMatchObject({ state: 'done', counts: { confirmed: 3, failed: 0 } });
    expect(labels.find((label) => label.id === 'esl-m1')?.commands).toEqual([{ sku: '4000000000017', priceCents: 239 }]);
    // esl-b1 is offline after the restart: had the resume sent it again, it would wait and the campaign would not be done
    expect(beansCommands).toBe(1);
  });

  it('MQTT AP labels keep their driver over a restart: a campaign made while the AP is away waits, none fails "no driver"', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'smartstore-campaign-restart-ap-'));
    dirs.push(dataDir);
    const planogram = {
      ...TEST_PLANOGRAM,
      labels: [
        { label: 'ap-1-L1', shelfId: 'shelf-a', facing: 1 },
        { label: 'ap-1-L2', shelfId: 'shelf-a', facing: 2 },
      ],
    };
    const log = pino({ level: 'silent' });
    const startAp = async (gateway: TestGateway, secret: string) => {
      const ap = new MqttApSimulator({
        brokerUrl: gateway.mqttUrl,
        storeId: 'test-store',
        deviceId: 'ap-1',
        secret,
        logger: log,
        random: seededRandom(7),
        labels: [
          { labelId: 'ap-1-L1', priceCents: 100 },
          { labelId: 'ap-1-L2', priceCents: 100 },
        ],
        awakeRate: 1,
        ackLossRate: 0,
        flushIntervalMs: 20,
        checkInIntervalMs: 3_600_000, // no report of its own during the test: the gateway has to know the labels already
      });
      await ap.start();
      aps.push(ap);
      return ap;
    };
    tg = await startTestGateway({ dataDir, planogram });
    const secret = await tg.built.devices.registry.provision('ap-1', 'ap');
    const first = await startAp(tg, secret);
    const before = tg;
    for (const id of ['ap-1-L1', 'ap-1-L2']) first.checkInNow(id);
    await until('both labels reported by ap-1', () =>
      before.built.labels.directory.driverFor('ap-1-L2')?.driverId === 'mqtt-ap:ap-1' && before.built.labels.directory.driverFor('ap-1-L1')
        ? true
        : undefined,
    );
    await first.stop();
    await tg.stop();

    tg = await startTestGateway({ dataDir, planogram });
    const again = tg;
    const token = await again.addToken('maria', 'manager');
    // what the labels room heard before the restart is back: the carrier, and when each label was last seen
    const listed = (await (await again.api('/api/labels', { token })).json()) as { labels: LabelView[] };
    const l1 = listed.labels.find((label) => label.labelId === 'ap-1-L1');
    expect(l1).toMatchObject({ driverId: 'mqtt-ap:ap-1', displayedPriceCents: 100 });
    expect(l1?.lastSeenAt).toEqual(expect.any(Number));
    const created = await again.api('/api/campaigns', {
      method: 'POST',
      token,
      body: JSON.stringify({
        id: 'ap-away',
        prices: [
          { sku: '4000000000017', priceCents: 249 },
          { sku: '4000000000024', priceCents: 879 },
        ],
      }),
    });
    expect(created.status).toBe(201);
    const view = async () => (await (await again.api('/api/campaigns/ap-away', { token })).json()) as CampaignView;
    // the sends wait in ap-1's driver (its link is down) instead of failing for want of a driver
    await until('both sends handed to the AP driver', () => (again.built.campaigns.counters.sends === 2 ? true : undefined));
    expect(again.built.campaigns.counters.noDriver).toBe(0);
    expect((await view()).counts).toMatchObject({ failed: 0, confirmed: 0 });

    const back = await startAp(again, secret);
    const done = await until('the campaign to finish once ap-1 is back', async () => {
      const current = await view();
      return current.finishedAt === undefined ? undefined : current;
    });
    expect(done).toMatchObject({ state: 'done', counts: { confirmed: 2, failed: 0 } });
    expect([back.displayedPriceCents('ap-1-L1'), back.displayedPriceCents('ap-1-L2')]).toEqual([249, 879]);
    expect(again.built.campaigns.counters.sends).toBe(2);
  });
});
