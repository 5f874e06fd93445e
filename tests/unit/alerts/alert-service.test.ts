import { beforeEach, describe, expect, it } from 'vitest';
import { AlertNotFoundError, AlertService, type AlertRepository } from '../../../edge/alerts/alert-service.js';
import { AlertTransitionError, openAlert, resolveAlert, type Alert, type AlertKind, type NewAlert } from '../../../edge/alerts/alerts.js';

/** Alerts "on disk": what AlertStore would return. */
class MemoryAlertRepository implements AlertRepository {
  readonly rows = new Map<string, Alert>();
  loadActiveCalls = 0;

  constructor(alerts: Alert[] = []) {
    for (const alert of alerts) this.rows.set(alert.id, alert);
  }

  async loadActive(): Promise<Alert[]> {
    this.loadActiveCalls++;
    return [...this.rows.values()].filter((a) => a.state !== 'resolved').sort((a, b) => a.openedAt - b.openedAt);
  }

  async get(id: string): Promise<Alert | undefined> {
    return this.rows.get(id);
  }

  async listResolved(options: { kind?: AlertKind; limit: number }): Promise<Alert[]> {
    return [...this.rows.values()]
      .filter((a) => a.state === 'resolved' && (options.kind === undefined || a.kind === options.kind))
      .sort((a, b) => (b.resolvedAt ?? 0) - (a.resolvedAt ?? 0))
      .slice(0, options.limit);
  }
}

const lowStock = (facing: number, severity: Alert['severity'] = 'warning'): NewAlert => ({
  kind: 'low-stock',
  key: `low-stock:shelf-a/${facing}`,
  severity,
  title: `Low stock facing ${facing}`,
  shelfId: 'shelf-a',
  facing,
  sku: 'sku-1',
  units: severity === 'critical' ? 0 : 2,
});

const assist = (kiosk: string): NewAlert => ({
  kind: 'kiosk-assist',
  key: `kiosk-assist:${kiosk}`,
  severity: 'warning',
  title: `assist ${kiosk}`,
  deviceId: kiosk,
});

type Change = { alert: Alert; previous: Alert | undefined };

let clock: number;
let ids: number;
let changes: Change[];
let repository: MemoryAlertRepository;
let service: AlertService;

function build(options: { repository?: MemoryAlertRepository; recentResolvedLimit?: number } = {}): AlertService {
  repository = options.repository ?? new MemoryAlertRepository();
  return new AlertService({
    repository,
    onChange: (alert, previous) => changes.push({ alert, previous }),
    now: () => clock,
    newId: () => `alert-${++ids}`,
    ...(options.recentResolvedLimit === undefined ? {} : { recentResolvedLimit: options.recentResolvedLimit }),
  });
}

beforeEach(() => {
  clock = 1_000;
  ids = 0;
  changes = [];
  service = build();
});

describe('raise', () => {
  it('opens an alert with a new id and the current time, and reports it once without previous', () => {
    const { alert, opened } = service.raise(lowStock(1));
    expect(opened).toBe(true);
    expect(alert).toEqual({ ...lowStock(1), id: 'alert-1', state: 'open', openedAt: 1_000, updatedAt: 1_000 });
    expect(changes).toEqual([{ alert, previous: undefined }]);
    expect(service.activeCount).toBe(1);
    expect(service.activeByKey('low-stock:shelf-a/1')).toBe(alert);
  });

  it('keeps one active alert per key: raising again returns the existing one unchanged', () => {
    const first = service.raise(lowStock(1)).alert;
    clock = 5_000;
    const second = service.raise({ ...lowStock(1), title: 'other title', severity: 'critical' });
    expect(second).toEqual({ alert: first, opened: false });
    expect(second.alert.title).toBe('Low stock facing 1');
    expect(changes).toHaveLength(1);
    expect(service.activeCount).toBe(1);
    expect(ids).toBe(1);
  });

  it('dedupes an acknowledged or snoozed alert of the key too', () => {
    const { alert } = service.raise(lowStock(1));
    service.acknowledge(alert.id, 'ann');
    expect(service.raise(lowStock(1)).opened).toBe(false);
    service.snooze(alert.id, 'ann', 5);
    expect(service.raise(lowStock(1)).opened).toBe(false);
    expect(service.activeCount).toBe(1);
  });

  it('different keys get different alerts', () => {
    service.raise(lowStock(1));
    service.raise(lowStock(2));
    service.raise(assist('k1'));
    expect(service.activeCount).toBe(3);
    expect(changes.map((c) => c.alert.id)).toEqual(['alert-1', 'alert-2', 'alert-3']);
  });

  it('after the key is resolved, raising opens a new alert', () => {
    const first = service.raise(lowStock(1)).alert;
    service.resolveByKey(first.key, 'system', 'restocked');
    clock = 9_000;
    const again = service.raise(lowStock(1));
    expect(again.opened).toBe(true);
    expect(again.alert.id).toBe('alert-2');
    expect(again.alert.openedAt).toBe(9_000);
    expect(service.activeByKey(first.key)?.id).toBe('alert-2');
  });
});

