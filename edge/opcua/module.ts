/**
 * The OPC UA room's server side: serves the store (shelves, facings, kiosks, alerts, availability) as an OPC UA address
 * space for HQ tools and store IT. Values come from the event bus — `stock.changed`, `alert.changed`,
 * `insight.availability`, kiosk messages and connections — never from SQLite; the live shelf weight is read from the
 * stock room's memory when a client reads or samples it, so the shelf readings (the hot path) never reach this module.
 *
 * Disabled (the default), it costs nothing: node-opcua (≈2 s to import) is loaded with `import()` only in `start()`
 * of an enabled server, and no bus subscription is made.
 */
import { enableCompileCache } from 'node:module';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { AlertNotFoundError, type AlertService } from '../alerts/alert-service.js';
import { AlertTransitionError } from '../alerts/alerts.js';
import type { GatewayBus } from '../core/events.js';
import type { GatewayModule, HealthCheck } from '../core/module.js';
import { onDeviceMessages } from '../device-registry/device-source.js';
import type * as OpcuaServerFile from './opcua-server.js';
import type { OpcuaServer } from './opcua-server.js';
import type { OpcuaServerConfig } from './opcua-server-config.js';
import { OpcuaUserDirectory } from './opcua-users.js';
import type * as StoreAddressSpaceFile from './store-address-space.js';
import type {
  AlertActionOutcome,
  AlertInfo,
  FacingState,
  KioskInfo,
  SkuAvailabilityInfo,
  StoreAddressSpace,
  StorePlanogram,
  WeightNow,
} from './store-address-space.js';
import type { OpcuaDeviceDriver } from './device-driver.js';

declare module '../core/module.js' {
  interface GatewayServices {
    opcuaServer: OpcuaServerModule;
    opcuaDevices: OpcuaDeviceDriver;
  }
}

/** An alert action as HTTP answers it: done, 409 (not in a state for it) or 404 (no such active alert). */
function outcomeOf(action: () => unknown): AlertActionOutcome {
  try {
    action();
    return { ok: true };
  } catch (error) {
    if (error instanceof AlertTransitionError) return { ok: false, reason: 'invalid-state' };
    // resolved a while ago or never existed: either way not an alert to act on
    if (error instanceof AlertNotFoundError) return { ok: false, reason: 'not-found' };
    throw error;
  }
}

export type OpcuaServerModuleDeps = {
  config: OpcuaServerConfig;
  storeId: string;
  dataDir: string;
  bus: GatewayBus;
  planogram: () => StorePlanogram;
  facing: (shelfId: string, facing: number) => FacingState | undefined;
  liveWeight: (shelfId: string, facing: number) => WeightNow | undefined;
  devices: () => KioskInfo[];
  isConnected: (deviceId: string) => boolean;
  alerts: () => AlertService;
  /** every sku's availability for online orders now (the insight room); undefined or absent: no Availability folder */
  availability?: () => readonly SkuAvailabilityInfo[] | undefined;
  /** resolves once every change made so far is committed (storage writer's commit) */
  durable: () => Promise<void>;
  /** where `passwordEnv` users find their passwords */
  env: NodeJS.ProcessEnv;
  log: Logger;
  /** scrypt N for passwords taken from the environment (hashed at start) */
  scryptCost?: number;
};

/** alert changes kept while the server starts; one active alert per facing/kiosk keeps the real number far below */
const MAX_ALERTS_WHILE_STARTING = 10_000;
/** OPC 40200 scales added per turn of the event loop once the server listens: about 3 ms each, so ~50 ms a turn */
const SCALES_PER_TURN = 16;

export class OpcuaServerModule implements GatewayModule {
  readonly name = 'opcua-server';
  private server: OpcuaServer | undefined;
  private space: StoreAddressSpace | undefined;
  private readonly unsubscribes: Array<() => void> = [];
  private readonly alertsWhileStarting = new Map<string, AlertInfo>();
  private startupMs: number | undefined;
  private scalesAbort: AbortController | undefined;
  private scalesAdding: Promise<void> | undefined;

