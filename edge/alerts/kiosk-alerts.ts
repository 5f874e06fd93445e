import { filter, map, type OperatorFunction } from 'rxjs';
import { kioskAlertKey, type NewAlert } from './alerts.js';
import type { DeviceMessage, KioskEvent } from '../device-registry/messages.js';

type KioskEventMessage = Extract<DeviceMessage, { key: 'kiosk/event' }>;

/** The staff alert a kiosk event asks for, if any. Critical: a customer is waiting at the kiosk. */
export function kioskAlertFor(kioskId: string, event: KioskEvent): NewAlert | undefined {
  if (event.type === 'assist-requested') {
    return {
      kind: 'kiosk-assist',
      key: kioskAlertKey('kiosk-assist', kioskId),
      severity: 'critical',
      title: `Kiosk ${kioskId}: customer asks for assistance${event.reason ? ` (${event.reason})` : ''}`,
      deviceId: kioskId,
    };
  }
  if (event.type === 'weight-mismatch') {
    const expected = Math.round(event.expectedWeightG ?? 0);
    const measured = Math.round(event.measuredWeightG ?? 0);
    return {
      kind: 'kiosk-weight-mismatch',
      key: kioskAlertKey('kiosk-weight-mismatch', kioskId),
      severity: 'critical',
      title: `Kiosk ${kioskId}: bagging area weight mismatch (expected ${expected} g, measured ${measured} g)`,
      deviceId: kioskId,
    };
  }
  return undefined;
}

/** Kiosk events → the alerts staff must see (assistance, weight mismatch). */
export function kioskAlerts(): OperatorFunction<DeviceMessage, NewAlert> {
  return (messages) =>
    messages.pipe(
      filter((m): m is KioskEventMessage => m.key === 'kiosk/event'),
      map((m) => kioskAlertFor(m.deviceId, m.payload)),
      filter((alert): alert is NewAlert => alert !== undefined),
    );
}