describe('resolveByKey', () => {
  it('resolves the active alert of the key and reports it with the previous state', () => {
    const { alert } = service.raise(lowStock(1));
    clock = 2_000;
    const resolved = service.resolveByKey(alert.key, 'system', 'restocked');
    expect(resolved).toEqual({
      ...alert,
      state: 'resolved',
      resolvedAt: 2_000,
      resolvedBy: 'system',
      resolution: 'restocked',
      updatedAt: 2_000,
    });
    expect(changes).toEqual([
      { alert, previous: undefined },
      { alert: resolved, previous: alert },
    ]);
    expect(service.activeCount).toBe(0);
    expect(service.activeByKey(alert.key)).toBeUndefined();
  });

  it('does nothing (and reports nothing) for a key without an active alert', () => {
    expect(service.resolveByKey('low-stock:shelf-a/9', 'system', 'restocked')).toBeUndefined();
    expect(changes).toEqual([]);
  });
});

describe('updateByKey', () => {
  const out = { severity: 'critical' as const, title: 'Out of stock facing 1', units: 0 };

  it('updates the active alert of the key in place (same id) and reports the change with the previous state', () => {
    const { alert } = service.raise(lowStock(1));
    clock = 2_000;
    const updated = service.updateByKey(alert.key, { units: 1, title: 'Low stock facing 1, 1 left' });
    expect(updated).toEqual({ ...alert, units: 1, title: 'Low stock facing 1, 1 left', updatedAt: 2_000 });
    expect(changes).toEqual([
      { alert, previous: undefined },
      { alert: updated, previous: alert },
    ]);
    expect(service.activeByKey(alert.key)).toBe(updated);
    expect(service.activeCount).toBe(1);
  });

  it('reports nothing when nothing differs, and returns the alert as it is', () => {
    const { alert } = service.raise(lowStock(1));
    expect(service.updateByKey(alert.key, { units: 2, severity: 'warning' })).toBe(alert);
    expect(changes).toHaveLength(1);
  });

  it('does nothing (and reports nothing) for a key without an active alert', () => {
    const { alert } = service.raise(lowStock(1));
    service.resolve(alert.id, 'ann');
    expect(service.updateByKey(alert.key, out)).toBeUndefined();
    expect(service.updateByKey('low-stock:shelf-a/9', out)).toBeUndefined();
    expect(changes).toHaveLength(2);
  });

  it('escalation wakes a snoozed alert, so wakeSnoozed has nothing left to do for it', () => {
    const { alert } = service.raise(lowStock(1));
    service.snooze(alert.id, 'ann', 30);
    clock = 5_000;
    expect(service.updateByKey(alert.key, out)).toMatchObject({ id: alert.id, state: 'open', severity: 'critical', units: 0 });
    changes = [];
    clock = 10_000_000;
    service.wakeSnoozed();
    expect(changes).toEqual([]);
  });

  it('an acknowledged alert escalates and stays acknowledged', () => {
    const { alert } = service.raise(lowStock(1));
    service.acknowledge(alert.id, 'ann');
    expect(service.updateByKey(alert.key, out)).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'ann', severity: 'critical' });
  });
});

