import { describe, expect, it } from 'vitest';
import {
  AlertTransitionError,
  acknowledgeAlert,
  compareAlertsForStaff,
  isActive,
  kioskAlertKey,
  lowStockKey,
  openAlert,
  resolveAlert,
  snoozeAlert,
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
    expect(snoozed()).toEqual({ ...open(), state: 'snoozed', snoozedUntil: 10_000, acknowledgedAt: 3_000, acknowledgedBy: 'bob', updatedAt: 3_000 });
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

describe('compareAlertsForStaff', () => {
  const alert = (id: string, severity: Alert['severity'], openedAt: number): Alert => ({ ...openAlert({ ...INPUT, severity }, id, openedAt) });

  it('critical first, then newest first', () => {
    const alerts = [alert('w-old', 'warning', 1), alert('c-old', 'critical', 2), alert('w-new', 'warning', 30), alert('c-new', 'critical', 20)];
    expect(alerts.sort(compareAlertsForStaff).map((a) => a.id)).toEqual(['c-new', 'c-old', 'w-new', 'w-old']);
  });

  it('is 0 for the same severity and opening time', () => {
    expect(compareAlertsForStaff(alert('a', 'warning', 5), alert('b', 'warning', 5))).toBe(0);
  });
});
