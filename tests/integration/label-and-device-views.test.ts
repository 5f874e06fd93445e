/**
 * What the staff page's labels and devices views read, through a real gateway and real MQTT labels: GET /api/labels
 * names each label's product and its prices (shown, confirmed by a campaign, on its way), a label that shows another price
 * than it confirmed is `failed` and listed first; GET /api/devices carries a label's battery.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LabelList } from '../../edge/labels/label-routes.js';
import type { DeviceView } from '../../edge/device-registry/device-schemas.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';
import { CAMPAIGN_PLANOGRAM, connectLabels, type FakeLabel } from './campaign-labels.js';

const MILK = '4000000000017';

describe('label and device views on a real gateway', () => {
  let gw: TestGateway;
  let labels: FakeLabel[];

  beforeAll(async () => {
    gw = await startTestGateway({ planogram: CAMPAIGN_PLANOGRAM });
    labels = await connectLabels(gw, [], ['esl-m1', 'esl-m2']);
  }, 20_000);
  afterAll(async () => {
    for (const label of labels ?? []) await label.client.endAsync();
    await gw?.dispose();
  });

  const list = async (query = ''): Promise<LabelList> => {
    const response = await gw.api(`/api/labels${query}`);
    expect(response.status).toBe(200);
    return (await response.json()) as LabelList;
  };

  it('shows the product and the confirmed price; a label showing another price fails and comes first', async () => {
    const created = await gw.api('/api/campaigns', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'views-1', prices: [{ sku: MILK, priceCents: 209 }] }),
    });
    expect(created.status).toBe(201);
    const confirmed = await eventually(
      async () => {
        const milk = (await list()).labels.filter((label) => label.sku === MILK);
        return milk.length === 2 && milk.every((label) => label.confirmedPriceCents === 209) ? milk : undefined;
      },
      10_000,
      'both milk labels to confirm 2.09',
    );
    expect(confirmed[0]).toMatchObject({
      productName: 'Oat milk 1 l',
      sku: MILK,
      displayedPriceCents: 209,
      confirmedPriceCents: 209,
      confirmedCampaignId: 'views-1',
      pendingPriceCents: null,
      problem: 'ok',
    });

    // esl-m2 checks in showing the old price (its display was swapped): it has failed, and is listed first
    await labels[1]!.client.publishAsync(
      'store/test-store/esl/esl-m2/status',
      JSON.stringify({ batteryMv: 2_870, displayedPriceCents: 189, ts: Date.now() }),
      { qos: 1 },
    );
    const failed = await eventually(
      async () => {
        const answer = await list('?problems=true');
        return answer.labels[0]?.problem === 'failed' ? answer : undefined;
      },
      5_000,
      'esl-m2 to fail',
    );
    // the never-seen labels of the planogram need attention too, after the failed one
    expect(failed.labels.map((label) => [label.labelId, label.problem])).toEqual([
      ['esl-m2', 'failed'],
      ['esl-b1', 'never-seen'],
      ['esl-c1', 'never-seen'],
    ]);
    expect(failed.labels[0]).toMatchObject({ displayedPriceCents: 189, confirmedPriceCents: 209, batteryMv: 2_870 });
    expect(failed.counts).toMatchObject({ failed: 1, ok: 1, 'never-seen': 2 });

    const devices = ((await (await gw.api('/api/devices')).json()) as { devices: DeviceView[] }).devices;
    expect(devices.find((device) => device.id === 'esl-m2')).toMatchObject({ kind: 'esl', connected: true, batteryMv: 2_870 });
    // esl-m1 never reported its battery (its acks carry none): the field is left out
    expect(devices.find((device) => device.id === 'esl-m1')).not.toHaveProperty('batteryMv');
  }, 30_000);
});
