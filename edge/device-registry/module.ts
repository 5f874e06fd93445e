import type { Logger } from 'pino';
import type { GatewayBus } from '../core/events.js';
import type { GatewayModule } from '../core/module.js';
import type { AccessGuard } from '../http/auth.js';
import type { SqliteDatabase } from '../storage/database.js';
import type { WriteBehindWriter } from '../storage/write-behind.js';
import { CommandChannel, type CommandOutcome } from './command-channel.js';
import { AckGates } from './ack-gates.js';
import { DeviceRegistry } from './device-registry.js';
import type { DeviceSource } from './device-source.js';
import { DeviceStore, lastSeenWrites } from './device-store.js';
import { DeviceLiveness } from './liveness.js';
import { deviceRoutes, type DeviceRouteDeps } from './routes.js';

declare module '../core/module.js' {
  interface GatewayServices {
    devices: DevicesModule;
  }
}

export type DevicesModuleDeps = {
  bus: GatewayBus;
  db: SqliteDatabase;
  writer: WriteBehindWriter;
  scryptCost: number;
  now: () => number;
  newId: () => string;
  log: Logger;
  metrics: { connectedDevices(count: number): void; commandOutcome(outcome: CommandOutcome): void };
  commandTimeoutMs: number;
  /** the planogram's shelf ids: a shelf registered under another id is accepted with a warning, and listed as unmapped */
  planogramShelves: () => ReadonlySet<string>;
  /** how often to look for changes store IT made with the CLI (another process on the same file); default 250 ms */
  storeSyncMs?: number;
};

/** Often enough that a device disabled with the CLI is disconnected within a second; one cheap PRAGMA per look. */
const DEFAULT_STORE_SYNC_MS = 250;

/**
 * Devices, whatever transport they use: the registry (identity, secrets, lifecycle), liveness (connected, last seen)
 * and the command channel. Transports plug in as device sources (`addSource`); this room closes a device's
 * connection on every source when store IT disables, removes or re-keys it — through the API (at once) or with the
 * CLI in another process (noticed by polling SQLite's data_version, within `storeSyncMs`).
 */
export class DevicesModule implements GatewayModule {
  readonly name = 'devices';
  readonly registry: DeviceRegistry;
  readonly liveness: DeviceLiveness;
  readonly commands: CommandChannel;
  /** rooms that must make a message safe before its device gets the ack register here; sources consult it */
  readonly ackGates = new AckGates();
  private readonly sources: DeviceSource[] = [];
  private unsubscribe: (() => void) | undefined;
  private syncTimer: NodeJS.Timeout | undefined;
  private syncing: Promise<void> | undefined;
  private syncFailing = false;

  constructor(private readonly deps: DevicesModuleDeps) {
    this.registry = new DeviceRegistry(new DeviceStore(deps.db), {
      scryptCost: deps.scryptCost,
      now: deps.now,
      // every change, made here (API) or found in the store (CLI), reaches the bus: sources close connections on it
      onChange: (event) => deps.bus.emit('device.lifecycle', event),
    });
    this.liveness = new DeviceLiveness({
      bus: deps.bus,
      registry: this.registry,
      lastSeen: deps.writer.register(lastSeenWrites),
      onConnectedCount: (count) => deps.metrics.connectedDevices(count),
    });
    this.commands = new CommandChannel({
      bus: deps.bus,
      // each command goes to the source that carries its device (MQTT broker, OPC UA driver), in whatever order added
      sources: () => this.sources,
      now: deps.now,
      newId: deps.newId,
      onOutcome: (outcome) => deps.metrics.commandOutcome(outcome),
      defaultTimeoutMs: deps.commandTimeoutMs,
      maxPending: 10_000,
    });
  }

  /** Plugs a transport in; call before start. */
  addSource(source: DeviceSource): void {
    this.sources.push(source);
  }

  routes(guard: AccessGuard, audited?: DeviceRouteDeps['audited'], batteryMv?: DeviceRouteDeps['batteryMv']) {
    return deviceRoutes({
      ...(audited ? { audited } : {}),
      ...(batteryMv ? { batteryMv } : {}),
      devices: this.registry,
      isConnected: (id) => this.liveness.isConnected(id),
      guard,
      log: this.deps.log,
      planogramShelves: this.deps.planogramShelves,
    });
  }

  async start(): Promise<void> {
    await this.registry.start();
    await this.liveness.start();
    await this.commands.start();
    this.unsubscribe = this.deps.bus.on('device.lifecycle', 'device-disconnect', (event) => {
      if (event.change === 'added' || event.change === 'enabled') return;
      for (const source of this.sources) source.disconnect(event.deviceId, event.change);
    });
    this.syncTimer = setInterval(() => this.syncWithStore(), this.deps.storeSyncMs ?? DEFAULT_STORE_SYNC_MS);
    this.syncTimer.unref();
  }

  /** One look at the store for another process's changes; never two at once. */
  private syncWithStore(): void {
    if (this.syncing) return;
    this.syncing = this.registry
      .syncWithStore()
      .then(
        (changes) => {
          if (this.syncFailing) this.deps.log.info('device registry in sync with the database again');
          this.syncFailing = false;
          for (const { deviceId, kind, change } of changes)
            this.deps.log.info({ deviceId, kind, change }, 'device changed by another process');
        },
        (error: unknown) => {
          // logged once per outage, not four times a second
          if (!this.syncFailing) this.deps.log.warn({ err: error }, 'cannot look for device changes in the database; retrying');
          this.syncFailing = true;
        },
      )
      .finally(() => {
        this.syncing = undefined;
      });
  }

  async stop(): Promise<void> {
    clearInterval(this.syncTimer);
    this.syncTimer = undefined;
    await this.syncing;
    this.unsubscribe?.();
    await this.commands.stop();
    await this.liveness.stop();
  }
}
