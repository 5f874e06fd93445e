// What the campaigns view shows, pure: a campaign as GET /api/campaigns has it, merged with the live stream's progress
// (counts only), ordered newest first. The states and their words are the server's (edge/campaigns/campaign.ts).
import {
  CAMPAIGN_STATE_WORDS,
  LABEL_STATES,
  LABEL_STATE_WORDS,
  campaignTitle,
  isFinishedCampaignState,
  isTerminalLabelState,
  type CampaignState,
  type CampaignView,
  type LabelState,
} from '../../../../../edge/campaigns/campaign.js';

/** The `campaign` live event as the page reads it (edge/campaigns/campaign-service.ts CampaignProgress). */
export type CampaignProgressEvent = {
  campaignId: string;
  name?: string;
  state: string;
  total: number;
  counts: Readonly<Record<string, number>>;
  /** confirmed labels that showed another price since; absent: none */
  mismatched?: number;
  finishedAt?: number;
};

/**
 * One campaign on the page: everything GET /api/campaigns/:id says once the page has asked (managers), else what the
 * stream said. `seenAt` orders a campaign known only from the stream (it has no createdAt).
 */
export type CampaignEntry = Partial<Omit<CampaignView, 'id' | 'state' | 'total' | 'counts'>> & {
  id: string;
  state: CampaignState;
  total: number;
  counts: Record<LabelState, number>;
  /** confirmed labels that show another price now (the listed ones are in `mismatched`, once fetched) */
  mismatchedCount: number;
  seenAt: number;
  /** whether the failed labels' reasons are as current as the counts (false after a progress event changed them) */
  detailCurrent: boolean;
};

export const CAMPAIGN_STATE_IDS: readonly CampaignState[] = Object.keys(CAMPAIGN_STATE_WORDS) as CampaignState[];

function isCampaignState(state: string): state is CampaignState {
  return Object.hasOwn(CAMPAIGN_STATE_WORDS, state);
}

function countsOf(counts: Readonly<Record<string, number>>): Record<LabelState, number> {
  return Object.fromEntries(LABEL_STATES.map((state) => [state, counts[state] ?? 0])) as Record<LabelState, number>;
}

export function settledLabels(counts: Readonly<Record<LabelState, number>>): number {
  return LABEL_STATES.filter(isTerminalLabelState).reduce((sum, state) => sum + counts[state], 0);
}

/** Labels that reached an end, in whole percent (rounded down: 100 % only when every label has ended). */
export function percentDone(entry: Pick<CampaignEntry, 'total' | 'counts' | 'state'>): number {
  if (entry.total === 0) return isFinishedCampaignState(entry.state) ? 100 : 0;
  return Math.floor((settledLabels(entry.counts) / entry.total) * 100);
}

/** Answers and events may cross: a finished campaign never goes back to running, and ended labels never shrink. */
export function isStale(incoming: Pick<CampaignEntry, 'state' | 'counts'>, current: CampaignEntry | undefined): boolean {
  if (!current) return false;
  if (isFinishedCampaignState(current.state) && !isFinishedCampaignState(incoming.state)) return true;
  return settledLabels(incoming.counts) < settledLabels(current.counts);
}

export function entryOfView(view: CampaignView, seenAt: number): CampaignEntry {
  const mismatchedCount = view.mismatched.length + view.mismatchedNotListed;
  return { ...view, counts: countsOf(view.counts), mismatchedCount, seenAt, detailCurrent: true };
}

