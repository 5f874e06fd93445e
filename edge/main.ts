/**
 * Composition root: the only place that knows every part of the gateway. It builds the shared parts (clock, log,
 * metrics, event bus) and lists the modules, each with what it needs and the config it is handed. The gateway derives
 * the start order from the needs (edge/core/module-graph.ts; the debug line `start order` shows it): the order of this
 * list only breaks ties, so moving an entry cannot break start-up.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { asyncScheduler, type SchedulerLike } from 'rxjs';
import { AccessModule, type AccessModuleDeps } from './access/module.js';
import { AlertsModule } from './alerts/module.js';
import { AuditModule } from './audit/module.js';
import { packageVersion } from './cli/package-version.js';
import { ColdChainModule } from './cold-chain/module.js';
import { coldChainCases } from './cold-chain/cold-chain-config.js';
import { DeviceBroker } from './broker/device-broker.js';
import type { GatewayConfig } from './config/gateway-config.js';
import { configNotes, storeTimeZoneOf } from './config/store-time-zone.js';
import { GatewayBus } from './core/events.js';
import { LogThrottle } from './core/log-throttle.js';
import type { Logger } from './core/logger.js';
import { defineModule, Gateway, type ModuleSpec } from './core/module.js';
import { DeviceMessageDecoder } from './device-registry/decoder.js';
import { DevicesModule } from './device-registry/module.js';
import { INBOUND_SCHEMAS } from './device-registry/schemas.js';
import { healthReport, healthRoutes, type HealthReport } from './http/health-routes.js';
import { storeInfoRoutes } from './http/store-info-routes.js';
import { liveEventRoutes } from './http/live-events.js';
import { HttpServer } from './http/server.js';
import { InsightModule, insightSettings } from './insight/module.js';
import { facingsWithAisles } from './insight/replenishment.js';
import { KpisModule } from './kpis/module.js';
import { DEFAULT_CAMPAIGN_LIMITS } from './campaigns/campaign.js';
import { CampaignsModule } from './campaigns/module.js';
import { LabelsModule } from './labels/module.js';
import { PriceIntegrityModule } from './price-integrity/module.js';
import { OpcuaServerModule } from './opcua/module.js';
import { OpcuaDeviceDriver } from './opcua/device-driver.js';
import { GatewayMetrics } from './metrics/gateway-metrics.js';
import { PlanogramModule } from './planogram/module.js';
import { facingKey } from './planogram/planogram.js';
import { PrivacyModule } from './privacy/module.js';
import { RetentionModule } from './privacy/retention.js';
import { caFiles } from './pki/ca-files.js';
import { PkiModule } from './pki/module.js';
import { RelayModule } from './relay/module.js';
import { OUTBOX_FILE } from './relay/outbox-store.js';
import { resolveRelayConfig } from './relay/relay-config.js';
import { StockModule } from './stock/module.js';
import { StorageModule } from './storage/module.js';

// the transports are shared plumbing with no module.ts of their own: what they provide is declared here
declare module './core/module.js' {
  interface GatewayServices {
    broker: DeviceBroker;
    http: HttpServer;
  }
}

/** The staff page as Vite builds it (`npm run build`), under the repository root in source and dist runs alike. */
export const DEFAULT_STATIC_DIR = fileURLToPath(
  new URL(import.meta.url.includes('/dist/') ? '../../dist/staff/' : '../dist/staff/', import.meta.url),
);

export type GatewayOptions = {
  log: Logger;
  now?: () => number;
  scheduler?: SchedulerLike;
  staticDir?: string;
  /** `run --reinit`: a lost or swapped database starts a new store, the old files kept aside */
  reinit?: boolean;
  /** how often the database files are checked for being deleted or replaced (tests) */
  storageWatchMs?: number;
  /** SSE keep-alive comment interval */
  ssePingMs?: number;
  /** how long one module's stop may take before the gateway goes on without it (default 15 s) */
  stopTimeoutMs?: number;
  /** a named API token made as the access room starts (the demo's sign-in link), so its start counts it */
  tokenAtStart?: AccessModuleDeps['tokenAtStart'];
};

