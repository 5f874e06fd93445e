/** Staff alerts and their lifecycle: open → acknowledged → resolved, with snooze. Pure: `now` is a parameter. */

export const ALERT_KINDS = [
  'low-stock',
  'kiosk-assist',
  'kiosk-weight-mismatch',
  'sensor-fault',
  'cold-chain',
  'case-door-open',
  'label-offline',
  'label-battery-low',
  'price-mismatch',
  'stock-out-predicted',
  'phantom-stock',
  'no-sales',
  'scale-stuck',
] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];
export const ALERT_STATES = ['open', 'acknowledged', 'snoozed', 'resolved'] as const;
export type AlertState = (typeof ALERT_STATES)[number];
export type AlertSeverity = 'warning' | 'critical';

export type Alert = {
  id: string;
  kind: AlertKind;
  /** one active (not resolved) alert per key */
  key: string;
  state: AlertState;
  severity: AlertSeverity;
  title: string;
  shelfId?: string;
  facing?: number;
  sku?: string;
  deviceId?: string;
  units?: number;
  openedAt: number;
  updatedAt: number;
  acknowledgedAt?: number;
  acknowledgedBy?: string;
  snoozedUntil?: number;
  resolvedAt?: number;
  resolvedBy?: string;
  resolution?: string;
};

export type NewAlert = Omit<Alert, 'id' | 'state' | 'openedAt' | 'updatedAt'>;

/**
 * `alert.changed`: the alert as it is now, and as it was before (none when it was just opened); `by`: who made this
 * change when someone did — acknowledge, snooze, resolve (a token name, an OPC UA user, 'system') — for the audit
 * trail: a snooze keeps the alert's first `acknowledgedBy`, so the alert alone cannot tell who snoozed it.
 */
export type AlertChange = { alert: Alert; previous: Alert | undefined; by?: string };

export class AlertTransitionError extends Error {
  constructor(
    readonly alertId: string,
    readonly from: AlertState,
    readonly action: string,
  ) {
    super(`cannot ${action} alert ${alertId}: it is ${from}`);
    this.name = 'AlertTransitionError';
  }
}

export function lowStockKey(shelfId: string, facing: number): string {
  return `low-stock:${shelfId}/${facing}`;
}

/** The facing of a low-stock key, or undefined when the key is not one. */
export function parseLowStockKey(key: string): { shelfId: string; facing: number } | undefined {
  const match = /^low-stock:(.+)\/(\d+)$/.exec(key);
  return match ? { shelfId: match[1] as string, facing: Number(match[2]) } : undefined;
}

export function sensorFaultKey(shelfId: string, facing: number): string {
  return `sensor-fault:${shelfId}/${facing}`;
}

export function kioskAlertKey(kind: 'kiosk-assist' | 'kiosk-weight-mismatch', kioskId: string): string {
  return `${kind}:${kioskId}`;
}

/** A shelf label that missed its check-ins, or whose battery is low: one alert per label and kind. */
export function labelAlertKey(kind: 'label-offline' | 'label-battery-low', labelId: string): string {
  return `${kind}:${labelId}`;
}

/**
 * A price that differs from the one a label confirmed: per sku when a kiosk charged another price (the customer sees
 * it at the till), per label when the label itself shows another price. Two keys, so agreement on one side never
 * resolves the other's mismatch.
 */
export function priceMismatchKey(about: { sku: string } | { labelId: string }): string {
  return 'sku' in about ? `price-mismatch:sku:${about.sku}` : `price-mismatch:label:${about.labelId}`;
}

/** A refrigerated case out of its temperature range too long (critical) or its door open too long (warning). */
export function caseAlertKey(kind: 'cold-chain' | 'case-door-open', caseId: string): string {
  return `${kind}:${caseId}`;
}

export function openAlert(input: NewAlert, id: string, now: number): Alert {
  return { ...input, id, state: 'open', openedAt: now, updatedAt: now };
}

export function acknowledgeAlert(alert: Alert, by: string, now: number): Alert {
  if (alert.state !== 'open') throw new AlertTransitionError(alert.id, alert.state, 'acknowledge');
  return { ...alert, state: 'acknowledged', acknowledgedAt: now, acknowledgedBy: by, updatedAt: now };
}