/** The entry after a progress event, or undefined when the event is older than what the page holds. */
export function withProgress(current: CampaignEntry | undefined, event: CampaignProgressEvent, seenAt: number): CampaignEntry | undefined {
  if (!isCampaignState(event.state)) return undefined;
  const incoming = { state: event.state, counts: countsOf(event.counts) };
  if (isStale(incoming, current)) return undefined;
  const mismatchedCount = event.mismatched ?? 0;
  // the listed labels (failed, showing another price, waiting for the label) come with the view: fetched again
  const listsChanged =
    current !== undefined &&
    (current.counts.failed !== incoming.counts.failed ||
      current.counts.waiting !== incoming.counts.waiting ||
      current.mismatchedCount !== mismatchedCount);
  return {
    ...current,
    id: event.campaignId,
    ...(event.name === undefined ? {} : { name: event.name }),
    ...(event.finishedAt === undefined ? {} : { finishedAt: event.finishedAt }),
    state: incoming.state,
    total: event.total,
    counts: incoming.counts,
    mismatchedCount,
    seenAt: current?.seenAt ?? seenAt,
    detailCurrent: current !== undefined && current.detailCurrent && !listsChanged,
  };
}

/**
 * Per campaign, the last merge of a view and an event: merged again only when either changed, so a progress event
 * gives one new entry object and the other cards (memoised) do not render again.
 */
export type MergeCache = Map<string, { view: CampaignEntry | undefined; event: CampaignProgressEvent; merged: CampaignEntry | undefined }>;

/** Views from the API and progress from the stream, merged by id, newest first. */
export function mergedCampaigns(
  views: ReadonlyMap<string, CampaignEntry>,
  progress: ReadonlyMap<string, CampaignProgressEvent>,
  seenAt: (id: string) => number,
  cache: MergeCache = new Map(),
): CampaignEntry[] {
  const merged = new Map(views);
  for (const event of progress.values()) {
    const view = views.get(event.campaignId);
    const cached = cache.get(event.campaignId);
    const next =
      cached && cached.view === view && cached.event === event ? cached.merged : withProgress(view, event, seenAt(event.campaignId));
    cache.set(event.campaignId, { view, event, merged: next });
    if (next) merged.set(event.campaignId, next);
  }
  // the stream keeps a bounded map of campaigns: what it dropped leaves the cache too
  for (const id of cache.keys()) if (!progress.has(id)) cache.delete(id);
  return [...merged.values()].sort((a, b) => (b.createdAt ?? b.seenAt) - (a.createdAt ?? a.seenAt));
}

/** Whether the card's lists of labels are behind its counts and something is (or was) listed: fetch the view again. */
export function needsDetail(entry: CampaignEntry): boolean {
  if (entry.detailCurrent) return false;
  const listed = (entry.failed?.length ?? 0) + (entry.mismatched?.length ?? 0) + (entry.waiting?.length ?? 0);
  return entry.counts.failed + entry.counts.waiting + entry.mismatchedCount + listed > 0;
}

/** The label states a campaign card counts: confirmed and failed always, the others when some label is in them. */
export function shownLabelCounts(counts: Readonly<Record<LabelState, number>>): { state: LabelState; text: string }[] {
  const order: LabelState[] = ['confirmed', 'failed', 'waiting', 'sent', 'pending', 'superseded', 'cancelled'];
  return order
    .filter((state) => state === 'confirmed' || state === 'failed' || counts[state] > 0)
    .map((state) => ({ state, text: `${counts[state]} ${LABEL_STATE_WORDS[state]}` }));
}

/** The actions a manager has on a campaign, as the gateway allows them (it checks again). */
export function campaignActions(entry: Pick<CampaignEntry, 'state' | 'counts' | 'mismatchedCount'>): {
  cancel: boolean;
  rollback: boolean;
  resend: boolean;
} {
  return {
    cancel: entry.state === 'scheduled' || entry.state === 'running',
    rollback: entry.state !== 'scheduled' && entry.state !== 'rolled-back',
    // the failed labels and those that show another price than they confirmed
    resend: (entry.state === 'running' || entry.state === 'done') && entry.counts.failed + entry.mismatchedCount > 0,
  };
}

export function stateWords(state: CampaignState): string {
  return CAMPAIGN_STATE_WORDS[state];
}

export { campaignTitle };
