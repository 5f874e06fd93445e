import type { Logger } from 'pino';
import type { GatewayBus } from '../core/events.js';
import type { GatewayModule } from '../core/module.js';
import type { AckGates } from '../device-registry/ack-gates.js';
import type { SqliteDatabase } from '../storage/database.js';
import type { PendingWrites, WriteBehindWriter } from '../storage/write-behind.js';
import type { AccessGuard } from '../http/auth.js';
import type { FacingStockView } from '../stock/shelf-stock-book.js';
import { AlertService } from './alert-service.js';
import { AlertSilenceStore, alertSilenceWrites, type SilenceWrite } from './alert-silence-store.js';
import { AlertStore, alertWrites } from './alert-store.js';
import { lowStockKey, parseLowStockKey, sensorFaultKey, type Alert } from './alerts.js';
import { kioskAlertFor } from './kiosk-alerts.js';
import { lowStockAlert } from './low-stock-alerts.js';
import {
  decideLowStock,
  type LowStockDecision,
  type LowStockEvent,
  type LowStockPolicyOptions,
  type LowStockSilence,
} from './low-stock-policy.js';
import { alertRoutes } from './routes.js';
import { SENSOR_FAULT_CLEARED, sensorFaultAlert } from './sensor-fault-alerts.js';

declare module '../core/module.js' {
  interface GatewayServices {
    alerts: AlertsModule;
  }
}

export type AlertsModuleDeps = {
  bus: GatewayBus;
  db: SqliteDatabase;
  writer: WriteBehindWriter;
  /** a kiosk event that opens an alert is acknowledged (PUBACK) only once the alert is committed */
  ackGates?: AckGates;
  now: () => number;
  newId: () => string;
  log: Logger;
  metrics: { alertOpened(kind: string): void; activeAlerts(count: number): void };
  /** how often snoozed alerts are woken and silenced facings checked for re-arming */
  snoozeCheckMs: number;
  /** how long a low-stock alert staff resolved by hand stays away while its facing is still low */
  lowStock: LowStockPolicyOptions;
  /** a facing as the stock room sees it now; undefined before stock started or for a facing not in the planogram */
  facingStock: (shelfId: string, facing: number) => FacingStockView | undefined;
};

/**
 * Alerts staff see, acknowledge and resolve: opened by the low-stock policy (from `stock.level` and `stock.changed`),
 * by load cells sending impossible weights (`stock.sensor-fault`) and by kiosk events (`device.message`), persisted
 * (write-behind), published as `alert.changed`. Low-stock silences (staff resolved by hand) are persisted too.
 */
