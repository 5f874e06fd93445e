import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CampaignView } from '../../edge/labels/campaign.js';
import { startTestGateway, type TestGateway } from '../helpers/test-gateway.js';
import { CAMPAIGN_PLANOGRAM, connectLabels, until } from './campaign-labels.js';

const dirs: string[] = [];
let tg: TestGateway | undefined;

afterAll(async () => {
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
      beans.publish('store/test-store/esl/esl-b1/ack', JSON.stringify({ cmdId: command.cmdId, ok: true, displayedPriceCents: command.priceCents, ts: Date.now() }), { qos: 1 });
    });
    const gateway = tg;
    const view = async (): Promise<CampaignView> => (await (await gateway.api('/api/campaigns/restart-1', { token })).json()) as CampaignView;
    const created = await tg.api('/api/campaigns', {
      method: 'POST',
      token,
      body: JSON.stringify({ id: 'restart-1', prices: [{ sku: '4000000000017', priceCents: 239 }, { sku: '4000000000024', priceCents: 869 }] }),
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
});
