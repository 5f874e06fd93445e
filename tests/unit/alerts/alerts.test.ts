import { describe, expect, it } from 'vitest';
import {
  AlertTransitionError,
  acknowledgeAlert,
  compareAlertsForStaff,
  isActive,
  kioskAlertKey,
  lowStockKey,
  openAlert,
  parseLowStockKey,
  resolveAlert,
  sensorFaultKey,
  snoozeAlert,
  staffUrgency,
  updateAlertDetails,
  wakeAlert,
  type Alert,
  type AlertState,
  type NewAlert,
} from '../../../edge/alerts/alerts.js';

const INPUT: NewAlert = {
  kind: 'low-stock',
  key: 'low-stock:shelf-a/1',
  severity: 'warning',
  title: 'Low stock',
  shelfId: 'shelf-a',
  facing: 1,
  sku: 'sku-1',
  units: 2,
};

const open = (): Alert => openAlert(INPUT, 'a1', 1_000);
const acknowledged = (): Alert => acknowledgeAlert(open(), 'ann', 2_000);
const snoozed = (): Alert => snoozeAlert(open(), 'bob', 10_000, 3_000);
const resolved = (): Alert => resolveAlert(open(), 'cid', 'restocked', 4_000);

const byState: Record<AlertState, () => Alert> = { open, acknowledged, snoozed, resolved };

function transitionError(fn: () => unknown): AlertTransitionError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(AlertTransitionError);
    return error as AlertTransitionError;
  }
  throw new Error('expected an AlertTransitionError');
}

describe('keys', () => {
  it('one key per facing and per kiosk and kind', () => {
    expect(lowStockKey('shelf-a', 3)).toBe('low-stock:shelf-a/3');
    expect(kioskAlertKey('kiosk-assist', 'k1')).toBe('kiosk-assist:k1');
    expect(kioskAlertKey('kiosk-weight-mismatch', 'k1')).toBe('kiosk-weight-mismatch:k1');
    expect(sensorFaultKey('shelf-a', 3)).toBe('sensor-fault:shelf-a/3');
  });

  it('a low-stock key parses back to its facing; other keys do not', () => {
    expect(parseLowStockKey(lowStockKey('shelf-a', 12))).toEqual({ shelfId: 'shelf-a', facing: 12 });
    expect(parseLowStockKey(lowStockKey('aisle/3', 1))).toEqual({ shelfId: 'aisle/3', facing: 1 });
    expect(parseLowStockKey(sensorFaultKey('shelf-a', 1))).toBeUndefined();
    expect(parseLowStockKey('low-stock:shelf-a/')).toBeUndefined();
    expect(parseLowStockKey('kiosk-assist:k1')).toBeUndefined();
  });
});

describe('openAlert', () => {
  it('opens with id, state and both timestamps', () => {
    expect(open()).toEqual({ ...INPUT, id: 'a1', state: 'open', openedAt: 1_000, updatedAt: 1_000 });
    expect(isActive(open())).toBe(true);
  });
});

describe('acknowledgeAlert', () => {
  it('open → acknowledged, recording who and when', () => {
    expect(acknowledged()).toEqual({ ...open(), state: 'acknowledged', acknowledgedAt: 2_000, acknowledgedBy: 'ann', updatedAt: 2_000 });
  });

  it.each(['acknowledged', 'snoozed', 'resolved'] as const)('is refused from %s', (state) => {
    const alert = byState[state]();
    const error = transitionError(() => acknowledgeAlert(alert, 'x', 9_000));
    expect(error.alertId).toBe('a1');
    expect(error.from).toBe(state);
    expect(error.action).toBe('acknowledge');
    expect(error.message).toBe(`cannot acknowledge alert a1: it is ${state}`);
    expect(error.name).toBe('AlertTransitionError');
  });
});

