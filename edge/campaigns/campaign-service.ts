/**
 * The campaign service: the side effects around the pure campaign machine (campaign.ts). It steps the machine with
 * requests, driver events and timers, and performs what the machine asks — `send` through the label's driver (at
 * most `sendsPerSecond` per driver: the radio side is slow and shared), `drop-send`, `set-timer` (one per key). It
 * persists the board through the storage writer's flush (campaign-store.ts), in the same transaction as the audit
 * entries of the same tick, reads it back and resumes after a restart, publishes
 * `campaign.progress` on the bus (throttled per campaign) and records campaign actions in the audit trail.
 *
 * Durable before seen: a send leaves for a label only once the board holding its version is committed. A campaign
 * that a crash loses was never on any label, and the audit trail never names a campaign the board does not hold. A
 * label's confirmation is written behind (with the next flush): one lost to a crash costs a re-send of the same
 * version after the restart, never a wrong price.
 *
 * Everything runs on one coarse tick (`tickMs`): due timers, scheduled campaigns, the send queues, the flush. Time comes
 * from `now()`, so tests drive the tick themselves.
 */
import type { Logger } from 'pino';
import type { AuditInput } from '../audit/audit-log.js';
import type { GatewayBus } from '../core/events.js';
import type { HealthCheck } from '../core/module.js';
import { tokenBucket, tryTakeTokens, type TokenBucket } from '../core/token-bucket.js';
import type { AccessGuard } from '../http/auth.js';
import type { FlushWriter } from '../storage/write-behind.js';
import {
  CAMPAIGN_STATES,
  CampaignError,
  campaignOf,
  campaignView,
  DEFAULT_CAMPAIGN_LIMITS,
  emptyCampaignBoard,
  stepCampaigns,
  type CampaignBoard,
  type CampaignEvent,
  type CampaignRules,
  type CampaignState,
  type CampaignTimer,
  type CampaignView,
  type LabelState,
} from './campaign.js';
import { campaignRoutes } from './campaign-routes.js';
import { CampaignStore, type CampaignBoardChanges } from './campaign-store.js';
import { DriverSubscriptions } from '../labels/driver-subscriptions.js';
import type { LabelDirectory } from '../labels/label-directory.js';
import type { LabelContent, LabelDriver, LabelDriverEvent } from '../labels/label-driver.js';
import { copyPriceRecord, priceRecordOf, type LabelPriceRecord } from '../labels/label-price-book.js';
import { DEFAULT_RETRY_POLICY } from './retry-policy.js';

/** `campaign.progress` on the bus and the live stream: at most a few a second per campaign, and always its last state. */
export type CampaignProgress = {
  campaignId: string;
  /** the price file's name or a title: a page that may not list campaigns (staff) still says which one it is */
  name?: string;
  state: CampaignState;
  total: number;
  counts: Record<LabelState, number>;
  /** confirmed labels that reported another price since; absent: none */
  mismatched?: number;
  finishedAt?: number;
};

export type CampaignServiceOptions = {
  /** the coarse tick: timers, scheduled starts, send queues */
  tickMs: number;
  /** changes are written at most this often (and on stop) */
  flushMs: number;
  /** sends handed to one driver per second (token bucket, burst of one second) */
  sendsPerSecondPerDriver: number;
  /** progress events per campaign: at most one per this interval (the last one is never lost) */
  progressIntervalMs: number;
  /** timers held at once (labels tracked + campaigns bound them; past it a timer is refused and counted) */
  maxTimers: number;
};

export const DEFAULT_CAMPAIGN_SERVICE_OPTIONS: CampaignServiceOptions = {
  tickMs: 100,
  flushMs: 500,
  sendsPerSecondPerDriver: 200,
  progressIntervalMs: 250,
  maxTimers:
    DEFAULT_CAMPAIGN_LIMITS.maxTrackedLabels +
    DEFAULT_CAMPAIGN_LIMITS.maxActiveCampaigns +
    DEFAULT_CAMPAIGN_LIMITS.maxFinishedCampaignsKept,
};

