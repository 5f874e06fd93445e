import { describe, expect, it } from 'vitest';
import { acknowledgeAlert, openAlert, resolveAlert, snoozeAlert, wakeAlert, updateAlertDetails } from '../../../edge/alerts/alerts.js';
import { alertAuditInput, deviceAuditInput, recordFromBus } from '../../../edge/audit/audit-recorder.js';
import type { AuditInput } from '../../../edge/audit/audit-log.js';
import { GatewayBus } from '../../../edge/core/events.js';

const opened = openAlert(
  {
    kind: 'low-stock',
    key: 'low-stock:shelf-a/1',
    severity: 'warning',
    title: 'Oat milk low',
    shelfId: 'shelf-a',
    facing: 1,
    sku: '400',
    units: 2,
  },
  'alert-1',
  1_000,
);

describe('alertAuditInput', () => {
  it('acknowledge by a person: actor = the name, from → to, where', () => {
    const acked = acknowledgeAlert(opened, 'maria', 2_000);
    expect(alertAuditInput({ alert: acked, previous: opened, by: 'maria' })).toEqual({
      at: 2_000,
      actor: 'maria',
      action: 'alert.acknowledged',
      subject: 'alert-1',
      details: { kind: 'low-stock', from: 'open', to: 'acknowledged', title: 'Oat milk low', shelfId: 'shelf-a', facing: 1, sku: '400' },
    });
  });

  it("a snooze is the snoozer's, not the first acknowledger's (the alert keeps acknowledgedBy); so is a re-snooze", () => {
    const acked = acknowledgeAlert(opened, 'maria', 2_000);
    const snoozed = snoozeAlert(acked, 'tom', 600_000, 3_000);
    expect(snoozed.acknowledgedBy).toBe('maria');
    expect(alertAuditInput({ alert: snoozed, previous: acked, by: 'tom' })).toMatchObject({
      actor: 'tom',
      action: 'alert.snoozed',
      details: { from: 'acknowledged', to: 'snoozed', snoozedUntil: 600_000 },
    });
    const again = snoozeAlert(snoozed, 'ana', 900_000, 4_000);
    expect(alertAuditInput({ alert: again, previous: snoozed, by: 'ana' })).toMatchObject({
      actor: 'ana',
      action: 'alert.snoozed',
      details: { from: 'snoozed', snoozedUntil: 900_000 },
    });
    // without `by`, a snooze of an acknowledged alert cannot be pinned on anyone: it says so rather than guess
    expect(alertAuditInput({ alert: snoozed, previous: acked })).toMatchObject({ actor: 'unknown' });
  });

  it("resolve by a person is audited with its resolution; the system's own resolve is not", () => {
    const byStaff = resolveAlert(opened, 'maria', 'restocked by hand', 5_000);
    expect(alertAuditInput({ alert: byStaff, previous: opened, by: 'maria' })).toMatchObject({
      actor: 'maria',
      action: 'alert.resolved',
      details: { resolution: 'restocked by hand' },
    });
    const bySystem = resolveAlert(opened, 'system', 'restocked', 5_000);
    expect(alertAuditInput({ alert: bySystem, previous: opened, by: 'system' })).toBeUndefined();
    expect(alertAuditInput({ alert: bySystem, previous: opened })).toBeUndefined();
  });

  it('not audited: opening, details following the shelf, a snooze running out', () => {
    expect(alertAuditInput({ alert: opened, previous: undefined })).toBeUndefined();
    expect(
      alertAuditInput({ alert: updateAlertDetails(opened, { units: 0, severity: 'critical' }, 2_000), previous: opened }),
    ).toBeUndefined();
    const snoozed = snoozeAlert(opened, 'tom', 3_000, 2_000);
    expect(alertAuditInput({ alert: wakeAlert(snoozed, 3_000), previous: snoozed })).toBeUndefined();
  });
});

describe('recordFromBus', () => {
  it('feeds alert.changed to the log and nothing else (no subscriber on device messages); unsubscribes', () => {
    const bus = new GatewayBus({
      onHandlerError: ({ error }) => {
        throw error;
      },
    });
    const recorded: AuditInput[] = [];
    const unsubscribe = recordFromBus(bus, (input) => recorded.push(input));
    expect(bus.subscriberCount('alert.changed')).toBe(1);
    expect(bus.subscriberCount('device.message:shelf/weight')).toBe(0);
    bus.emit('alert.changed', { alert: acknowledgeAlert(opened, 'maria', 2_000), previous: opened, by: 'maria' });
    bus.emit('alert.changed', { alert: opened, previous: undefined });
    expect(recorded.map((r) => [r.actor, r.action])).toEqual([['maria', 'alert.acknowledged']]);
    unsubscribe();
    expect(bus.subscriberCount('alert.changed')).toBe(0);
  });

  it('device changes through the API: device.<change>, subject the device id', () => {
    expect(deviceAuditInput({ deviceId: 'shelf-07', change: 'secret-rotated', actor: 'it-admin' })).toEqual({
      actor: 'it-admin',
      action: 'device.secret-rotated',
      subject: 'shelf-07',
      details: {},
    });
  });
});
