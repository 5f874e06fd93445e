/**
 * The insight room's side effects: feeds the InsightEngine from the bus — a facing's units from its load cell
 * (`stock.changed`), kiosk `item-scanned` sales, and a periodic look (`insight.tickSec`) — and acts on its decisions:
 * `stock-out-predicted` and `phantom-stock` alerts through the alerts room's service, availability per sku on the bus
 * (`insight.availability`, change-only and coalesced, which the relay sends to HQ). The engine is pure and keeps its
 * learning in memory: a restart learns again (the alerts of the previous run are resolved at start, see `start`).
 */
import { Subject, timer, type SchedulerLike, type Subscription } from 'rxjs';
import type { Logger } from 'pino';
import type { AlertService } from '../alerts/alert-service.js';
import type { AlertKind } from '../alerts/alerts.js';
import type { GatewayBus } from '../core/events.js';
import type { GatewayModule, HealthCheck } from '../core/module.js';
import type { AccessGuard } from '../http/auth.js';
import { availabilityChanges, type SkuAvailability } from './availability.js';
import { DEFAULT_DEPLETION_PARAMS } from './depletion.js';
import {
  InsightEngine,
  scaleStuckKey,
  type FacingAlert,
  type InsightDecision,
  type InsightOptions,
  type TareProposal,
} from './insight-engine.js';
import { DEFAULT_NO_SALES_PARAMS } from './no-sales.js';
import { DEFAULT_STUCK_SCALE_PARAMS } from './stuck-scale.js';
import { DEFAULT_TARE_PARAMS } from './tare-proposal.js';
import type { InsightConfig } from './insight-config.js';
import { DEFAULT_PHANTOM_PARAMS } from './phantom-stock.js';
import { pickList, type PickLine, type ReplenishmentFacing } from './replenishment.js';
import { insightRoutes } from './routes.js';
import { storeClock, type StoreClock } from './store-clock.js';
import { DEFAULT_PREDICTION_POLICY } from './stock-out-prediction.js';

declare module '../core/module.js' {
  interface GatewayServices {
    insight: InsightModule;
  }
}

/** A facing as the stock book holds it: the plan (name, capacity, low threshold) and its units now. */
export type StockFacing = ReplenishmentFacing & { source: string | null };

/** What the module asks of the alerts room. */
export type InsightAlerts = Pick<AlertService, 'raise' | 'updateByKey' | 'resolveByKey' | 'list'>;

/** `insight.*` as the module uses it: milliseconds, and the store's clock. */
export type InsightSettings = {
  enabled: boolean;
  leadTimeMs: number;
  availabilitySafetyUnits: number;
  availabilityCoalesceMs: number;
  tickMs: number;
  /** how long a facing's sales are watched before its rate is trusted (depletion's minObservedMs) */
  minWatchMs: number;
  /** no-sales judges silences with flat traffic until the store's traffic by hour is learned */
  noSalesBeforeTrafficKnown: boolean;
  clock: StoreClock;
};

/**
 * The settings of the `insight` section, in the store's time zone (storeTimeZoneOf: store.timeZone, else the old
 * insight.timeZone, else the process's); throws UnknownTimeZoneError when it names no known zone.
 */
export function insightSettings(config: InsightConfig, timeZone: string): InsightSettings {
  return {
    enabled: config.enabled,
    leadTimeMs: config.restockLeadTimeMin * 60_000,
    availabilitySafetyUnits: config.availabilitySafetyUnits,
    availabilityCoalesceMs: config.availabilityCoalesceSec * 1000,
    tickMs: config.tickSec * 1000,
    minWatchMs: config.minWatchMin * 60_000,
    noSalesBeforeTrafficKnown: config.noSalesBeforeTrafficKnown,
    clock: storeClock(timeZone),
  };
}

/** The engine's options for these settings: the detectors' tuned defaults, and what the configuration changes of them. */
export function insightEngineOptions(settings: InsightSettings): InsightOptions {
  return {
    depletion: { ...DEFAULT_DEPLETION_PARAMS, minObservedMs: settings.minWatchMs },
    prediction: { ...DEFAULT_PREDICTION_POLICY, leadTimeMs: settings.leadTimeMs },
    phantom: DEFAULT_PHANTOM_PARAMS,
    noSales: { ...DEFAULT_NO_SALES_PARAMS, flatTrafficUntilKnown: settings.noSalesBeforeTrafficKnown },
    stuckScale: DEFAULT_STUCK_SCALE_PARAMS,
    tare: DEFAULT_TARE_PARAMS,
    availabilitySafetyUnits: settings.availabilitySafetyUnits,
    hourOf: settings.clock.hourOf,
    formatTime: settings.clock.formatTime,
  };
}

