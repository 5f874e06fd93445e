/** HQ's price and flash commands as the labels room carries them out (hq-label-commands.ts), with fakes for the rest. */
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CampaignError, type CampaignView } from '../../../edge/campaigns/campaign.js';
import type { NewCampaignRequest } from '../../../edge/campaigns/campaign-service.js';
import type { FlashPattern } from '../../../edge/labels/label-driver.js';
import { LabelFlashes } from '../../../edge/labels/label-flashes.js';
import { HqLabelCommands, campaignRequestOf } from '../../../edge/campaigns/hq-label-commands.js';

const log = pino({ level: 'silent' });

function fakeCampaigns(existing: Record<string, Partial<CampaignView>> = {}) {
  const created: NewCampaignRequest[] = [];
  /** how many created campaigns were committed when HQ was answered */
  const committed = { count: 0 };
  return {
    created,
    committed,
    durable: async () => {
      await new Promise((resolve) => setImmediate(resolve));
      committed.count = created.length;
    },
    create(request: NewCampaignRequest): CampaignView {
      if (existing[request.id ?? '']) throw new CampaignError('duplicate-id', request.id ?? '', 'a campaign with this id exists');
      created.push(request);
      return { id: request.id, state: 'running', createdBy: request.createdBy, total: 2, unmappedSkus: [] } as unknown as CampaignView;
    },
    get: (id: string) => ({ id, state: 'done', total: 2, unmappedSkus: [], ...existing[id] }) as unknown as CampaignView,
  };
}

function fakeDirectory(known: string[]) {
  const flashes: [string, FlashPattern][] = [];
  const driver = { flash: (labelId: string, pattern: FlashPattern) => void flashes.push([labelId, pattern]) };
  return {
    flashes,
    directory: new LabelFlashes({ driverFor: (labelId: string) => (known.includes(labelId) ? driver : undefined), maxLabels: 100 }),
  };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('campaignRequestOf', () => {
  it('maps prices per sku, created by hq, starting at startsAt', () => {
    expect(
      campaignRequestOf({
        campaignId: 'c1',
        prices: [
          { sku: 'a', priceCents: 100 },
          { sku: 'a', priceCents: 100 },
          { sku: 'b', priceCents: 5 },
        ],
        startsAt: '2026-12-01T08:00:00Z',
      }),
    ).toEqual({
      request: { id: 'c1', prices: { a: 100, b: 5 }, createdBy: 'hq', effectiveAt: Date.UTC(2026, 11, 1, 8) },
    });
  });

  it("passes HQ's title on as the campaign's name (staff and store IT read it instead of the id)", () => {
    expect(campaignRequestOf({ campaignId: 'c1', prices: [{ sku: 'a', priceCents: 1 }], title: 'Week 12 offers' })).toEqual({
      request: { id: 'c1', prices: { a: 1 }, createdBy: 'hq', name: 'Week 12 offers' },
    });
  });

  it('refuses a sku with two prices and a startsAt that is not a time', () => {
    expect(
      campaignRequestOf({
        campaignId: 'c1',
        prices: [
          { sku: 'a', priceCents: 100 },
          { sku: 'a', priceCents: 90 },
        ],
      }),
    ).toEqual({ reason: 'sku a has two prices (100 and 90)' });
    expect(campaignRequestOf({ campaignId: 'c1', prices: [{ sku: 'a', priceCents: 1 }], startsAt: 'soon' })).toMatchObject({
      reason: expect.stringContaining('startsAt') as string,
    });
  });
});

describe('HqLabelCommands', () => {
  it('creates the campaign and answers with its summary', async () => {
    const campaigns = fakeCampaigns();
    const commands = new HqLabelCommands({ campaigns, flashes: fakeDirectory([]).directory, log });
    expect(await commands.priceCampaign({ campaignId: 'c1', prices: [{ sku: 'a', priceCents: 100 }] })).toEqual({
      outcome: 'ok',
      detail: { campaignId: 'c1', state: 'running', labels: 2, unmappedSkus: [] },
    });
    expect(campaigns.created).toHaveLength(1);
    expect(campaigns.committed.count).toBe(1); // answered ok only once the campaign was on disk
  });

  it("answers ok for a campaign hq made already, and failed for someone else's with the same id", async () => {
    const campaigns = fakeCampaigns({ mine: { createdBy: 'hq' }, theirs: { createdBy: 'maria' } });
    const commands = new HqLabelCommands({ campaigns, flashes: fakeDirectory([]).directory, log });
    expect(await commands.priceCampaign({ campaignId: 'mine', prices: [{ sku: 'a', priceCents: 1 }] })).toMatchObject({
      outcome: 'ok',
      detail: { campaignId: 'mine', existing: true },
    });
    expect(await commands.priceCampaign({ campaignId: 'theirs', prices: [{ sku: 'a', priceCents: 1 }] })).toMatchObject({
      outcome: 'failed',
      detail: { code: 'duplicate-id' },
    });
    expect(campaigns.created).toHaveLength(0);
  });

  it('flashes the known labels, names the unknown ones, and stops each flash after durationS', async () => {
    vi.useFakeTimers();
    const { flashes, directory } = fakeDirectory(['l1', 'l2']);
    const commands = new HqLabelCommands({ campaigns: fakeCampaigns(), flashes: directory, log });
    expect(await commands.labelFlash({ labels: ['l1', 'nope', 'l1'], durationS: 5 })).toEqual({
      outcome: 'ok',
      detail: { flashed: ['l1'], unknown: ['nope'] },
    });
    expect(flashes).toEqual([['l1', 'find']]);
    vi.advanceTimersByTime(4_999);
    expect(flashes).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(flashes).toEqual([
      ['l1', 'find'],
      ['l1', 'stop'],
    ]);
    expect(await commands.labelFlash({ labels: ['nope'] })).toMatchObject({
      outcome: 'failed',
      detail: { flashed: [], unknown: ['nope'] },
    });
  });

  it('bounds the flashes waiting to stop: past the bound the oldest stops early; stop() clears the rest', async () => {
    vi.useFakeTimers();
    const { flashes, directory } = fakeDirectory(['l1', 'l2', 'l3']);
    const commands = new HqLabelCommands({ campaigns: fakeCampaigns(), flashes: directory, log, maxTimedFlashes: 2 });
    await commands.labelFlash({ labels: ['l1', 'l2', 'l3'], durationS: 60 });
    expect(flashes.filter(([, pattern]) => pattern === 'stop')).toEqual([['l1', 'stop']]);
    await commands.stop();
    vi.advanceTimersByTime(120_000);
    expect(flashes.filter(([, pattern]) => pattern === 'stop')).toHaveLength(1);
  });
});
