/**
 * Price campaigns and the state of every label in them. Pure: `stepCampaigns(board, event, now, rules)` returns the
 * board and the effects (commands to send or drop, timers to set) that the campaign service performs; outcomes come
 * back as events. Randomness (retry jitter) is a parameter in `rules`.
 *
 * Per label: pending → sent → confirmed | failed | waiting (accepted by an access point, label not seen yet) → sent at
 * check-in …; superseded (a newer campaign took the label) and cancelled end it too. At most one command is in flight
 * per label (the price book holds it); a newer version waits until the older one is answered or times out.
 *
 * `stepCampaigns` updates the board it is given and returns it: copying 50,000 label records on every ack would make a
 * campaign quadratic. The board is plain data — `JSON.parse(JSON.stringify(board))` is a snapshot, and a board read
 * back after a restart continues with `{ type: 'resume' }`. Inputs are checked before anything changes, so a refused
 * command (CampaignError) leaves the board as it was.
 */
import type { LabelDriverEvent } from '../labels/label-driver.js';
import {
  dropTarget,
  emptyPriceBook,
  issueVersion,
  markSent,
  priceRecordOf,
  recordShown,
  settleInFlight,
  showsAlready,
  type LabelPriceBook,
  type LabelPriceContent,
} from '../labels/label-price-book.js';
import { countOf } from '../core/count-words.js';
import { mayRetry, retryDelayMs, type RetryPolicy } from './retry-policy.js';

export const CAMPAIGN_STATES = ['scheduled', 'running', 'done', 'cancelled', 'rolled-back'] as const;
export type CampaignState = (typeof CAMPAIGN_STATES)[number];
export const LABEL_STATES = ['pending', 'sent', 'waiting', 'confirmed', 'failed', 'superseded', 'cancelled'] as const;
export type LabelState = (typeof LABEL_STATES)[number];
const TERMINAL_LABEL_STATES: ReadonlySet<LabelState> = new Set(['confirmed', 'failed', 'superseded', 'cancelled']);

export function isTerminalLabelState(state: LabelState): boolean {
  return TERMINAL_LABEL_STATES.has(state);
}

/** The states in words, for people (the staff page imports these; the API and the CLI keep the ids). */
export const CAMPAIGN_STATE_WORDS: Record<CampaignState, string> = {
  scheduled: 'Scheduled',
  running: 'Sending',
  done: 'Done',
  cancelled: 'Cancelled',
  'rolled-back': 'Rolled back',
};
export const LABEL_STATE_WORDS: Record<LabelState, string> = {
  pending: 'to send',
  sent: 'sent',
  waiting: 'waiting for the label',
  confirmed: 'confirmed',
  failed: 'failed',
  superseded: 'superseded',
  cancelled: 'cancelled',
};

export function isFinishedCampaignState(state: CampaignState): boolean {
  return state === 'done' || state === 'cancelled' || state === 'rolled-back';
}

/**
 * A campaign's name as people gave it: the price file's name (an upload from the page or `price push`, which send the
 * file's name without its folder) or a title (which may hold a slash: "week 12/2026").
 */
export const MAX_CAMPAIGN_NAME_LENGTH = 120;

/** The name as kept (trimmed), or why it cannot be one. */
export function campaignNameOf(raw: string): { name: string } | { problem: string } {
  const name = raw.trim();
  if (name === '') return { problem: 'the campaign name is empty' };
  if (name.length > MAX_CAMPAIGN_NAME_LENGTH) return { problem: `the campaign name is longer than ${MAX_CAMPAIGN_NAME_LENGTH} characters` };
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (/[\u0000-\u001f\u007f]/.test(name)) return { problem: 'the campaign name has control characters in it' };
  return { name };
}

/** What a person calls the campaign: its name, else its id. */
export function campaignTitle(campaign: { id: string; name?: string }): string {
  return campaign.name ?? campaign.id;
}

/** Skus as campaigns, CSV files and the API accept them (EAN/GTIN, internal article numbers). */
export const SKU_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$';
const skuPattern = new RegExp(SKU_PATTERN);
/** 1,000,000.00 in any currency: above that a price is a typo, not a price. */
export const MAX_PRICE_CENTS = 100_000_000;
export const CAMPAIGN_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9-]{0,63}$';
const campaignIdPattern = new RegExp(CAMPAIGN_ID_PATTERN);

export type CampaignLabel = {
  labelId: string;
  sku: string;
  priceCents: number;
  state: LabelState;
  /** the label's version for this price, issued when the campaign starts */
  version?: number;
  /** sends of this version so far */
  attempts: number;
  /** pending after a failure: not sent again before this time */
  retryAt?: number;
  /** why it failed, was superseded or cancelled; while retrying, the last failure */
  reason?: string;
  /** what the label had confirmed when the campaign started: a rollback goes back to it */
  priorPriceCents?: number;
  /**
   * confirmed, but a later check-in reported this other price (a display swapped or reset, an old image): "send
   * again" sends it its price. Cleared when it reports the confirmed price again or a newer price is confirmed.
   */
  shownPriceCents?: number;
  /** a resend of a label that showed another price: sent even though the book says it confirmed this content */
  sendEvenIfShown?: true;
  updatedAt: number;
};

export type Campaign = {
  id: string;
  /** the price file's name or a title (campaigns saved before names existed have none) */
  name?: string;
  /** skus in the price list (with the ones no label shows); absent on campaigns saved before it was kept */
  skus?: number;
  createdBy: string;
  createdAt: number;
  effectiveAt?: number;
  state: CampaignState;
  startedAt?: number;
  /** when the last label reached a terminal state */
  finishedAt?: number;
  cancelledBy?: string;
  /** the campaign this one rolls back */
  rollbackOf?: string;
  /** the campaign that rolled this one back */
  rolledBackBy?: string;
  /** the campaign whose failed labels this one sends again */
  resendOf?: string;
  /** running and not every label looked at yet: the next `pump` step goes on from this index of `labels` */
  pumpFrom?: number;
  labels: Record<string, CampaignLabel>;
  counts: Record<LabelState, number>;
  total: number;
  /** confirmed labels that reported another price since (`shownPriceCents`); absent: none */
  mismatched?: number;
  /** skus of the campaign that no label shows: nothing to send */
  unmappedSkus: string[];
  /** labels a rollback left out, with why (no price before the campaign, taken over by a newer campaign) */
  skippedLabels: { labelId: string; reason: string }[];
};