describe('acknowledge, snooze, resolve', () => {
  it('acknowledge records who and when; reported once with previous', () => {
    const { alert } = service.raise(lowStock(1));
    clock = 3_000;
    const acked = service.acknowledge(alert.id, 'ann');
    expect(acked).toMatchObject({ id: alert.id, state: 'acknowledged', acknowledgedBy: 'ann', acknowledgedAt: 3_000, updatedAt: 3_000 });
    expect(changes[1]).toEqual({ alert: acked, previous: alert });
    expect(changes).toHaveLength(2);
  });

  it('snooze sets snoozedUntil to now + minutes', () => {
    const { alert } = service.raise(lowStock(1));
    clock = 10_000;
    const snoozed = service.snooze(alert.id, 'ann', 15);
    expect(snoozed).toMatchObject({ state: 'snoozed', snoozedUntil: 10_000 + 15 * 60_000, acknowledgedBy: 'ann' });
    expect(changes[1]).toEqual({ alert: snoozed, previous: alert });
  });

  it('resolve uses the note or a default resolution', () => {
    const a = service.raise(lowStock(1)).alert;
    const b = service.raise(lowStock(2)).alert;
    expect(service.resolve(a.id, 'ann', 'shelf filled').resolution).toBe('shelf filled');
    expect(service.resolve(b.id, 'ann').resolution).toBe('resolved by staff');
    expect(service.activeCount).toBe(0);
  });

  it('an unknown id throws AlertNotFoundError with the id, and reports nothing', () => {
    for (const act of [() => service.acknowledge('nope', 'a'), () => service.snooze('nope', 'a', 1), () => service.resolve('nope', 'a')]) {
      let caught: unknown;
      try {
        act();
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(AlertNotFoundError);
      expect((caught as AlertNotFoundError).alertId).toBe('nope');
      expect((caught as Error).message).toBe('alert nope not found');
    }
    expect(changes).toEqual([]);
  });

  it('a resolved alert throws AlertTransitionError for every action, and reports nothing', () => {
    const { alert } = service.raise(lowStock(1));
    service.resolve(alert.id, 'ann');
    const before = changes.length;
    for (const [action, act] of [
      ['acknowledge', () => service.acknowledge(alert.id, 'b')],
      ['snooze', () => service.snooze(alert.id, 'b', 5)],
      ['resolve', () => service.resolve(alert.id, 'b')],
    ] as const) {
      let caught: unknown;
      try {
        act();
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(AlertTransitionError);
      expect(caught).toMatchObject({ alertId: alert.id, from: 'resolved', action });
    }
    expect(changes).toHaveLength(before);
  });

  it('a forbidden transition of an active alert throws and leaves it as it was', () => {
    const { alert } = service.raise(lowStock(1));
    const acked = service.acknowledge(alert.id, 'ann');
    expect(() => service.acknowledge(alert.id, 'bob')).toThrow(AlertTransitionError);
    expect(service.activeByKey(alert.key)).toEqual(acked);
    expect(changes).toHaveLength(2);
  });

  it('an alert resolved so long ago that it left memory is not found (the HTTP layer asks the repository)', async () => {
    service = build({ recentResolvedLimit: 1 });
    const a = service.raise(lowStock(1)).alert;
    const b = service.raise(lowStock(2)).alert;
    service.resolve(a.id, 'x');
    service.resolve(b.id, 'x');
    expect(() => service.acknowledge(a.id, 'y')).toThrow(AlertNotFoundError);
    expect(() => service.acknowledge(b.id, 'y')).toThrow(AlertTransitionError);
    expect(await service.get(a.id)).toBeUndefined();
  });
});

describe('wakeSnoozed', () => {
  it('re-opens exactly the snoozed alerts whose time is up, using the injected clock', () => {
    const a = service.raise(lowStock(1)).alert;
    const b = service.raise(lowStock(2)).alert;
    const c = service.raise(lowStock(3)).alert;
    service.snooze(a.id, 'ann', 1); // until 61_000
    service.snooze(b.id, 'ann', 10); // until 601_000
    service.acknowledge(c.id, 'ann');
    changes = [];

    clock = 60_999;
    service.wakeSnoozed();
    expect(changes).toEqual([]);

    clock = 61_000;
    service.wakeSnoozed();
    expect(changes).toHaveLength(1);
    expect(changes[0]?.alert).toMatchObject({ id: a.id, state: 'open', updatedAt: 61_000 });
    expect(changes[0]?.previous).toMatchObject({ id: a.id, state: 'snoozed', snoozedUntil: 61_000 });
    expect(service.activeByKey(a.key)?.state).toBe('open');

    service.wakeSnoozed();
    expect(changes).toHaveLength(1);

    clock = 1_000_000;
    service.wakeSnoozed();
    expect(changes.map((ch) => [ch.alert.id, ch.alert.state])).toEqual([
      [a.id, 'open'],
      [b.id, 'open'],
    ]);
    expect(service.activeByKey(c.key)?.state).toBe('acknowledged');
  });
});

describe('get', () => {
  it('finds active, recently resolved and stored alerts', async () => {
    const stored = resolveAlert(openAlert(lowStock(7), 'old-1', 1), 'x', 'r', 2);
    service = build({ repository: new MemoryAlertRepository([stored]) });
    const active = service.raise(lowStock(1)).alert;
    const gone = service.raise(lowStock(2)).alert;
    const resolved = service.resolve(gone.id, 'x');
    expect(await service.get(active.id)).toBe(active);
    expect(await service.get(gone.id)).toEqual(resolved);
    expect(await service.get('old-1')).toEqual(stored);
    expect(await service.get('nope')).toBeUndefined();
  });
});

describe('list', () => {
  async function seed(): Promise<Record<string, Alert>> {
    const stored = resolveAlert(openAlert(assist('k9'), 'old-1', 10), 'x', 'r', 50);
    service = build({ repository: new MemoryAlertRepository([stored]) });
    clock = 100;
    const w1 = service.raise(lowStock(1)).alert;
    clock = 200;
    const c1 = service.raise(lowStock(2, 'critical')).alert;
    clock = 300;
    const w2 = service.raise(assist('k1')).alert;
    clock = 400;
    const c2 = service.raise(lowStock(3, 'critical')).alert;
    clock = 500;
    const r1 = service.raise(lowStock(4)).alert;
    clock = 600;
    const resolved = service.resolve(r1.id, 'ann');
    clock = 700;
    const acked = service.acknowledge(w1.id, 'ann');
    const snoozed = service.snooze(w2.id, 'ann', 5);
    return { w1: acked, c1, w2: snoozed, c2, r1: resolved, stored };
  }

  it('active (default): every unresolved alert, a waiting customer first, then out of stock, then low; oldest first within', async () => {
    const a = await seed();
    const ids = (alerts: Alert[]) => alerts.map((x) => x.id);
    expect(ids(await service.list({ limit: 100 }))).toEqual([a.w2!.id, a.c1!.id, a.c2!.id, a.w1!.id]);
    expect(ids(await service.list({ state: 'active', limit: 100 }))).toEqual([a.w2!.id, a.c1!.id, a.c2!.id, a.w1!.id]);
  });

  it('open, acknowledged and snoozed filter by state', async () => {
    const a = await seed();
    expect((await service.list({ state: 'open', limit: 100 })).map((x) => x.id)).toEqual([a.c1!.id, a.c2!.id]);
    expect((await service.list({ state: 'acknowledged', limit: 100 })).map((x) => x.id)).toEqual([a.w1!.id]);
    expect((await service.list({ state: 'snoozed', limit: 100 })).map((x) => x.id)).toEqual([a.w2!.id]);
  });

  it('resolved: recent ones and stored ones, newest resolution first, without duplicates', async () => {
    const a = await seed();
    repository.rows.set(a.r1!.id, a.r1!); // already flushed as well
    const resolved = await service.list({ state: 'resolved', limit: 100 });
    expect(resolved.map((x) => x.id)).toEqual([a.r1!.id, 'old-1']);
  });

  it('all: active (staff order) then resolved', async () => {
    const a = await seed();
    expect((await service.list({ state: 'all', limit: 100 })).map((x) => x.id)).toEqual([
      a.w2!.id,
      a.c1!.id,
      a.c2!.id,
      a.w1!.id,
      a.r1!.id,
      'old-1',
    ]);
  });

  it('kind filters active and resolved alerts', async () => {
    const a = await seed();
    expect((await service.list({ state: 'all', kind: 'kiosk-assist', limit: 100 })).map((x) => x.id)).toEqual([a.w2!.id, 'old-1']);
    expect((await service.list({ kind: 'low-stock', limit: 100 })).map((x) => x.id)).toEqual([a.c1!.id, a.c2!.id, a.w1!.id]);
    expect(await service.list({ kind: 'kiosk-weight-mismatch', state: 'all', limit: 100 })).toEqual([]);
  });

  it('limit bounds the result', async () => {
    const a = await seed();
    expect((await service.list({ limit: 2 })).map((x) => x.id)).toEqual([a.w2!.id, a.c1!.id]);
    expect((await service.list({ state: 'all', limit: 5 })).map((x) => x.id)).toEqual([a.w2!.id, a.c1!.id, a.c2!.id, a.w1!.id, a.r1!.id]);
    expect(await service.list({ state: 'resolved', limit: 1 })).toHaveLength(1);
  });
});

describe('start', () => {
  it('loads the active alerts from the repository, so raising the same key dedupes against them', async () => {
    const active = openAlert(lowStock(1), 'stored-1', 10);
    const acked = { ...openAlert(assist('k1'), 'stored-2', 20), state: 'acknowledged' as const, acknowledgedBy: 'ann', acknowledgedAt: 30 };
    const done = resolveAlert(openAlert(lowStock(2), 'stored-3', 5), 'x', 'r', 6);
    service = build({ repository: new MemoryAlertRepository([active, acked, done]) });
    expect(service.activeCount).toBe(0);
    await service.start();
    expect(repository.loadActiveCalls).toBe(1);
    expect(service.activeCount).toBe(2);
    expect(service.activeByKey(active.key)).toEqual(active);
    expect(service.activeByKey(acked.key)).toEqual(acked);
    expect(service.activeByKey(done.key)).toBeUndefined();
    expect(service.raise(lowStock(1))).toEqual({ alert: active, opened: false });
    expect(changes).toEqual([]);
    expect(service.resolve('stored-2', 'bob').state).toBe('resolved');
    expect(changes).toHaveLength(1);
    expect(changes[0]?.previous).toEqual(acked);
  });
});