export type InsightModuleDeps = {
  bus: GatewayBus;
  /** the alert service (started before this module) */
  alerts: () => InsightAlerts;
  /** every facing of the planogram as the stock book holds it now (stock is started before this module) */
  facings: () => readonly StockFacing[];
  /** each facing's tare and its product's unit weight (the planogram), for tare proposals; absent: no proposals */
  scales?: () => ReadonlyMap<string, { tareG: number; unitWeightG: number }>;
  settings: InsightSettings;
  scheduler: SchedulerLike;
  now: () => number;
  log: Logger;
  /** a tick that threw: reported like a bus handler's error, and the next tick comes as planned */
  onHandlerError: (handler: string, error: unknown) => void;
};

export const INSIGHT_ALERT_KINDS = [
  'stock-out-predicted',
  'phantom-stock',
  'no-sales',
  'scale-stuck',
] as const satisfies readonly AlertKind[];

const PREDICTION_RESOLUTIONS = {
  restocked: 'restocked before it ran out',
  'rate-fell': 'sales slowed: no longer expected to run out within the lead time',
  'ran-empty': 'ran empty: the low-stock alert follows it',
} as const;

/** The longest pick list one request may ask for. */
export const MAX_PICK_LINES = 500;

export class InsightModule implements GatewayModule {
  readonly name = 'insight';
  readonly counters = {
    predictionsOpened: 0,
    predictionsResolved: 0,
    phantomOpened: 0,
    phantomResolved: 0,
    noSalesOpened: 0,
    noSalesResolved: 0,
    scaleStuckOpened: 0,
    scaleStuckResolved: 0,
    restartResolved: 0,
  };
  private engine: InsightEngine | undefined;
  private readonly availabilityInput = new Subject<SkuAvailability>();
  private subscriptions: Subscription[] = [];
  private unsubscribes: Array<() => void> = [];

  constructor(private readonly deps: InsightModuleDeps) {}

  async start(): Promise<void> {
    if (!this.deps.settings.enabled) return;
    const { settings, bus, now } = this.deps;
    const facings = this.deps.facings();
    const scales = this.deps.scales?.();
    const engine = new InsightEngine(
      facings.map(({ shelfId, facing, sku, name, capacityUnits }) => ({
        shelfId,
        facing,
        sku,
        name,
        capacityUnits,
        ...scales?.get(`${shelfId}/${facing}`),
      })),
      insightEngineOptions(settings),
    );
    this.engine = engine;
    await this.resolveLeftFromBefore();
    // the units the stock room restored: a restored facing sends no stock.changed until it moves
    const startedAt = now();
    for (const f of facings) if (f.units !== null && f.source === 'weight') engine.facingUnits(f.shelfId, f.facing, f.units, startedAt);

    this.subscriptions.push(
      this.availabilityInput
        .pipe(availabilityChanges(settings.availabilityCoalesceMs, this.deps.scheduler))
        .subscribe((availability) => bus.emit('insight.availability', availability)),
      timer(settings.tickMs, settings.tickMs, this.deps.scheduler).subscribe(() => {
        try {
          this.act(engine.tick(now()));
        } catch (error) {
          this.deps.onHandlerError('insight.tick', error);
        }
      }),
    );
    this.unsubscribes.push(
      bus.on('stock.changed', 'insight.stock', ({ view, cause }) => {
        // the load cell's units only: a kiosk's sales estimate would be the kiosk's own sales explaining themselves
        if (cause !== 'quantity' || view.units === null || view.source !== 'weight') return;
        this.act(engine.facingUnits(view.shelfId, view.facing, view.units, view.updatedAt ?? now()));
      }),
      // every raw reading (the hot path): a number compare per reading; an alert object only when a cell turns stuck
      bus.on('device.message:shelf/weight', 'insight.scale', (message) => {
        const { deviceId, payload } = message;
        const change = engine.scaleReading(deviceId, payload.facing, payload.weightG, message.receivedAt);
        if (change === 1) this.openFacingAlert('scale-stuck', engine.scaleStuckAlert(deviceId, payload.facing) as FacingAlert);
        else if (change === -1) this.resolveFacingAlert('scale-stuck', scaleStuckKey(deviceId, payload.facing));
      }),
      bus.on('device.message:kiosk/event', 'insight.kiosk', (message) => {
        const event = message.payload;
        if (event.type !== 'item-scanned' || event.sku === undefined) return;
        this.act(engine.sale(event.sku, event.qty ?? 1, message.receivedAt));
      }),
    );
    this.deps.log.debug({ facings: facings.length, timeZone: settings.clock.timeZone }, 'insight started');
  }

  async stop(): Promise<void> {
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe();
    for (const subscription of this.subscriptions.splice(0)) subscription.unsubscribe();
  }

  health(): HealthCheck {
    if (this.engine === undefined) return { ok: true, enabled: this.deps.settings.enabled };
    return { ok: true, enabled: true, predictionsOpen: this.engine.predictedEmptyAt().size, ...this.counters, ...this.engine.counters };
  }