/** Every campaign the gateway tracks and the per-label price book they share. Plain, serialisable data. */
export type CampaignBoard = {
  campaigns: Record<string, Campaign>;
  /** campaign ids, oldest first: finished campaigns beyond the limit are forgotten in this order */
  order: string[];
  book: LabelPriceBook;
};

export type CampaignLimits = {
  maxLabelsPerCampaign: number;
  /** scheduled or running campaigns */
  maxActiveCampaigns: number;
  /** finished campaigns kept for GET /api/campaigns/:id (the audit log keeps the history) */
  maxFinishedCampaignsKept: number;
  /** distinct labels in the price book */
  maxTrackedLabels: number;
  /**
   * labels a started campaign looks at per step: a bigger campaign sends the rest in later `pump` steps, so starting
   * 50,000 labels does not hold the event loop for the whole of it
   */
  maxLabelsPumpedPerStep: number;
};

export const DEFAULT_CAMPAIGN_LIMITS: CampaignLimits = {
  maxLabelsPerCampaign: 100_000,
  maxActiveCampaigns: 20,
  maxFinishedCampaignsKept: 200,
  maxTrackedLabels: 200_000,
  maxLabelsPumpedPerStep: 2_000,
};

export type CampaignRules = {
  retry: RetryPolicy;
  /** a sent version with no answer by then counts as a (retryable) failure */
  ackTimeoutMs: number;
  /** a label an access point could not reach for this long is failed */
  waitingTimeoutMs: number;
  limits: CampaignLimits;
  /** a number in [0, 1) — Math.random in the service, a seeded generator in tests */
  random: () => number;
};

export type NewCampaign = {
  id: string;
  /** the price file's name or a title */
  name?: string;
  createdBy: string;
  /** sku → price in minor units */
  prices: Readonly<Record<string, number>>;
  effectiveAt?: number;
  /** the labels that show each sku (from the planogram's label bindings) */
  labelsBySku: Readonly<Record<string, readonly string[]>>;
};

export type CampaignTimer =
  | { kind: 'start'; campaignId: string }
  /** no answer to the send made at `sentAt` */
  | { kind: 'ack'; labelId: string; version: number; sentAt: number }
  | { kind: 'retry'; labelId: string; version: number }
  /** the label has not checked in since the access point accepted the send made at `sentAt` */
  | { kind: 'waiting'; labelId: string; version: number; sentAt: number };

export type CampaignEffect =
  | { type: 'send'; campaignId: string; labelId: string; version: number; sku: string; priceCents: number; attempt: number }
  /**
   * drop this version if the driver still holds it (superseded or timed out): a driver that drops it answers `failed`
   * (so the label is free at once); one that cannot may still confirm it, and that answer is taken as the truth
   */
  | { type: 'drop-send'; labelId: string; version: number }
  /** set (or replace: one timer per key) a timer; when it fires, step `{ type: 'timer', timer }` */
  | { type: 'set-timer'; key: string; at: number; timer: CampaignTimer }
  /** the label's timer has nothing left to time (its send was answered, no retry is due): forget it */
  | { type: 'clear-timer'; key: string };

export type CampaignEvent =
  | { type: 'create'; campaign: NewCampaign }
  /** start every scheduled campaign whose effectiveAt has come (at boot, or on a coarse tick) */
  | { type: 'start-due' }
  | { type: 'cancel'; campaignId: string; by: string }
  | { type: 'rollback'; campaignId: string; rollbackId: string; by: string }
  /** a new campaign (`resendId`) that sends the campaign's failed labels their price again */
  | { type: 'resend'; campaignId: string; resendId: string; by: string }
  | { type: 'label'; event: LabelDriverEvent }
  | { type: 'timer'; timer: CampaignTimer }
  /** the board was read back after a restart: send again what was in flight, set the timers again */
  | { type: 'resume' }
  /** send the next labels of started campaigns not yet looked at (`pumpFrom`), up to maxLabelsPumpedPerStep each */
  | { type: 'pump' };

/** `changed`: the campaigns whose state or counts this step changed — what the live stream reports as progress. */
export type CampaignStep = { board: CampaignBoard; effects: CampaignEffect[]; changed: string[] };

export type CampaignErrorCode =
  'duplicate-id' | 'invalid-campaign' | 'too-many-labels' | 'too-many-active' | 'unknown-campaign' | 'not-active' | 'nothing-to-resend';

export class CampaignError extends Error {
  constructor(
    readonly code: CampaignErrorCode,
    readonly campaignId: string,
    message: string,
  ) {
    super(`campaign ${campaignId}: ${message}`);
    this.name = 'CampaignError';
  }
}

/**
 * A campaign's label ids in a fixed order, for the `pump` steps' cursor. A campaign's labels never change after it is
 * created, so the list is computed once per campaign object (a 50,000-key Object.keys per step is most of a step).
 */
const labelOrders = new WeakMap<Campaign, readonly string[]>();
function labelOrder(campaign: Campaign): readonly string[] {
  let ids = labelOrders.get(campaign);
  if (!ids) labelOrders.set(campaign, (ids = Object.keys(campaign.labels)));
  return ids;
}

export function emptyCampaignBoard(): CampaignBoard {
  return { campaigns: {}, order: [], book: emptyPriceBook() };
}

