import type { Logger } from 'pino';
import type { GatewayBus } from '../core/events.js';
import type { GatewayModule } from '../core/module.js';
import type { SqliteDatabase } from '../storage/database.js';
import type { PendingWrites, WriteBehindWriter } from '../storage/write-behind.js';
import type { WriteGuard } from '../http/auth.js';
import { AlertService } from './alert-service.js';
import { AlertStore, alertWrites } from './alert-store.js';
import { lowStockKey, type Alert } from './alerts.js';
import { kioskAlertFor } from './kiosk-alerts.js';
import { lowStockAlert } from './low-stock-alerts.js';
import { alertRoutes } from './routes.js';

export type AlertsModuleDeps = {
  bus: GatewayBus;
  db: SqliteDatabase;
  writer: WriteBehindWriter;
  now: () => number;
  newId: () => string;
  log: Logger;
  metrics: { alertOpened(kind: string): void; activeAlerts(count: number): void };
  /** how often snoozed alerts are checked for waking up */
  snoozeCheckMs: number;
};

/**
 * Alerts staff see, acknowledge and resolve: opened by the low-stock policy (from `stock.level`) and by kiosk events
 * (from `device.message`), persisted (write-behind), published as `alert.changed`.
 */
export class AlertsModule implements GatewayModule {
  readonly name = 'alerts';
  readonly service: AlertService;
  private readonly writes: PendingWrites<Alert>;
  private readonly unsubscribes: Array<() => void> = [];
  private snoozeTimer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: AlertsModuleDeps) {
    this.writes = deps.writer.register(alertWrites);
    this.service = new AlertService({
      repository: new AlertStore(deps.db),
      now: deps.now,
      newId: deps.newId,
      onChange: (alert, previous) => this.changed(alert, previous),
    });
  }

  routes(writeGuard: WriteGuard) {
    return alertRoutes({ alerts: this.service, writeGuard });
  }

  async start(): Promise<void> {
    await this.service.start();
    this.deps.metrics.activeAlerts(this.service.activeCount);
    const { bus } = this.deps;
    this.unsubscribes.push(
      bus.on('device.message', 'kiosk-alerts', (message) => {
        if (message.key !== 'kiosk/event') return;
        const alert = kioskAlertFor(message.deviceId, message.payload);
        if (alert) this.service.raise(alert);
      }),
      bus.on('stock.level', 'low-stock-alerts', (signal) => {
        if (signal.level === 'low') this.service.raise(lowStockAlert(signal.view, signal.units));
        else this.service.resolveByKey(lowStockKey(signal.view.shelfId, signal.view.facing), 'system', 'restocked');
      }),
    );
    this.snoozeTimer = setInterval(() => this.service.wakeSnoozed(), this.deps.snoozeCheckMs);
    this.snoozeTimer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.snoozeTimer);
    this.snoozeTimer = undefined;
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe();
  }

  private changed(alert: Alert, previous: Alert | undefined): void {
    this.writes.put(alert.id, alert);
    this.deps.metrics.activeAlerts(this.service.activeCount);
    const where = alert.shelfId !== undefined ? { shelfId: alert.shelfId, facing: alert.facing, sku: alert.sku } : { deviceId: alert.deviceId };
    if (!previous) {
      this.deps.metrics.alertOpened(alert.kind);
      this.deps.log.info({ alertId: alert.id, kind: alert.kind, severity: alert.severity, ...where }, alert.title);
    } else if (alert.state !== previous.state) {
      const by = alert.state === 'resolved' ? alert.resolvedBy : alert.acknowledgedBy;
      this.deps.log.info({ alertId: alert.id, kind: alert.kind, state: alert.state, by, ...where }, `alert ${alert.state}: ${alert.title}`);
    }
    this.deps.bus.emit('alert.changed', { alert, previous });
  }
}