export class AlertsModule implements GatewayModule {
  readonly name = 'alerts';
  readonly service: AlertService;
  private readonly writes: PendingWrites<Alert>;
  private readonly silenceWrites: PendingWrites<SilenceWrite>;
  private readonly silenceStore: AlertSilenceStore;
  /** by low-stock key; at most one per planogram facing */
  private silences = new Map<string, LowStockSilence>();
  private readonly unsubscribes: Array<() => void> = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: AlertsModuleDeps) {
    this.writes = deps.writer.register(alertWrites);
    this.silenceWrites = deps.writer.register(alertSilenceWrites);
    this.silenceStore = new AlertSilenceStore(deps.db);
    this.service = new AlertService({
      repository: new AlertStore(deps.db),
      now: deps.now,
      newId: deps.newId,
      onChange: (alert, previous, by) => this.changed(alert, previous, by),
    });
  }

  routes(guard: AccessGuard) {
    return alertRoutes({ alerts: this.service, guard, durable: () => this.deps.writer.commit() });
  }

  async start(): Promise<void> {
    await this.service.start();
    this.silences = await this.silenceStore.loadAll();
    this.deps.metrics.activeAlerts(this.service.activeCount);
    const { bus } = this.deps;
    this.unsubscribes.push(
      bus.on('device.message:kiosk/event', 'kiosk-alerts', (message) => {
        const alert = kioskAlertFor(message.deviceId, message.payload);
        if (alert) this.service.raise(alert);
      }),
      bus.on('stock.level', 'low-stock-alerts', (signal) => {
        this.lowStock(signal.view, signal.units, { type: 'level', level: signal.level });
      }),
      bus.on('stock.changed', 'low-stock-alerts', ({ view, cause, previousUnits }) => {
        if (cause !== 'quantity' || view.units === null) return;
        this.lowStock(view, view.units, { type: 'units', units: view.units, previousUnits: previousUnits ?? null });
      }),
      bus.on('stock.sensor-fault', 'sensor-fault-alerts', (change) => {
        if (change.faulty) this.service.raise(sensorFaultAlert(change));
        else this.service.resolveByKey(sensorFaultKey(change.shelfId, change.facing), 'system', SENSOR_FAULT_CLEARED);
      }),
    );
    // the handler above raised the alert while the broker published the message: the gate waits for its commit. A
    // kiosk event that asks for no alert (a scan) is not held.
    const releaseGate = this.deps.ackGates?.hold('kiosk/event', (message) =>
      message.key === 'kiosk/event' && kioskAlertFor(message.deviceId, message.payload) ? this.deps.writer.commit() : undefined,
    );
    if (releaseGate) this.unsubscribes.push(releaseGate);
    this.timer = setInterval(() => this.tick(), this.deps.snoozeCheckMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe();
  }

  /** Whether a facing's load cell has an active sensor-fault alert (the stock room starts such a facing as faulty). */
  hasSensorFault(shelfId: string, facing: number): boolean {
    return this.service.activeByKey(sensorFaultKey(shelfId, facing)) !== undefined;
  }

  /** The periodic check (on a timer; tests call it with their clock): wakes snoozed alerts, re-arms silenced facings. */
  tick(): void {
    this.service.wakeSnoozed();
    for (const key of [...this.silences.keys()]) {
      const where = parseLowStockKey(key);
      const view = where && this.deps.facingStock(where.shelfId, where.facing);
      if (view) this.lowStock(view, view.units, { type: 'tick', level: view.level });
    }
  }

  /** One event of a facing through the low-stock policy, and its decision applied. */
  private lowStock(view: FacingStockView, units: number | null, event: LowStockEvent): void {
    const key = lowStockKey(view.shelfId, view.facing);
    const decision = decideLowStock(this.silences.get(key), event, this.deps.now(), this.deps.lowStock);
    this.applySilence(key, decision);
    if (decision.alert === 'resolve') {
      this.service.resolveByKey(key, 'system', 'restocked');
    } else if ((decision.alert === 'raise' || decision.alert === 'follow') && units !== null) {
      const alert = lowStockAlert(view, units);
      const raised = decision.alert === 'raise' && this.service.raise(alert).opened;
      if (!raised) this.service.updateByKey(key, { severity: alert.severity, title: alert.title, units: alert.units });
    }
  }

  private applySilence(key: string, decision: LowStockDecision): void {
    if (decision.silence === 'start') {
      const silencedAt = this.deps.now();
      this.silences.set(key, { silencedAt });
      this.silenceWrites.put(key, { key, silencedAt });
    } else if (decision.silence === 'end' && this.silences.delete(key)) {
      this.silenceWrites.put(key, { key, silencedAt: null });
    }
  }

  private changed(alert: Alert, previous: Alert | undefined, by: string | undefined): void {
    this.writes.put(alert.id, alert);
    this.deps.metrics.activeAlerts(this.service.activeCount);
    const where =
      alert.shelfId !== undefined ? { shelfId: alert.shelfId, facing: alert.facing, sku: alert.sku } : { deviceId: alert.deviceId };
    if (!previous) {
      this.deps.metrics.alertOpened(alert.kind);
      this.deps.log.info({ alertId: alert.id, kind: alert.kind, severity: alert.severity, ...where }, alert.title);
    } else if (alert.state !== previous.state) {
      const by = alert.state === 'resolved' ? alert.resolvedBy : alert.acknowledgedBy;
      this.deps.log.info({ alertId: alert.id, kind: alert.kind, state: alert.state, by, ...where }, `alert ${alert.state}: ${alert.title}`);
    } else if (alert.severity !== previous.severity) {
      this.deps.log.info({ alertId: alert.id, kind: alert.kind, severity: alert.severity, ...where }, alert.title);
    }
    if (
      alert.kind === 'low-stock' &&
      alert.state === 'resolved' &&
      previous &&
      previous.state !== 'resolved' &&
      alert.resolvedBy !== 'system'
    ) {
      this.resolvedByStaff(alert);
    }
    this.deps.bus.emit('alert.changed', by === undefined ? { alert, previous } : { alert, previous, by });
  }

  private resolvedByStaff(alert: Alert): void {
    if (alert.shelfId === undefined || alert.facing === undefined) return;
    const level = this.deps.facingStock(alert.shelfId, alert.facing)?.level ?? 'unknown';
    this.applySilence(
      alert.key,
      decideLowStock(this.silences.get(alert.key), { type: 'resolved-by-staff', level }, this.deps.now(), this.deps.lowStock),
    );
  }
}
