/** Staff alerts and their lifecycle: open → acknowledged → resolved, with snooze. Pure: `now` is a parameter. */

export const ALERT_KINDS = ['low-stock', 'kiosk-assist', 'kiosk-weight-mismatch'] as const;
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

/** `alert.changed`: the alert as it is now, and as it was before (none when it was just opened). */
export type AlertChange = { alert: Alert; previous: Alert | undefined };

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

export function kioskAlertKey(kind: 'kiosk-assist' | 'kiosk-weight-mismatch', kioskId: string): string {
  return `${kind}:${kioskId}`;
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

/** Worst first, then newest: what staff should look at. */
export function compareAlertsForStaff(a: Alert, b: Alert): number {
  if (a.severity !== b.severity) return a.severity === 'critical' ? -1 : 1;
  return b.openedAt - a.openedAt;
}