export function campaignOf(board: CampaignBoard, campaignId: string): Campaign | undefined {
  return Object.hasOwn(board.campaigns, campaignId) ? board.campaigns[campaignId] : undefined;
}

/** Scheduled campaigns whose time has come. */
export function due(board: CampaignBoard, now: number): string[] {
  return board.order.filter((id) => {
    const campaign = board.campaigns[id];
    return campaign?.state === 'scheduled' && (campaign.effectiveAt ?? 0) <= now;
  });
}

export function isActive(campaign: Campaign): boolean {
  return campaign.state === 'scheduled' || campaign.state === 'running';
}

/** The one timer key per label (ack, retry and waiting never overlap), so the service holds at most one per label. */
export function timerKey(timer: CampaignTimer): string {
  return timer.kind === 'start' ? `start:${timer.campaignId}` : labelTimerKey(timer.labelId);
}

function labelTimerKey(labelId: string): string {
  return `label:${labelId}`;
}

export function stepCampaigns(board: CampaignBoard, event: CampaignEvent, now: number, rules: CampaignRules): CampaignStep {
  const step = new Step(board, now, rules);
  switch (event.type) {
    case 'create':
      step.create(event.campaign);
      break;
    case 'start-due':
      for (const id of due(board, now)) step.start(board.campaigns[id] as Campaign);
      break;
    case 'cancel':
      step.cancel(event.campaignId, event.by);
      break;
    case 'rollback':
      step.rollback(event.campaignId, event.rollbackId, event.by);
      break;
    case 'resend':
      step.resend(event.campaignId, event.resendId, event.by);
      break;
    case 'label':
      step.labelEvent(event.event);
      if (event.event.type !== 'link') step.clearTimerIfIdle(event.event.labelId);
      break;
    case 'timer':
      step.timer(event.timer);
      break;
    case 'resume':
      step.resume();
      break;
    case 'pump':
      for (const id of board.order) {
        const campaign = board.campaigns[id] as Campaign;
        if (campaign.pumpFrom !== undefined) step.pumpSome(campaign);
      }
      break;
  }
  step.forgetOldCampaigns();
  return { board, effects: step.effects, changed: [...step.changed] };
}

function zeroCounts(): Record<LabelState, number> {
  return { pending: 0, sent: 0, waiting: 0, confirmed: 0, failed: 0, superseded: 0, cancelled: 0 };
}

/** One event's work: the board, the clock and the effects collected so far. */
class Step {
  readonly effects: CampaignEffect[] = [];
  readonly changed = new Set<string>();

  constructor(
    private readonly board: CampaignBoard,
    private readonly now: number,
    private readonly rules: CampaignRules,
  ) {}

  create(input: NewCampaign): void {
    const campaign = this.checkedNewCampaign(input);
    this.add(campaign);
    if (campaign.effectiveAt !== undefined && campaign.effectiveAt > this.now) {
      this.setTimer({ kind: 'start', campaignId: campaign.id }, campaign.effectiveAt);
    } else {
      this.start(campaign);
    }
  }

  /** Validates everything before the board changes; returns the campaign, scheduled. */
  private checkedNewCampaign(input: NewCampaign): Campaign {
    const id = input.id;
    const limits = this.rules.limits;
    if (!campaignIdPattern.test(id)) throw new CampaignError('invalid-campaign', id, 'invalid campaign id');
    if (input.createdBy === '') throw new CampaignError('invalid-campaign', id, 'createdBy is empty');
    if (campaignOf(this.board, id)) throw new CampaignError('duplicate-id', id, 'a campaign with this id exists');
    let name: string | undefined;
    if (input.name !== undefined) {
      const named = campaignNameOf(input.name);
      if ('problem' in named) throw new CampaignError('invalid-campaign', id, named.problem);
      name = named.name;
    }
    this.checkActiveLimit(id);
    if (input.effectiveAt !== undefined && !Number.isSafeInteger(input.effectiveAt)) {
      throw new CampaignError('invalid-campaign', id, 'effectiveAt must be a time in ms');
    }
    const labels: Record<string, CampaignLabel> = {};
    const unmappedSkus: string[] = [];
    let total = 0;
    for (const [sku, priceCents] of Object.entries(input.prices)) {
      if (!skuPattern.test(sku)) throw new CampaignError('invalid-campaign', id, `invalid sku "${sku}"`);
      if (!Number.isSafeInteger(priceCents) || priceCents < 0 || priceCents > MAX_PRICE_CENTS) {
        throw new CampaignError(
          'invalid-campaign',
          id,
          `sku ${sku}: price ${priceCents} is not an integer from 0 to ${MAX_PRICE_CENTS} cents`,
        );
      }
      const labelIds = Object.hasOwn(input.labelsBySku, sku) ? (input.labelsBySku[sku] ?? []) : [];
      if (labelIds.length === 0) unmappedSkus.push(sku);
      for (const labelId of labelIds) {
        if (Object.hasOwn(labels, labelId)) {
          throw new CampaignError('invalid-campaign', id, `label ${labelId} is bound to both ${labels[labelId]?.sku} and ${sku}`);
        }
        total += 1;
        if (total > limits.maxLabelsPerCampaign) {
          throw new CampaignError('too-many-labels', id, `more than ${limits.maxLabelsPerCampaign} labels`);
        }
        labels[labelId] = { labelId, sku, priceCents, state: 'pending', attempts: 0, updatedAt: this.now };
      }
    }
    this.checkTrackedLabels(id, Object.keys(labels));
    const campaign: Campaign = {
      id,
      ...(name === undefined ? {} : { name }),
      skus: Object.keys(input.prices).length,
      createdBy: input.createdBy,
      createdAt: this.now,
      state: 'scheduled',
      labels,
      counts: { ...zeroCounts(), pending: total },
      total,
      unmappedSkus,
      skippedLabels: [],
    };
    if (input.effectiveAt !== undefined) campaign.effectiveAt = input.effectiveAt;
    return campaign;
  }

