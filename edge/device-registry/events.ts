/** The events the device registry and its device sources publish on the gateway bus (see edge/core/events.ts). */
import type { CommandResult } from './command-channel.js';
import type { DeviceConnectionEvent, DeviceLifecycleEvent, DeviceSubscribedEvent } from './device-source.js';
import type { DeviceMessage } from './messages.js';

/**
 * `device.message:<kind>/<channel>` (e.g. `device.message:shelf/weight`): a validated message from a device, from any
 * device source (MQTT broker, OPC UA, ESL access point), one event per channel — a shelf reading, tens of thousands a
 * second, reaches only the subscribers of shelf readings, with its payload typed for that channel. Derived from the
 * `DeviceMessage` union, so a new channel is a new event without another line here.
 */
export type DeviceMessageEvents = { [M in DeviceMessage as `device.message:${M['key']}`]: M };

declare module '../core/events.js' {
  // an interface may extend a mapped type whose keys are known: the channel events merge in with the named ones
  interface GatewayEvents extends DeviceMessageEvents {
    /** a device connected or disconnected */
    'device.connection': DeviceConnectionEvent;
    /** a connected device's subscriptions are in place (after its SUBSCRIBE, ACL-checked) */
    'device.subscribed': DeviceSubscribedEvent;
    /** store IT changed a device: added, disabled, enabled, secret rotated, removed */
    'device.lifecycle': DeviceLifecycleEvent;
    /** a command to a device ended: confirmed, rejected, timed out or dropped */
    'command.result': CommandResult;
  }
}
