import type { Logger } from 'pino';
import type { GatewayBus } from '../core/events.js';
import type { GatewayModule } from '../core/module.js';
import type { WriteGuard } from '../http/auth.js';
import type { SqliteDatabase } from '../storage/database.js';
import type { WriteBehindWriter } from '../storage/write-behind.js';
import { CommandChannel, type CommandOutcome } from './command-channel.js';
import { DeviceRegistry } from './device-registry.js';
import type { DeviceSource } from './device-source.js';
import { DeviceStore, lastSeenWrites } from './device-store.js';
import { DeviceLiveness } from './liveness.js';
import { deviceRoutes } from './routes.js';

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
};

/**
 * Devices, whatever transport they use: the registry (identity, secrets, lifecycle), liveness (connected, last seen)
 * and the command channel. Transports plug in as device sources (`addSource`); this room closes a device's
 * connection on every source when store IT disables, removes or re-keys it.
 */
export class DevicesModule implements GatewayModule {
  readonly name = 'devices';
  readonly registry: DeviceRegistry;
  readonly liveness: DeviceLiveness;
  readonly commands: CommandChannel;
  private readonly sources: DeviceSource[] = [];
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly deps: DevicesModuleDeps) {
    this.registry = new DeviceRegistry(new DeviceStore(deps.db), { scryptCost: deps.scryptCost, now: deps.now });
    this.liveness = new DeviceLiveness({
      bus: deps.bus,
      registry: this.registry,
      lastSeen: deps.writer.register(lastSeenWrites),
      onConnectedCount: (count) => deps.metrics.connectedDevices(count),
    });
    this.commands = new CommandChannel({
      bus: deps.bus,
      // one transport today; an ESL access point driver will claim the labels behind it
      sourceFor: () => this.sources[0],
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

  routes(writeGuard: WriteGuard) {
    return deviceRoutes({ devices: this.registry, isConnected: (id) => this.liveness.isConnected(id), writeGuard, log: this.deps.log });
  }

  async start(): Promise<void> {
    await this.registry.start();
    await this.liveness.start();
    await this.commands.start();
    this.unsubscribe = this.deps.bus.on('device.lifecycle', 'device-disconnect', (event) => {
      if (event.change === 'added' || event.change === 'enabled') return;
      for (const source of this.sources) source.disconnect(event.deviceId, event.change);
    });
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    await this.commands.stop();
    await this.liveness.stop();
  }
}