  private checkActiveLimit(id: string): void {
    const limit = this.rules.limits.maxActiveCampaigns;
    const active = this.board.order.filter((other) => isActive(this.board.campaigns[other] as Campaign)).length;
    if (active >= limit) throw new CampaignError('too-many-active', id, `${active} campaigns are scheduled or running (at most ${limit})`);
  }

  /** A new id for a campaign the machine makes (rollback, resend): checked like a created one's. */
  private checkNewId(id: string): void {
    if (!campaignIdPattern.test(id)) throw new CampaignError('invalid-campaign', id, 'invalid campaign id');
    if (campaignOf(this.board, id)) throw new CampaignError('duplicate-id', id, 'a campaign with this id exists');
  }

  private checkTrackedLabels(campaignId: string, labelIds: string[]): void {
    const { maxTrackedLabels } = this.rules.limits;
    const untracked = labelIds.filter((labelId) => !priceRecordOf(this.board.book, labelId)).length;
    const tracked = Object.keys(this.board.book.records).length;
    if (tracked + untracked > maxTrackedLabels) {
      throw new CampaignError('too-many-labels', campaignId, `the gateway would track more than ${maxTrackedLabels} labels`);
    }
  }

  private add(campaign: Campaign): void {
    this.board.campaigns[campaign.id] = campaign;
    this.changed.add(campaign.id);
    this.board.order.push(campaign.id);
  }

  /** scheduled → running: issue a version per label (superseding older campaigns' versions) and send what is free. */
  start(campaign: Campaign): void {
    if (campaign.state !== 'scheduled') return;
    campaign.state = 'running';
    this.changed.add(campaign.id);
    campaign.startedAt = this.now;
    const book = this.board.book;
    for (const label of Object.values(campaign.labels)) {
      const confirmed = priceRecordOf(book, label.labelId)?.confirmed;
      if (confirmed) label.priorPriceCents = confirmed.priceCents;
      const { content, replaced } = issueVersion(book, label.labelId, {
        sku: label.sku,
        priceCents: label.priceCents,
        campaignId: campaign.id,
      });
      label.version = content.version;
      if (replaced) this.supersede(replaced, label.labelId, campaign.id);
    }
    campaign.pumpFrom = 0;
    this.pumpSome(campaign);
    this.finishIfDone(campaign);
  }

  /**
   * Looks at the next maxLabelsPumpedPerStep labels of a running campaign (sends what is free); the rest wait for the
   * next `pump` step. A label not looked at yet is `pending` like one waiting for its retry.
   */
  pumpSome(campaign: Campaign): void {
    const from = campaign.pumpFrom;
    if (from === undefined) return;
    if (campaign.state !== 'running') {
      delete campaign.pumpFrom;
      return;
    }
    const ids = labelOrder(campaign);
    const until = Math.min(ids.length, from + this.rules.limits.maxLabelsPumpedPerStep);
    for (let i = from; i < until; i++) this.pump(ids[i] as string);
    if (until >= ids.length) delete campaign.pumpFrom;
    else campaign.pumpFrom = until;
  }

  /** An older campaign's version lost the label to `byCampaignId`; if it is on the radio, ask the driver to drop it. */
  private supersede(replaced: LabelPriceContent, labelId: string, byCampaignId: string): void {
    const older = this.campaignLabel(replaced.campaignId, labelId, replaced.version);
    if (older && !isTerminalLabelState(older.label.state)) {
      this.setLabelState(older.campaign, older.label, 'superseded', `superseded by campaign ${byCampaignId}`);
    }
    if (priceRecordOf(this.board.book, labelId)?.inFlight?.version === replaced.version) {
      this.effects.push({ type: 'drop-send', labelId, version: replaced.version });
    }
  }

  /** Sends the label's target if nothing is in flight and its campaign label is due; same content is confirmed as is. */
  private pump(labelId: string): void {
    const record = priceRecordOf(this.board.book, labelId);
    const target = record?.target;
    if (!record || !target || record.inFlight) return;
    const owner = this.campaignLabel(target.campaignId, labelId, target.version);
    if (!owner) {
      dropTarget(this.board.book, labelId, target.version); // its campaign was forgotten: nothing tracks it
      return;
    }
    const { campaign, label } = owner;
    if (label.state !== 'pending' || (label.retryAt !== undefined && label.retryAt > this.now)) return;
    delete label.retryAt;
    if (!label.sendEvenIfShown && showsAlready(record, label.sku, label.priceCents)) {
      dropTarget(this.board.book, labelId, target.version);
      this.setLabelState(campaign, label, 'confirmed', 'already shown');
      return;
    }
    label.attempts += 1;
    this.send(campaign, label, target);
  }

  private send(campaign: Campaign, label: CampaignLabel, content: LabelPriceContent): void {
    markSent(this.board.book, label.labelId, content, label.attempts, this.now);
    this.setLabelState(campaign, label, 'sent');
    this.effects.push({
      type: 'send',
      campaignId: campaign.id,
      labelId: label.labelId,
      version: content.version,
      sku: content.sku,
      priceCents: content.priceCents,
      attempt: label.attempts,
    });
    this.setTimer({ kind: 'ack', labelId: label.labelId, version: content.version, sentAt: this.now }, this.now + this.rules.ackTimeoutMs);
  }

  cancel(campaignId: string, by: string): void {
    const campaign = this.activeCampaign(campaignId, 'cancel');
    campaign.state = 'cancelled';
    this.changed.add(campaign.id);
    campaign.cancelledBy = by;
    this.stopPending(campaign, `cancelled by ${by}`);
    this.finishIfDone(campaign);
  }

