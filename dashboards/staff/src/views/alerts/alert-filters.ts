// The alert list's filters and order. Pure: the view passes the alerts, the filters (from the address's hash) and
// where each shelf stands; the order is the server's urgency rule (compareAlertsForStaff) with snoozed alerts last.
import { ALERT_KINDS, compareAlertsForStaff, type Alert, type AlertKind, type AlertSeverity } from '../../../../../edge/alerts/alerts.js';

export const ACTIVE_STATES = ['open', 'acknowledged', 'snoozed'] as const;
export type ActiveState = (typeof ACTIVE_STATES)[number];

/** Each filter is "any" when absent. `where` is `aisle:<id>` or `shelf:<id>`. */
export type AlertFilters = { kind?: AlertKind; severity?: AlertSeverity; state?: ActiveState; where?: string };

const FILTER_KEYS = ['kind', 'severity', 'state', 'where'] as const;

/** Reads the filters from the hash's query; unknown values are ignored (an old bookmark must not hide everything). */
export function filtersFromQuery(query: URLSearchParams): AlertFilters {
  const filters: AlertFilters = {};
  const kind = query.get('kind');
  if (kind && (ALERT_KINDS as readonly string[]).includes(kind)) filters.kind = kind as AlertKind;
  const severity = query.get('severity');
  if (severity === 'critical' || severity === 'warning') filters.severity = severity;
  const state = query.get('state');
  if (state && (ACTIVE_STATES as readonly string[]).includes(state)) filters.state = state as ActiveState;
  const where = query.get('where');
  if (where && /^(aisle|shelf):./.test(where)) filters.where = where;
  return filters;
}

/** The query with `name` set to `value` (or removed for "any"), other parameters kept. */
export function withFilter(query: URLSearchParams, name: (typeof FILTER_KEYS)[number], value: string): URLSearchParams {
  const next = new URLSearchParams(query);
  if (value) next.set(name, value);
  else next.delete(name);
  return next;
}

export function hasFilters(filters: AlertFilters): boolean {
  return FILTER_KEYS.some((key) => filters[key] !== undefined);
}

export function matchesFilters(alert: Alert, filters: AlertFilters, aisleOf: (shelfId: string) => string | undefined): boolean {
  if (filters.kind && alert.kind !== filters.kind) return false;
  if (filters.severity && alert.severity !== filters.severity) return false;
  if (filters.state && alert.state !== filters.state) return false;
  if (filters.where) {
    const [scope, id] = [filters.where.slice(0, filters.where.indexOf(':')), filters.where.slice(filters.where.indexOf(':') + 1)];
    if (alert.shelfId === undefined) return false;
    if (scope === 'shelf' && alert.shelfId !== id) return false;
    if (scope === 'aisle' && aisleOf(alert.shelfId) !== id) return false;
  }
  return true;
}

/** Snoozed alerts sink below the rest (someone decided they can wait); otherwise the server's staff order. */
export function compareForList(a: Alert, b: Alert): number {
  const sunk = Number(a.state === 'snoozed') - Number(b.state === 'snoozed');
  return sunk !== 0 ? sunk : compareAlertsForStaff(a, b);
}
