/**
 * Composition root: the only place that knows every part of the gateway. It builds the shared parts (clock, log,
 * metrics, event bus, storage, HTTP), then the rooms, and lists the modules in start order. Nothing else.
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { asyncScheduler, type SchedulerLike } from 'rxjs';
import { AlertsModule } from './alerts/module.js';
import { DeviceBroker } from './broker/device-broker.js';
import type { GatewayConfig } from './config/gateway-config.js';
import { GatewayBus } from './core/events.js';
import { LogThrottle } from './core/log-throttle.js';
import type { Logger } from './core/logger.js';
import { Gateway } from './core/module.js';
import { DeviceMessageDecoder } from './devices/decoder.js';
import { DevicesModule } from './devices/module.js';
import { INBOUND_SCHEMAS } from './devices/schemas.js';
import { requireToken } from './http/auth.js';
import { healthReport, healthRoutes, type HealthReport } from './http/health-routes.js';
import { liveEventRoutes } from './http/live-events.js';
import { HttpServer } from './http/server.js';
import { GatewayMetrics } from './metrics/gateway-metrics.js';
import { PlanogramModule } from './planogram/module.js';
import { StockModule } from './stock/module.js';
import { StorageModule } from './storage/module.js';

export const DEFAULT_STATIC_DIR = fileURLToPath(new URL(import.meta.url.includes('/dist/') ? '../../dashboards/staff/' : '../dashboards/staff/', import.meta.url));

export type GatewayOptions = {
  log: Logger;
  now?: () => number;
  scheduler?: SchedulerLike;
  staticDir?: string;
  /** how often snoozed alerts are checked for waking up */
  snoozeCheckMs?: number;
  /** SSE keep-alive comment interval */
  ssePingMs?: number;
};

/** A built gateway: `gateway` to start and stop, the modules for the CLI, the demo and tests. */
export type StoreGateway = ReturnType<typeof buildGateway>;

export function buildGateway(config: GatewayConfig, options: GatewayOptions) {
  const now = options.now ?? Date.now;
  const log = options.log;
  const startedAt = now();
  const component = (name: string) => log.child({ component: name });

  const metrics = new GatewayMetrics({ channels: Object.keys(INBOUND_SCHEMAS) });
  const busLog = component('event-bus');
  const busLogThrottle = new LogThrottle({ burst: 5, windowMs: 60_000, maxKeys: 1_000 }, now);
  const bus = new GatewayBus({
    onHandlerError: ({ event, handler, error }) => {
      metrics.eventHandlerErrors.labels(handler).inc();
      const suppressed = busLogThrottle.admit(`${event}:${handler}`);
      if (suppressed >= 0) busLog.error({ event, handler, err: error, suppressed }, 'event handler failed; the gateway goes on');
    },
  });

  const storage = new StorageModule(config.dataDir, config.storage, metrics.writerMetrics(), component('storage'));
  const planogram = new PlanogramModule(storage.db, config.planogram.file, component('planogram'));
  const devices = new DevicesModule({
    bus,
    db: storage.db,
    writer: storage.writer,
    scryptCost: config.security.scryptCost,
    now,
    newId: randomUUID,
    log: component('devices'),
    metrics: { connectedDevices: (count) => metrics.connectedDevices.set(count), commandOutcome: (outcome) => metrics.commandOutcomes.labels(outcome).inc() },
    commandTimeoutMs: config.commands.ackTimeoutMs,
    planogramShelves: () => new Set(planogram.index.shelfIds()),
  });
  const alerts = new AlertsModule({
    bus,
    db: storage.db,
    writer: storage.writer,
    now,
    newId: randomUUID,
    log: component('alerts'),
    metrics: { alertOpened: (kind) => metrics.alertOpened(kind), activeAlerts: (count) => metrics.activeAlerts.set(count) },
    snoozeCheckMs: options.snoozeCheckMs ?? 15_000,
    lowStock: { rearmAfterMs: config.lowStock.rearmAfterMs },
    facingStock: (shelfId, facing) => stock.stockIfStarted?.get(shelfId, facing),
  });
  const stock = new StockModule({
    bus,
    db: storage.db,
    writer: storage.writer,
    planogram: () => planogram.index,
    options: { ...config.lowStock, maxHistoryRows: config.storage.maxHistoryRows },
    scheduler: options.scheduler ?? asyncScheduler,
    now,
    log: component('stock'),
    onUnknownFacing: () => metrics.messageInvalid('unknown-facing'),
    onImplausibleReading: () => metrics.sensorImplausibleReadings.inc(),
    sensorFaulty: (shelfId, facing): boolean => alerts.hasSensorFault(shelfId, facing),
    onHandlerError: (handler, error) => bus.reportHandlerError('stock.output', handler, error),
  });
  const broker = new DeviceBroker({ storeId: config.storeId, ...config.mqtt }, { registry: devices.registry, decoder: new DeviceMessageDecoder(), metrics, log: component('broker'), now, bus });
  devices.addSource(broker);

  const http = new HttpServer({ host: config.http.host, port: config.http.port }, () => {
    const writeGuard = requireToken(config.http.apiToken);
    const httpLog = component('http');
    return {
      log: httpLog,
      bodyLimitBytes: config.http.bodyLimitBytes,
      staticDir: options.staticDir ?? DEFAULT_STATIC_DIR,
      routes: [
        healthRoutes({ health, metrics: metrics.registry }),
        alerts.routes(writeGuard),
        stock.routes(),
        devices.routes(writeGuard),
        liveEventRoutes({ bus, storeId: config.storeId, maxSseClients: config.http.maxSseClients, log: httpLog, onClientCount: (n) => metrics.sseClients.set(n), ...(options.ssePingMs ? { pingMs: options.ssePingMs } : {}) }),
      ],
    };
  });

  const gateway: Gateway = new Gateway(
    [
      storage,
      planogram,
      devices,
      alerts,
      // rooms subscribe before the broker accepts devices, so no message arrives with nobody listening
      stock,
      broker,
      http,
    ],
    component('gateway'),
  );

  const health = (): HealthReport => healthReport(gateway.health(), { storeId: config.storeId, uptimeS: Math.round((now() - startedAt) / 1000) });

  return { gateway, config, bus, metrics, storage, planogram, devices, alerts, stock, broker, health, http };
}
