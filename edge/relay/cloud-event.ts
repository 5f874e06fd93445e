/**
 * The envelope of every event to HQ: CloudEvents 1.0, structured JSON mode. Built by hand rather than with the
 * `cloudevents` package (it pulls browser polyfills and json-bigint for what is one object literal);
 * `cloudEventProblems` checks the spec's required attributes and is what the tests hold every built event to; the
 * package itself is a dev dependency: tests/integration/relay-cloudevents-sdk.test.ts reads what we send with it, as HQ.
 */
import type { RelayEvent } from './outbox.js';

export type CloudEventDeps = {
  storeId: string;
  /**
   * reverse-DNS prefix of every `type` (spec 1.0 "type": SHOULD be prefixed with a reverse-DNS name), e.g.
   * `com.smartstore` → `com.smartstore.store.kiosk.event`; '' sends the relay types as they are
   */
  typePrefix?: string;
  /** a UUID v4 per event: HQ deduplicates by it */
  newId: () => string;
  now: () => number;
};

export type CloudEventSpec = { type: string; subject?: string; data: unknown };

export type CloudEventFactory = (spec: CloudEventSpec) => RelayEvent;

export function storeSource(storeId: string): string {
  return `/stores/${storeId}`;
}

/** The CloudEvents `type` of a relay type (`store.kiosk.event`): with the configured reverse-DNS prefix. */
export function cloudEventType(typePrefix: string, relayType: string): string {
  return typePrefix === '' ? relayType : `${typePrefix}.${relayType}`;
}

/**
 * The relay type of a CloudEvents `type`, without the prefix: what the outbox files a row under, what the HQ topic
 * ends with (`…/events/store.kiosk.event`) and what retention matches (`store.kiosk.`) — all three stay the same
 * whatever prefix a store configures. A type without the prefix (written before it was configured) is its own.
 */
export function relayTypeOf(typePrefix: string, type: string): string {
  return typePrefix !== '' && type.startsWith(`${typePrefix}.`) ? type.slice(typePrefix.length + 1) : type;
}

export function cloudEventFactory(deps: CloudEventDeps): CloudEventFactory {
  const source = storeSource(deps.storeId);
  const typePrefix = deps.typePrefix ?? '';
  return ({ type, subject, data }) => ({
    specversion: '1.0',
    id: deps.newId(),
    source,
    type: cloudEventType(typePrefix, type),
    time: new Date(deps.now()).toISOString(),
    ...(subject === undefined ? {} : { subject }),
    datacontenttype: 'application/json',
    data,
  });
}

/**
 * The serialized event with the `historical` extension attribute set: what the forwarder sends for a backlog row. The
 * MQTT user property `historical` says the same, but CloudEvents SDKs hand their callers the event, not the PUBLISH
 * properties (the JS SDK's `MQTT.toEvent` keeps user properties only in binary mode), so the envelope carries it too
 * (spec 1.0 "Extension Context Attributes": lower-case a-z0-9 name, Boolean value). Prepended to the stored body rather
 * than parsed and stringified again: a drain of a million rows would pay that per row; `body` is always a JSON object
 * with its required attributes, so `{` opens it and at least one member follows.
 */
export function withHistorical(body: string): string {
  return `{"historical":true,${body.slice(1)}`;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * What makes `event` an invalid CloudEvents 1.0 structured JSON event (empty when valid): the REQUIRED attributes
 * `id`, `source`, `specversion`, `type` as non-empty strings, `specversion` '1.0', and the OPTIONAL ones we use in
 * their declared form (`time` RFC 3339, `subject` non-empty, `datacontenttype` a media type).
 */
export function cloudEventProblems(event: Record<string, unknown>): string[] {
  const problems: string[] = [];
  for (const name of ['id', 'source', 'specversion', 'type'] as const) {
    const value = event[name];
    if (typeof value !== 'string' || value.length === 0) problems.push(`${name} must be a non-empty string`);
  }
  if (event.specversion !== '1.0') problems.push("specversion must be '1.0'");
  if ('time' in event && (typeof event.time !== 'string' || !RFC3339.test(event.time))) problems.push('time must be RFC 3339');
  if ('subject' in event && (typeof event.subject !== 'string' || event.subject.length === 0))
    problems.push('subject must be a non-empty string');
  if ('datacontenttype' in event && (typeof event.datacontenttype !== 'string' || !/^[\w.+-]+\/[\w.+-]+/.test(event.datacontenttype))) {
    problems.push('datacontenttype must be a media type');
  }
  // attribute names: lower-case a-z and digits only (spec 1.0, "Attribute Naming Convention"); `data` is the payload
  for (const name of Object.keys(event)) if (!/^[a-z0-9]+$/.test(name)) problems.push(`attribute name ${name} is not [a-z0-9]+`);
  return problems;
}