  /** only when enabled: a disabled server adds nothing to /api/health */
  readonly health?: () => HealthCheck;

  constructor(private readonly deps: OpcuaServerModuleDeps) {
    if (deps.config.enabled) this.health = () => this.serverHealth();
  }

  get enabled(): boolean {
    return this.deps.config.enabled;
  }

  /** The real port once started (the config may say 0), for tests, the demo and the bench. */
  get port(): number | undefined {
    return this.server?.port;
  }

  get endpointUrl(): string | undefined {
    return this.server?.endpointUrl;
  }

  async start(): Promise<void> {
    const { config, log } = this.deps;
    if (!config.enabled) return;
    const began = performance.now();
    const users = await OpcuaUserDirectory.fromConfig(config.users, this.deps.env, this.deps.scryptCost);
    if (users.size === 0 && !config.allowAnonymous) log.warn('OPC UA server has no users and refuses anonymous clients: nobody can log in');
    // node-opcua is several hundred ES modules: with V8's code cache of them (Node's compile cache, in the data dir, the
    // one place a hardened install may write; NODE_COMPILE_CACHE wins) a restart compiles none and starts ~250 ms sooner
    enableCompileCache(this.deps.env.NODE_COMPILE_CACHE ?? join(this.deps.dataDir, 'compile-cache'));
    const [{ OpcuaServer }, { buildStoreAddressSpace }] = await Promise.all([
      import('./opcua-server.js'),
      import('./store-address-space.js'),
    ]);
    const alerts = this.deps.alerts();
    // subscribe before the snapshot: a change while the server starts (seconds) is applied once the space is built
    this.subscribe();
    try {
      await this.startServer(OpcuaServer, buildStoreAddressSpace, users, await alerts.list({ state: 'active', limit: 100_000 }));
    } catch (error) {
      this.unsubscribeAll();
      this.alertsWhileStarting.clear();
      this.space = undefined;
      throw error;
    }
    this.startupMs = Math.round(performance.now() - began);
    log.info(
      {
        endpoint: this.server?.endpointUrl,
        port: this.server?.port,
        users: users.size,
        anonymous: config.allowAnonymous,
        scalesNodeset: config.scalesNodeset,
        startupMs: this.startupMs,
      },
      'OPC UA server listening',
    );
    this.addScales();
  }

  /**
   * The facings' OPC 40200 scales go into DeviceSet after the server listens, a batch per turn of the event loop
   * (store-address-space.ts addScales): for 1,000 facings they take seconds, which start-up, MQTT ingest and the
   * store's own address space (shelves, facings, alerts: complete before the server listens) need not wait for.
   * node-opcua raises a GeneralModelChangeEvent for the nodes added, so a client watching the Server object follows.
   */
  private addScales(): void {
    const space = this.space;
    if (!space || space.scalesPending === 0) return;
    const began = performance.now();
    const abort = new AbortController();
    this.scalesAbort = abort;
    this.scalesAdding = space.addScales({ batchSize: SCALES_PER_TURN, signal: abort.signal }).then(
      (added) => {
        if (abort.signal.aborted) return;
        this.deps.log.info({ scales: added, ms: Math.round(performance.now() - began) }, 'OPC UA Scales devices added to DeviceSet');
      },
      (error: unknown) => this.deps.log.error({ err: error }, 'OPC UA Scales devices could not be added to DeviceSet'),
    );
  }

  /** Resolves once every facing's scale is in DeviceSet (at once when there are none): for tests and the bench. */
  get scalesAdded(): Promise<void> {
    return this.scalesAdding ?? Promise.resolve();
  }

