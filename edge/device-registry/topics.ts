/**
 * The one topic scheme every device and the gateway share:
 *
 *   store/<storeId>/<kind>/<deviceId>/<channel>
 *
 * A device publishes only on its own `<kind>/<deviceId>` prefix and only on the channels its kind
 * sends (`DEVICE_CHANNELS`); it subscribes only to its own `cmd` channel, which only the gateway
 * publishes on.
 */

/**
 * `case`: a refrigerated case controller (temperature, door), over MQTT or OPC UA (edge/opcua/).
 * `ap`: an ESL access point — one connection carrying the commands, acks and check-ins of its many labels in batches.
 */
export const DEVICE_KINDS = ['shelf', 'esl', 'kiosk', 'case', 'ap'] as const;
export type DeviceKind = (typeof DEVICE_KINDS)[number];

/** Channels a device of each kind publishes on (device → gateway). */
export const DEVICE_CHANNELS = {
  shelf: ['weight', 'status', 'ack'],
  esl: ['status', 'ack'],
  kiosk: ['event', 'status', 'ack'],
  case: ['telemetry'],
  ap: ['labels', 'ack'],
} as const satisfies Record<DeviceKind, readonly string[]>;

export type DeviceChannel<K extends DeviceKind = DeviceKind> = (typeof DEVICE_CHANNELS)[K][number];

/** The channel the gateway publishes commands on (gateway → device). */
export const COMMAND_CHANNEL = 'cmd';

/** Device ids double as MQTT client ids and topic levels: keep them short and free of MQTT specials. */
export const DEVICE_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$';
const deviceIdRe = new RegExp(DEVICE_ID_PATTERN);

export function isDeviceKind(value: string): value is DeviceKind {
  return (DEVICE_KINDS as readonly string[]).includes(value);
}

export function isValidDeviceId(id: string): boolean {
  return deviceIdRe.test(id);
}

export function deviceTopic(storeId: string, kind: DeviceKind, deviceId: string, channel: string): string {
  return `store/${storeId}/${kind}/${deviceId}/${channel}`;
}

export function commandTopic(storeId: string, kind: DeviceKind, deviceId: string): string {
  return deviceTopic(storeId, kind, deviceId, COMMAND_CHANNEL);
}

/** Every topic a device may publish on, computed once per connection so the ACL check is a Set lookup. */
export function publishTopicsOf(storeId: string, kind: DeviceKind, deviceId: string): string[] {
  return DEVICE_CHANNELS[kind].map((channel) => deviceTopic(storeId, kind, deviceId, channel));
}

export type ParsedTopic = { storeId: string; kind: DeviceKind; deviceId: string; channel: string };

/** Parses a device topic; returns undefined for anything outside the scheme. */
export function parseDeviceTopic(topic: string): ParsedTopic | undefined {
  const parts = topic.split('/');
  if (parts.length !== 5 || parts[0] !== 'store') return undefined;
  const [, storeId, kind, deviceId, channel] = parts as [string, string, string, string, string];
  if (!storeId || !isDeviceKind(kind) || !isValidDeviceId(deviceId) || !channel) return undefined;
  return { storeId, kind, deviceId, channel };
}