  /** Labels not sent yet stop; sent ones are still tracked to their end (the label may show the price already). */
  private stopPending(campaign: Campaign, reason: string): void {
    for (const label of Object.values(campaign.labels)) {
      if (label.state !== 'pending') continue;
      if (label.version !== undefined) dropTarget(this.board.book, label.labelId, label.version);
      delete label.retryAt;
      this.setLabelState(campaign, label, 'cancelled', reason);
    }
  }

  rollback(campaignId: string, rollbackId: string, by: string): void {
    const campaign = campaignOf(this.board, campaignId);
    if (!campaign) throw new CampaignError('unknown-campaign', campaignId, 'no such campaign');
    if (campaign.state === 'scheduled' || campaign.state === 'rolled-back') {
      throw new CampaignError('not-active', campaignId, `cannot roll back a ${campaign.state} campaign`);
    }
    this.checkNewId(rollbackId);
    const labels: Record<string, CampaignLabel> = {};
    const skippedLabels: Campaign['skippedLabels'] = [];
    for (const label of Object.values(campaign.labels)) {
      if (label.version === undefined || label.attempts === 0) continue; // never sent: the label never changed
      const record = priceRecordOf(this.board.book, label.labelId);
      if (label.state === 'superseded' || (record?.target && record.target.campaignId !== campaignId)) {
        skippedLabels.push({ labelId: label.labelId, reason: 'a newer campaign has set its price' });
      } else if (label.priorPriceCents === undefined) {
        skippedLabels.push({ labelId: label.labelId, reason: 'no price was confirmed before the campaign' });
      } else {
        const { labelId, sku, priorPriceCents } = label;
        labels[labelId] = { labelId, sku, priceCents: priorPriceCents, state: 'pending', attempts: 0, updatedAt: this.now };
      }
    }
    campaign.state = 'rolled-back';
    this.changed.add(campaign.id);
    campaign.rolledBackBy = rollbackId;
    this.stopPending(campaign, `rolled back by ${by}`);
    const total = Object.keys(labels).length;
    const reverse: Campaign = {
      id: rollbackId,
      name: `rollback of ${campaignTitle(campaign)}`.slice(0, MAX_CAMPAIGN_NAME_LENGTH),
      skus: new Set(Object.values(labels).map((label) => label.sku)).size,
      createdBy: by,
      createdAt: this.now,
      state: 'scheduled',
      rollbackOf: campaignId,
      labels,
      counts: { ...zeroCounts(), pending: total },
      total,
      unmappedSkus: [],
      skippedLabels,
    };
    // no active-campaign limit here: a rollback replaces the campaign it undoes, and refusing it would leave wrong prices
    this.add(reverse);
    this.finishIfDone(campaign);
    this.start(reverse);
  }

  /**
   * "Send again": a new campaign with the campaign's failed labels (no answer, a refusal, or a label that showed another
   * price than it was sent) at the campaign's prices. A label a newer campaign has taken since is left out, with why —
   * sending the older price again would undo the newer one. Only a running or done campaign's prices are sent again: a
   * cancelled or rolled-back campaign's were taken back on purpose.
   */
  resend(campaignId: string, resendId: string, by: string): void {
    const campaign = campaignOf(this.board, campaignId);
    if (!campaign) throw new CampaignError('unknown-campaign', campaignId, 'no such campaign');
    if (campaign.state !== 'running' && campaign.state !== 'done') {
      throw new CampaignError('not-active', campaignId, `cannot send again the labels of a ${campaign.state} campaign`);
    }
    this.checkNewId(resendId);
    this.checkActiveLimit(resendId);
    const position = this.board.order.indexOf(campaignId);
    const labels: Record<string, CampaignLabel> = {};
    const skippedLabels: Campaign['skippedLabels'] = [];
    for (const label of Object.values(campaign.labels)) {
      const showsOther = label.state === 'confirmed' && label.shownPriceCents !== undefined;
      if (label.state !== 'failed' && !showsOther) continue;
      const record = priceRecordOf(this.board.book, label.labelId);
      const newer = record?.target ?? record?.confirmed;
      // the price book names the campaign behind what the label shows or gets; one after this campaign has the label now
      if (newer && newer.campaignId !== campaignId && this.board.order.indexOf(newer.campaignId) > position) {
        skippedLabels.push({ labelId: label.labelId, reason: `campaign ${newer.campaignId} has set its price since` });
        continue;
      }
      const { labelId, sku, priceCents } = label;
      const again: CampaignLabel = { labelId, sku, priceCents, state: 'pending', attempts: 0, updatedAt: this.now };
      // the book says the label confirmed this very content: without this the pump would take it as shown already
      if (showsOther) again.sendEvenIfShown = true;
      labels[labelId] = again;
    }
    const total = Object.keys(labels).length;
    if (total === 0) {
      const why =
        skippedLabels.length > 0
          ? 'newer campaigns have set the price of every failed label'
          : 'no label of it failed or shows another price';
      throw new CampaignError('nothing-to-resend', campaignId, `nothing to send again: ${why}`);
    }
    this.checkTrackedLabels(resendId, Object.keys(labels));
    const again: Campaign = {
      id: resendId,
      name: `${campaignTitle(campaign)} (sent again)`.slice(0, MAX_CAMPAIGN_NAME_LENGTH),
      skus: new Set(Object.values(labels).map((label) => label.sku)).size,
      createdBy: by,
      createdAt: this.now,
      state: 'scheduled',
      resendOf: campaignId,
      labels,
      counts: { ...zeroCounts(), pending: total },
      total,
      unmappedSkus: [],
      skippedLabels,
    };
    this.add(again);
    this.start(again);
  }

  labelEvent(event: LabelDriverEvent): void {
    switch (event.type) {
      case 'confirmed':
        this.confirmed(event.labelId, event.version, event.displayedPriceCents);
        break;
      case 'failed':
        this.failed(event.labelId, event.version, event.reason, event.retryable);
        break;
      case 'waiting':
        this.waiting(event.labelId, event.version);
        break;
      case 'check-in':
        this.checkIn(event.labelId, event.displayedPriceCents);
        break;
      case 'link':
        break; // link state is the driver's and the health view's; labels report their own outcomes
    }
  }