  private async startServer(
    OpcuaServer: typeof OpcuaServerFile.OpcuaServer,
    buildStoreAddressSpace: typeof StoreAddressSpaceFile.buildStoreAddressSpace,
    users: OpcuaUserDirectory,
    activeAlerts: AlertInfo[],
  ): Promise<void> {
    const { config, log } = this.deps;
    const alerts = this.deps.alerts();
    const server = new OpcuaServer({
      config,
      dataDir: this.deps.dataDir,
      storeId: this.deps.storeId,
      users,
      log,
      build: (addressSpace) => {
        this.space = buildStoreAddressSpace(
          addressSpace,
          {
            storeId: this.deps.storeId,
            planogram: this.deps.planogram(),
            facing: this.deps.facing,
            liveWeight: this.deps.liveWeight,
            kiosks: this.deps.devices().filter((d) => d.kind === 'kiosk'),
            isConnected: this.deps.isConnected,
            activeAlerts,
            ...(this.deps.availability ? { availability: this.deps.availability } : {}),
            acknowledgeAlert: (id, by) => this.durably(outcomeOf(() => alerts.acknowledge(id, by))),
            resolveAlert: (id, by, note) => this.durably(outcomeOf(() => alerts.resolve(id, by, note))),
          },
          { onMethodError: (method, alertId, error) => log.error({ err: error, method, alertId }, 'OPC UA method failed') },
        );
        for (const alert of this.alertsWhileStarting.values()) this.space.alertChanged(alert);
        this.alertsWhileStarting.clear();
      },
    });
    await server.start();
    this.server = server;
  }

  /** A done change is answered Good only once committed; a failed commit is the method's internal error. */
  private async durably(outcome: AlertActionOutcome): Promise<AlertActionOutcome> {
    if (outcome.ok) await this.deps.durable();
    return outcome;
  }

  private subscribe(): void {
    const { bus } = this.deps;
    const space = () => this.space;
    this.unsubscribes.push(
      bus.on('stock.changed', 'opcua-server', (change) => space()?.facingChanged(change.view)),
      bus.on('stock.sensor-fault', 'opcua-server', (change) => space()?.sensorFault(change.shelfId, change.facing, change.faulty)),
      // change-only and coalesced per sku by the insight room; one while the server starts is in the build's snapshot
      bus.on('insight.availability', 'opcua-server', (availability) => space()?.availabilityChanged(availability)),
      bus.on('alert.changed', 'opcua-server', (change) => {
        const current = space();
        // before the space is built: the latest state of each alert (bounded by the alerts that change in seconds)
        if (current) current.alertChanged(change.alert);
        else if (this.alertsWhileStarting.size < MAX_ALERTS_WHILE_STARTING || this.alertsWhileStarting.has(change.alert.id)) {
          this.alertsWhileStarting.set(change.alert.id, change.alert);
        }
      }),
      // kiosks only: shelf readings (the hot path) are never subscribed to
      onDeviceMessages(bus, ['kiosk/status', 'kiosk/event'], 'opcua-server', (message) => {
        if (message.key === 'kiosk/status') space()?.kioskStatus(message.deviceId, message.payload.state, message.receivedAt);
        else space()?.kioskEvent(message.deviceId, message.payload.type, message.receivedAt);
      }),
      bus.on('device.connection', 'opcua-server', (event) => {
        if (event.kind === 'kiosk') space()?.kioskConnection(event.deviceId, event.connected, event.at);
      }),
      bus.on('device.lifecycle', 'opcua-server', (event) => {
        if (event.kind !== 'kiosk') return;
        if (event.change === 'added') {
          const kiosk = this.deps.devices().find((d) => d.id === event.deviceId);
          if (kiosk) space()?.kioskAdded(kiosk);
        } else if (event.change === 'removed') space()?.kioskRemoved(event.deviceId);
      }),
    );
  }

  private unsubscribeAll(): void {
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe();
  }

  async stop(): Promise<void> {
    this.unsubscribeAll();
    this.alertsWhileStarting.clear();
    this.scalesAbort?.abort();
    await this.scalesAdding;
    this.scalesAbort = undefined;
    this.scalesAdding = undefined;
    const server = this.server;
    this.server = undefined;
    this.space = undefined;
    await server?.stop();
  }

  private serverHealth(): HealthCheck {
    return {
      ok: this.server !== undefined,
      endpoint: this.server?.endpointUrl ?? null,
      sessions: this.server?.sessions ?? 0,
      droppedAlerts: this.space?.droppedAlerts ?? 0,
      scalesPending: this.space?.scalesPending ?? 0,
    };
  }
}
