/**
 * The labels room's module: builds the label drivers (direct MQTT labels; one driver per MQTT access point that
 * connects; one per configured OpenEPaperLink AP), keeps the bindings (planogram file + API), follows what the drivers
 * report to know each label's health (`label-offline`, `label-battery-low` alerts, `/metrics`), flashes the labels of
 * a low facing (find-my-facing), and is the `LabelDirectory` the campaign service reads.
 */
import { Gauge, type Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { AlertService } from '../alerts/alert-service.js';
import { lowStockKey } from '../alerts/alerts.js';
import type { GatewayBus } from '../core/events.js';
import type { GatewayModule, HealthCheck } from '../core/module.js';
import type { AccessGuard } from '../http/auth.js';
import type { PlanogramLabelEntry } from '../planogram/planogram.js';
import type { SqliteDatabase, TransactionStep } from '../storage/database.js';
import { FindMyFacing } from './find-my-facing.js';
import { LabelFlashes } from './label-flashes.js';
import {
  LabelBindingStore,
  checkBinding,
  labelKey,
  mergeBindings,
  withSku,
  type BindingTarget,
  type PlanogramLabel,
  type ResolvedBinding,
} from './label-bindings.js';
import type { LabelBinding, LabelDirectory } from './label-directory.js';
import type { LabelDriver, LabelDriverEvent } from './label-driver.js';
import { checkedIn, labelAlertActions, labelHealth, type LabelSighting } from './label-health.js';
import { labelRoutes, type LabelFactsView, type LabelRouteDeps } from './label-routes.js';
import type { LabelPriceRecord } from './label-price-book.js';
import { LabelSightingStore } from './label-sightings-store.js';
import type { LabelsConfig } from './labels-config.js';
import { LABEL_DRIVER_FACTORIES, MQTT_AP_DRIVER_PREFIX, type LabelDriverDeps } from './label-driver-factory.js';
import type { MqttApDriver } from './mqtt-ap-driver.js';
import type { MqttLabelDriver } from './mqtt-label-driver.js';
import type { OeplDriver } from './oepl-driver.js';

declare module '../core/module.js' {
  interface GatewayServices {
    labels: LabelsModule;
  }
}

/** What the room reads of the planogram (the planogram index), named here so the room knows no more rooms than it needs. */
export type FacingLookup = {
  facing(shelfId: string, facing: number): { sku: string } | undefined;
  /** the product's name people read (GET /api/labels) */
  product(sku: string): { name: string } | undefined;
  facingsOf(sku: string): readonly { shelfId: string; facing: number }[];
};

export type LabelsModuleDeps = {
  config: LabelsConfig;
  /** the planogram file's `labels` section (the planogram room stores it; empty: only the API's bindings) */
  planogramLabels: () => readonly PlanogramLabelEntry[];
  bus: GatewayBus;
  db: SqliteDatabase;
  planogram: () => FacingLookup;
  /** the alert service (the alerts module starts first) */
  alerts: () => AlertService;
  /** the command channel: direct MQTT labels and MQTT access points are reached through it */
  commands: LabelDriverDeps['commands'];
  /** a registered device's kind (`esl`: a direct MQTT label) */
  deviceKind: (deviceId: string) => string | undefined;
  isConnected: (deviceId: string) => boolean;
  now: () => number;
  log: Logger;
  /** the gateway's Prometheus registry: label counts by state, low batteries */
  metricsRegistry?: Registry;
  /** what the price campaigns know of a label's price (the campaigns room needs this one: called only for a request) */
  priceRecord?: (labelId: string) => LabelPriceRecord | undefined;
  /** how often what the drivers reported is written (one transaction); default 1 s */
  sightingsFlushMs?: number;
};

/**
 * An unbound label not seen for this long has left the store: its stored sighting is dropped at start (the table stays
 * bounded by churn).
 */
const SIGHTING_RETENTION_MS = 90 * 86_400_000;

/** A driver's link as it last reported it. */
type DriverLink = { up: boolean; detail?: string };

export class LabelsModule implements GatewayModule, LabelDirectory {
  readonly name = 'labels';
  readonly directory: LabelDirectory = this;
  private readonly mqttLabels: MqttLabelDriver;
  private readonly oeplDrivers: OeplDriver[];
  private readonly apDrivers = new Map<string, MqttApDriver>();
  private readonly driverLinks = new Map<string, DriverLink>();
  private readonly driverListeners = new Set<() => void>();
  private readonly bindingStore: LabelBindingStore;
  private planogramLabels: PlanogramLabel[] = [];
  private bindings = new Map<string, ResolvedBinding>();
  /** facing key → labels bound to it */
  private labelsByFacing = new Map<string, string[]>();
  /** every label tracked (bound, or reported by a driver), bounded by `drivers.maxLabels` */
  private readonly sightings = new Map<string, LabelSighting>();
  private readonly sightingStore: LabelSightingStore;
  /** sightings changed since the last write (a subset of `sightings`, so bounded by maxLabels) */
  private readonly dirtySightings = new Set<string>();
  private sightingsWrite: Promise<void> | undefined;
  private sightingsTimer: NodeJS.Timeout | undefined;
  private readonly findMyFacing: FindMyFacing;
  /** every flash goes through here: one reason ending does not stop a flash another still wants */
  readonly flashes: LabelFlashes;
  private unsubscribes: Array<() => void> = [];
  private healthTimer: NodeJS.Timeout | undefined;
  private running = false;
  private untracked = 0;

  /** what every driver is built with (LABEL_DRIVER_FACTORIES) */
  private readonly driverDeps: LabelDriverDeps;

  constructor(private readonly deps: LabelsModuleDeps) {
    const { config, log } = deps;
    this.bindingStore = new LabelBindingStore(deps.db);
    this.sightingStore = new LabelSightingStore(deps.db);
    this.driverDeps = {
      config,
      bus: deps.bus,
      commands: deps.commands,
      deviceKind: deps.deviceKind,
      isConnected: deps.isConnected,
      now: deps.now,
      log,
    };
    this.mqttLabels = LABEL_DRIVER_FACTORIES['mqtt-esl']({}, this.driverDeps);
    this.oeplDrivers = config.accessPoints.map((ap) => LABEL_DRIVER_FACTORIES.oepl(ap, this.driverDeps));
    this.flashes = new LabelFlashes({ driverFor: (labelId) => this.driverFor(labelId), maxLabels: config.drivers.maxLabels });
    this.findMyFacing = new FindMyFacing({
      bus: deps.bus,
      labelsAt: (shelfId, facing) => this.labelsAt(shelfId, facing),
      flashes: this.flashes,
      lowFacings: () => this.lowFacings(),
      log,
    });
    if (deps.metricsRegistry) this.registerMetrics(deps.metricsRegistry);
  }

  async start(): Promise<void> {
    const { config, log } = this.deps;
    this.planogramLabels = this.deps.planogramLabels().map(({ label, shelfId, facing }) => ({ labelId: label, shelfId, facing }));
    this.rebuildBindings(await this.bindingStore.loadAll(config.drivers.maxLabels));
    // what the drivers reported before the restart: last seen, battery, shown price, and which driver carries the label;
    // bound labels first, so labels seen once and gone since cannot crowd a bound one out of maxLabels
    const forgotten = await this.sightingStore.prune(this.deps.now() - SIGHTING_RETENTION_MS, [...this.bindings.keys()]);
    if (forgotten > 0)
      log.info({ labels: forgotten, days: SIGHTING_RETENTION_MS / 86_400_000 }, 'labels not bound and not seen for a long time forgotten');
    const known = new Map<string, LabelSighting>();
    for (const sighting of await this.sightingStore.loadAll(config.drivers.maxLabels))
      known.set(labelKey(sighting.labelId), { ...sighting, labelId: labelKey(sighting.labelId) });
    const now = this.deps.now();
    for (const labelId of this.bindings.keys()) {
      const stored = known.get(labelId);
      known.delete(labelId);
      if (stored) this.sightings.set(labelId, stored);
      else this.track(labelId, now);
    }
    for (const [labelId, sighting] of known) {
      if (this.sightings.size >= config.drivers.maxLabels) break;
      this.sightings.set(labelId, sighting);
    }

    this.running = true;
    for (const driver of [this.mqttLabels, ...this.oeplDrivers]) await this.startDriver(driver);
    // an MQTT access point's driver exists before the AP reconnects, carrying the labels it carried: a campaign resumed
    // at start queues their prices there (delivered when the AP is back) instead of finding no driver
    for (const apId of this.accessPointsCarrying(this.sightings.values())) this.accessPointConnected(apId);
    this.unsubscribes.push(
      this.deps.bus.on('device.connection', 'labels:access-points', (event) => {
        if (event.kind === 'ap' && event.connected) this.accessPointConnected(event.deviceId);
      }),
    );
    this.findMyFacing.start();
    this.healthTimer = setInterval(() => this.checkHealth(this.deps.now()), config.health.checkEveryMs);
    this.healthTimer.unref();
    this.sightingsTimer = setInterval(() => void this.writeSightings(), this.deps.sightingsFlushMs ?? 1_000);
    this.sightingsTimer.unref();
    log.info({ bindings: this.bindings.size, accessPoints: this.oeplDrivers.length }, 'labels started');
  }

  async stop(): Promise<void> {
    this.running = false;
    clearInterval(this.healthTimer);
    this.healthTimer = undefined;
    clearInterval(this.sightingsTimer);
    this.sightingsTimer = undefined;
    this.findMyFacing.stop();
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe();
    for (const driver of [...this.drivers()].reverse()) {
      await driver
        .stop()
        .catch((error: unknown) => this.deps.log.error({ err: error, driverId: driver.driverId }, 'label driver failed to stop'));
    }
    await this.writeSightings();
  }

  /** Writes the sightings changed since the last write; on failure they stay dirty and go with the next one. */
  async writeSightings(): Promise<void> {
    if (this.sightingsWrite) await this.sightingsWrite;
    if (this.dirtySightings.size === 0) return;
    const ids = [...this.dirtySightings];
    this.dirtySightings.clear();
    const rows = ids.flatMap((id) => this.sightings.get(id) ?? []);
    this.sightingsWrite = this.sightingStore
      .save(rows)
      .catch((error: unknown) => {
        for (const id of ids) if (this.sightings.has(id)) this.dirtySightings.add(id);
        this.deps.log.error({ err: error, labels: ids.length }, 'label sightings not written; retried with the next write');
      })
      .finally(() => {
        this.sightingsWrite = undefined;
      });
    await this.sightingsWrite;
  }

  /** The MQTT access points (by device id) that last carried these labels, at most maxAccessPoints. */
  private accessPointsCarrying(sightings: Iterable<LabelSighting>): string[] {
    const apIds = new Set<string>();
    for (const { driverId } of sightings) {
      if (driverId?.startsWith(MQTT_AP_DRIVER_PREFIX)) apIds.add(driverId.slice(MQTT_AP_DRIVER_PREFIX.length));
    }
    return [...apIds].slice(0, this.deps.config.drivers.maxAccessPoints);
  }

  health(): HealthCheck {
    const links = Object.fromEntries(
      [...this.driverLinks].map(([driverId, link]) => [driverId, link.up ? 'up' : `down${link.detail ? `: ${link.detail}` : ''}`]),
    );
    // an OEPL AP that cannot be reached makes its labels unreachable: that is worth a red light
    const ok = this.running && this.oeplDrivers.every((driver) => driver.isLinkUp);
    return { ok, labels: this.sightings.size, bindings: this.bindings.size, drivers: links, untracked: this.untracked };
  }

  routes(guard: AccessGuard, audited?: LabelRouteDeps['audited']) {
    const labels = {
      views: () => this.views(),
      bind: (labelId: string, target: BindingTarget, by: string, withChange?: TransactionStep) =>
        this.bind(labelId, target, by, withChange),
    };
    return labelRoutes({ labels, guard, ...(audited ? { audited } : {}) });
  }

  // --- LabelDirectory -------------------------------------------------------------------------------------------

  labelsForSku(sku: string): readonly string[] {
    const labels: string[] = [];
    for (const plan of this.deps.planogram().facingsOf(sku)) labels.push(...this.labelsAt(plan.shelfId, plan.facing));
    return labels;
  }

  bindingOf(labelId: string): LabelBinding | undefined {
    const binding = this.bindings.get(labelKey(labelId));
    return binding ? withSku(binding, (shelfId, facing) => this.skuAt(shelfId, facing)) : undefined;
  }

  driverFor(labelId: string): LabelDriver | undefined {
    const id = labelKey(labelId);
    const last = this.sightings.get(id)?.driverId;
    const drivers = this.drivers();
    const lastDriver = last === undefined ? undefined : drivers.find((driver) => driver.driverId === last);
    if (lastDriver?.handles(id)) return lastDriver;
    return drivers.find((driver) => driver.handles(id));
  }

  drivers(): readonly LabelDriver[] {
    return [this.mqttLabels, ...this.apDrivers.values(), ...this.oeplDrivers];
  }

  onDriversChanged(listener: () => void): () => void {
    this.driverListeners.add(listener);
    return () => this.driverListeners.delete(listener);
  }

  // --- bindings -------------------------------------------------------------------------------------------------

  /** Binds a label to a facing (stored; wins over the planogram file), and flashes it at once if that facing is low. */
  async bind(labelId: string, target: BindingTarget, by: string, withChange?: TransactionStep): Promise<LabelFactsView> {
    const id = labelKey(labelId);
    checkBinding(id, target, {
      skuAt: (shelfId, facing) => this.skuAt(shelfId, facing),
      bindings: this.bindings,
      maxLabels: this.deps.config.drivers.maxLabels,
    });
    const now = this.deps.now();
    await this.bindingStore.put({ labelId: id, ...target, boundBy: by, boundAt: now }, withChange);
    const previous = this.bindings.get(id);
    this.bindings.set(id, { labelId: id, ...target, source: 'api' });
    this.indexFacings();
    this.track(id, now);
    this.deps.log.info({ labelId: id, shelfId: target.shelfId, facing: target.facing, by }, 'label bound');
    if (previous && this.deps.alerts().activeByKey(lowStockKey(previous.shelfId, previous.facing)))
      this.flashes.flash(id, 'stop', 'low-stock');
    if (this.deps.alerts().activeByKey(lowStockKey(target.shelfId, target.facing))) this.flashes.flash(id, 'find', 'low-stock');
    return this.view(id, now);
  }

  private rebuildBindings(stored: Parameters<typeof mergeBindings>[1]): void {
    this.bindings = mergeBindings(this.planogramLabels, stored);
    this.indexFacings();
  }

  private indexFacings(): void {
    const byFacing = new Map<string, string[]>();
    for (const binding of this.bindings.values()) {
      const key = `${binding.shelfId}/${binding.facing}`;
      const labels = byFacing.get(key);
      if (labels) labels.push(binding.labelId);
      else byFacing.set(key, [binding.labelId]);
    }
    this.labelsByFacing = byFacing;
  }

  private labelsAt(shelfId: string, facing: number): readonly string[] {
    return this.labelsByFacing.get(`${shelfId}/${facing}`) ?? [];
  }

  private skuAt(shelfId: string, facing: number): string | undefined {
    return this.deps.planogram().facing(shelfId, facing)?.sku;
  }

  private *lowFacings(): Iterable<{ shelfId: string; facing: number }> {
    const alerts = this.deps.alerts();
    for (const binding of this.bindings.values()) {
      if (alerts.activeByKey(lowStockKey(binding.shelfId, binding.facing))) yield binding;
    }
  }

  // --- drivers --------------------------------------------------------------------------------------------------

  private async startDriver(driver: LabelDriver): Promise<void> {
    this.unsubscribes.push(driver.onEvent((event) => this.driverEvent(driver.driverId, event)));
    await driver.start();
  }

  private accessPointConnected(apId: string): void {
    if (!this.running || this.apDrivers.has(apId)) return; // a known AP's driver follows its link itself
    if (this.apDrivers.size >= this.deps.config.drivers.maxAccessPoints) {
      this.deps.log.warn(
        { apId, maxAccessPoints: this.deps.config.drivers.maxAccessPoints },
        'access point not driven: too many access points',
      );
      return;
    }
    const driverId = `${MQTT_AP_DRIVER_PREFIX}${apId}`;
    const carried: string[] = [];
    for (const sighting of this.sightings.values()) if (sighting.driverId === driverId) carried.push(sighting.labelId);
    const driver = LABEL_DRIVER_FACTORIES['mqtt-ap']({ apId, labels: carried }, this.driverDeps);
    this.apDrivers.set(apId, driver);
    this.startDriver(driver).then(
      () => this.driversChanged(),
      (error: unknown) => {
        // forgotten, so the AP's next connection tries again
        this.apDrivers.delete(apId);
        void driver.stop().catch(() => undefined);
        this.deps.log.error({ err: error, apId }, 'access point driver failed to start');
      },
    );
  }

  private driversChanged(): void {
    for (const listener of this.driverListeners) {
      try {
        listener();
      } catch (error) {
        this.deps.log.error({ err: error }, 'drivers-changed listener failed');
      }
    }
  }

  private driverEvent(driverId: string, event: LabelDriverEvent): void {
    switch (event.type) {
      case 'link':
        this.driverLinks.set(driverId, { up: event.up, ...(event.detail !== undefined ? { detail: event.detail } : {}) });
        return;
      case 'check-in':
        this.sighted(driverId, event.labelId, event.at, event.batteryMv, event.displayedPriceCents);
        return;
      case 'confirmed':
        // the label showed the content: it was there, whatever its last check-in says
        this.sighted(driverId, event.labelId, event.at, null, event.displayedPriceCents);
        return;
      default:
        return;
    }
  }

  // --- health ---------------------------------------------------------------------------------------------------

  private track(labelId: string, now: number): LabelSighting | undefined {
    const known = this.sightings.get(labelId);
    if (known) return known;
    if (this.sightings.size >= this.deps.config.drivers.maxLabels) {
      this.untracked++;
      return undefined;
    }
    const sighting: LabelSighting = { labelId, trackedSince: now, batteryMv: null };
    this.sightings.set(labelId, sighting);
    this.dirtySightings.add(labelId);
    return sighting;
  }

  private sighted(driverId: string, labelId: string, at: number, batteryMv: number | null, displayedPriceCents: number | undefined): void {
    const id = labelKey(labelId);
    const known = this.track(id, at);
    if (!known) return;
    const next = checkedIn(known, { driverId, at, batteryMv, ...(displayedPriceCents !== undefined ? { displayedPriceCents } : {}) });
    this.sightings.set(id, next);
    this.dirtySightings.add(id);
    this.applyHealth(next, this.deps.now());
  }

  /** Every tracked label against the thresholds: opens and resolves label alerts. */
  checkHealth(now: number): void {
    for (const sighting of this.sightings.values()) this.applyHealth(sighting, now);
  }

  private applyHealth(sighting: LabelSighting, now: number): void {
    const alerts = this.deps.alerts();
    const thresholds = this.deps.config.health;
    const binding = this.bindingOf(sighting.labelId);
    const productName = binding ? this.deps.planogram().product(binding.sku)?.name : undefined;
    const place = binding
      ? { shelfId: binding.shelfId, facing: binding.facing, sku: binding.sku, ...(productName !== undefined ? { productName } : {}) }
      : {};
    for (const action of labelAlertActions(
      sighting,
      labelHealth(sighting, thresholds, now),
      place,
      thresholds,
      (key) => alerts.activeByKey(key) !== undefined,
    )) {
      if ('raise' in action) alerts.raise(action.raise);
      else alerts.resolveByKey(action.resolve, 'system', action.resolution);
    }
  }

  // --- views ----------------------------------------------------------------------------------------------------

  /** Every tracked label as GET /api/labels shows it (bounded by drivers.maxLabels). */
  *views(): Iterable<LabelFactsView> {
    const now = this.deps.now();
    for (const labelId of this.sightings.keys()) yield this.view(labelId, now);
  }

  /** The last battery a label reported (null: unknown or not a label): a direct MQTT label is a device too. */
  batteryOf(labelId: string): number | null {
    return this.sightings.get(labelKey(labelId))?.batteryMv ?? null;
  }

  private view(labelId: string, now: number): LabelFactsView {
    const sighting = this.sightings.get(labelId) ?? { labelId, trackedSince: now, batteryMv: null };
    const binding = this.bindings.get(labelId);
    const driverId = sighting.driverId ?? this.driverFor(labelId)?.driverId ?? null;
    const link = driverId === null ? undefined : this.driverLinks.get(driverId);
    const sku = binding ? (this.skuAt(binding.shelfId, binding.facing) ?? null) : null;
    const prices = this.deps.priceRecord?.(labelId);
    const confirmed = prices?.confirmed?.priceCents ?? null;
    // the price book drops a target once the label confirms it or its campaign gives up
    const pending = prices?.target?.priceCents ?? null;
    return {
      labelId,
      state: labelHealth(sighting, this.deps.config.health, now).condition,
      driverId,
      driverLinkUp: link ? link.up : null,
      // why the link is down, e.g. "unsupported firmware 2.55: OpenEPaperLink 2.60 or later needed"
      driverLinkDetail: link && !link.up ? (link.detail ?? null) : null,
      batteryMv: sighting.batteryMv,
      lastSeenAt: sighting.lastSeenAt ?? null,
      displayedPriceCents: sighting.displayedPriceCents ?? null,
      confirmedPriceCents: confirmed,
      confirmedCampaignId: prices?.confirmed?.campaignId ?? null,
      pendingPriceCents: pending,
      shelfId: binding?.shelfId ?? null,
      facing: binding?.facing ?? null,
      sku,
      productName: sku === null ? null : (this.deps.planogram().product(sku)?.name ?? null),
      bindingSource: binding?.source ?? null,
    };
  }

  private registerMetrics(registry: Registry): void {
    // prom-client calls collect() with the metric as `this`: the module's state comes in through these closures
    const now = () => this.deps.now();
    const sightings = () => this.sightings.values();
    const health = () => this.deps.config.health;
    new Gauge({
      name: 'smartstore_labels',
      help: 'shelf labels tracked, by health state (ok, offline, battery-low, never-seen)',
      labelNames: ['state'],
      registers: [registry],
      collect() {
        const at = now();
        const counts: Record<string, number> = { ok: 0, offline: 0, 'battery-low': 0, 'never-seen': 0 };
        for (const sighting of sightings()) counts[labelHealth(sighting, health(), at).condition]!++;
        for (const [state, count] of Object.entries(counts)) this.labels(state).set(count);
      },
    });
    new Gauge({
      name: 'smartstore_labels_battery_low',
      help: 'shelf labels whose last reported battery is below labels.health.lowBatteryMv (offline ones included)',
      registers: [registry],
      collect() {
        let low = 0;
        for (const sighting of sightings()) if (sighting.batteryMv !== null && sighting.batteryMv < health().lowBatteryMv) low++;
        this.set(low);
      },
    });
  }
}
