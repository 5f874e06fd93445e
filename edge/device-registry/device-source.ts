/**
 * The device-source port: what the gateway knows of a device is the same whether it speaks MQTT to the embedded
 * broker or is read over OPC UA (edge/broker/, edge/opcua/device-driver.ts). Each transport is an adapter that
 *  - publishes `device.message:<kind>/<channel>` (validated, typed: `publishDeviceMessage`) and `device.connection`,
 *  - delivers commands it is handed by the command channel, and
 *  - closes a device's connection when store IT disables, removes or re-keys it.
 * Identity (registry), liveness and command outcomes are kept here, once, for every source.
 */
import type { GatewayBus } from '../core/events.js';
import type { DeviceMessageEvents } from './events.js';
import type { GatewayModule } from '../core/module.js';
import type { DeviceMessage } from './messages.js';
import type { INBOUND_SCHEMAS } from './schemas.js';
import type { DeviceKind } from './topics.js';

type DeviceMessageKey = DeviceMessage['key'];

/** The bus event of each channel, as constant strings (no string is built per message). */
const EVENT_OF_KEY = {
  'shelf/weight': 'device.message:shelf/weight',
  'shelf/status': 'device.message:shelf/status',
  'shelf/ack': 'device.message:shelf/ack',
  'esl/status': 'device.message:esl/status',
  'esl/ack': 'device.message:esl/ack',
  'kiosk/event': 'device.message:kiosk/event',
  'kiosk/status': 'device.message:kiosk/status',
  'kiosk/ack': 'device.message:kiosk/ack',
  'case/telemetry': 'device.message:case/telemetry',
  'ap/labels': 'device.message:ap/labels',
  'ap/ack': 'device.message:ap/ack',
} as const satisfies { [K in keyof typeof INBOUND_SCHEMAS]: `device.message:${K}` };

/** What every device source calls for a validated message: publishes it on its channel's event. */
export function publishDeviceMessage(bus: GatewayBus, message: DeviceMessage): void {
  // TypeScript cannot pair the union's key with its payload through the lookup; EVENT_OF_KEY's type pins the pairing
  (bus.emit as (event: keyof DeviceMessageEvents, payload: DeviceMessage) => void).call(bus, EVENT_OF_KEY[message.key], message);
}

/** Subscribes one handler to the messages of several channels; returns the function that unsubscribes it from all. */
export function onDeviceMessages<K extends DeviceMessageKey>(
  bus: GatewayBus,
  keys: readonly K[],
  name: string,
  handler: (message: Extract<DeviceMessage, { key: K }>) => void,
): () => void {
  const on = bus.on.bind(bus) as (
    event: keyof DeviceMessageEvents,
    name: string,
    handler: (message: Extract<DeviceMessage, { key: K }>) => void,
  ) => () => void;
  const unsubscribes = keys.map((key) => on(EVENT_OF_KEY[key], name, handler));
  return () => {
    for (const unsubscribe of unsubscribes) unsubscribe();
  };
}

/**
 * A connected device's subscriptions were accepted (the broker holds them: a command published from now on reaches
 * the device). A driver that sends as soon as a device connects would otherwise race the device's SUBSCRIBE.
 */
export type DeviceSubscribedEvent = { deviceId: string; kind: DeviceKind; topics: readonly string[]; at: number };

export type DeviceConnectionEvent = {
  deviceId: string;
  kind: DeviceKind;
  /** the transport the device uses: 'mqtt' (the embedded broker) or 'opcua' (the OPC UA device driver) */
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
  /**
   * Whether commands to the device go through this source: it is connected through it (MQTT) or configured on it
   * (OPC UA). The command channel hands a command to the source that carries its device, whatever order sources were
   * added in; a device no source carries is not connected.
   */
  carries(deviceId: string): boolean;
  /** hands a command to the transport; `onDropped` is called if the transport gives it up afterwards */
  deliver(command: OutboundCommand, onDropped: (reason: DeliveryFailure, detail?: string) => void): CommandDelivery;
  /** closes the device's connection now; false when it was not connected through this source */
  disconnect(deviceId: string, reason: string): boolean;
}