describe('snoozeAlert', () => {
  it('open → snoozed: counts as acknowledged by whoever snoozed it', () => {
    expect(snoozed()).toEqual({
      ...open(),
      state: 'snoozed',
      snoozedUntil: 10_000,
      acknowledgedAt: 3_000,
      acknowledgedBy: 'bob',
      updatedAt: 3_000,
    });
  });

  it('acknowledged → snoozed keeps the first acknowledgement', () => {
    const alert = snoozeAlert(acknowledged(), 'bob', 20_000, 5_000);
    expect(alert).toMatchObject({ state: 'snoozed', snoozedUntil: 20_000, acknowledgedAt: 2_000, acknowledgedBy: 'ann', updatedAt: 5_000 });
  });

  it('snoozed → snoozed moves the wake-up time', () => {
    const alert = snoozeAlert(snoozed(), 'cid', 99_000, 6_000);
    expect(alert).toMatchObject({ state: 'snoozed', snoozedUntil: 99_000, acknowledgedBy: 'bob', updatedAt: 6_000 });
  });

  it('is refused from resolved', () => {
    const error = transitionError(() => snoozeAlert(resolved(), 'x', 1, 1));
    expect([error.alertId, error.from, error.action]).toEqual(['a1', 'resolved', 'snooze']);
  });
});

describe('resolveAlert', () => {
  it.each(['open', 'acknowledged', 'snoozed'] as const)('%s → resolved with who, when and why', (state) => {
    const alert = resolveAlert(byState[state](), 'dan', 'restocked', 8_000);
    expect(alert).toMatchObject({ state: 'resolved', resolvedAt: 8_000, resolvedBy: 'dan', resolution: 'restocked', updatedAt: 8_000 });
    expect(isActive(alert)).toBe(false);
  });

  it('is refused from resolved', () => {
    const error = transitionError(() => resolveAlert(resolved(), 'x', 'again', 9_000));
    expect([error.alertId, error.from, error.action]).toEqual(['a1', 'resolved', 'resolve']);
  });

  it('transitions never mutate the alert they are given', () => {
    const alert = open();
    const copy = structuredClone(alert);
    acknowledgeAlert(alert, 'a', 1);
    snoozeAlert(alert, 'a', 5, 1);
    resolveAlert(alert, 'a', 'r', 1);
    expect(alert).toEqual(copy);
  });
});

describe('wakeAlert', () => {
  it('re-opens a snoozed alert when its time is up (at the exact ms) and drops snoozedUntil', () => {
    const woken = wakeAlert(snoozed(), 10_000);
    expect(woken.state).toBe('open');
    expect(woken.updatedAt).toBe(10_000);
    expect('snoozedUntil' in woken).toBe(false);
    expect(woken.acknowledgedBy).toBe('bob');
  });

  it('leaves a snoozed alert asleep before its time', () => {
    const alert = snoozed();
    expect(wakeAlert(alert, 9_999)).toBe(alert);
  });

  it.each(['open', 'acknowledged', 'resolved'] as const)('returns a %s alert unchanged', (state) => {
    const alert = byState[state]();
    expect(wakeAlert(alert, 1e12)).toBe(alert);
  });
});

