import type { DeviceKind } from '../device-registry/topics.js';
import { DEVICE_CHANNELS, commandTopic, deviceTopic } from '../device-registry/topics.js';

/** What an authenticated connection may do, computed once at CONNECT so each check is a map lookup. */
export type DeviceSession = {
  deviceId: string;
  kind: DeviceKind;
  /** topic → `<kind>/<channel>` for every topic this device may publish on */
  publishKeys: ReadonlyMap<string, string>;
  commandTopic: string;
  /** the last topic looked up and its key: a device publishes on the same topic over and over */
  lastTopic?: string;
  lastKey?: string;
  /** CONNACK sent (clientReady): the connection counts as the device's */
  ready?: boolean;
};

export function createDeviceSession(storeId: string, kind: DeviceKind, deviceId: string): DeviceSession {
  const publishKeys = new Map<string, string>();
  for (const channel of DEVICE_CHANNELS[kind]) publishKeys.set(deviceTopic(storeId, kind, deviceId, channel), `${kind}/${channel}`);
  return { deviceId, kind, publishKeys, commandTopic: commandTopic(storeId, kind, deviceId) };
}

/** The `<kind>/<channel>` a publish is for, or undefined when the device may not publish on that topic. */
export function publishKeyOf(session: DeviceSession, topic: string): string | undefined {
  // runs twice per message (authorizePublish, ingest): a string compare is cheaper than hashing a fresh topic string
  if (topic === session.lastTopic) return session.lastKey;
  const key = session.publishKeys.get(topic);
  if (key !== undefined) {
    session.lastTopic = topic;
    session.lastKey = key;
  }
  return key;
}

/** A device subscribes to its own command topic, exactly: no wildcards, nobody else's, no $SYS. */
export function maySubscribe(session: DeviceSession, topicFilter: string): boolean {
  return topicFilter === session.commandTopic;
}
