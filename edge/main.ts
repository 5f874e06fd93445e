/**
 * Composition root: the only place that knows every part of the gateway, builds them and wires them together.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Subject, asyncScheduler, type SchedulerLike } from 'rxjs';
import { parsePlanogram, readPlanogramText } from './planogram/planogram-file.js';
import { DeviceBroker } from './broker/device-broker.js';
import type { GatewayConfig } from './config/gateway-config.js';
import { AlertService } from './alerts/alert-service.js';
import { lowStockKey } from './alerts/alerts.js';
import { PlanogramIndex, facingKey } from './planogram/planogram.js';
import { DeviceMessageDecoder } from './devices/decoder.js';
import { DeviceRegistry } from './devices/device-registry.js';
import type { DeviceMessage } from './devices/messages.js';
import { Gateway, type Lifecycle } from './core/module.js';
import { GatewayEvents } from './gateway-events.js';
import type { HealthReport } from './http/http-deps.js';
import { HttpServer } from './http/server.js';
import { LogThrottle } from './core/log-throttle.js';
import type { Logger } from './core/logger.js';
import { GatewayMetrics } from './metrics/gateway-metrics.js';
import { kioskAlerts } from './alerts/kiosk-alerts.js';
import { lowStockAlert } from './stock/low-stock.js';
import { ShelfStockBook, toSnapshot } from './stock/shelf-stock-book.js';
import { StockPipeline, type StockOutput } from './stock/stock-pipeline.js';
import { AlertStore } from './alerts/alert-store.js';
import { SqliteDatabase } from './storage/database.js';
import { DeviceStore } from './devices/device-store.js';
import { FacingStateStore } from './stock/facing-state-store.js';
import { migrate } from './storage/migrate.js';
import { PlanogramStore, planogramFingerprint } from './planogram/planogram-store.js';
import { StateWriter } from './storage/state-writer.js';

export const DEFAULT_STATIC_DIR = fileURLToPath(new URL(import.meta.url.includes('/dist/') ? '../../dashboards/staff/' : '../dashboards/staff/', import.meta.url));

export type GatewayOptions = {
  log: Logger;
  now?: () => number;
  scheduler?: SchedulerLike;
  staticDir?: string;
  /** how often snoozed alerts are checked for waking up */
  snoozeCheckMs?: number;
};

/** A built gateway: `gateway` to start and stop, the rest for the CLI, the demo and tests. */
export type StoreGateway = {
  gateway: Gateway;
  config: GatewayConfig;
  registry: DeviceRegistry;
  alerts: AlertService;
  broker: DeviceBroker;
  http: HttpServer;
  metrics: GatewayMetrics;
  events: GatewayEvents;
  health: () => HealthReport;
  /** writes pending state now (tests, shutdown) */
  flush: () => Promise<void>;
  stock: () => ShelfStockBook | undefined;
  /** the gateway's SQLite connection (tests simulate a refusing disk through it) */
  database: SqliteDatabase;
};

