/** The staff page's live state: stale copies of an alert never win, and a resolved alert stays resolved. */
import { describe, expect, it } from 'vitest';
import { acknowledgeAlert, openAlert, resolveAlert, type Alert } from '../../../../edge/alerts/alerts.js';
import { alertOpened, alerts, applyAlert, recentlyResolved } from '../../../../dashboards/staff/src/live.js';

const opened = (id: string, at: number): Alert =>
  openAlert({ kind: 'kiosk-assist', key: `kiosk:${id}`, severity: 'critical', title: `Kiosk ${id}`, deviceId: id }, id, at);

describe('applyAlert', () => {
  it('takes a newer copy, ignores an older one (an event that overtook the snapshot)', () => {
    const first = opened('k1', 1_000);
    const acked = acknowledgeAlert(first, 'ann', 2_000);
    applyAlert(acked);
    applyAlert(first);
    expect(alerts.value.get('k1')).toBe(acked);
  });

  it('moves a resolved alert to recently resolved, and a late older copy does not bring it back', () => {
    const first = opened('k2', 1_000);
    applyAlert(first);
    const resolved = resolveAlert(first, 'bob', 'helped', 3_000);
    applyAlert(resolved);
    expect(alerts.value.has('k2')).toBe(false);
    expect(recentlyResolved.value[0]).toBe(resolved);
    applyAlert(first);
    expect(alerts.value.has('k2')).toBe(false);
  });

  it('announces an alert that opens from the stream, and says when it opened again', () => {
    const first = opened('k3', 1_000);
    applyAlert(first, { announce: true });
    expect(alertOpened.value).toEqual({ alert: first, reopened: false });
    applyAlert(acknowledgeAlert(first, 'ann', 2_000), { announce: true });
    const again: Alert = { ...first, updatedAt: 3_000 };
    applyAlert(again, { announce: true });
    expect(alertOpened.value).toEqual({ alert: again, reopened: true });
  });
});
