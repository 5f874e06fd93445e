/**
 * What the campaigns room does for HQ's commands (issue 15): a `price-campaign` becomes a campaign of the campaign
 * service (created by `hq`), a `label-flash` flashes labels through the directory's drivers, and stops them again
 * after `durationS`. The relay knows nothing of labels and this room nothing of the relay: the composition root
 * (edge/main.ts) registers these methods as the relay's handlers; the command shapes here are the fields we read.
 *
 * Idempotency is the relay's (by command id); on top, a price command whose campaign exists already and was created
 * by HQ answers `ok` with that campaign — the redelivery of a command whose result was not recorded before a restart.
 */
import type { Logger } from 'pino';
import { CampaignError, type CampaignView } from './campaign.js';
import type { NewCampaignRequest } from './campaign-service.js';
import type { LabelFlashing } from '../labels/label-flashes.js';

export const HQ_ACTOR = 'hq';

export type HqPriceCampaign = {
  campaignId: string;
  prices: readonly { sku: string; priceCents: number }[];
  startsAt?: string;
  title?: string;
};
export type HqLabelFlash = { labels: readonly string[]; durationS?: number };
export type HqAnswer = { outcome: 'ok' | 'failed'; detail?: unknown; reason?: string };

export type HqLabelCommandsDeps = {
  /** `durable` resolves once the campaign is committed: HQ is answered `ok` only then */
  campaigns: {
    create(request: NewCampaignRequest): CampaignView;
    get(campaignId: string): CampaignView | undefined;
    durable(): Promise<void>;
  };
  /** the labels' flashes (HQ's stop does not end a find-my-facing flash) */
  flashes: LabelFlashing;
  log: Logger;
  /** flashes waiting to be stopped at once; past it the oldest is stopped early (each timer is one label) */
  maxTimedFlashes?: number;
};

/** The pure part of a price command: sku → price, and when it starts. A reason when the command cannot be a campaign. */
export function campaignRequestOf(command: HqPriceCampaign): { request: NewCampaignRequest } | { reason: string } {
  const prices: Record<string, number> = {};
  for (const { sku, priceCents } of command.prices) {
    if (Object.hasOwn(prices, sku) && prices[sku] !== priceCents)
      return { reason: `sku ${sku} has two prices (${prices[sku]} and ${priceCents})` };
    prices[sku] = priceCents;
  }
  let effectiveAt: number | undefined;
  if (command.startsAt !== undefined) {
    effectiveAt = Date.parse(command.startsAt);
    if (!Number.isSafeInteger(effectiveAt)) return { reason: `startsAt "${command.startsAt}" is not an RFC 3339 time` };
  }
  return {
    request: {
      id: command.campaignId,
      prices,
      createdBy: HQ_ACTOR,
      ...(effectiveAt === undefined ? {} : { effectiveAt }),
      ...(command.title === undefined ? {} : { name: command.title }),
    },
  };
}

function summary(view: CampaignView) {
  return {
    campaignId: view.id,
    state: view.state,
    labels: view.total,
    unmappedSkus: view.unmappedSkus,
    ...(view.effectiveAt === undefined ? {} : { effectiveAt: view.effectiveAt }),
  };
}

/** Part of the campaigns module (module.ts), which stops it before the campaign service. */
export class HqLabelCommands {
  /** label → the timer that stops its flash; insertion order = age */
  private readonly flashStops = new Map<string, NodeJS.Timeout>();
  private readonly maxTimedFlashes: number;

  constructor(private readonly deps: HqLabelCommandsDeps) {
    this.maxTimedFlashes = deps.maxTimedFlashes ?? 10_000;
  }

  /** Stops the timers; a flash still running stays on until its label's own pattern ends or find-my-facing stops it. */
  async stop(): Promise<void> {
    for (const timer of this.flashStops.values()) clearTimeout(timer);
    this.flashStops.clear();
  }

  async priceCampaign(command: HqPriceCampaign): Promise<HqAnswer> {
    const parsed = campaignRequestOf(command);
    if ('reason' in parsed) return { outcome: 'failed', reason: parsed.reason };
    try {
      const created = this.deps.campaigns.create(parsed.request);
      await this.deps.campaigns.durable();
      return { outcome: 'ok', detail: summary(created) };
    } catch (error) {
      if (!(error instanceof CampaignError)) throw error;
      const existing = error.code === 'duplicate-id' ? this.deps.campaigns.get(command.campaignId) : undefined;
      if (existing?.createdBy === HQ_ACTOR) return { outcome: 'ok', detail: { ...summary(existing), existing: true } };
      return { outcome: 'failed', reason: error.message, detail: { code: error.code } };
    }
  }

  /** Flashes every label a driver carries; `ok` when at least one was reached, the rest listed as unknown. */
  async labelFlash(command: HqLabelFlash): Promise<HqAnswer> {
    const flashed: string[] = [];
    const unknown: string[] = [];
    for (const labelId of new Set(command.labels)) {
      if (this.deps.flashes.flash(labelId, 'find', 'hq') === 'no-driver') {
        unknown.push(labelId);
        continue;
      }
      flashed.push(labelId);
      if (command.durationS !== undefined) this.stopLater(labelId, command.durationS * 1000);
    }
    this.deps.log.info({ flashed: flashed.length, unknown: unknown.length, durationS: command.durationS }, 'labels flashed for HQ');
    const detail = { flashed, unknown };
    return flashed.length > 0 ? { outcome: 'ok', detail } : { outcome: 'failed', reason: 'no driver carries any of these labels', detail };
  }

  private stopLater(labelId: string, afterMs: number): void {
    const previous = this.flashStops.get(labelId);
    if (previous) {
      clearTimeout(previous);
      this.flashStops.delete(labelId);
    }
    if (this.flashStops.size >= this.maxTimedFlashes) {
      const [oldestLabel, oldestTimer] = this.flashStops.entries().next().value as [string, NodeJS.Timeout];
      clearTimeout(oldestTimer);
      this.flashStops.delete(oldestLabel);
      this.stopFlash(oldestLabel);
    }
    const timer = setTimeout(() => {
      this.flashStops.delete(labelId);
      this.stopFlash(labelId);
    }, afterMs);
    timer.unref();
    this.flashStops.set(labelId, timer);
  }

  private stopFlash(labelId: string): void {
    this.deps.flashes.flash(labelId, 'stop', 'hq');
  }
}
