/** Campaigns by name (the price file's name or a title, skus counted) and "send again" of a campaign's failed labels. */
import { describe, expect, it } from 'vitest';
import {
  CAMPAIGN_STATES,
  CAMPAIGN_STATE_WORDS,
  CampaignError,
  MAX_CAMPAIGN_NAME_LENGTH,
  campaignNameOf,
  campaignTitle,
  campaignView,
  type Campaign,
} from '../../../edge/campaigns/campaign.js';
import { Harness, sends, testRules } from './campaign-harness.js';

function campaign(harness: Harness, id: string): Campaign {
  const found = harness.board.campaigns[id];
  if (!found) throw new Error(`no campaign ${id}`);
  return found;
}

describe('campaign names', () => {
  it('keeps the name and the number of skus (the unmapped ones too) and shows them in the view', () => {
    const harness = new Harness();
    harness.create({
      id: 'c1',
      name: '  spring-prices.csv ',
      prices: { milk: 129, tea: 249, soap: 350 },
      labelsBySku: { milk: ['esl-1'] },
    });
    const view = campaignView(campaign(harness, 'c1'));
    expect(view).toMatchObject({ id: 'c1', name: 'spring-prices.csv', skus: 3, total: 1, unmappedSkus: ['tea', 'soap'] });
    expect(campaignTitle(view)).toBe('spring-prices.csv');
  });

  it('an unnamed campaign is called by its id; one saved before skus were kept counts them from its labels', () => {
    const harness = new Harness();
    harness.create({ id: 'c1', prices: { milk: 129, tea: 249 }, labelsBySku: { milk: ['esl-1', 'esl-2'] } });
    const saved = JSON.parse(JSON.stringify(campaign(harness, 'c1'))) as Campaign;
    delete saved.skus;
    const view = campaignView(saved);
    expect(view.name).toBeUndefined();
    expect(view.skus).toBe(2);
    expect(campaignTitle(view)).toBe('c1');
  });

  it('refuses a blank name, a long one and control characters in words, leaving the board as it was', () => {
    expect(campaignNameOf('week 12/2026')).toEqual({ name: 'week 12/2026' });
    expect(campaignNameOf('   ')).toEqual({ problem: 'the campaign name is empty' });
    expect(campaignNameOf('x'.repeat(MAX_CAMPAIGN_NAME_LENGTH + 1))).toEqual({
      problem: `the campaign name is longer than ${MAX_CAMPAIGN_NAME_LENGTH} characters`,
    });
    const harness = new Harness();
    const create = () => harness.create({ id: 'c1', name: 'spring\u0007.csv', prices: { milk: 129 }, labelsBySku: { milk: ['esl-1'] } });
    expect(create).toThrow(CampaignError);
    expect(create).toThrow('campaign c1: the campaign name has control characters in it');
    expect(harness.board.order).toEqual([]);
  });

  it('a rollback is named after what it undoes', () => {
    const harness = new Harness();
    harness.create({ id: 'c1', name: 'base.csv', prices: { milk: 129 }, labelsBySku: { milk: ['esl-1'] } });
    harness.confirm('esl-1', 1);
    harness.create({ id: 'c2', name: 'spring.csv', prices: { milk: 99 }, labelsBySku: { milk: ['esl-1'] } });
    harness.confirm('esl-1', 2);
    harness.step({ type: 'rollback', campaignId: 'c2', rollbackId: 'r1', by: 'lena' });
    expect(campaignView(campaign(harness, 'r1'))).toMatchObject({ name: 'rollback of spring.csv', skus: 1, rollbackOf: 'c2' });
  });

  it('has words for every campaign state', () => {
    for (const state of CAMPAIGN_STATES) expect(CAMPAIGN_STATE_WORDS[state]).toMatch(/^[A-Z][a-z ]+$/);
  });
});