  private confirmed(labelId: string, version: number, displayedPriceCents: number | undefined): void {
    const record = priceRecordOf(this.board.book, labelId);
    if (!record) return;
    const expected = [record.inFlight, record.lastSent, record.target].find((known) => known?.version === version);
    if (expected && displayedPriceCents !== undefined && displayedPriceCents !== expected.priceCents) {
      this.failed(labelId, version, `label shows ${displayedPriceCents} cents, expected ${expected.priceCents}`, true);
      return;
    }
    const before = record.confirmed;
    const shown = recordShown(this.board.book, labelId, version, this.now);
    if (!shown) return; // duplicate, older than what the label confirmed, or unknown: says nothing new
    // what the label showed before is history now: its campaign has no mismatch to send again
    if (before) this.setShown(this.campaignLabel(before.campaignId, labelId, before.version), undefined);
    const owner = this.campaignLabel(shown.campaignId, labelId, version);
    if (owner && !isTerminalLabelState(owner.label.state)) {
      delete owner.label.retryAt;
      this.setLabelState(owner.campaign, owner.label, 'confirmed');
    }
    this.pump(labelId); // a superseded version was answered: the newer one may go now
  }

  private failed(labelId: string, version: number, reason: string, retryable: boolean): void {
    const record = priceRecordOf(this.board.book, labelId);
    const inFlight = record?.inFlight;
    if (!inFlight || inFlight.version !== version) return; // not the command we wait for: late or duplicate
    settleInFlight(this.board.book, labelId, version);
    this.afterFailure(labelId, inFlight, reason, retryable);
    this.pump(labelId);
  }

  private afterFailure(labelId: string, content: LabelPriceContent, reason: string, retryable: boolean): void {
    const owner = this.campaignLabel(content.campaignId, labelId, content.version);
    if (!owner || isTerminalLabelState(owner.label.state)) return;
    const { campaign, label } = owner;
    if (retryable && isActive(campaign) && mayRetry(this.rules.retry, label.attempts)) {
      label.retryAt = this.now + retryDelayMs(this.rules.retry, label.attempts, this.rules.random);
      this.setLabelState(campaign, label, 'pending', reason);
      this.setTimer({ kind: 'retry', labelId, version: content.version }, label.retryAt);
      return;
    }
    const why = !isActive(campaign)
      ? `${reason} (campaign ${campaign.state}: not retried)`
      : retryable
        ? `${reason} (after ${countOf(label.attempts, 'attempt')})`
        : reason;
    dropTarget(this.board.book, labelId, content.version);
    this.setLabelState(campaign, label, 'failed', why);
  }

  private waiting(labelId: string, version: number): void {
    const inFlight = priceRecordOf(this.board.book, labelId)?.inFlight;
    if (!inFlight || inFlight.version !== version) return;
    const owner = this.campaignLabel(inFlight.campaignId, labelId, version);
    if (!owner || owner.label.state !== 'sent') return;
    this.setLabelState(owner.campaign, owner.label, 'waiting');
    this.setTimer({ kind: 'waiting', labelId, version, sentAt: inFlight.sentAt }, this.now + this.rules.waitingTimeoutMs);
  }

  /** The label was seen: deliver what waits for it now, rather than at the next retry. */
  private checkIn(labelId: string, displayedPriceCents: number | undefined): void {
    const record = priceRecordOf(this.board.book, labelId);
    if (!record) return;
    const inFlight = record.inFlight;
    if (inFlight) {
      const owner = this.campaignLabel(inFlight.campaignId, labelId, inFlight.version);
      if (!owner || isTerminalLabelState(owner.label.state)) {
        // a superseded version waits at the access point: the label is awake, so the newer one goes instead
        settleInFlight(this.board.book, labelId, inFlight.version);
        this.pump(labelId);
        return;
      }
      if (owner.label.state !== 'waiting') return;
      if (displayedPriceCents === inFlight.priceCents) {
        this.confirmed(labelId, inFlight.version, displayedPriceCents); // delivered and reported in one check-in
        return;
      }
      settleInFlight(this.board.book, labelId, inFlight.version);
      this.send(owner.campaign, owner.label, inFlight);
      return;
    }
    const target = record.target;
    const owner = target && this.campaignLabel(target.campaignId, labelId, target.version);
    if (owner?.label.state === 'pending' && owner.label.retryAt !== undefined) {
      delete owner.label.retryAt;
      this.pump(labelId);
    }
    // nothing under way for the label: what it shows is compared with what it confirmed
    const confirmed = record.confirmed;
    if (!target && confirmed && displayedPriceCents !== undefined) {
      const shownOwner = this.campaignLabel(confirmed.campaignId, labelId, confirmed.version);
      this.setShown(shownOwner, displayedPriceCents === confirmed.priceCents ? undefined : displayedPriceCents);
    }
  }

  /** Records (or clears: undefined) that a confirmed campaign label shows another price; counted per campaign. */
  private setShown(owner: { campaign: Campaign; label: CampaignLabel } | undefined, shownPriceCents: number | undefined): void {
    if (!owner || owner.label.state !== 'confirmed' || owner.label.shownPriceCents === shownPriceCents) return;
    const { campaign, label } = owner;
    const was = label.shownPriceCents !== undefined;
    if (shownPriceCents === undefined) delete label.shownPriceCents;
    else label.shownPriceCents = shownPriceCents;
    const mismatched = (campaign.mismatched ?? 0) + (shownPriceCents !== undefined ? 1 : 0) - (was ? 1 : 0);
    if (mismatched > 0) campaign.mismatched = mismatched;
    else delete campaign.mismatched;
    label.updatedAt = this.now;
    this.changed.add(campaign.id);
  }