export const DEFAULT_CAMPAIGN_RULES: CampaignRules = {
  retry: DEFAULT_RETRY_POLICY,
  ackTimeoutMs: 30_000,
  waitingTimeoutMs: 6 * 3_600_000,
  limits: DEFAULT_CAMPAIGN_LIMITS,
  random: Math.random,
};

export type CampaignServiceDeps = {
  directory: LabelDirectory;
  store: CampaignStore;
  /** the storage writer: the board is written in its flush, with the audit entries recorded in the same tick */
  writer: FlushWriter<CampaignBoardChanges>;
  bus: GatewayBus;
  /** the audit trail (AuditModule.record) */
  audit: { record(input: AuditInput): boolean };
  /** the product name a label shows with its price (the planogram's) */
  productName: (sku: string) => string | undefined;
  now: () => number;
  newId: () => string;
  log: Logger;
  rules?: Partial<CampaignRules>;
  options?: Partial<CampaignServiceOptions>;
};

export type NewCampaignRequest = {
  id?: string;
  /** the price file's name or a title */
  name?: string;
  prices: Readonly<Record<string, number>>;
  effectiveAt?: number;
  createdBy: string;
};

type Timer = { at: number; timer: CampaignTimer };
type SendQueue = { driver: LabelDriver; queue: Map<string, LabelContent>; bucket: TokenBucket };

/** Started and stopped by the campaigns module (module.ts). */
export class CampaignService {
  private board: CampaignBoard = emptyCampaignBoard();
  private readonly rules: CampaignRules;
  private readonly options: CampaignServiceOptions;
  private readonly timers = new Map<string, Timer>();
  private nextTimerAt = Number.POSITIVE_INFINITY;
  /** per driver: contents waiting for the rate limit, at most one per label (a newer version replaces the queued one) */
  private readonly sendQueues = new Map<string, SendQueue>();
  private readonly driverSubscriptions: DriverSubscriptions;
  private unsubscribeDirectory: (() => void) | undefined;
  private tickTimer: NodeJS.Timeout | undefined;
  /** the next `pump` step of a started campaign with labels not looked at yet: run after pending I/O, not in one go */
  private pumpImmediate: NodeJS.Immediate | undefined;
  private started = false;
  // what changed since the last flush
  private readonly dirtyCampaigns = new Set<string>();
  private readonly dirtyLabels = new Map<string, Set<string> | 'all'>();
  private readonly dirtyRecords = new Set<string>();
  private allRecordsDirty = false;
  private readonly forgotten = new Set<string>();
  private readonly keptIds = new Set<string>();
  private lastFlushAt = 0;
  private flushError: string | undefined;
  /** sends whose version is not committed yet, in order; handed to the drivers once it is (bounded by tracked labels) */
  private held: LabelContent[] = [];
  /** the sends taken from `held`, waiting for the commit under way (a superseded one is still dropped from here) */
  private releasingBatch: LabelContent[] | undefined;
  // progress throttle: per campaign, when it was last published and whether a newer state waits
  private readonly progress = new Map<string, { lastAt: number; pending: boolean }>();
  readonly counters = { sends: 0, timersRefused: 0, noDriver: 0, flushes: 0, flushFailures: 0, confirmed: 0, failed: 0 };
  /** per kept campaign, its confirmed and failed labels already in `counters` (a step adds only what is new) */
  private readonly outcomesCounted = new Map<string, { confirmed: number; failed: number }>();

  constructor(private readonly deps: CampaignServiceDeps) {
    this.rules = { ...DEFAULT_CAMPAIGN_RULES, ...deps.rules };
    this.options = { ...DEFAULT_CAMPAIGN_SERVICE_OPTIONS, ...deps.options };
    this.driverSubscriptions = new DriverSubscriptions(deps.directory, this.onDriverEvent);
    deps.writer.participate({
      name: 'campaigns',
      pending: () => (this.hasChanges() ? 1 : 0),
      take: () => this.takeChanges(),
      write: (tx, changes) => CampaignStore.saveIn(tx, changes),
      restore: (changes) => {
        this.counters.flushFailures += 1;
        this.markAllDirty(changes);
      },
      committed: () => {
        this.counters.flushes += 1;
        this.flushError = undefined;
      },
    });
  }