describe('updateAlertDetails', () => {
  const OUT: Pick<Alert, 'severity' | 'title' | 'units'> = { severity: 'critical', title: 'Out of stock', units: 0 };

  it('follows the units and title, with the time of the change', () => {
    const alert = updateAlertDetails(open(), { units: 1, title: 'Low stock, 1 left' }, 5_000);
    expect(alert).toEqual({ ...open(), units: 1, title: 'Low stock, 1 left', updatedAt: 5_000 });
  });

  it('returns the very same alert when nothing differs (so no change is reported)', () => {
    const alert = open();
    expect(updateAlertDetails(alert, { units: 2, title: 'Low stock', severity: 'warning' }, 5_000)).toBe(alert);
    expect(updateAlertDetails(alert, {}, 5_000)).toBe(alert);
  });

  it('escalates an open alert to critical and it stays open', () => {
    expect(updateAlertDetails(open(), OUT, 5_000)).toEqual({ ...open(), ...OUT, updatedAt: 5_000 });
  });

  it('escalation wakes a snoozed alert: open again, without snoozedUntil, still showing who snoozed it', () => {
    const woken = updateAlertDetails(snoozed(), OUT, 5_000);
    expect(woken).toMatchObject({ ...OUT, state: 'open', acknowledgedBy: 'bob', updatedAt: 5_000 });
    expect('snoozedUntil' in woken).toBe(false);
  });

  it('a snoozed alert whose units change without escalation stays snoozed', () => {
    expect(updateAlertDetails(snoozed(), { units: 1, title: 'Low stock, 1 left' }, 5_000)).toMatchObject({
      state: 'snoozed',
      snoozedUntil: 10_000,
      units: 1,
    });
  });

  it('an acknowledged alert stays acknowledged when it escalates', () => {
    expect(updateAlertDetails(acknowledged(), OUT, 5_000)).toEqual({ ...acknowledged(), ...OUT, updatedAt: 5_000 });
  });

  it('back from critical to warning (one unit returned) keeps the worst it reached: only the units follow', () => {
    const critical = updateAlertDetails(open(), OUT, 5_000);
    const eased = updateAlertDetails(critical, { severity: 'warning', units: 1, title: 'Low stock, 1 left' }, 6_000);
    expect(eased).toEqual({ ...critical, units: 1, updatedAt: 6_000 });
    // so its resolved copy still says the facing was empty
    expect(resolveAlert(eased, 'system', 'restocked', 7_000)).toMatchObject({
      state: 'resolved',
      severity: 'critical',
      title: 'Out of stock',
    });
    // nothing but the easing: the very same alert
    expect(updateAlertDetails(eased, { severity: 'warning', title: 'Low stock, 1 left' }, 8_000)).toBe(eased);
  });

  it('is refused for a resolved alert, and does not mutate its input', () => {
    const error = transitionError(() => updateAlertDetails(resolved(), OUT, 9_000));
    expect([error.alertId, error.from, error.action]).toEqual(['a1', 'resolved', 'update']);
    const alert = snoozed();
    const copy = structuredClone(alert);
    updateAlertDetails(alert, OUT, 9_000);
    expect(alert).toEqual(copy);
  });
});

describe('staff order: compareAlertsForStaff', () => {
  const alert = (id: string, kind: Alert['kind'], severity: Alert['severity'], openedAt: number): Alert =>
    openAlert({ ...INPUT, kind, key: `${kind}:${id}`, severity }, id, openedAt);

  it('a customer waiting first, then out of stock, then low stock, then the rest; oldest first within each', () => {
    const alerts = [
      alert('fault', 'sensor-fault', 'warning', 1),
      alert('low-new', 'low-stock', 'warning', 50),
      alert('out-new', 'low-stock', 'critical', 60),
      alert('mismatch', 'kiosk-weight-mismatch', 'critical', 70),
      alert('low-old', 'low-stock', 'warning', 5),
      alert('out-old', 'low-stock', 'critical', 10),
      alert('assist', 'kiosk-assist', 'critical', 40),
    ];
    expect(alerts.sort(compareAlertsForStaff).map((a) => a.id)).toEqual([
      'assist',
      'mismatch',
      'out-old',
      'out-new',
      'low-old',
      'low-new',
      'fault',
    ]);
  });

  it('a kiosk alert stored as a warning (before kiosk alerts were critical) still comes first', () => {
    expect(staffUrgency({ kind: 'kiosk-assist', severity: 'warning' })).toBe(0);
    expect(compareAlertsForStaff(alert('k', 'kiosk-assist', 'warning', 99), alert('o', 'low-stock', 'critical', 1))).toBeLessThan(0);
  });

  it('a critical sensor fault does not jump ahead of low stock: the kind decides', () => {
    expect(staffUrgency({ kind: 'sensor-fault', severity: 'critical' })).toBe(3);
  });

  it('is 0 for the same urgency and opening time', () => {
    expect(compareAlertsForStaff(alert('a', 'low-stock', 'warning', 5), alert('b', 'low-stock', 'warning', 5))).toBe(0);
  });
});