  /**
   * After a driver's answer: a label with no send in flight (or waiting) and no retry due needs no timer. Its ack timer
   * would otherwise still come due — for a 50,000-label campaign, 50,000 no-op steps in one tick 30 s later.
   */
  clearTimerIfIdle(labelId: string): void {
    const key = labelTimerKey(labelId);
    if (this.effects.some((effect) => effect.type === 'set-timer' && effect.key === key)) return;
    const record = priceRecordOf(this.board.book, labelId);
    if (record?.inFlight) return;
    const target = record?.target;
    const owner = target && this.campaignLabel(target.campaignId, labelId, target.version);
    if (owner?.label.state === 'pending' && owner.label.retryAt !== undefined) return;
    this.effects.push({ type: 'clear-timer', key });
  }

  timer(timer: CampaignTimer): void {
    const book = this.board.book;
    switch (timer.kind) {
      case 'start': {
        const campaign = campaignOf(this.board, timer.campaignId);
        if (campaign?.state === 'scheduled' && (campaign.effectiveAt ?? 0) <= this.now) this.start(campaign);
        return;
      }
      case 'ack':
      case 'waiting': {
        const inFlight = priceRecordOf(book, timer.labelId)?.inFlight;
        if (!inFlight || inFlight.version !== timer.version || inFlight.sentAt !== timer.sentAt) return; // answered since
        const owner = this.campaignLabel(inFlight.campaignId, timer.labelId, timer.version);
        const expectedState: LabelState = timer.kind === 'ack' ? 'sent' : 'waiting';
        // a superseded version still blocks the label until answered or timed out: settle it so the newer one goes
        if (owner && !isTerminalLabelState(owner.label.state) && owner.label.state !== expectedState) return;
        settleInFlight(book, timer.labelId, timer.version);
        this.effects.push({ type: 'drop-send', labelId: timer.labelId, version: timer.version });
        if (timer.kind === 'ack') {
          this.afterFailure(timer.labelId, inFlight, `no answer within ${this.rules.ackTimeoutMs} ms`, true);
        } else {
          this.afterFailure(timer.labelId, inFlight, `label not seen within ${this.rules.waitingTimeoutMs} ms`, false);
        }
        this.pump(timer.labelId);
        return;
      }
      case 'retry': {
        const owner = this.campaignLabel(priceRecordOf(book, timer.labelId)?.target?.campaignId, timer.labelId, timer.version);
        if (owner?.label.state === 'pending' && owner.label.retryAt !== undefined && owner.label.retryAt <= this.now)
          this.pump(timer.labelId);
        return;
      }
    }
  }

  /** After a restart nothing is in flight any more (the drivers' queues are gone): send again, set timers again. */
  resume(): void {
    for (const record of Object.values(this.board.book.records)) {
      const inFlight = record.inFlight;
      if (inFlight) {
        const owner = this.campaignLabel(inFlight.campaignId, record.labelId, inFlight.version);
        settleInFlight(this.board.book, record.labelId, inFlight.version);
        if (owner && (owner.label.state === 'sent' || owner.label.state === 'waiting')) {
          this.send(owner.campaign, owner.label, inFlight); // the same attempt: the restart is not the label's failure
          continue;
        }
      }
      const target = record.target;
      const owner = target && this.campaignLabel(target.campaignId, record.labelId, target.version);
      if (owner?.label.state === 'pending' && owner.label.retryAt !== undefined && owner.label.retryAt > this.now) {
        this.setTimer({ kind: 'retry', labelId: record.labelId, version: owner.label.version as number }, owner.label.retryAt);
      } else {
        this.pump(record.labelId);
      }
    }
    // after the labels: a campaign started here sends its labels itself
    for (const id of [...this.board.order]) {
      const campaign = this.board.campaigns[id] as Campaign;
      if (campaign.state !== 'scheduled') continue;
      if ((campaign.effectiveAt ?? 0) <= this.now) this.start(campaign);
      else this.setTimer({ kind: 'start', campaignId: id }, campaign.effectiveAt as number);
    }
  }

  /** Finished campaigns beyond the limit are forgotten, oldest first; active ones never are. */
  forgetOldCampaigns(): void {
    const finished = this.board.order.filter((id) => {
      const campaign = this.board.campaigns[id] as Campaign;
      return !isActive(campaign) && campaign.finishedAt !== undefined;
    });
    const excess = finished.length - this.rules.limits.maxFinishedCampaignsKept;
    if (excess <= 0) return;
    const forget = new Set(finished.slice(0, excess));
    for (const id of forget) {
      delete this.board.campaigns[id];
      this.changed.delete(id);
    }
    this.board.order = this.board.order.filter((id) => !forget.has(id));
  }

  private activeCampaign(campaignId: string, action: string): Campaign {
    const campaign = campaignOf(this.board, campaignId);
    if (!campaign) throw new CampaignError('unknown-campaign', campaignId, 'no such campaign');
    if (!isActive(campaign)) throw new CampaignError('not-active', campaignId, `cannot ${action} a ${campaign.state} campaign`);
    return campaign;
  }

  /** The campaign label that owns `version` of the label, if its campaign is still kept. */
  private campaignLabel(
    campaignId: string | undefined,
    labelId: string,
    version: number,
  ): { campaign: Campaign; label: CampaignLabel } | undefined {
    const campaign = campaignId === undefined ? undefined : campaignOf(this.board, campaignId);
    const label = campaign && Object.hasOwn(campaign.labels, labelId) ? campaign.labels[labelId] : undefined;
    return campaign && label?.version === version ? { campaign, label } : undefined;
  }

  private setLabelState(campaign: Campaign, label: CampaignLabel, state: LabelState, reason?: string): void {
    campaign.counts[label.state] -= 1;
    campaign.counts[state] += 1;
    label.state = state;
    label.updatedAt = this.now;
    this.changed.add(campaign.id);
    if (reason !== undefined) label.reason = reason;
    else if (state === 'confirmed') delete label.reason;
    if (isTerminalLabelState(state)) this.finishIfDone(campaign);
  }