  /** Reads the board back, subscribes to the drivers and resumes what was under way. */
  async start(): Promise<void> {
    this.board = await this.deps.store.load();
    // the counters count from this start: what the loaded campaigns confirmed before is not new
    for (const id of this.board.order) this.countOutcomes(id, false);
    for (const id of this.board.order) this.keptIds.add(id);
    this.driverSubscriptions.sync();
    this.unsubscribeDirectory = this.deps.directory.onDriversChanged(() => this.driverSubscriptions.sync());
    this.started = true;
    const resumed = this.board.order.filter((id) => ['scheduled', 'running'].includes(this.board.campaigns[id]?.state ?? ''));
    this.step({ type: 'resume' });
    if (resumed.length > 0) this.deps.log.info({ campaigns: resumed.length }, 'campaigns resumed');
    this.tickTimer = setInterval(() => void this.tick(), this.options.tickMs);
    this.tickTimer.unref();
  }

  /** Stops the tick, lets go of the drivers and writes what is still unwritten. */
  async stop(): Promise<void> {
    if (this.tickTimer) clearInterval(this.tickTimer);
    this.tickTimer = undefined;
    if (this.pumpImmediate) clearImmediate(this.pumpImmediate);
    this.pumpImmediate = undefined;
    this.unsubscribeDirectory?.();
    this.unsubscribeDirectory = undefined;
    this.driverSubscriptions.clear();
    this.started = false;
    // what is still held was never sent: the board has those labels `sending`, and the resume sends them again
    this.held = [];
    await this.flush();
  }

  health(): HealthCheck {
    const active = this.board.order.filter((id) => ['scheduled', 'running'].includes(this.board.campaigns[id]?.state ?? '')).length;
    return {
      ok: this.flushError === undefined,
      activeCampaigns: active,
      timers: this.timers.size,
      queuedSends: this.queuedSends(),
      heldSends: this.held.length + (this.releasingBatch?.length ?? 0),
      ...(this.flushError ? { error: this.flushError } : {}),
    };
  }

  routes(guard: AccessGuard) {
    return campaignRoutes({ campaigns: this, guard });
  }

  /**
   * Resolves once every campaign change and audit entry made so far is committed (the routes answer after it); rejects
   * with the storage error, the changes staying pending.
   */
  durable(): Promise<void> {
    return this.deps.writer.commit();
  }

  /** Creates a campaign from sku → price; the labels come from the directory. Throws CampaignError. */
  create(request: NewCampaignRequest): CampaignView {
    const id = request.id ?? this.deps.newId();
    const labelsBySku: Record<string, readonly string[]> = {};
    for (const sku of Object.keys(request.prices)) labelsBySku[sku] = this.deps.directory.labelsForSku(sku);
    const campaign = {
      id,
      ...(request.name === undefined ? {} : { name: request.name }),
      createdBy: request.createdBy,
      prices: request.prices,
      labelsBySku,
      ...(request.effectiveAt === undefined ? {} : { effectiveAt: request.effectiveAt }),
    };
    this.step({ type: 'create', campaign });
    const created = this.viewOf(id);
    this.deps.audit.record({
      actor: request.createdBy,
      action: 'campaign.created',
      subject: id,
      details: {
        skus: Object.keys(request.prices).length,
        labels: created.total,
        ...(created.name === undefined ? {} : { name: created.name }),
        ...(request.effectiveAt === undefined ? {} : { effectiveAt: request.effectiveAt }),
      },
    });
    return created;
  }

  cancel(campaignId: string, by: string): CampaignView {
    this.step({ type: 'cancel', campaignId, by });
    this.deps.audit.record({ actor: by, action: 'campaign.cancelled', subject: campaignId });
    return this.viewOf(campaignId);
  }