export function buildGateway(config: GatewayConfig, options: GatewayOptions): StoreGateway {
  const now = options.now ?? Date.now;
  const scheduler = options.scheduler ?? asyncScheduler;
  const log = options.log;
  const startedAt = now();

  const metrics = new GatewayMetrics();
  const events = new GatewayEvents();
  const db = new SqliteDatabase(join(config.dataDir, 'gateway.db'));
  const registry = new DeviceRegistry(new DeviceStore(db), { scryptCost: config.security.scryptCost, now });
  const planogramStore = new PlanogramStore(db);
  const writer = new StateWriter(db, config.storage, metrics, log.child({ component: 'storage' }));
  const alertLog = log.child({ component: 'alerts' });
  const alerts = new AlertService({
    repository: new AlertStore(db),
    now,
    newId: randomUUID,
    onChange: (alert, previous) => {
      writer.saveAlert(alert);
      events.alerts.next(alert);
      metrics.activeAlerts.set(alerts.activeCount);
      if (!previous) {
        metrics.alertOpened(alert.kind);
        alertLog.info({ alertId: alert.id, kind: alert.kind, key: alert.key, severity: alert.severity }, alert.title);
      } else {
        alertLog.info({ alertId: alert.id, kind: alert.kind, key: alert.key, state: alert.state, by: alert.resolvedBy ?? alert.acknowledgedBy }, `alert ${alert.state}`);
      }
    },
  });

  // Device messages fan out to the pipelines from here; the broker only decodes and validates. Kiosk events have
  // their own stream, so the kiosk-alert pipeline does not look at every shelf reading.
  const kioskEvents = new Subject<DeviceMessage>();
  const connectedDevices = new Map<string, number>();
  const pipelineLog = log.child({ component: 'pipeline' });
  const unknownFacingLog = new LogThrottle({ burst: 3, windowMs: 60_000, maxKeys: 1_000 }, now);
  let stockBook: ShelfStockBook | undefined;
  let stockPipeline: StockPipeline | undefined;

  const broker = new DeviceBroker(
    { storeId: config.storeId, ...config.mqtt },
    {
      registry,
      decoder: new DeviceMessageDecoder(),
      metrics,
      log: log.child({ component: 'broker' }),
      now,
      onMessage: (message) => {
        stockPipeline?.push(message);
        if (message.key === 'kiosk/event') kioskEvents.next(message);
      },
      onConnection: (event) => {
        const count = (connectedDevices.get(event.deviceId) ?? 0) + (event.connected ? 1 : -1);
        if (count > 0) connectedDevices.set(event.deviceId, count);
        else connectedDevices.delete(event.deviceId);
        writer.deviceSeen(event.deviceId, event.at);
        events.devices.next(event);
      },
    },
  );

  const health = (): HealthReport => {
    const storage = writer.health();
    const brokerOk = broker.isListening;
    return {
      status: storage.ok && brokerOk ? 'ok' : 'degraded',
      storeId: config.storeId,
      uptimeS: Math.round((now() - startedAt) / 1000),
      checks: {
        storage: { ok: storage.ok, pendingWrites: storage.pendingWrites, ...(storage.error ? { error: storage.error } : {}) },
        broker: { ok: brokerOk, connectedDevices: broker.connectedDevices },
      },
    };
  };

  const http = new HttpServer(
    { host: config.http.host, port: config.http.port },
    {
      storeId: config.storeId,
      apiToken: config.http.apiToken,
      bodyLimitBytes: config.http.bodyLimitBytes,
      maxSseClients: config.http.maxSseClients,
      staticDir: options.staticDir ?? DEFAULT_STATIC_DIR,
      log: log.child({ component: 'http' }),
      alerts,
      get stock() {
        if (!stockBook) throw new Error('pipelines are not started');
        return stockBook;
      },
      devices: registry,
      isConnected: (deviceId) => connectedDevices.has(deviceId),
      health,
      metrics,
      events,
    },
  );

  const handleStockOutput = (output: StockOutput): void => {
    const book = stockBook as ShelfStockBook;
    const view = output.type === 'quantity' ? book.applyQuantity(output.quantity) : book.applySignal(output.signal);
    if (view) {
      events.stock.next(view);
      const snapshot = toSnapshot(view);
      if (snapshot) writer.saveFacing(snapshot);
    }
    if (output.type === 'signal') {
      const { signal } = output;
      if (signal.level === 'low') alerts.raise(lowStockAlert(signal, view?.name ?? book.get(signal.shelfId, signal.facing)?.name ?? signal.sku));
      else alerts.resolveByKey(lowStockKey(signal.shelfId, signal.facing), 'system', 'restocked');
    }
  };

  const storage: Lifecycle = {
    name: 'storage',
    async start() {
      await db.open();
      await migrate(db);
      if (config.planogram.file) {
        // an unchanged file (the usual restart) is neither parsed nor rewritten: a large store's YAML takes a second
        const text = await readPlanogramText(config.planogram.file);
        const fingerprint = planogramFingerprint(text);
        if ((await planogramStore.storedFingerprint()) === fingerprint) {
          log.info({ component: 'storage', file: config.planogram.file }, 'planogram unchanged');
        } else {
          const planogram = parsePlanogram(text, config.planogram.file);
          await planogramStore.replace(planogram, fingerprint);
          log.info({ component: 'storage', file: config.planogram.file, facings: planogram.facings.length, products: planogram.products.length }, 'planogram loaded');
        }
      }
      await registry.start();
      await alerts.start();
      metrics.activeAlerts.set(alerts.activeCount);
      writer.start();
    },
    async stop() {
      await writer.stop();
      await db.close();
    },
  };

  let snoozeTimer: NodeJS.Timeout | undefined;
  let kioskSubscription: { unsubscribe(): void } | undefined;
  const pipelines: Lifecycle = {
    name: 'pipelines',
    async start() {
      const planogram = new PlanogramIndex(await planogramStore.load());
      const restored = await new FacingStateStore(db).loadAll();
      const restoredByKey = new Map(restored.map((s) => [facingKey(s.shelfId, s.facing), s]));
      stockBook = new ShelfStockBook(planogram, restored);
      const book = stockBook;
      stockPipeline = new StockPipeline({
        planogram,
        options: config.lowStock,
        scheduler,
        initialStock: (plan) => {
          const s = restoredByKey.get(facingKey(plan.shelfId, plan.facing));
          return s ? { units: s.units, weightG: s.weightG, source: s.source, lastWeightAt: s.updatedAt, at: s.updatedAt } : undefined;
        },
        initialLevel: (plan) => (alerts.activeByKey(lowStockKey(plan.shelfId, plan.facing)) ? 'low' : undefined),
        onUnknownFacing: (shelfId, facing) => {
          metrics.messageInvalid('unknown-facing');
          const suppressed = unknownFacingLog.admit(`${shelfId}/${facing}`);
          if (suppressed >= 0) pipelineLog.warn({ deviceId: shelfId, facing, suppressed }, 'weight for a facing not in the planogram dropped');
        },
      });
      stockPipeline.start(handleStockOutput);
      kioskSubscription = kioskEvents.pipe(kioskAlerts()).subscribe((alert) => alerts.raise(alert));
      snoozeTimer = setInterval(() => alerts.wakeSnoozed(), options.snoozeCheckMs ?? 15_000);
      snoozeTimer.unref();
      pipelineLog.info({ facings: planogram.planogram.facings.length }, 'pipelines started');
    },
    async stop() {
      clearInterval(snoozeTimer);
      kioskSubscription?.unsubscribe();
      stockPipeline?.stop();
      kioskEvents.complete();
      events.complete();
    },
  };

  const parts: Lifecycle[] = [
    storage,
    // pipelines subscribe before the broker accepts devices, so no message arrives with nobody listening
    pipelines,
    { name: 'broker', start: () => broker.start(), stop: () => broker.stop() },
    { name: 'http', start: () => http.start(), stop: () => http.stop() },
  ];

  return {
    gateway: new Gateway(parts, log.child({ component: 'gateway' })),
    config,
    registry,
    alerts,
    broker,
    http,
    metrics,
    events,
    health,
    flush: () => writer.flush(),
    stock: () => stockBook,
    database: db,
  };
}
