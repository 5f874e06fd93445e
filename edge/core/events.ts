/**
 * Every internal event of the gateway and what it carries — the one place to look. Rooms publish and subscribe
 * through `GatewayBus`; the live stream (SSE) and, later, the HQ relay and the OPC UA server read only this bus.
 *
 * The payload types live in the rooms that own them; these imports are type-only and erased at build time, so the
 * runtime import graph still points from the rooms to core, never back (tests/unit/architecture checks it).
 */
import type { AlertChange } from '../alerts/alerts.js';
import type { CommandResult } from '../device-registry/command-channel.js';
import type { DeviceConnectionEvent, DeviceLifecycleEvent, DeviceSubscribedEvent } from '../device-registry/device-source.js';
import type { DeviceMessage } from '../device-registry/messages.js';
import type { CampaignProgress } from '../campaigns/campaign-service.js';
import type { RelayStatus } from '../relay/relay-status.js';
import type { FacingStockChange, SensorFaultChange, StockLevelSignal } from '../stock/stock-events.js';
import { EventBus } from './event-bus.js';

/**
 * `device.message:<kind>/<channel>` (e.g. `device.message:shelf/weight`): a validated message from a device, from any
 * device source (MQTT broker, OPC UA, ESL access point), one event per channel — a shelf reading, tens of thousands a
 * second, reaches only the subscribers of shelf readings, with its payload typed for that channel.
 */
export type DeviceMessageEvents = { [M in DeviceMessage as `device.message:${M['key']}`]: M };

export type GatewayEvents = DeviceMessageEvents & {
  /** a device connected or disconnected */
  'device.connection': DeviceConnectionEvent;
  /** a connected device's subscriptions are in place (after its SUBSCRIBE, ACL-checked) */
  'device.subscribed': DeviceSubscribedEvent;
  /** store IT changed a device: added, disabled, enabled, secret rotated, removed */
  'device.lifecycle': DeviceLifecycleEvent;
  /** what a person would see of a facing changed: its units or source (`cause: 'quantity'`) or its debounced level (`'level'`) */
  'stock.changed': FacingStockChange;
  /** a facing's low/ok level held for the debounce time (also when it confirms the level the facing had) */
  'stock.level': StockLevelSignal;
  /** a facing's load cell started or stopped sending impossible readings */
  'stock.sensor-fault': SensorFaultChange;
  /** an alert was opened or changed (units, severity, state) */
  'alert.changed': AlertChange;
  /** a command to a device ended: confirmed, rejected, timed out or dropped */
  'command.result': CommandResult;
  /** the HQ relay's status changed: link up/down, backlog, drops (at most once a second, at once on a link change) */
  'relay.status': RelayStatus;
  /** a price campaign's counts or state changed (throttled to a few a second per campaign; its end at once) */
  'campaign.progress': CampaignProgress;
};

export class GatewayBus extends EventBus<GatewayEvents> {}
