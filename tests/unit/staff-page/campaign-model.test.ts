/** The campaigns view's model: API views merged with live progress, stale events ignored, newest first, actions. */
import { describe, expect, it } from 'vitest';
import type { CampaignView } from '../../../edge/campaigns/campaign.js';
import {
  campaignActions,
  entryOfView,
  mergedCampaigns,
  needsDetail,
  percentDone,
  shownLabelCounts,
  withProgress,
  type CampaignEntry,
  type CampaignProgressEvent,
  type MergeCache,
} from '../../../dashboards/staff/src/views/campaigns/campaign-model.js';

const zero = { pending: 0, sent: 0, waiting: 0, confirmed: 0, failed: 0, superseded: 0, cancelled: 0 };

function view(id: string, overrides: Partial<CampaignView> = {}): CampaignView {
  return {
    id,
    name: `${id}.csv`,
    skus: 2,
    state: 'running',
    createdBy: 'maria',
    createdAt: 1_000,
    total: 4,
    counts: { ...zero, pending: 4 },
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

const progress = (campaignId: string, state: string, counts: Partial<typeof zero>, total = 4): CampaignProgressEvent => ({
  campaignId,
  state,
  total,
  counts: { ...zero, ...counts },
});

describe('campaign model', () => {
  it('a progress event moves the counts on and marks the failed labels as needing a fetch when their count changed', () => {
    const entry = entryOfView(view('c1'), 5);
    const moved = withProgress(entry, progress('c1', 'running', { confirmed: 2, sent: 2 }), 9) as CampaignEntry;
    expect(moved).toMatchObject({ name: 'c1.csv', createdBy: 'maria', counts: { confirmed: 2, sent: 2, pending: 0 }, seenAt: 5 });
    expect(moved.detailCurrent).toBe(true);
    expect(percentDone(moved)).toBe(50);
    const failed = withProgress(moved, progress('c1', 'done', { confirmed: 3, failed: 1 }), 9) as CampaignEntry;
    expect(failed).toMatchObject({ state: 'done', detailCurrent: false });
    expect(percentDone(failed)).toBe(100);
    // a label that shows another price since: fetched again too
    const fetched = entryOfView(view('c1', { state: 'done', counts: { ...zero, confirmed: 4 } }), 5);
    const mismatched = withProgress(fetched, { ...progress('c1', 'done', { confirmed: 4 }), mismatched: 1 }, 9) as CampaignEntry;
    expect(mismatched).toMatchObject({ mismatchedCount: 1, detailCurrent: false });
    expect(needsDetail(mismatched)).toBe(true);
    // a label waiting for its access point: the reason is in the view
    const waiting = withProgress(moved, progress('c1', 'running', { confirmed: 2, sent: 1, waiting: 1 }), 9) as CampaignEntry;
    expect(needsDetail(waiting)).toBe(true);
    // counts moved on, nothing to list: no fetch
    expect(needsDetail(withProgress(entry, progress('c1', 'running', { confirmed: 1, sent: 3 }), 9) as CampaignEntry)).toBe(false);
  });

  it('ignores an event older than what the page holds: a finished campaign never runs again, ended labels never shrink', () => {
    const done = entryOfView(view('c1', { state: 'done', counts: { ...zero, confirmed: 4 } }), 5);
    expect(withProgress(done, progress('c1', 'running', { confirmed: 3, sent: 1 }), 9)).toBeUndefined();
    const running = entryOfView(view('c1', { counts: { ...zero, confirmed: 3, sent: 1 } }), 5);
    expect(withProgress(running, progress('c1', 'running', { confirmed: 1, sent: 3 }), 9)).toBeUndefined();
    expect(withProgress(undefined, progress('c1', 'no-such-state', {}), 9)).toBeUndefined();
  });

  it('merges views and stream newest first (stream-only campaigns by when the page saw them), reusing unchanged merges', () => {
    const views = new Map([
      ['old', entryOfView(view('old', { createdAt: 1_000 }), 0)],
      ['new', entryOfView(view('new', { createdAt: 3_000 }), 0)],
    ]);
    const live = new Map([
      ['new', progress('new', 'running', { confirmed: 1, pending: 3 })],
      ['staff-only', { ...progress('staff-only', 'running', { sent: 1 }, 1), name: 'From HQ' }],
    ]);
    const cache: MergeCache = new Map();
    const first = mergedCampaigns(views, live, () => 2_000, cache);
    expect(first.map((entry) => [entry.id, entry.name])).toEqual([
      ['new', 'new.csv'],
      ['staff-only', 'From HQ'],
      ['old', 'old.csv'],
    ]);
    const again = mergedCampaigns(views, live, () => 2_000, cache);
    expect(again[0]).toBe(first[0]); // same view, same event: the same object, so its card does not render again
    live.delete('staff-only');
    mergedCampaigns(views, live, () => 2_000, cache);
    expect([...cache.keys()]).toEqual(['new']);
  });

  it('counts confirmed and failed always, the other states when a label is in them, in words', () => {
    expect(shownLabelCounts({ ...zero, confirmed: 3, waiting: 1 })).toEqual([
      { state: 'confirmed', text: '3 confirmed' },
      { state: 'failed', text: '0 failed' },
      { state: 'waiting', text: '1 waiting for the label' },
    ]);
  });

  it('offers what the gateway allows: cancel while active, roll back once started, send again for failed or mismatched labels', () => {
    const actions = (state: CampaignEntry['state'], failed = 0, mismatchedCount = 0) =>
      campaignActions({ state, counts: { ...zero, failed }, mismatchedCount });
    expect(actions('scheduled')).toEqual({ cancel: true, rollback: false, resend: false });
    expect(actions('running', 1)).toEqual({ cancel: true, rollback: true, resend: true });
    expect(actions('done')).toEqual({ cancel: false, rollback: true, resend: false });
    expect(actions('done', 0, 1)).toEqual({ cancel: false, rollback: true, resend: true });
    expect(actions('cancelled', 2)).toEqual({ cancel: false, rollback: true, resend: false });
    expect(actions('rolled-back')).toEqual({ cancel: false, rollback: false, resend: false });
  });
});