  /** Starts the campaign that takes the labels back to their prices before `campaignId`; returns it. */
  rollback(campaignId: string, by: string, rollbackId: string = this.deps.newId()): CampaignView {
    this.step({ type: 'rollback', campaignId, rollbackId, by });
    const view = this.viewOf(rollbackId);
    this.deps.audit.record({ actor: by, action: 'campaign.rolled-back', subject: campaignId, details: { rollbackId, labels: view.total } });
    return view;
  }

  /** Starts a campaign that sends the failed labels of `campaignId` their price again; returns it. Throws CampaignError. */
  resend(campaignId: string, by: string, resendId: string = this.deps.newId()): CampaignView {
    this.step({ type: 'resend', campaignId, resendId, by });
    const view = this.viewOf(resendId);
    this.deps.audit.record({ actor: by, action: 'campaign.resent', subject: campaignId, details: { resendId, labels: view.total } });
    return view;
  }

  get(campaignId: string): CampaignView | undefined {
    const campaign = campaignOf(this.board, campaignId);
    return campaign && campaignView(campaign);
  }

  /** Whether the planogram lists the sku as a product: a price file naming any other has a typo in it. */
  knowsSku(sku: string): boolean {
    return this.deps.productName(sku) !== undefined;
  }

  /** What the label should show and has confirmed (price integrity compares what kiosks and labels report with it). */
  priceRecord(labelId: string): LabelPriceRecord | undefined {
    return priceRecordOf(this.board.book, labelId);
  }

  /** The kept campaigns, newest first. */
  list(limit = 100): CampaignView[] {
    return this.board.order
      .slice(-limit)
      .reverse()
      .map((id) => campaignView(this.board.campaigns[id] as (typeof this.board.campaigns)[string], 20));
  }

  /** One tick: due timers, scheduled campaigns, the send queues, throttled progress, and (every flushMs) the flush. */
  async tick(): Promise<void> {
    const now = this.deps.now();
    this.fireDueTimers(now);
    this.step({ type: 'start-due' });
    this.releaseHeld();
    this.drainQueues(now);
    this.publishPendingProgress(now);
    if (now - this.lastFlushAt >= this.options.flushMs && this.hasChanges()) await this.flush();
  }

  /** Commits the changes since the last flush (with whatever else is pending); on failure they stay dirty and are retried. */
  async flush(): Promise<void> {
    this.lastFlushAt = this.deps.now();
    if (!this.hasChanges()) return;
    try {
      await this.deps.writer.commit();
    } catch (error) {
      if (this.flushError === undefined) this.deps.log.error({ err: error }, 'campaign board not written; retried at the next flush');
      this.flushError = (error as Error).message;
    }
  }

  // ---- stepping the machine

  private step(event: CampaignEvent): void {
    const { effects, changed } = stepCampaigns(this.board, event, this.deps.now(), this.rules);
    // a new campaign's sends wait for its commit; later sends wait behind them, so no label overtakes the board
    const holds =
      event.type === 'create' ||
      event.type === 'rollback' ||
      event.type === 'resend' ||
      this.releasingBatch !== undefined ||
      this.held.length > 0;
    this.noteChanges(event, effects, changed);
    for (const effect of effects) {
      switch (effect.type) {
        case 'send':
          this.sendWhenDurable(holds, {
            labelId: effect.labelId,
            version: effect.version,
            sku: effect.sku,
            priceCents: effect.priceCents,
            productName: this.deps.productName(effect.sku) ?? effect.sku,
          });
          break;
        case 'drop-send':
          this.dropQueued(effect.labelId, effect.version);
          break;
        case 'set-timer':
          this.setTimer(effect.key, effect.at, effect.timer);
          break;
        case 'clear-timer':
          this.timers.delete(effect.key);
          break;
      }
    }
    this.releaseHeld();
    for (const id of changed) {
      this.progressChanged(id);
      this.countOutcomes(id, true);
    }
    // only these steps start campaigns (or go on pumping one): a label's ack never does, so it pays no scan
    if (
      event.type === 'create' ||
      event.type === 'start-due' ||
      event.type === 'rollback' ||
      event.type === 'resend' ||
      event.type === 'resume' ||
      event.type === 'pump' ||
      (event.type === 'timer' && event.timer.kind === 'start')
    ) {
      this.schedulePumpIfNeeded();
    }
  }

