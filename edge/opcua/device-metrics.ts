/** Prometheus metrics of the OPC UA device driver, registered on the gateway's registry (one per gateway). */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { SampleRejection } from './device-mapping.js';
import type { ItemRecreateReason } from './device-session.js';

export class OpcuaDeviceMetrics {
  readonly connected: Gauge;
  private readonly rebuilds: Counter;
  private readonly itemsRecreated: Counter;
  private readonly samplesRejected: Counter;

  constructor(registry: Registry) {
    this.connected = new Gauge({
      name: 'smartstore_opcua_devices_connected',
      help: 'OPC UA devices heard from (data or keep-alives)',
      registers: [registry],
    });
    // labelled by device id: the ids come from the config (at most 500), never from the network
    this.rebuilds = new Counter({
      name: 'smartstore_opcua_device_rebuilds_total',
      help: 'OPC UA device connections thrown away and built again',
      labelNames: ['device'],
      registers: [registry],
    });
    this.itemsRecreated = new Counter({
      name: 'smartstore_opcua_items_recreated_total',
      help:
        'OPC UA monitored items re-created: stale (silent past a multiple of their rate), node-unknown (NodeId resolved again), ' +
        'terminated',
      labelNames: ['device', 'reason'],
      registers: [registry],
    });
    this.samplesRejected = new Counter({
      name: 'smartstore_opcua_samples_rejected_total',
      help: 'OPC UA values not turned into device messages',
      labelNames: ['reason'],
      registers: [registry],
    });
  }

  rebuild(deviceId: string): void {
    this.rebuilds.labels(deviceId).inc();
  }

  itemRecreated(deviceId: string, reason: ItemRecreateReason): void {
    this.itemsRecreated.labels(deviceId, reason).inc();
  }

  sampleRejected(reason: SampleRejection): void {
    this.samplesRejected.labels(reason).inc();
  }
}
