/**
 * A simulated self-checkout kiosk: runs one basket at a time (open → scans → payment → close) and now and
 * then a weight mismatch or a call for assistance, the two events that page staff.
 */
import type { Logger } from 'pino';
import type { KioskEvent, KioskEventType, KioskStatus } from '../edge/device-registry/messages.js';
import { DeviceConnection, type DeviceOptions } from './device-connection.js';
import { randomBetween, randomInt, type RandomSource } from './random.js';
import { TimerGroup, TimerGroupClosedError, systemTimers, type Timers } from './timer-group.js';

export type CheckoutItem = {
  sku: string;
  qty: number;
  /** unit price */
  priceCents: number;
  /** lets a weight-mismatch report a plausible expected weight */
  unitWeightG?: number;
};

export type CheckoutResult = { basketId: string; totalCents: number; events: KioskEventType[] };

export type KioskState = KioskStatus['state'];

export type KioskSimulatorOptions = DeviceOptions & {
  /** chance per basket of a weight mismatch at the bagging area */
  weightMismatchProbability?: number;
  /** chance per basket that the shopper calls for help */
  assistProbability?: number;
  /** pause between two steps of a basket (a scan, the payment) */
  stepDelayMs?: number;
  /** how long the kiosk stays in `assist` before staff have helped */
  assistDurationMs?: number;
  /** the current state is repeated this often, so a lost QoS 0 status heals */
  statusIntervalMs?: number;
  /** baskets waiting for this kiosk; beyond it `checkout` rejects with KioskBusyError */
  maxQueuedBaskets?: number;
  firmware?: string;
};

export const KIOSK_DEFAULTS = {
  weightMismatchProbability: 0.02,
  assistProbability: 0.02,
  stepDelayMs: 300,
  assistDurationMs: 3_000,
  statusIntervalMs: 30_000,
  maxQueuedBaskets: 10,
  firmware: '5.2.0',
} as const;

/** Used for a weight mismatch when the item does not say what it weighs. */
const FALLBACK_UNIT_WEIGHT_G = 500;

export class KioskBusyError extends Error {
  constructor(
    readonly deviceId: string,
    readonly queuedBaskets: number,
  ) {
    super(`kiosk ${deviceId} is busy: ${queuedBaskets} baskets queued`);
    this.name = 'KioskBusyError';
  }
}

/** The kiosk was stopped before the basket was closed. */
export class CheckoutAbortedError extends Error {
  constructor(
    readonly deviceId: string,
    readonly basketId: string,
  ) {
    super(`kiosk ${deviceId} stopped during basket ${basketId}`);
    this.name = 'CheckoutAbortedError';
  }
}

export class KioskSimulator {
  readonly deviceId: string;
  private readonly connection: DeviceConnection<'kiosk'>;
  private readonly log: Logger;
  private readonly random: RandomSource;
  private readonly clock: () => number;
  private readonly timers: Timers;
  private readonly settings: Required<Omit<KioskSimulatorOptions, keyof DeviceOptions>>;
  private timerGroup: TimerGroup | undefined;
  private currentState: KioskState = 'idle';
  /** Baskets run one after another; shoppers arriving meanwhile wait in this chain. */
  private basketQueue: Promise<unknown> = Promise.resolve();
  private queuedBaskets = 0;
  private basketCount = 0;
  /** Makes basket ids differ between runs of the same kiosk. */
  private readonly basketIdPrefix: string;

  constructor(options: KioskSimulatorOptions) {
    this.deviceId = options.deviceId;
    this.log = options.logger.child({ component: 'sim-kiosk', deviceId: options.deviceId });
    this.connection = new DeviceConnection('kiosk', options, this.log);
    this.random = options.random;
    this.clock = options.clock ?? Date.now;
    this.timers = options.timers ?? systemTimers;
    this.settings = {
      weightMismatchProbability: options.weightMismatchProbability ?? KIOSK_DEFAULTS.weightMismatchProbability,
      assistProbability: options.assistProbability ?? KIOSK_DEFAULTS.assistProbability,
      stepDelayMs: options.stepDelayMs ?? KIOSK_DEFAULTS.stepDelayMs,
      assistDurationMs: options.assistDurationMs ?? KIOSK_DEFAULTS.assistDurationMs,
      statusIntervalMs: options.statusIntervalMs ?? KIOSK_DEFAULTS.statusIntervalMs,
      maxQueuedBaskets: options.maxQueuedBaskets ?? KIOSK_DEFAULTS.maxQueuedBaskets,
      firmware: options.firmware ?? KIOSK_DEFAULTS.firmware,
    };
    this.basketIdPrefix = `b-${Math.floor(this.clock() / 1000).toString(36)}`;
  }

  get state(): KioskState {
    return this.currentState;
  }

  /** Baskets waiting or in progress. */
  get queued(): number {
    return this.queuedBaskets;
  }

  /** Messages the broker accepted from this kiosk. */
  get published(): number {
    return this.connection.published;
  }