  private finishIfDone(campaign: Campaign): void {
    if (campaign.finishedAt !== undefined || campaign.state === 'scheduled') return;
    const open = campaign.counts.pending + campaign.counts.sent + campaign.counts.waiting;
    if (open > 0) return;
    campaign.finishedAt = this.now;
    if (campaign.state === 'running') campaign.state = 'done';
  }

  private setTimer(timer: CampaignTimer, at: number): void {
    this.effects.push({ type: 'set-timer', key: timerKey(timer), at, timer });
  }
}

/** What GET /api/campaigns/:id shows: counts per label state and the failed labels with their reasons. */
export type CampaignView = {
  id: string;
  /** the price file's name or a title; a rollback's and a resend's say what they undo or repeat */
  name?: string;
  /** skus in its price list, with those no label shows */
  skus: number;
  state: CampaignState;
  createdBy: string;
  createdAt: number;
  effectiveAt?: number;
  startedAt?: number;
  finishedAt?: number;
  cancelledBy?: string;
  rollbackOf?: string;
  rolledBackBy?: string;
  resendOf?: string;
  total: number;
  counts: Record<LabelState, number>;
  failed: { labelId: string; sku: string; priceCents: number; attempts: number; reason: string }[];
  /** failed labels beyond the listed ones */
  failedNotListed: number;
  /** confirmed labels that reported another price since (a display swapped or reset): what "send again" fixes */
  mismatched: { labelId: string; sku: string; priceCents: number; shownPriceCents: number; since: number }[];
  mismatchedNotListed: number;
  /**
   * labels still to show their price for a reason a person can act on, with the reason: `waiting` (their access point
   * has it, the label has not checked in since) and `retrying` (a send failed, the next one is due at `retryAt`)
   */
  waiting: {
    labelId: string;
    sku: string;
    priceCents: number;
    state: 'waiting' | 'retrying';
    since: number;
    reason: string;
    retryAt?: number;
  }[];
  /** waiting and retrying labels beyond the listed ones */
  waitingNotListed: number;
  unmappedSkus: string[];
  skippedLabels: { labelId: string; reason: string }[];
};

/**
 * Why a label waits: its driver could not hand the price over now — a direct label is not connected, or its access
 * point holds the price until the label wakes — and delivers it when the label next connects or checks in.
 */
export const WAITING_REASON =
  'label not reachable now (asleep, away, or its access point holds the price): it takes the price when it next checks in';

/** A label waiting or retrying as the view lists it; undefined for one that is simply on its way. */
function waitingEntry(label: CampaignLabel): CampaignView['waiting'][number] | undefined {
  const base = { labelId: label.labelId, sku: label.sku, priceCents: label.priceCents, since: label.updatedAt };
  if (label.state === 'waiting') return { ...base, state: 'waiting', reason: WAITING_REASON };
  if (label.state === 'pending' && label.retryAt !== undefined) {
    return { ...base, state: 'retrying', reason: label.reason ?? 'the last send failed', retryAt: label.retryAt };
  }
  return undefined;
}

export function campaignView(campaign: Campaign, maxFailedListed = 500): CampaignView {
  const failed: CampaignView['failed'] = [];
  if (campaign.counts.failed > 0) {
    for (const label of Object.values(campaign.labels)) {
      if (label.state !== 'failed') continue;
      if (failed.length >= maxFailedListed) break;
      failed.push({
        labelId: label.labelId,
        sku: label.sku,
        priceCents: label.priceCents,
        attempts: label.attempts,
        reason: label.reason ?? 'unknown',
      });
    }
  }
  // listed with the same bound as the failed ones; counted in full (a retrying label is `pending` in the counts)
  const waiting: CampaignView['waiting'] = [];
  let waitingNotListed = 0;
  if (campaign.counts.waiting + campaign.counts.pending > 0) {
    for (const label of Object.values(campaign.labels)) {
      const entry = waitingEntry(label);
      if (!entry) continue;
      if (waiting.length < maxFailedListed) waiting.push(entry);
      else waitingNotListed += 1;
    }
  }
  const mismatched: CampaignView['mismatched'] = [];
  if ((campaign.mismatched ?? 0) > 0) {
    for (const label of Object.values(campaign.labels)) {
      if (label.state !== 'confirmed' || label.shownPriceCents === undefined) continue;
      if (mismatched.length >= maxFailedListed) break;
      const { labelId, sku, priceCents, shownPriceCents, updatedAt: since } = label;
      mismatched.push({ labelId, sku, priceCents, shownPriceCents, since });
    }
  }
  const view: CampaignView = {
    id: campaign.id,
    skus: campaign.skus ?? skuCountOf(campaign),
    state: campaign.state,
    createdBy: campaign.createdBy,
    createdAt: campaign.createdAt,
    total: campaign.total,
    counts: { ...campaign.counts },
    failed,
    failedNotListed: campaign.counts.failed - failed.length,
    mismatched,
    mismatchedNotListed: (campaign.mismatched ?? 0) - mismatched.length,
    waiting,
    waitingNotListed,
    unmappedSkus: [...campaign.unmappedSkus],
    skippedLabels: [...campaign.skippedLabels],
  };
  for (const key of ['name', 'effectiveAt', 'startedAt', 'finishedAt', 'cancelledBy', 'rollbackOf', 'rolledBackBy', 'resendOf'] as const) {
    const value = campaign[key];
    if (value !== undefined) (view as Record<string, unknown>)[key] = value;
  }
  return view;
}

/** A campaign saved before `skus` was kept: the skus its labels show and those none shows. */
function skuCountOf(campaign: Campaign): number {
  const skus = new Set(campaign.unmappedSkus);
  for (const label of Object.values(campaign.labels)) skus.add(label.sku);
  return skus.size;
}
