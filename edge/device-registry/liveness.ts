import type { GatewayBus } from '../core/events.js';
import type { GatewayModule } from '../core/module.js';
import type { PendingWrites } from '../storage/write-behind.js';
import type { DeviceRegistry } from './device-registry.js';
import type { DeviceLastSeen } from './device-store.js';

/**
 * Which devices are connected and when each was last seen, from `device.connection` events of every source. A device
 * may briefly hold two connections (a reconnect before the old socket is noticed gone): it is connected while any is.
 * The map is keyed by authenticated device ids only, so it is bounded by the registry.
 */
export class DeviceLiveness implements GatewayModule {
  readonly name = 'device-liveness';
  private readonly connections = new Map<string, number>();
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly deps: {
      bus: GatewayBus;
      registry: DeviceRegistry;
      lastSeen: PendingWrites<DeviceLastSeen>;
      onConnectedCount: (count: number) => void;
    },
  ) {}

  async start(): Promise<void> {
    this.unsubscribe = this.deps.bus.on('device.connection', 'device-liveness', (event) => {
      const count = (this.connections.get(event.deviceId) ?? 0) + (event.connected ? 1 : -1);
      if (count > 0) this.connections.set(event.deviceId, count);
      else this.connections.delete(event.deviceId);
      this.deps.registry.markSeen(event.deviceId, event.at);
      this.deps.lastSeen.put(event.deviceId, { deviceId: event.deviceId, lastSeenAt: event.at, connected: count > 0 });
      this.deps.onConnectedCount(this.connections.size);
    });
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  isConnected(deviceId: string): boolean {
    return this.connections.has(deviceId);
  }

  get connectedCount(): number {
    return this.connections.size;
  }
}
