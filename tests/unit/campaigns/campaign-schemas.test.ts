import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { campaignView, emptyCampaignBoard, stepCampaigns } from '../../../edge/campaigns/campaign.js';
import {
  campaignInputOf,
  campaignViewSchema,
  createCampaignBody,
  type CreateCampaignBody,
} from '../../../edge/campaigns/campaign-schemas.js';
import { testRules } from './campaign-harness.js';

// as fastify compiles route schemas: ajv with ajv-formats, no coercion, no stripping
const ajv = addFormats.default(new Ajv.default({ coerceTypes: false, removeAdditional: false, allErrors: true }));
const validBody = ajv.compile(createCampaignBody);
const validView = ajv.compile(campaignViewSchema);

describe('POST /api/campaigns body', () => {
  it('accepts prices in minor units with an optional id and effectiveAt with zone', () => {
    expect(validBody({ prices: [{ sku: '4006381333931', priceCents: 79 }] })).toBe(true);
    expect(validBody({ id: 'hq-2026-12-01', prices: [{ sku: 'tea-1', priceCents: 0 }], effectiveAt: '2026-12-01T06:00:00+01:00' })).toBe(
      true,
    );
  });

  it.each([
    ['no prices', { prices: [] }],
    ['a fractional price', { prices: [{ sku: 'milk', priceCents: 1.5 }] }],
    ['a negative price', { prices: [{ sku: 'milk', priceCents: -1 }] }],
    ['a price as a string', { prices: [{ sku: 'milk', priceCents: '129' }] }],
    ['a bad sku', { prices: [{ sku: 'milk 1', priceCents: 1 }] }],
    ['a time without zone', { prices: [{ sku: 'milk', priceCents: 1 }], effectiveAt: '2026-12-01T06:00:00' }],
    ['an unknown field', { prices: [{ sku: 'milk', priceCents: 1 }], createdBy: 'someone' }],
    ['an unknown field in a price', { prices: [{ sku: 'milk', priceCents: 1, name: 'Milk' }] }],
  ])('refuses %s', (_name, body) => {
    expect(validBody(body)).toBe(false);
  });

  it('turns a body into the domain input, listing duplicate skus with different prices and impossible dates', () => {
    const body: CreateCampaignBody = {
      prices: [
        { sku: 'milk', priceCents: 129 },
        { sku: 'tea', priceCents: 249 },
        { sku: 'milk', priceCents: 129 },
        { sku: 'milk', priceCents: 139 },
      ],
    };
    expect(campaignInputOf({ prices: body.prices.slice(0, 3), effectiveAt: '2026-12-01T05:00:00Z' })).toEqual({
      ok: true,
      prices: { milk: 129, tea: 249 },
      effectiveAt: Date.UTC(2026, 11, 1, 5),
    });
    expect(campaignInputOf({ ...body, effectiveAt: '2026-02-30T00:00:00Z' })).toEqual({
      ok: false,
      problems: [
        { line: 4, reason: 'duplicate sku milk with a different price (129 at item 1)' },
        { line: 0, reason: 'effectiveAt: bad date "2026-02-30T00:00:00Z": no such date or time' },
      ],
    });
  });
});

describe('campaign view schema', () => {
  it('describes what campaignView returns, failed labels included', () => {
    const rules = testRules();
    let { board } = stepCampaigns(
      emptyCampaignBoard(),
      {
        type: 'create',
        campaign: { id: 'c1', createdBy: 'maria', prices: { milk: 129, soap: 1 }, labelsBySku: { milk: ['esl-1', 'esl-2'] } },
      },
      0,
      rules,
    );
    board = stepCampaigns(
      board,
      { type: 'label', event: { type: 'failed', labelId: 'esl-1', version: 1, reason: 'mac not found in tagDB', retryable: false, at: 1 } },
      1,
      rules,
    ).board;
    board = stepCampaigns(board, { type: 'cancel', campaignId: 'c1', by: 'maria' }, 2, rules).board;
    const view = campaignView(board.campaigns.c1!);
    expect(validView(view), JSON.stringify(validView.errors)).toBe(true);
    expect(view).toMatchObject({ state: 'cancelled', cancelledBy: 'maria', counts: { failed: 1, sent: 1 }, unmappedSkus: ['soap'] });
    expect(validView({ ...view, counts: { ...view.counts, pending: -1 } })).toBe(false);
  });
});