/** The shared parts every module may be handed: built before the modules, so no module waits for them. */
type SharedParts = {
  config: GatewayConfig;
  options: GatewayOptions;
  now: () => number;
  startedAt: number;
  bus: GatewayBus;
  metrics: GatewayMetrics;
  component: (name: string) => Logger;
  /** the relay's HQ command handlers as registered, for tests that stand in their own */
  hqHandlerRegistrations: Array<() => void>;
};

/**
 * The rooms that follow what devices send on the bus: the device sources (MQTT broker, OPC UA devices) need them, so
 * no device message arrives with nobody listening (the relay's recorder among them: a kiosk event is durable before
 * its PUBACK), and they stop before them.
 */
const DEVICE_LISTENERS = [
  'alerts',
  'audit',
  'coldChain',
  'stock',
  'labels',
  'campaigns',
  'priceIntegrity',
  'insight',
  'kpis',
  'relay',
  'opcuaServer',
] as const;

/** A built gateway: `gateway` to start and stop, the modules for the CLI, the demo and tests. */
export type StoreGateway = ReturnType<typeof buildGateway>;

export function buildGateway(config: GatewayConfig, options: GatewayOptions) {
  const now = options.now ?? Date.now;
  const log = options.log;
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
  // what the config still says the old way: said once, at build, before it stops working
  for (const note of configNotes(config)) component('config').warn(note);
  const shared: SharedParts = { config, options, now, startedAt: now(), bus, metrics, component, hqHandlerRegistrations: [] };

  const gateway = new Gateway(gatewayModules(shared), {
    log: component('gateway'),
    ...(options.stopTimeoutMs !== undefined ? { stopTimeoutMs: options.stopTimeoutMs } : {}),
  });
  const campaigns = gateway.service('campaigns');

  return {
    gateway,
    config,
    bus,
    metrics,
    storage: gateway.service('storage'),
    planogram: gateway.service('planogram'),
    devices: gateway.service('devices'),
    alerts: gateway.service('alerts'),
    audit: gateway.service('audit'),
    stock: gateway.service('stock'),
    relay: gateway.service('relay'),
    opcuaServer: gateway.service('opcuaServer'),
    opcuaDevices: gateway.service('opcuaDevices'),
    coldChain: gateway.service('coldChain'),
    labels: gateway.service('labels'),
    campaigns: campaigns.service,
    hqLabelCommands: campaigns.hqCommands,
    priceIntegrity: gateway.service('priceIntegrity'),
    kpis: gateway.service('kpis'),
    broker: gateway.service('broker'),
    access: gateway.service('access'),
    health: healthOf(gateway, shared),
    http: gateway.service('http'),
    /** for tests that stand in their own handlers */
    unregisterHqCommandHandlers: () => shared.hqHandlerRegistrations.splice(0).forEach((unregister) => unregister()),
  };
}

function healthOf(modules: { health(): ReturnType<Gateway['health']> }, { config, now, startedAt }: SharedParts): () => HealthReport {
  return () => healthReport(modules.health(), { storeId: config.storeId, uptimeS: Math.round((now() - startedAt) / 1000) });
}

