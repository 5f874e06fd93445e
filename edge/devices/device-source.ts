/**
 * The device-source port: what the gateway knows of a device is the same whether it speaks MQTT to the embedded
 * broker (today), is read over OPC UA, or sits behind an ESL access point. Each transport is an adapter that
 *  - publishes `device.message` (validated, typed) and `device.connection` on the bus,
 *  - delivers commands it is handed by the command channel, and
 *  - closes a device's connection when store IT disables, removes or re-keys it.
 * Identity (registry), liveness and command outcomes are kept here, once, for every source.
 */
import type { GatewayModule } from '../core/module.js';
import type { DeviceKind } from './topics.js';

export type DeviceConnectionEvent = {
  deviceId: string;
  kind: DeviceKind;
  /** the transport the device uses: 'mqtt', later 'opcua', 'esl-ap' */
  source: string;
  connected: boolean;
  at: number;
};

export const DEVICE_LIFECYCLE_CHANGES = ['added', 'disabled', 'enabled', 'secret-rotated', 'removed'] as const;
export type DeviceLifecycleChange = (typeof DEVICE_LIFECYCLE_CHANGES)[number];

export type DeviceLifecycleEvent = { deviceId: string; kind: DeviceKind; change: DeviceLifecycleChange; at: number };

/** A command on its way to a device: `payload` is what the device receives (it carries `cmdId`). */
export type OutboundCommand = { cmdId: string; deviceId: string; kind: DeviceKind; payload: Readonly<Record<string, unknown>> };

export type DeliveryFailure = 'not-connected' | 'backed-up' | 'not-started' | 'transport-error';

/** Whether the transport took the command; a later drop (the device stopped reading) is reported through `onDropped`. */
export type CommandDelivery = { ok: true } | { ok: false; reason: DeliveryFailure; detail?: string };

export interface DeviceSource extends GatewayModule {
  /** e.g. 'mqtt' */
  readonly transport: string;
  /** hands a command to the transport; `onDropped` is called if the transport gives it up afterwards */
  deliver(command: OutboundCommand, onDropped: (reason: DeliveryFailure, detail?: string) => void): CommandDelivery;
  /** closes the device's connection now; false when it was not connected through this source */
  disconnect(deviceId: string, reason: string): boolean;
}