describe('send again', () => {
  /** c1: esl-1 confirmed, esl-2 showed another price, esl-3 refused it (one attempt each: no retries to wait for) */
  function withFailures(): Harness {
    const harness = new Harness(testRules({ retry: { maxAttempts: 1, baseDelayMs: 1_000, maxDelayMs: 8_000, jitterRatio: 0 } }));
    harness.create({
      id: 'c1',
      name: 'spring.csv',
      prices: { milk: 129, tea: 249 },
      labelsBySku: { milk: ['esl-1', 'esl-2'], tea: ['esl-3'] },
    });
    harness.confirm('esl-1', 1);
    harness.confirm('esl-2', 1, 199);
    harness.label({ type: 'failed', labelId: 'esl-3', version: 1, reason: 'tag refused the image', retryable: false });
    return harness;
  }

  it("is a new campaign with the failed labels at the campaign's prices, named after it", () => {
    const harness = withFailures();
    expect(campaign(harness, 'c1')).toMatchObject({ state: 'done', counts: { confirmed: 1, failed: 2 } });
    expect(harness.labelOf('c1', 'esl-2').reason).toBe('label shows 199 cents, expected 129 (after 1 attempt)');

    const effects = harness.step({ type: 'resend', campaignId: 'c1', resendId: 's1', by: 'lena' });
    expect(sends(effects).map(({ labelId, priceCents, campaignId }) => ({ labelId, priceCents, campaignId }))).toEqual([
      { labelId: 'esl-2', priceCents: 129, campaignId: 's1' },
      { labelId: 'esl-3', priceCents: 249, campaignId: 's1' },
    ]);
    expect(campaignView(campaign(harness, 's1'))).toMatchObject({
      name: 'spring.csv (sent again)',
      resendOf: 'c1',
      createdBy: 'lena',
      state: 'running',
      total: 2,
      skus: 2,
    });
    harness.confirm('esl-2', 2);
    harness.confirm('esl-3', 2);
    expect(campaign(harness, 's1')).toMatchObject({ state: 'done', counts: { confirmed: 2 } });
    // the original keeps its history: the labels it failed stay failed there
    expect(campaign(harness, 'c1').counts.failed).toBe(2);
  });

  it('a confirmed label that later shows another price is listed and sent again, even though the book says it shows it', () => {
    const harness = new Harness();
    harness.create({ id: 'c1', name: 'milk.csv', prices: { milk: 129 }, labelsBySku: { milk: ['esl-1', 'esl-2'] } });
    harness.confirm('esl-1', 1);
    harness.confirm('esl-2', 1);
    expect(() => harness.step({ type: 'resend', campaignId: 'c1', resendId: 's0', by: 'lena' })).toThrow(
      'nothing to send again: no label of it failed or shows another price',
    );
    // esl-2's display was swapped: its next check-in reports 189; esl-1 reports what it confirmed
    harness.label({ type: 'check-in', labelId: 'esl-2', batteryMv: 2_900, displayedPriceCents: 189 });
    harness.label({ type: 'check-in', labelId: 'esl-1', batteryMv: 2_900, displayedPriceCents: 129 });
    expect(campaign(harness, 'c1')).toMatchObject({ state: 'done', mismatched: 1, counts: { confirmed: 2 } });
    expect(campaignView(campaign(harness, 'c1'))).toMatchObject({
      mismatched: [{ labelId: 'esl-2', sku: 'milk', priceCents: 129, shownPriceCents: 189, since: harness.now }],
      mismatchedNotListed: 0,
    });

    const effects = harness.step({ type: 'resend', campaignId: 'c1', resendId: 's1', by: 'lena' });
    expect(sends(effects).map(({ labelId, priceCents, version }) => ({ labelId, priceCents, version }))).toEqual([
      { labelId: 'esl-2', priceCents: 129, version: 2 },
    ]);
    harness.confirm('esl-2', 2);
    expect(campaign(harness, 's1')).toMatchObject({ state: 'done', counts: { confirmed: 1 } });
    // the newer confirmation ends c1's mismatch: nothing of it is listed or sent again any more
    expect(campaign(harness, 'c1').mismatched).toBeUndefined();
    expect(campaignView(campaign(harness, 'c1')).mismatched).toEqual([]);
  });

  it('a label that shows its confirmed price again is no longer a mismatch', () => {
    const harness = new Harness();
    harness.create({ id: 'c1', prices: { milk: 129 }, labelsBySku: { milk: ['esl-1'] } });
    harness.confirm('esl-1', 1);
    harness.label({ type: 'check-in', labelId: 'esl-1', batteryMv: null, displayedPriceCents: 189 });
    harness.label({ type: 'check-in', labelId: 'esl-1', batteryMv: null, displayedPriceCents: 189 });
    expect(campaign(harness, 'c1').mismatched).toBe(1);
    harness.label({ type: 'check-in', labelId: 'esl-1', batteryMv: null, displayedPriceCents: 129 });
    expect(campaign(harness, 'c1').mismatched).toBeUndefined();
    expect(harness.labelOf('c1', 'esl-1').shownPriceCents).toBeUndefined();
  });

  it('leaves out a label a newer campaign has set since, saying why', () => {
    const harness = withFailures();
    harness.create({ id: 'c2', prices: { tea: 229 }, labelsBySku: { tea: ['esl-3'] } });
    harness.step({ type: 'resend', campaignId: 'c1', resendId: 's1', by: 'lena' });
    const again = campaign(harness, 's1');
    expect(Object.keys(again.labels)).toEqual(['esl-2']);
    expect(again.skippedLabels).toEqual([{ labelId: 'esl-3', reason: 'campaign c2 has set its price since' }]);
  });

  it('refuses with nothing failed, an unknown campaign, a cancelled one and a taken id, changing nothing', () => {
    const harness = withFailures();
    harness.create({ id: 'c2', prices: { milk: 99 }, labelsBySku: { milk: ['esl-9'] } });
    harness.confirm('esl-9', 1);
    const refusal = (campaignId: string, resendId = 'sx') => {
      try {
        harness.step({ type: 'resend', campaignId, resendId, by: 'lena' });
      } catch (error) {
        return error instanceof CampaignError ? `${error.code}: ${error.message}` : String(error);
      }
      return 'accepted';
    };
    expect(refusal('c2')).toBe('nothing-to-resend: campaign c2: nothing to send again: no label of it failed or shows another price');
    expect(refusal('nope')).toBe('unknown-campaign: campaign nope: no such campaign');
    expect(refusal('c1', 'c2')).toBe('duplicate-id: campaign c2: a campaign with this id exists');
    harness.create({ id: 'c3', prices: { milk: 99 }, labelsBySku: { milk: ['esl-7'] }, effectiveAt: harness.now + 60_000 });
    harness.step({ type: 'cancel', campaignId: 'c3', by: 'lena' });
    expect(refusal('c3')).toBe('not-active: campaign c3: cannot send again the labels of a cancelled campaign');
    expect(harness.board.order).toEqual(['c1', 'c2', 'c3']);
  });
});