  /**
   * A started campaign looks at maxLabelsPumpedPerStep labels per step; the next step runs from setImmediate, so the
   * device messages that arrived meanwhile are handled between two steps (a 50,000-label start would otherwise hold
   * the event loop for half a second).
   */
  private schedulePumpIfNeeded(): void {
    if (this.pumpImmediate || !this.started) return;
    if (!this.board.order.some((id) => this.board.campaigns[id]?.pumpFrom !== undefined)) return;
    this.pumpImmediate = setImmediate(() => {
      this.pumpImmediate = undefined;
      if (this.started) this.step({ type: 'pump' });
    });
  }

  /** Driver events come back here; an event the machine cannot use is logged, never thrown at the driver. */
  private readonly onDriverEvent = (event: LabelDriverEvent): void => {
    if (!this.started || event.type === 'link') return;
    try {
      this.step({ type: 'label', event });
    } catch (error) {
      this.deps.log.error({ err: error, labelId: event.labelId, event: event.type }, 'label event not applied');
    }
  };

  // ---- sends: held until their version is on disk, then rate-limited per driver

  /**
   * A send of a step that made a campaign waits in `held` (the step ends with `releaseHeld`, so one commit covers all
   * of its sends), as does any send while others wait. Other steps' sends (a retry, the next version once a label
   * answered, a resumed board) carry versions that are on disk already: they go at once.
   */
  private sendWhenDurable(holds: boolean, content: LabelContent): void {
    if (holds) this.held.push(content);
    else this.enqueueSend(content);
  }

  /**
   * Hands the held sends to the drivers once a commit that started after they were held has ended. Sends held while a
   * commit is under way wait for the next one (their board change may have missed it). A failed commit keeps them
   * held; the tick tries again.
   */
  private releaseHeld(): void {
    if (this.releasingBatch || this.held.length === 0 || !this.started) return;
    const batch = this.held;
    this.held = [];
    this.releasingBatch = batch;
    this.deps.writer.commit().then(
      // after the answers waiting for the same commit went out: a 50,000-label release is a long synchronous step
      () =>
        setImmediate(() => {
          this.releasingBatch = undefined;
          if (!this.started) return;
          for (const content of batch) this.enqueueSend(content);
          this.releaseHeld();
        }),
      (error: unknown) => {
        this.releasingBatch = undefined;
        this.held = batch.concat(this.held);
        if (this.flushError === undefined)
          this.deps.log.error({ err: error, held: this.held.length }, 'campaign board not written; sends held until it is');
        this.flushError = (error as Error).message;
      },
    );
  }

  private enqueueSend(content: LabelContent): void {
    const driver = this.deps.directory.driverFor(content.labelId);
    if (!driver) {
      this.counters.noDriver += 1;
      // answered like a driver would: retryable, so a label whose access point comes back later still gets its price
      queueMicrotask(() =>
        this.onDriverEvent({
          type: 'failed',
          labelId: content.labelId,
          version: content.version,
          reason: `no driver carries label ${content.labelId}`,
          retryable: true,
          at: this.deps.now(),
        }),
      );
      return;
    }
    let entry = this.sendQueues.get(driver.driverId);
    if (!entry || entry.driver !== driver) {
      const perSecond = this.options.sendsPerSecondPerDriver;
      const bucket = tokenBucket({ perSecond, capacity: perSecond }, this.deps.now());
      entry = { driver, queue: entry?.queue ?? new Map<string, LabelContent>(), bucket };
      this.sendQueues.set(driver.driverId, entry);
    }
    entry.queue.delete(content.labelId);
    entry.queue.set(content.labelId, content);
    this.drainQueue(entry, this.deps.now());
  }

  private drainQueues(now: number): void {
    for (const entry of this.sendQueues.values()) this.drainQueue(entry, now);
  }