export function snoozeAlert(alert: Alert, by: string, untilMs: number, now: number): Alert {
  if (alert.state === 'resolved') throw new AlertTransitionError(alert.id, alert.state, 'snooze');
  return {
    ...alert,
    state: 'snoozed',
    snoozedUntil: untilMs,
    acknowledgedAt: alert.acknowledgedAt ?? now,
    acknowledgedBy: alert.acknowledgedBy ?? by,
    updatedAt: now,
  };
}

export function resolveAlert(alert: Alert, by: string, resolution: string, now: number): Alert {
  if (alert.state === 'resolved') throw new AlertTransitionError(alert.id, alert.state, 'resolve');
  return { ...alert, state: 'resolved', resolvedAt: now, resolvedBy: by, resolution, updatedAt: now };
}

/** A snoozed alert whose time is up is open again; anything else is returned as it is. */
export function wakeAlert(alert: Alert, now: number): Alert {
  if (alert.state !== 'snoozed' || (alert.snoozedUntil ?? 0) > now) return alert;
  const { snoozedUntil: _expired, ...rest } = alert;
  return { ...rest, state: 'open', updatedAt: now };
}

export function isActive(alert: Alert): boolean {
  return alert.state !== 'resolved';
}

/** What of an active alert follows the condition it reports (a facing's units while it is low). */
export type AlertDetails = Partial<Pick<Alert, 'severity' | 'title' | 'units'>>;

/**
 * The alert with its details brought up to date; the same object when nothing differs (so the caller reports no
 * change). Escalation to critical wakes a snoozed alert — staff snoozed a low shelf, not an empty one — while an
 * acknowledged alert stays acknowledged: someone is on it already.
 * An alert keeps the worst it reached: back from critical to warning (a unit put back on an empty facing) only its
 * units follow; its severity and title stay critical ("Out of stock", not "1 left"), so the list still ranks it as
 * what happened and its resolved title tells history the facing was empty.
 */
export function updateAlertDetails(alert: Alert, wanted: AlertDetails, now: number): Alert {
  if (alert.state === 'resolved') throw new AlertTransitionError(alert.id, alert.state, 'update');
  const easing = alert.severity === 'critical' && wanted.severity === 'warning';
  const details: AlertDetails = easing ? (wanted.units === undefined ? {} : { units: wanted.units }) : wanted;
  const changed =
    (details.severity !== undefined && details.severity !== alert.severity) ||
    (details.title !== undefined && details.title !== alert.title) ||
    (details.units !== undefined && details.units !== alert.units);
  if (!changed) return alert;
  const next: Alert = { ...alert, ...definedOnly(details), updatedAt: now };
  if (alert.state === 'snoozed' && alert.severity !== 'critical' && next.severity === 'critical') {
    const { snoozedUntil: _cancelled, ...awake } = next;
    return { ...awake, state: 'open' };
  }
  return next;
}

function definedOnly(details: AlertDetails): AlertDetails {
  const out: AlertDetails = {};
  if (details.severity !== undefined) out.severity = details.severity;
  if (details.title !== undefined) out.title = details.title;
  if (details.units !== undefined) out.units = details.units;
  return out;
}

/**
 * How urgent an alert is for staff, 0 first: a customer waiting at a kiosk or a wrong price, then food going warm in a
 * case (cold chain) and an empty facing (out of stock), then a low facing, one predicted to run out or a case door left
 * open, then the rest (a load cell to check, a shelf label offline or low on battery, phantom stock to look into). By
 * kind, not only severity, so alerts stored before kiosk alerts became critical still rank first.
 */
export function staffUrgency(alert: Pick<Alert, 'kind' | 'severity'>): number {
  // a wrong price is customer-facing: the customer pays it at the till or reads it on the shelf
  if (alert.kind === 'kiosk-assist' || alert.kind === 'kiosk-weight-mismatch' || alert.kind === 'price-mismatch') return 0;
  if (alert.kind === 'cold-chain') return 1;
  if (alert.kind === 'low-stock') return alert.severity === 'critical' ? 1 : 2;
  // a facing predicted to run out is low stock ahead of time: the same trip to the backroom
  if (alert.kind === 'case-door-open' || alert.kind === 'stock-out-predicted') return 2;
  return 3;
}

/** Most urgent first; within the same urgency the oldest first — whoever has waited longest. */
export function compareAlertsForStaff(a: Alert, b: Alert): number {
  const urgency = staffUrgency(a) - staffUrgency(b);
  return urgency !== 0 ? urgency : a.openedAt - b.openedAt;
}
