/** A small driver for the pure campaign machine in tests: a board, a clock, the effects of each step. */
import {
  emptyCampaignBoard,
  stepCampaigns,
  type CampaignBoard,
  type CampaignEffect,
  type CampaignEvent,
  type CampaignRules,
  type NewCampaign,
} from '../../../edge/campaigns/campaign.js';
import { DEFAULT_CAMPAIGN_LIMITS } from '../../../edge/campaigns/campaign.js';
import type { LabelDriverEvent } from '../../../edge/labels/label-driver.js';

/** a driver event without its time: the harness stamps it with its clock */
type UntimedDriverEvent = LabelDriverEvent extends infer Event ? (Event extends unknown ? Omit<Event, 'at'> : never) : never;

export const ACK_TIMEOUT_MS = 10_000;
export const WAITING_TIMEOUT_MS = 3_600_000;

export function testRules(overrides: Partial<CampaignRules> = {}): CampaignRules {
  return {
    retry: { maxAttempts: 3, baseDelayMs: 1_000, maxDelayMs: 8_000, jitterRatio: 0.5 },
    ackTimeoutMs: ACK_TIMEOUT_MS,
    waitingTimeoutMs: WAITING_TIMEOUT_MS,
    limits: DEFAULT_CAMPAIGN_LIMITS,
    random: () => 0.5,
    ...overrides,
  };
}

export type Sent = Extract<CampaignEffect, { type: 'send' }>;
export type TimerSet = Extract<CampaignEffect, { type: 'set-timer' }>;

export class Harness {
  board: CampaignBoard = emptyCampaignBoard();
  now = 1_000_000;
  /** every effect so far, in order */
  readonly log: CampaignEffect[] = [];
  /** the timers set and not replaced, by key (what the service would hold) */
  readonly timers = new Map<string, TimerSet>();

  constructor(readonly rules: CampaignRules = testRules()) {}

  step(event: CampaignEvent): CampaignEffect[] {
    const { board, effects } = stepCampaigns(this.board, event, this.now, this.rules);
    this.board = board;
    this.log.push(...effects);
    for (const effect of effects) {
      if (effect.type === 'set-timer') this.timers.set(effect.key, effect);
      if (effect.type === 'clear-timer') this.timers.delete(effect.key);
    }
    return effects;
  }

  create(campaign: Partial<NewCampaign> & Pick<NewCampaign, 'id' | 'prices' | 'labelsBySku'>): CampaignEffect[] {
    return this.step({ type: 'create', campaign: { createdBy: 'maria', ...campaign } });
  }

  label(event: UntimedDriverEvent): CampaignEffect[] {
    return this.step({ type: 'label', event: { ...event, at: this.now } });
  }

  confirm(labelId: string, version: number, displayedPriceCents?: number): CampaignEffect[] {
    return this.label(
      displayedPriceCents === undefined
        ? { type: 'confirmed', labelId, version }
        : { type: 'confirmed', labelId, version, displayedPriceCents },
    );
  }

  /** Moves the clock to `at` and fires the timer of `key` (as the service would when it is due). */
  fire(key: string): CampaignEffect[] {
    const timer = this.timers.get(key);
    if (!timer) throw new Error(`no timer ${key}`);
    this.timers.delete(key);
    this.now = Math.max(this.now, timer.at);
    return this.step({ type: 'timer', timer: timer.timer });
  }

  /** A restart: the board goes through JSON, the service's timers are gone. */
  restart(): CampaignEffect[] {
    this.board = JSON.parse(JSON.stringify(this.board)) as CampaignBoard;
    this.timers.clear();
    return this.step({ type: 'resume' });
  }

  labelOf(campaignId: string, labelId: string) {
    const label = this.board.campaigns[campaignId]?.labels[labelId];
    if (!label) throw new Error(`no label ${labelId} in ${campaignId}`);
    return label;
  }
}

export function sends(effects: CampaignEffect[]): Sent[] {
  return effects.filter((effect): effect is Sent => effect.type === 'send');
}