  private drainQueue(entry: SendQueue, now: number): void {
    for (const [labelId, content] of entry.queue) {
      if (!tryTakeTokens(entry.bucket, now)) return;
      entry.queue.delete(labelId);
      this.counters.sends += 1;
      try {
        entry.driver.send(content);
      } catch (error) {
        this.deps.log.warn({ err: error, labelId, driverId: entry.driver.driverId }, 'driver refused a send');
        queueMicrotask(() =>
          this.onDriverEvent({
            type: 'failed',
            labelId,
            version: content.version,
            reason: `driver ${entry.driver.driverId}: ${(error as Error).message}`,
            retryable: true,
            at: this.deps.now(),
          }),
        );
      }
    }
  }

  /**
   * A version the machine gave up (superseded, timed out). Still in our queue: it never reached the radio, so it is
   * answered `failed` at once and the label is free. Already handed to the driver: the port has no recall — the driver
   * replaces it with the newer version, and a late confirmation of it is the truth the machine records.
   */
  /** A queued send dropped before it left: failed for good, told after the current step (as a driver would). */
  private failDroppedLater(labelId: string, version: number): void {
    queueMicrotask(() =>
      this.onDriverEvent({ type: 'failed', labelId, version, reason: 'dropped before it was sent', retryable: false, at: this.deps.now() }),
    );
  }

  private dropQueued(labelId: string, version: number): void {
    for (const waiting of [this.held, this.releasingBatch ?? []]) {
      const at = waiting.findIndex((content) => content.labelId === labelId && content.version === version);
      if (at < 0) continue;
      waiting.splice(at, 1);
      this.failDroppedLater(labelId, version);
      return;
    }
    for (const entry of this.sendQueues.values()) {
      const queued = entry.queue.get(labelId);
      if (queued?.version !== version) continue;
      entry.queue.delete(labelId);
      this.failDroppedLater(labelId, version);
    }
  }

  private queuedSends(): number {
    let count = 0;
    for (const entry of this.sendQueues.values()) count += entry.queue.size;
    return count;
  }

  // ---- timers: one per key, fired by the tick

  private setTimer(key: string, at: number, timer: CampaignTimer): void {
    if (!this.timers.has(key) && this.timers.size >= this.options.maxTimers) {
      this.counters.timersRefused += 1;
      this.deps.log.warn({ key, timers: this.timers.size }, 'campaign timer refused: too many timers');
      return;
    }
    this.timers.set(key, { at, timer });
    if (at < this.nextTimerAt) this.nextTimerAt = at;
  }

  private fireDueTimers(now: number): void {
    if (this.nextTimerAt > now) return;
    const due: Timer[] = [];
    let next = Number.POSITIVE_INFINITY;
    for (const [key, entry] of this.timers) {
      if (entry.at <= now) {
        due.push(entry);
        this.timers.delete(key);
      } else if (entry.at < next) next = entry.at;
    }
    this.nextTimerAt = next;
    due.sort((a, b) => a.at - b.at);
    for (const { timer } of due) this.step({ type: 'timer', timer });
  }

  // ---- metrics

  /** What Prometheus shows of the campaigns (GatewayMetrics.observeCampaigns). */
  metricsSnapshot(): { campaignsByState: Record<CampaignState, number>; labels: { sent: number; confirmed: number; failed: number } } {
    const campaignsByState = Object.fromEntries(CAMPAIGN_STATES.map((state) => [state, 0])) as Record<CampaignState, number>;
    for (const id of this.board.order) {
      const campaign = campaignOf(this.board, id);
      if (campaign) campaignsByState[campaign.state] += 1;
    }
    const { sends: sent, confirmed, failed } = this.counters;
    return { campaignsByState, labels: { sent, confirmed, failed } };
  }

