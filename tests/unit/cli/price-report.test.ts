import { describe, expect, it } from 'vitest';
import type { CampaignView } from '../../../edge/campaigns/campaign.js';
import { campaignHeadline, campaignResult, campaignStatus, labelCounts, onlyWaitingLeft } from '../../../edge/cli/price-report.js';
import { tokenFromFile } from '../../../edge/cli/price.js';

const zero = { pending: 0, sent: 0, waiting: 0, confirmed: 0, failed: 0, superseded: 0, cancelled: 0 };
function view(overrides: Partial<CampaignView> = {}): CampaignView {
  return {
    id: 'c1',
    skus: 1,
    state: 'running',
    createdBy: 'maria',
    createdAt: Date.UTC(2026, 11, 1, 6),
    total: 1,
    counts: { ...zero, confirmed: 1 },
    failed: [],
    failedNotListed: 0,
    mismatched: [],
    mismatchedNotListed: 0,
    waiting: [],
    waitingNotListed: 0,
    unmappedSkus: [],
    skippedLabels: [],
    ...overrides,
  };
}

describe('price report', () => {
  it('says 1 label, 2 labels, 0 labels', () => {
    expect(campaignHeadline(view())).toBe('campaign c1: 1 label, effective now');
    expect(campaignHeadline(view({ total: 2, unmappedSkus: ['soap'] }))).toBe('campaign c1: 2 labels, effective now; no label shows soap');
    expect(campaignHeadline(view({ name: 'spring.csv' }))).toBe('campaign c1 (spring.csv): 1 label, effective now');
    expect(campaignStatus(view({ name: 'spring.csv', skus: 2 }))).toContain('\n  named spring.csv\n  2 skus in its price list\n');
    expect(labelCounts(view({ total: 0, counts: zero }))).toBe('0 labels');
    expect(labelCounts(view({ total: 3, counts: { ...zero, sent: 1, waiting: 1, failed: 1 } }))).toBe(
      '3 labels: 1 sent, 1 waiting, 1 failed',
    );
  });

  it('lists failed and waiting labels with their reasons, tab-separated for scripts', () => {
    const report = view({
      total: 3,
      counts: { ...zero, confirmed: 1, waiting: 1, failed: 1 },
      failed: [{ labelId: 'esl-2', sku: 'milk', priceCents: 129, attempts: 5, reason: 'display broken' }],
      waiting: [{ labelId: 'esl-3', sku: 'milk', priceCents: 129, state: 'waiting', since: 0, reason: 'label not reachable now' }],
    });
    expect(campaignResult(report)).toBe(
      [
        'c1\trunning\tconfirmed 1\tfailed 1\tsuperseded 0\tcancelled 0\twaiting 1',
        'failed\tesl-2\tmilk\t129\tdisplay broken',
        'waiting\tesl-3\tmilk\t129\tlabel not reachable now',
        '',
      ].join('\n'),
    );
    expect(campaignStatus(report)).toContain('  3 labels: 1 waiting, 1 confirmed, 1 failed\n');
    expect(onlyWaitingLeft(report)).toBe(true);
    expect(onlyWaitingLeft(view({ counts: { ...zero, waiting: 1, sent: 1 } }))).toBe(false);
  });
});

describe('token file', () => {
  it('reads the bare token of `token add --raw` and the JSON line of plain `token add`', () => {
    expect(tokenFromFile('sst_abc\n')).toBe('sst_abc');
    expect(tokenFromFile('{"name":"maria","role":"manager","token":"sst_abc"}\n')).toBe('sst_abc');
    expect(tokenFromFile('{not json')).toBe('{not json');
  });
});
