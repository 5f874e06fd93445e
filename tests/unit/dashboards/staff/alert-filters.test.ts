/** The staff page's alert list: its filters (from the address's hash) and its order (the server's, snoozed last). */
import { describe, expect, it } from 'vitest';
import { openAlert, snoozeAlert, type Alert, type NewAlert } from '../../../../edge/alerts/alerts.js';
import {
  compareForList,
  filtersFromQuery,
  matchesFilters,
  withFilter,
} from '../../../../dashboards/staff/src/views/alerts/alert-filters.js';

const lowStock = (id: string, shelfId: string, severity: Alert['severity'], openedAt: number): Alert =>
  openAlert({ kind: 'low-stock', key: `low:${id}`, severity, title: id, shelfId, facing: 1 } satisfies NewAlert, id, openedAt);
const kiosk = (id: string, openedAt: number): Alert =>
  openAlert({ kind: 'kiosk-assist', key: `kiosk:${id}`, severity: 'critical', title: id, deviceId: id }, id, openedAt);

const AISLES: Record<string, string> = { 'shelf-a': 'A1', 'shelf-b': 'B2' };
const aisleOf = (shelfId: string) => AISLES[shelfId];

describe('alert list filters', () => {
  it('reads the filters from the hash query and ignores values it does not know (an old bookmark hides nothing)', () => {
    expect(filtersFromQuery(new URLSearchParams('kind=low-stock&severity=critical&state=snoozed&where=aisle:A1'))).toEqual({
      kind: 'low-stock',
      severity: 'critical',
      state: 'snoozed',
      where: 'aisle:A1',
    });
    expect(filtersFromQuery(new URLSearchParams('kind=meteor&severity=mild&state=resolved&where=planet:x'))).toEqual({});
  });

  it('sets and removes one filter, keeping the others', () => {
    const query = withFilter(new URLSearchParams('kind=low-stock'), 'severity', 'critical');
    expect(query.toString()).toBe('kind=low-stock&severity=critical');
    expect(withFilter(query, 'kind', '').toString()).toBe('severity=critical');
  });

  it('matches by kind, severity, state, shelf and aisle; a place filter hides alerts with no shelf', () => {
    const a = lowStock('a', 'shelf-a', 'warning', 1);
    const b = lowStock('b', 'shelf-b', 'critical', 2);
    const k = kiosk('k', 3);
    const all = [a, b, k];
    const ids = (query: string) =>
      all.filter((alert) => matchesFilters(alert, filtersFromQuery(new URLSearchParams(query)), aisleOf)).map((alert) => alert.id);
    expect(ids('')).toEqual(['a', 'b', 'k']);
    expect(ids('kind=kiosk-assist')).toEqual(['k']);
    expect(ids('severity=critical')).toEqual(['b', 'k']);
    expect(ids('where=shelf:shelf-a')).toEqual(['a']);
    expect(ids('where=aisle:B2')).toEqual(['b']);
    expect(ids('state=acknowledged')).toEqual([]);
  });
});

describe('alert list order', () => {
  it("is the server's staff order (a customer first, then critical, then the oldest), with snoozed alerts last", () => {
    const low = lowStock('low', 'shelf-a', 'warning', 1);
    const empty = lowStock('empty', 'shelf-b', 'critical', 5);
    const customer = kiosk('customer', 9);
    const snoozedCustomer = snoozeAlert(kiosk('snoozed', 0), 'ann', 60_000, 10);
    const sorted = [low, snoozedCustomer, empty, customer].sort(compareForList).map((alert) => alert.id);
    expect(sorted).toEqual(['customer', 'empty', 'low', 'snoozed']);
  });
});
