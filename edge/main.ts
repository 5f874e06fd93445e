/**
 * Composition root: the only place that knows every part of the gateway. It builds the shared parts (clock, log,
 * metrics, event bus, storage, HTTP), then the rooms, and lists the modules in start order. Nothing else.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { asyncScheduler, type SchedulerLike } from 'rxjs';
import { AccessModule } from './access/module.js';
import { AlertsModule } from './alerts/module.js';
import { AuditModule } from './audit/module.js';
import { ColdChainModule } from './cold-chain/module.js';
import { coldChainCases } from './cold-chain/cold-chain-config.js';
import { DeviceBroker } from './broker/device-broker.js';
import type { GatewayConfig } from './config/gateway-config.js';
import { GatewayBus } from './core/events.js';
import { LogThrottle } from './core/log-throttle.js';
import type { Logger } from './core/logger.js';
import { Gateway } from './core/module.js';
import { DeviceMessageDecoder } from './device-registry/decoder.js';
import { DevicesModule } from './device-registry/module.js';
import { INBOUND_SCHEMAS } from './device-registry/schemas.js';
import { healthReport, healthRoutes, type HealthReport } from './http/health-routes.js';
import { liveEventRoutes } from './http/live-events.js';
import { HttpServer } from './http/server.js';
import { KpisModule } from './kpis/module.js';
import { CampaignService } from './campaigns/campaign-service.js';
import { DEFAULT_CAMPAIGN_LIMITS } from './campaigns/campaign.js';
import { CampaignStore } from './campaigns/campaign-store.js';
import { HqLabelCommands } from './campaigns/hq-label-commands.js';
import { LabelsModule } from './labels/module.js';
import { PriceIntegrityModule } from './price-integrity/module.js';
import { OpcuaServerModule } from './opcua/module.js';
import { OpcuaDeviceDriver } from './opcua/device-driver.js';
import { GatewayMetrics } from './metrics/gateway-metrics.js';
import { PlanogramModule } from './planogram/module.js';
import { PrivacyModule } from './privacy/module.js';
import { RetentionModule } from './privacy/retention.js';
import { caFiles } from './pki/ca-files.js';
import { PkiModule } from './pki/module.js';
import { RelayModule } from './relay/module.js';
import { OUTBOX_FILE } from './relay/outbox-store.js';
import { resolveRelayConfig } from './relay/relay-config.js';
import { StockModule } from './stock/module.js';
import { StorageModule } from './storage/module.js';

export const DEFAULT_STATIC_DIR = fileURLToPath(
  new URL(import.meta.url.includes('/dist/') ? '../../dashboards/staff/' : '../dashboards/staff/', import.meta.url),
);

export type GatewayOptions = {
  log: Logger;
  now?: () => number;
  scheduler?: SchedulerLike;
  staticDir?: string;
  /** how often snoozed alerts are checked for waking up */
  snoozeCheckMs?: number;
  /** `run --reinit`: a lost or swapped database starts a new store, the old files kept aside */
  reinit?: boolean;
  /** how often the database files are checked for being deleted or replaced (tests) */
  storageWatchMs?: number;
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

  const privacy = new PrivacyModule({
    keyFile: config.security.pseudonymKeyFile ?? join(config.dataDir, 'pseudonym.key'),
    log: component('privacy'),
  });
  const storage = new StorageModule(config.dataDir, config.storage, metrics.writerMetrics(), component('storage'), {
    storeId: config.storeId,
    // files that exist only once this store has run: next to them, a lost gateway.db is refused, not started empty
    identityFiles: [config.security.pseudonymKeyFile ?? join(config.dataDir, 'pseudonym.key'), join(config.dataDir, OUTBOX_FILE)],
    reinit: options.reinit ?? false,
    ...(options.storageWatchMs ? { watchIntervalMs: options.storageWatchMs } : {}),
  });
  const planogram = new PlanogramModule(storage.db, config.planogram.file, component('planogram'));
  const devices = new DevicesModule({
    bus,
    db: storage.db,
    writer: storage.writer,
    scryptCost: config.security.scryptCost,
    now,
    newId: randomUUID,
    log: component('devices'),
    metrics: {
      connectedDevices: (count) => metrics.connectedDevices.set(count),
      commandOutcome: (outcome) => metrics.commandOutcomes.labels(outcome).inc(),
    },
    commandTimeoutMs: config.commands.ackTimeoutMs,
    planogramShelves: () => new Set(planogram.index.shelfIds()),
  });
  const alerts = new AlertsModule({
    bus,
    db: storage.db,
    writer: storage.writer,
    ackGates: devices.ackGates,
    now,
    newId: randomUUID,
    log: component('alerts'),
    metrics: { alertOpened: (kind) => metrics.alertOpened(kind), activeAlerts: (count) => metrics.activeAlerts.set(count) },
    snoozeCheckMs: options.snoozeCheckMs ?? 15_000,
    lowStock: { rearmAfterMs: config.lowStock.rearmAfterMs },
    facingStock: (shelfId, facing) => stock.stockIfStarted?.get(shelfId, facing),
  });
  const audit = new AuditModule({ bus, db: storage.db, writer: storage.writer, now, log: component('audit') });
  const coldChain = new ColdChainModule({
    bus,
    alerts: () => alerts.service,
    cases: coldChainCases(config.coldChain, config.opcua.devices),
    scheduler: options.scheduler ?? asyncScheduler,
    log: component('cold-chain'),
    onHandlerError: (handler, error) => bus.reportHandlerError('device.message:case/telemetry', handler, error),
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
  const labels = new LabelsModule({
    config: config.labels,
    planogramLabels: () => planogram.index.planogram.labels ?? [],
    bus,
    db: storage.db,
    planogram: () => planogram.index,
    alerts: () => alerts.service,
    commands: devices.commands,
    deviceKind: (id) => devices.registry.get(id)?.kind,
    isConnected: (id) => devices.liveness.isConnected(id),
    now,
    log: component('labels'),
    metricsRegistry: metrics.registry,
  });
  const campaigns = new CampaignService({
    directory: labels.directory,
    store: new CampaignStore(storage.db),
    writer: storage.writer,
    bus,
    audit,
    productName: (sku) => planogram.index.product(sku)?.name,
    now,
    newId: randomUUID,
    log: component('campaigns'),
    rules: {
      ackTimeoutMs: config.labels.campaigns.ackTimeoutMs,
      waitingTimeoutMs: config.labels.campaigns.waitingTimeoutMs,
      limits: { ...DEFAULT_CAMPAIGN_LIMITS, maxLabelsPerCampaign: config.labels.campaigns.maxLabelsPerCampaign },
    },
    options: { sendsPerSecondPerDriver: config.labels.campaigns.sendsPerSecondPerDriver },
  });
  metrics.observeCampaigns(() => campaigns.metricsSnapshot());
  const priceIntegrity = new PriceIntegrityModule({
    bus,
    directory: labels.directory,
    prices: campaigns,
    alerts: () => alerts.service,
    log: component('price-integrity'),
  });
  const kpis = new KpisModule({ bus, db: storage.db, now, log: component('kpis') });
  const relay = new RelayModule({
    config: resolveRelayConfig(config.hq, config.storeId),
    storeId: config.storeId,
    dataDir: config.dataDir,
    bus,
    db: storage.db,
    registry: metrics.registry,
    now,
    newId: randomUUID,
    log: component('relay'),
    ackGates: devices.ackGates,
    facings: () => planogram.index.planogram.facings,
  });
  // HQ's commands reach the labels room here: the relay knows no room, the rooms know no relay
  const hqLabelCommands = new HqLabelCommands({ campaigns, flashes: labels.flashes, log: component('hq-label-commands') });
  const hqCommands = relay.commands; // undefined with hq.enabled: false
  const unregisterHqCommandHandlers = hqCommands
    ? [
        hqCommands.registerHandler('price-campaign', (command) => hqLabelCommands.priceCampaign(command)),
        hqCommands.registerHandler('label-flash', (command) => hqLabelCommands.labelFlash(command)),
      ]
    : [];
  const broker = new DeviceBroker(
    { storeId: config.storeId, ...config.mqtt, clientCaFile: config.mqtt.tls?.clientCaFile ?? caFiles(config.dataDir).cert },
    {
      registry: devices.registry,
      decoder: new DeviceMessageDecoder({ 'kiosk/event': privacy.protectKioskEvent }),
      revocations: { isRevoked: (serial) => pki.revocations.isRevoked(serial) },
      metrics,
      log: component('broker'),
      now,
      bus,
      ackGates: devices.ackGates,
    },
  );
  devices.addSource(broker);
  const pki = new PkiModule({ db: storage.db, log: component('pki'), onRevoked: (serials) => broker.closeCertificateSessions(serials) });
  // after the broker: the command channel hands commands to the first source (MQTT); OPC UA devices take none
  const opcuaDevices = new OpcuaDeviceDriver(
    { devices: config.opcua.devices, dataDir: config.dataDir },
    { bus, registry: devices.registry, metrics, now, log: component('opcua-devices'), env: process.env },
  );
  devices.addSource(opcuaDevices);
  const opcuaServer = new OpcuaServerModule({
    config: config.opcua.server,
    storeId: config.storeId,
    dataDir: config.dataDir,
    bus,
    planogram: () => planogram.index,
    facing: (shelfId, facing) => stock.stockIfStarted?.get(shelfId, facing),
    liveWeight: (shelfId, facing) => stock.liveWeight(shelfId, facing),
    devices: () => devices.registry.list(),
    isConnected: (id) => devices.liveness.isConnected(id),
    alerts: () => alerts.service,
    durable: () => storage.writer.commit(),
    env: process.env,
    log: component('opcua'),
  });

  const access = new AccessModule({
    db: storage.db,
    configToken: config.http.apiToken,
    maxAuthFailuresPerMinute: config.http.maxAuthFailuresPerMinute,
    now,
    log: component('access'),
    onDenied: (outcome) => metrics.apiAccessDenied.labels(outcome).inc(),
  });

  const http = new HttpServer(
    { host: config.http.host, port: config.http.port, tls: config.http.tls, allowPlainHttp: config.http.allowPlainHttp },
    () => {
      const guard = access.guard;
      const httpLog = component('http');
      return {
        log: httpLog,
        bodyLimitBytes: config.http.bodyLimitBytes,
        onAnswered: (answer) => metrics.httpRequestAnswered(answer),
        dataDir: config.dataDir,
        staticDir: options.staticDir ?? DEFAULT_STATIC_DIR,
        allowedHosts: config.http.allowedHosts,
        routes: [
          healthRoutes({ health, metrics: metrics.registry, scrapeGuard: access.scrapeGuard(config.http.metricsToken) }),
          access.routes(),
          alerts.routes(guard),
          stock.routes(guard),
          labels.routes(guard, ({ labelId, shelfId, facing, actor }) =>
            audit.entryStep({ actor, action: 'label.bound', subject: `label/${labelId}`, details: { shelfId, facing } }),
          ),
          campaigns.routes(guard),
          kpis.routes(guard),
          relay.routes(guard),
          devices.routes(guard, audit.deviceChanged),
          liveEventRoutes({
            bus,
            storeId: config.storeId,
            maxSseClients: config.http.maxSseClients,
            log: httpLog,
            onClientCount: (n) => metrics.sseClients.set(n),
            guard: guard('viewer', { allowStreamTicket: true }),
            revocations: access,
            ...(options.ssePingMs ? { pingMs: options.ssePingMs } : {}),
          }),
        ],
      };
    },
  );

  const retention = new RetentionModule({
    retentionDays: config.storage.retentionDays,
    now,
    log: component('privacy'),
    purges: [
      { what: 'raw shelf readings', purgeBefore: (cutoff) => stock.purgeReadingsBefore(cutoff) },
      // kiosk events waiting for HQ: dropped like budget drops, so HQ is told how many it will never get
      { what: 'kiosk events in the relay outbox', purgeBefore: (cutoff) => (relay.outbox?.expire('store.kiosk.', cutoff), 0) },
    ],
  });

  const gateway: Gateway = new Gateway(
    [
      storage,
      // before any device is accepted: kiosk events are protected as they are decoded
      privacy,
      planogram,
      devices,
      alerts,
      // before anything that acknowledges or resolves alerts (OPC UA, HTTP) and stopped after them: nothing is missed
      audit,
      coldChain,
      // rooms subscribe before the broker accepts devices, so no message arrives with nobody listening
      stock,
      // after alerts and stock (find-my-facing follows low-stock alerts), before the broker: no check-in is missed
      labels,
      // after labels (it subscribes to their drivers and resumes sends through them) and audit; stopped before both
      campaigns,
      // after campaigns and labels; stopped before them, so no flash-stop timer outlives its drivers
      hqLabelCommands,
      // after campaigns (it reads their price book) and labels (their drivers), before the broker: no scan is missed
      priceIntegrity,
      // before the broker: no restock is missed; what it sampled before a restart it reads back from its tables
      kpis,
      // its recorder must listen before the broker accepts devices; the forwarder connects to HQ in the background
      relay,
      // after stock and alerts (it reads both at start), before the broker: no change is missed
      opcuaServer,
      // OPC UA devices feed the same rooms as MQTT devices: started with the broker, after every subscriber
      opcuaDevices,
      pki,
      broker,
      // after the stores and the relay have opened their files
      retention,
      access,
      http,
    ],
    component('gateway'),
  );

  const health = (): HealthReport =>
    healthReport(gateway.health(), { storeId: config.storeId, uptimeS: Math.round((now() - startedAt) / 1000) });

  return {
    gateway,
    config,
    bus,
    metrics,
    storage,
    planogram,
    devices,
    alerts,
    audit,
    stock,
    relay,
    opcuaServer,
    opcuaDevices,
    coldChain,
    labels,
    campaigns,
    hqLabelCommands,
    priceIntegrity,
    kpis,
    broker,
    access,
    health,
    http,
    /** for tests that stand in their own handlers */
    unregisterHqCommandHandlers: () => unregisterHqCommandHandlers.forEach((unregister) => unregister()),
  };
}