/** Every module of the gateway: what it needs (started before it) or only uses later, and how it is built. */
function gatewayModules(shared: SharedParts): ModuleSpec[] {
  const { config, options, now, bus, metrics, component } = shared;
  const storeTimeZone = storeTimeZoneOf(config);
  const scheduler = options.scheduler ?? asyncScheduler;
  const pseudonymKeyFile = config.security.pseudonymKeyFile ?? join(config.dataDir, 'pseudonym.key');
  return [
    defineModule({
      name: 'storage',
      build: () =>
        new StorageModule(config.dataDir, config.storage, metrics.writerMetrics(), component('storage'), {
          storeId: config.storeId,
          // files that exist only once this store has run: next to them, a lost gateway.db is refused, not started empty
          identityFiles: [pseudonymKeyFile, join(config.dataDir, OUTBOX_FILE)],
          reinit: options.reinit ?? false,
          ...(options.storageWatchMs ? { watchIntervalMs: options.storageWatchMs } : {}),
        }),
    }),
    defineModule({
      name: 'privacy',
      build: () => new PrivacyModule({ keyFile: pseudonymKeyFile, log: component('privacy') }),
    }),
    defineModule({
      name: 'planogram',
      needs: ['storage'],
      build: ({ storage }) => new PlanogramModule(storage.db, config.planogram.file, component('planogram')),
    }),
    defineModule({
      name: 'devices',
      needs: ['storage', 'planogram'],
      build: ({ storage, planogram }) =>
        new DevicesModule({
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
        }),
    }),
    defineModule({
      name: 'alerts',
      needs: ['storage', 'devices'],
      // stock needs the alerts (a faulty cell at start); the alerts read stock only on a tick or a person's action
      uses: ['stock'],
      build: ({ storage, devices }, later) =>
        new AlertsModule({
          bus,
          db: storage.db,
          writer: storage.writer,
          ackGates: devices.ackGates,
          now,
          newId: randomUUID,
          log: component('alerts'),
          metrics: { alertOpened: (kind) => metrics.alertOpened(kind), activeAlerts: (count) => metrics.activeAlerts.set(count) },
          snoozeCheckMs: config.alerts.snoozeCheckMs,
          lowStock: { rearmAfterMs: config.lowStock.rearmAfterMs },
          facingStock: (shelfId, facing) => later.stock().stockIfStarted?.get(shelfId, facing),
        }),
    }),
    defineModule({
      name: 'audit',
      needs: ['storage'],
      build: ({ storage }) => new AuditModule({ bus, db: storage.db, writer: storage.writer, now, log: component('audit') }),
    }),
    defineModule({
      name: 'coldChain',
      needs: ['alerts'],
      build: ({ alerts }) =>
        new ColdChainModule({
          bus,
          alerts: () => alerts.service,
          cases: coldChainCases(config.coldChain, config.opcua.devices),
          scheduler,
          log: component('cold-chain'),
          onHandlerError: (handler, error) => bus.reportHandlerError('device.message:case/telemetry', handler, error),
        }),
    }),
    defineModule({
      name: 'stock',
      needs: ['storage', 'planogram', 'alerts'],
      build: ({ storage, planogram, alerts }) =>
        new StockModule({
          bus,
          db: storage.db,
          writer: storage.writer,
          planogram: () => planogram.index,
          options: { ...config.lowStock, maxHistoryRows: config.storage.maxHistoryRows },
          scheduler,
          now,
          history: { days: config.stock.historyDays },
          log: component('stock'),
          onUnknownFacing: () => metrics.messageInvalid('unknown-facing'),
          onImplausibleReading: () => metrics.sensorImplausibleReadings.inc(),
          sensorFaulty: (shelfId, facing): boolean => alerts.hasSensorFault(shelfId, facing),
          onHandlerError: (handler, error) => bus.reportHandlerError('stock.output', handler, error),
        }),
    }),
    defineModule({
      name: 'labels',
      // stock: find-my-facing reads the low-stock alerts active at its start, which the stock room's restored levels settle
      needs: ['storage', 'planogram', 'alerts', 'devices', 'stock'],
      // campaigns: GET /api/labels shows each label's confirmed price and the one on its way (the campaigns need labels)
      uses: ['campaigns'],
      build: ({ storage, planogram, alerts, devices }, later) =>
        new LabelsModule({
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
          priceRecord: (labelId) => later.campaigns().service.priceRecord(labelId),
        }),
    }),
    defineModule({
      name: 'campaigns',
      // labels: it subscribes to their drivers and resumes sends through them
      needs: ['storage', 'planogram', 'labels', 'audit'],
      build: ({ storage, planogram, labels, audit }) => {
        const campaigns = new CampaignsModule({
          db: storage.db,
          directory: labels.directory,
          flashes: labels.flashes,
          writer: storage.writer,
          bus,
          audit,
          productName: (sku) => planogram.index.product(sku)?.name,
          now,
          newId: randomUUID,
          log: component('campaigns'),
          hqCommandsLog: component('hq-label-commands'),
          rules: {
            ackTimeoutMs: config.labels.campaigns.ackTimeoutMs,
            waitingTimeoutMs: config.labels.campaigns.waitingTimeoutMs,
            limits: { ...DEFAULT_CAMPAIGN_LIMITS, maxLabelsPerCampaign: config.labels.campaigns.maxLabelsPerCampaign },
          },
          options: { sendsPerSecondPerDriver: config.labels.campaigns.sendsPerSecondPerDriver },
        });
        metrics.observeCampaigns(() => campaigns.service.metricsSnapshot());
        return campaigns;
      },
    }),
    defineModule({
      name: 'priceIntegrity',
      // campaigns: the price book it reads is the resumed one
      needs: ['labels', 'campaigns', 'alerts', 'planogram'],
      build: ({ labels, campaigns, alerts, planogram }) =>
        new PriceIntegrityModule({
          bus,
          directory: labels.directory,
          prices: campaigns.service,
          alerts: () => alerts.service,
          productName: (sku) => planogram.index.product(sku)?.name,
          log: component('price-integrity'),
        }),
    }),
    defineModule({
      name: 'insight',
      // stock: the engine is built from the stock book's facings and their restored units; planogram: tares, unit weights
      needs: ['alerts', 'stock', 'planogram'],
      build: ({ alerts, stock, planogram }) =>
        new InsightModule({
          bus,
          alerts: () => alerts.service,
          // the pick list groups by the layout's aisles (none without a layout)
          facings: () => facingsWithAisles(stock.stock.shelves(), (shelfId) => planogram.index.placeOf(shelfId)?.aisle),
          scales: () =>
            new Map(
              planogram.index.planogram.facings.map((f) => [
                facingKey(f.shelfId, f.facing),
                { tareG: f.tareG, unitWeightG: planogram.index.product(f.sku)?.unitWeightG ?? Number.NaN },
              ]),
            ),
          settings: insightSettings(config.insight, storeTimeZone),
          scheduler,
          now,
          log: component('insight'),
          onHandlerError: (handler, error) => bus.reportHandlerError('insight.tick', handler, error),
        }),
    }),
    defineModule({
      name: 'kpis',
      // stock: the facings' units at start (restored ones send no stock.changed until they move) for the shelf KPIs
      needs: ['storage', 'stock'],
      // what it sampled before a restart it reads back from its tables
      build: ({ storage, stock }) =>
        new KpisModule({
          bus,
          db: storage.db,
          now,
          log: component('kpis'),
          timeZone: storeTimeZone,
          replenishTargetMs: config.kpis.replenishTargetMinutes * 60_000,
          facings: () => stock.stock.shelves().flatMap((shelf) => shelf.facings),
        }),
    }),
    defineModule({
      name: 'relay',
      // campaigns: HQ's label commands are handled there, so they are running before a command can arrive
      needs: ['storage', 'devices', 'planogram', 'campaigns'],
      build: ({ storage, devices, planogram, campaigns }) => {
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
        // HQ's commands reach the campaigns room here: the relay knows no room, the rooms know no relay
        const hq = campaigns.hqCommands;
        if (relay.commands) {
          shared.hqHandlerRegistrations.push(
            relay.commands.registerHandler('price-campaign', (command) => hq.priceCampaign(command)),
            relay.commands.registerHandler('label-flash', (command) => hq.labelFlash(command)),
          );
        }
        return relay;
      },
    }),
    defineModule({
      name: 'opcuaServer',
      // audit: an alert acknowledged or resolved over OPC UA is audited (and the audit stops after it)
      // insight: each sku's availability for online orders, in an Availability folder
      needs: ['storage', 'planogram', 'devices', 'alerts', 'stock', 'audit', 'insight'],
      build: ({ storage, planogram, devices, alerts, stock, insight }) =>
        new OpcuaServerModule({
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
          availability: () => insight.availability(),
          durable: () => storage.writer.commit(),
          env: process.env,
          log: component('opcua'),
        }),
    }),
    defineModule({
      name: 'opcuaDevices',
      // OPC UA devices feed the same rooms as MQTT devices
      needs: ['devices', ...DEVICE_LISTENERS],
      build: ({ devices }) => {
        const driver = new OpcuaDeviceDriver(
          { devices: config.opcua.devices, dataDir: config.dataDir },
          { bus, registry: devices.registry, metrics, now, log: component('opcua-devices'), env: process.env },
        );
        devices.addSource(driver);
        return driver;
      },
    }),
    defineModule({
      name: 'pki',
      needs: ['storage'],
      // the broker needs the revoked serials; a revocation found later closes the sessions that used them
      uses: ['broker'],
      build: ({ storage }, later) =>
        new PkiModule({
          db: storage.db,
          log: component('pki'),
          onRevoked: (serials) => later.broker().closeCertificateSessions(serials),
        }),
    }),
    defineModule({
      name: 'broker',
      // privacy: kiosk events are protected as they are decoded
      needs: ['devices', 'privacy', 'pki', ...DEVICE_LISTENERS],
      build: ({ devices, privacy, pki }) => {
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
        return broker;
      },
    }),
    defineModule({
      name: 'retention',
      // after the stores and the relay have opened their files
      needs: ['stock', 'relay'],
      build: ({ stock, relay }) =>
        new RetentionModule({
          retentionDays: config.storage.retentionDays,
          now,
          log: component('privacy'),
          purges: [
            { what: 'raw shelf readings', purgeBefore: (cutoff) => stock.purgeReadingsBefore(cutoff) },
            // kiosk events waiting for HQ: dropped like budget drops, so HQ is told how many it will never get
            { what: 'kiosk events in the relay outbox', purgeBefore: (cutoff) => (relay.outbox?.expire('store.kiosk.', cutoff), 0) },
          ],
        }),
    }),
    defineModule({
      name: 'access',
      needs: ['storage'],
      build: ({ storage }) =>
        new AccessModule({
          db: storage.db,
          configToken: config.http.apiToken,
          maxAuthFailuresPerMinute: config.http.maxAuthFailuresPerMinute,
          now,
          log: component('access'),
          onDenied: (outcome) => metrics.apiAccessDenied.labels(outcome).inc(),
          ...(options.tokenAtStart ? { tokenAtStart: options.tokenAtStart } : {}),
        }),
    }),
    defineModule({
      name: 'http',
      needs: ['gateway', 'access', 'devices', 'alerts', 'audit', 'stock', 'labels', 'campaigns', 'kpis', 'relay', 'insight'],
      build: ({ gateway, access, devices, alerts, audit, stock, labels, campaigns, kpis, relay, insight }) =>
        new HttpServer(
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
              docs: { guard: guard('viewer'), version: packageVersion },
              routes: [
                healthRoutes({
                  health: healthOf(gateway, shared),
                  metrics: metrics.registry,
                  scrapeGuard: access.scrapeGuard(config.http.metricsToken),
                }),
                storeInfoRoutes(
                  {
                    storeId: config.storeId,
                    currency: config.store.currency,
                    locale: config.store.locale,
                    timeZone: storeTimeZone,
                  },
                  guard,
                ),
                access.routes(),
                alerts.routes(guard),
                stock.routes(guard),
                labels.routes(guard, ({ labelId, shelfId, facing, actor }) =>
                  audit.entryStep({ actor, action: 'label.bound', subject: `label/${labelId}`, details: { shelfId, facing } }),
                ),
                campaigns.routes(guard),
                kpis.routes(guard),
                insight.routes(guard),
                relay.routes(guard),
                devices.routes(guard, audit.deviceChanged, (id) => labels.batteryOf(id)),
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
        ),
    }),
  ];
}
