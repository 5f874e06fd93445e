/**
 * What goes into the audit trail, and from where. Pure mappings (an event → the entry, or nothing) and the
 * subscriptions that feed them to the audit log. Only what people do is audited:
 *  - alerts: acknowledge, snooze, resolve by a person (`alert.changed` with `by`, over HTTP or OPC UA). Not the
 *    system's own changes — opening, units and severity following the shelf, a snooze waking up, auto-resolves
 *    (restocked, sensor healthy again, case cold again, `by` 'system'): those are the alert's own history, kept with
 *    the alert; the trail answers "who decided".
 *  - devices: added, disabled, enabled, secret rotated, removed through the API (the route names the token; see
 *    `deviceAuditInput`). The CLI writes its own entries ('cli:<os user>'); the `device.lifecycle` events the gateway
 *    publishes when it notices the CLI's change are not audited again.
 *  - tokens: added and revoked, by the CLI (the only place tokens change).
 * Nothing here listens to shelf readings or any other device message: the hot path is untouched.
 */
import type { AlertChange } from '../alerts/alerts.js';
import type { GatewayBus } from '../core/events.js';
import type { DeviceLifecycleChange } from '../device-registry/device-source.js';
import type { JsonObject } from './audit-entry.js';
import type { AuditInput } from './audit-log.js';

/** The actor of a change the gateway made by itself; never audited as a person's action. */
export const SYSTEM_ACTOR = 'system';

/** The audit entry of an alert change, or undefined when no person made it. */
export function alertAuditInput(change: AlertChange): AuditInput | undefined {
  const { alert, previous } = change;
  if (!previous) return undefined;
  const resnoozed = alert.state === 'snoozed' && previous.state === 'snoozed' && alert.snoozedUntil !== previous.snoozedUntil;
  if (alert.state === previous.state && !resnoozed) return undefined;
  let action: string;
  let actor: string | undefined;
  if (alert.state === 'acknowledged') [action, actor] = ['alert.acknowledged', change.by ?? alert.acknowledgedBy];
  // a snooze keeps the first acknowledgedBy: without `by` only a first snooze tells who it was
  else if (alert.state === 'snoozed')
    [action, actor] = ['alert.snoozed', change.by ?? (previous.acknowledgedBy === undefined ? alert.acknowledgedBy : undefined)];
  else if (alert.state === 'resolved') [action, actor] = ['alert.resolved', change.by ?? alert.resolvedBy];
  else return undefined; // snoozed → open: the snooze ran out
  if (actor === SYSTEM_ACTOR) return undefined;
  const details: Record<string, string | number> = { kind: alert.kind, from: previous.state, to: alert.state, title: alert.title };
  if (alert.shelfId !== undefined) details.shelfId = alert.shelfId;
  if (alert.facing !== undefined) details.facing = alert.facing;
  if (alert.sku !== undefined) details.sku = alert.sku;
  if (alert.deviceId !== undefined) details.deviceId = alert.deviceId;
  if (alert.state === 'snoozed' && alert.snoozedUntil !== undefined) details.snoozedUntil = alert.snoozedUntil;
  if (alert.state === 'resolved' && alert.resolution !== undefined) details.resolution = alert.resolution;
  return { at: alert.updatedAt, actor: actor ?? 'unknown', action, subject: alert.id, details };
}

/** A device change someone made through the API. */
export function deviceAuditInput(
  change: { deviceId: string; change: DeviceLifecycleChange; actor: string },
  details: JsonObject = {},
): AuditInput {
  return { actor: change.actor, action: `device.${change.change}`, subject: change.deviceId, details };
}

/** Feeds the audit log from the bus; returns the function that unsubscribes. */
export function recordFromBus(bus: GatewayBus, record: (input: AuditInput) => void): () => void {
  return bus.on('alert.changed', 'audit', (change) => {
    const input = alertAuditInput(change);
    if (input) record(input);
  });
}