  /** Adds a changed campaign's newly confirmed and failed labels to the counters (`tally: false` only notes them). */
  private countOutcomes(campaignId: string, tally: boolean): void {
    const campaign = campaignOf(this.board, campaignId);
    if (!campaign) {
      this.outcomesCounted.delete(campaignId);
      return;
    }
    const counted = this.outcomesCounted.get(campaignId) ?? { confirmed: 0, failed: 0 };
    if (tally) {
      this.counters.confirmed += Math.max(0, campaign.counts.confirmed - counted.confirmed);
      this.counters.failed += Math.max(0, campaign.counts.failed - counted.failed);
    }
    this.outcomesCounted.set(campaignId, { confirmed: campaign.counts.confirmed, failed: campaign.counts.failed });
    // forgotten campaigns leave: the map stays bounded by the campaigns kept
    if (this.outcomesCounted.size > this.board.order.length) {
      for (const id of this.outcomesCounted.keys()) if (!campaignOf(this.board, id)) this.outcomesCounted.delete(id);
    }
  }

  // ---- progress on the bus

  private progressChanged(campaignId: string): void {
    const campaign = campaignOf(this.board, campaignId);
    if (!campaign) {
      this.progress.delete(campaignId);
      return;
    }
    const now = this.deps.now();
    const entry = this.progress.get(campaignId);
    // the end of a campaign is published at once: a client waiting for it should not wait for the throttle
    if (!entry || now - entry.lastAt >= this.options.progressIntervalMs || campaign.finishedAt !== undefined) {
      this.publishProgress(campaignId, now);
    } else {
      entry.pending = true;
    }
  }

  private publishPendingProgress(now: number): void {
    for (const [campaignId, entry] of this.progress) {
      if (!campaignOf(this.board, campaignId)) this.progress.delete(campaignId);
      else if (entry.pending && now - entry.lastAt >= this.options.progressIntervalMs) this.publishProgress(campaignId, now);
    }
  }

  private publishProgress(campaignId: string, now: number): void {
    const campaign = campaignOf(this.board, campaignId);
    if (!campaign) return;
    this.progress.set(campaignId, { lastAt: now, pending: false });
    const event: CampaignProgress = { campaignId, state: campaign.state, total: campaign.total, counts: { ...campaign.counts } };
    if (campaign.name !== undefined) event.name = campaign.name;
    if (campaign.mismatched !== undefined) event.mismatched = campaign.mismatched;
    if (campaign.finishedAt !== undefined) event.finishedAt = campaign.finishedAt;
    this.deps.bus.emit('campaign.progress', event);
  }

  // ---- what changed, for the next flush

  /**
   * Which rows a step touched. Requests and the resume touch whole campaigns; a driver event or timer touches one
   * label (the machine only pumps that label), so an ack writes one label row and one price record, not the campaign.
   */
  private noteChanges(
    event: CampaignEvent,
    effects: readonly { type: string; labelId?: string; timer?: CampaignTimer }[],
    changed: readonly string[],
  ): void {
    const whole =
      event.type === 'create' ||
      event.type === 'start-due' ||
      event.type === 'cancel' ||
      event.type === 'rollback' ||
      event.type === 'resend' ||
      event.type === 'resume' ||
      (event.type === 'timer' && event.timer.kind === 'start');
    const labelIds = new Set<string>();
    if (event.type === 'label' && event.event.type !== 'link') labelIds.add(event.event.labelId);
    if (event.type === 'timer' && event.timer.kind !== 'start') labelIds.add(event.timer.labelId);
    // a whole-campaign step marks every label of each changed campaign below; its effects name no other label
    if (!whole) for (const effect of effects) if (effect.labelId !== undefined) labelIds.add(effect.labelId);
    for (const labelId of labelIds) this.dirtyRecords.add(labelId);
    if (event.type === 'resume') this.allRecordsDirty = true;
    for (const id of changed) {
      const campaign = campaignOf(this.board, id);
      if (!campaign) continue;
      this.keptIds.add(id);
      this.forgotten.delete(id);
      this.dirtyCampaigns.add(id);
      const dirty = this.dirtyLabels.get(id);
      if (dirty === 'all') continue;
      if (whole) {
        this.dirtyLabels.set(id, 'all');
        for (const labelId of Object.keys(campaign.labels)) this.dirtyRecords.add(labelId);
        continue;
      }
      const set = dirty ?? new Set<string>();
      for (const labelId of labelIds) if (Object.hasOwn(campaign.labels, labelId)) set.add(labelId);
      this.dirtyLabels.set(id, set);
    }
    // a label event can change a campaign the step does not report (a superseded version confirmed late)
    if (!whole) {
      for (const labelId of labelIds) {
        const record = this.board.book.records[labelId];
        for (const content of [record?.confirmed, record?.target]) {
          if (!content || !campaignOf(this.board, content.campaignId)) continue;
          const dirty = this.dirtyLabels.get(content.campaignId);
          if (dirty === 'all') continue;
          this.dirtyLabels.set(content.campaignId, (dirty ?? new Set()).add(labelId));
          this.dirtyCampaigns.add(content.campaignId);
        }
      }
    }
    if (this.keptIds.size !== this.board.order.length) {
      for (const id of this.keptIds) {
        if (campaignOf(this.board, id)) continue;
        this.keptIds.delete(id);
        this.forgotten.add(id);
        this.dirtyCampaigns.delete(id);
        this.dirtyLabels.delete(id);
      }
    }
  }