  async start(): Promise<void> {
    if (this.timerGroup) throw new Error(`kiosk ${this.deviceId} is already started`);
    const timerGroup = new TimerGroup(this.timers);
    this.timerGroup = timerGroup;
    try {
      await this.connection.open((payload) => this.log.debug({ bytes: payload.length }, 'command ignored'));
    } catch (err) {
      this.timerGroup = undefined;
      throw err;
    }
    if (this.timerGroup !== timerGroup) return; // stopped while connecting
    this.currentState = 'idle';
    this.publishStatus();
    timerGroup.every(this.settings.statusIntervalMs, () => this.publishStatus());
  }

  async stop(): Promise<void> {
    this.timerGroup?.close();
    this.timerGroup = undefined;
    // Closing the timer group aborts the basket in progress; wait for it to unwind before disconnecting.
    await this.basketQueue.catch(() => undefined);
    await this.connection.close();
  }

  /**
   * A shopper checks out `items`: basket-open, one item-scanned per item, payment-succeeded, basket-closed,
   * each a QoS 1 event. Resolves when the basket is closed; rejects with KioskBusyError when too many
   * baskets wait, or CheckoutAbortedError when the kiosk stops first.
   */
  checkout(items: readonly CheckoutItem[]): Promise<CheckoutResult> {
    const timerGroup = this.timerGroup;
    if (!timerGroup) return Promise.reject(new Error(`kiosk ${this.deviceId} is not started`));
    if (items.length === 0) return Promise.reject(new RangeError('checkout: empty basket'));
    for (const item of items) {
      if (!Number.isInteger(item.qty) || item.qty < 1 || item.qty > 1000) {
        return Promise.reject(new RangeError(`checkout: qty of ${item.sku} must be an integer in 1..1000`));
      }
    }
    if (this.queuedBaskets >= this.settings.maxQueuedBaskets) {
      return Promise.reject(new KioskBusyError(this.deviceId, this.queuedBaskets));
    }
    this.queuedBaskets += 1;
    this.basketCount += 1;
    const basketId = `${this.basketIdPrefix}-${this.basketCount}`;
    const run = this.basketQueue
      .catch(() => undefined)
      .then(() => this.runBasket(basketId, items, timerGroup))
      .catch((err: unknown) => {
        throw err instanceof TimerGroupClosedError ? new CheckoutAbortedError(this.deviceId, basketId) : err;
      })
      .finally(() => {
        this.queuedBaskets -= 1;
      });
    this.basketQueue = run;
    return run;
  }

  private async runBasket(basketId: string, items: readonly CheckoutItem[], timerGroup: TimerGroup): Promise<CheckoutResult> {
    const { stepDelayMs, weightMismatchProbability, assistProbability, assistDurationMs } = this.settings;
    const events: KioskEventType[] = [];
    const emit = async (event: Omit<KioskEvent, 'ts' | 'basketId'>): Promise<void> => {
      events.push(event.type);
      await this.connection.publish('event', { ...event, basketId, ts: this.now() }, 1);
    };
    // Decided up front so a basket has at most one of each incident, after a random scan.
    const mismatchAfter = this.random() < weightMismatchProbability ? randomInt(this.random, 0, items.length - 1) : -1;
    const assistAfter = this.random() < assistProbability ? randomInt(this.random, 0, items.length - 1) : -1;

    this.setState('in-use');
    await emit({ type: 'basket-open' });
    let totalCents = 0;
    let expectedWeightG = 0;
    for (const [index, item] of items.entries()) {
      await timerGroup.sleep(stepDelayMs);
      totalCents += item.qty * item.priceCents;
      expectedWeightG += item.qty * (item.unitWeightG ?? FALLBACK_UNIT_WEIGHT_G);
      await emit({ type: 'item-scanned', sku: item.sku, qty: item.qty, priceCents: item.priceCents });
      if (index === mismatchAfter) {
        const measuredWeightG = expectedWeightG * (1 + (this.random() < 0.5 ? -1 : 1) * randomBetween(this.random, 0.1, 0.4));
        await emit({
          type: 'weight-mismatch',
          expectedWeightG: round1(expectedWeightG),
          measuredWeightG: round1(Math.max(0, measuredWeightG)),
        });
      }
      if (index === assistAfter) {
        this.setState('assist');
        await emit({ type: 'assist-requested', reason: 'shopper requested help' });
        await timerGroup.sleep(assistDurationMs);
        this.setState('in-use');
      }
    }
    await timerGroup.sleep(stepDelayMs);
    await emit({ type: 'payment-succeeded', priceCents: totalCents });
    await emit({ type: 'basket-closed' });
    this.setState('idle');
    this.log.debug({ basketId, items: items.length, totalCents }, 'basket closed');
    return { basketId, totalCents, events };
  }

  private setState(state: KioskState): void {
    if (state === this.currentState) return;
    this.currentState = state;
    this.publishStatus();
  }

  private publishStatus(): void {
    const status: KioskStatus = { state: this.currentState, firmware: this.settings.firmware, ts: this.now() };
    void this.connection.publish('status', status, 0);
  }

  private now(): number {
    return Math.round(this.clock());
  }
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}