  /** Facings to restock now, most urgent first; undefined while the room is disabled (or not started). */
  pickList(limit: number): PickLine[] | undefined {
    if (this.engine === undefined) return undefined;
    return pickList(this.deps.facings(), this.engine.predictedEmptyAt(), Math.min(limit, MAX_PICK_LINES));
  }

  /** Availability of one sku (undefined: not in the planogram), or of every sku; undefined while disabled. */
  availability(sku?: string): SkuAvailability[] | undefined {
    const engine = this.engine;
    if (engine === undefined) return undefined;
    const at = this.deps.now();
    if (sku !== undefined) return [...engine.skus()].includes(sku) ? [engine.availability(sku, at)] : [];
    return [...engine.skus()].sort().map((s) => engine.availability(s, at));
  }

  /** Empty facings reading a steady offset, with the tare to set; undefined while disabled. */
  tareProposals(): TareProposal[] | undefined {
    return this.engine?.tareProposals(this.deps.now());
  }

  readonly routes = (guard: AccessGuard) => insightRoutes({ insight: this, guard, now: this.deps.now });

  private act(decisions: readonly InsightDecision[]): void {
    if (decisions.length === 0) return;
    const alerts = this.deps.alerts();
    for (const decision of decisions) {
      switch (decision.type) {
        case 'prediction-open': {
          const { key, shelfId, facing, sku, title, units } = decision.alert;
          const { opened } = alerts.raise({ kind: 'stock-out-predicted', key, severity: 'warning', title, shelfId, facing, sku, units });
          if (opened) this.counters.predictionsOpened++;
          else alerts.updateByKey(key, { title, units });
          break;
        }
        case 'prediction-update':
          // one a person resolved stays resolved: the engine's next open (after a restock or a slower rate) raises anew
          alerts.updateByKey(decision.alert.key, { title: decision.alert.title, units: decision.alert.units });
          break;
        case 'prediction-resolve':
          if (alerts.resolveByKey(decision.key, 'system', PREDICTION_RESOLUTIONS[decision.resolution])) this.counters.predictionsResolved++;
          break;
        case 'phantom-open': {
          const { key, sku, title, unexplainedUnits } = decision.alert;
          const { opened } = alerts.raise({ kind: 'phantom-stock', key, severity: 'warning', title, sku, units: unexplainedUnits });
          if (!opened) alerts.updateByKey(key, { title, units: unexplainedUnits });
          else {
            this.counters.phantomOpened++;
            this.deps.log.warn({ sku, key, unexplainedUnits }, 'phantom stock: kiosk sales its shelf does not explain');
          }
          break;
        }
        case 'phantom-resolve':
          if (alerts.resolveByKey(decision.key, 'system', 'its shelf moves with its kiosk sales again')) this.counters.phantomResolved++;
          break;
        case 'no-sales-open':
          this.openFacingAlert('no-sales', decision.alert);
          break;
        case 'no-sales-resolve':
          this.resolveFacingAlert('no-sales', decision.key);
          break;
        case 'scale-stuck-open':
          this.openFacingAlert('scale-stuck', decision.alert);
          break;
        case 'scale-stuck-resolve':
          this.resolveFacingAlert('scale-stuck', decision.key);
          break;
        case 'availability':
          this.availabilityInput.next(decision.availability);
          break;
      }
    }
  }

  private openFacingAlert(kind: 'no-sales' | 'scale-stuck', alert: FacingAlert): void {
    const { key, shelfId, facing, sku, title, units } = alert;
    const { opened } = this.deps.alerts().raise({ kind, key, severity: 'warning', title, shelfId, facing, sku, units });
    if (!opened) return;
    if (kind === 'no-sales') this.counters.noSalesOpened++;
    else this.counters.scaleStuckOpened++;
  }

  private resolveFacingAlert(kind: 'no-sales' | 'scale-stuck', key: string): void {
    const resolution = kind === 'no-sales' ? 'it sells again' : 'its load cell reads a different weight again';
    if (this.deps.alerts().resolveByKey(key, 'system', resolution) === undefined) return;
    if (kind === 'no-sales') this.counters.noSalesResolved++;
    else this.counters.scaleStuckResolved++;
  }

  /**
   * The engine's learning is in memory: the predictions and phantom verdicts of the previous run are not followed by
   * this one, so their alerts would stay open for ever. They are resolved; the engine raises them again once the
   * readings show them (a prediction needs the minimum watch time, 20 min).
   */
  private async resolveLeftFromBefore(): Promise<void> {
    const alerts = this.deps.alerts();
    for (const kind of INSIGHT_ALERT_KINDS) {
      for (const alert of await alerts.list({ kind, state: 'active', limit: 100_000 })) {
        if (alerts.resolveByKey(alert.key, 'system', 'gateway restarted: watched again from new readings')) this.counters.restartResolved++;
      }
    }
    if (this.counters.restartResolved > 0) {
      this.deps.log.info({ resolved: this.counters.restartResolved }, 'resolved insight alerts of the previous run');
    }
  }
}