  private hasChanges(): boolean {
    return this.dirtyCampaigns.size + this.dirtyLabels.size + this.dirtyRecords.size + this.forgotten.size > 0 || this.allRecordsDirty;
  }

  private takeChanges(): CampaignBoardChanges | undefined {
    const recordIds = this.allRecordsDirty ? Object.keys(this.board.book.records) : [...this.dirtyRecords];
    if (this.dirtyCampaigns.size + this.dirtyLabels.size + recordIds.length + this.forgotten.size === 0 && !this.allRecordsDirty)
      return undefined;
    const campaigns = [];
    const labels: { campaignId: string; label: CampaignBoard['campaigns'][string]['labels'][string] }[] = [];
    for (const id of this.dirtyCampaigns) {
      const campaign = campaignOf(this.board, id);
      if (campaign) campaigns.push(campaign);
    }
    for (const [id, dirty] of this.dirtyLabels) {
      const campaign = campaignOf(this.board, id);
      if (!campaign) continue;
      const ids = dirty === 'all' ? Object.keys(campaign.labels) : dirty;
      for (const labelId of ids) {
        const label = campaign.labels[labelId];
        if (label) labels.push({ campaignId: id, label: { ...label } });
      }
    }
    const records = recordIds.map((labelId) => {
      const record = this.board.book.records[labelId];
      return { labelId, record: record && copyPriceRecord(record) };
    });
    const changes: CampaignBoardChanges = {
      campaigns: campaigns.map((campaign) => ({ ...campaign, counts: { ...campaign.counts }, labels: {} })),
      labels,
      records,
      forgotten: [...this.forgotten],
    };
    this.dirtyCampaigns.clear();
    this.dirtyLabels.clear();
    this.dirtyRecords.clear();
    this.allRecordsDirty = false;
    this.forgotten.clear();
    return changes;
  }

  /** A failed flush: its rows are written again next time (from the board as it is then). */
  private markAllDirty(changes: CampaignBoardChanges): void {
    for (const campaign of changes.campaigns) if (campaignOf(this.board, campaign.id)) this.dirtyCampaigns.add(campaign.id);
    for (const { campaignId, label } of changes.labels) {
      const dirty = this.dirtyLabels.get(campaignId);
      if (dirty !== 'all' && campaignOf(this.board, campaignId)) this.dirtyLabels.set(campaignId, (dirty ?? new Set()).add(label.labelId));
    }
    for (const { labelId } of changes.records) this.dirtyRecords.add(labelId);
    for (const id of changes.forgotten) this.forgotten.add(id);
  }

  private viewOf(campaignId: string): CampaignView {
    const view = this.get(campaignId);
    if (!view) throw new CampaignError('unknown-campaign', campaignId, 'no such campaign');
    return view;
  }
}
