import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { DeviceMessage, KioskEvent } from '../../../edge/device-registry/messages.js';
import { KIOSK_EVENT_TYPES } from '../../../edge/device-registry/schemas.js';
import { kioskAlertFor, kioskAlerts } from '../../../edge/alerts/kiosk-alerts.js';

const kioskEvent = (deviceId: string, payload: KioskEvent): DeviceMessage => ({ key: 'kiosk/event', deviceId, payload, receivedAt: 1 });

describe('kioskAlertFor', () => {
  it('assist-requested → a critical kiosk-assist alert (a customer waits) keyed by kiosk, with the reason in the title', () => {
    expect(kioskAlertFor('kiosk-1', { type: 'assist-requested', reason: 'age check', ts: 1 })).toEqual({
      kind: 'kiosk-assist',
      key: 'kiosk-assist:kiosk-1',
      severity: 'critical',
      title: 'Kiosk kiosk-1: customer asks for assistance (age check)',
      deviceId: 'kiosk-1',
    });
  });

  it('assist-requested without a reason has no parentheses', () => {
    expect(kioskAlertFor('kiosk-1', { type: 'assist-requested', ts: 1 })?.title).toBe('Kiosk kiosk-1: customer asks for assistance');
  });

  it('weight-mismatch → a critical kiosk-weight-mismatch alert (a customer waits) with rounded grams', () => {
    expect(
      kioskAlertFor('kiosk-2', { type: 'weight-mismatch', basketId: 'b1', expectedWeightG: 1040.4, measuredWeightG: 519.6, ts: 1 }),
    ).toEqual({
      kind: 'kiosk-weight-mismatch',
      key: 'kiosk-weight-mismatch:kiosk-2',
      severity: 'critical',
      title: 'Kiosk kiosk-2: bagging area weight mismatch (expected 1040 g, measured 520 g)',
      deviceId: 'kiosk-2',
    });
  });

  it.each(KIOSK_EVENT_TYPES.filter((t) => t !== 'assist-requested' && t !== 'weight-mismatch'))('%s raises nothing', (type) => {
    expect(kioskAlertFor('kiosk-1', { type, basketId: 'b', sku: 's', qty: 1, ts: 1 })).toBeUndefined();
  });
});

describe('kioskAlerts operator', () => {
  it('turns only kiosk assistance and mismatch events into alerts, in order', async () => {
    const messages: DeviceMessage[] = [
      { key: 'shelf/weight', deviceId: 'shelf-a', payload: { facing: 1, weightG: 10, ts: 1 }, receivedAt: 1 },
      kioskEvent('k1', { type: 'basket-open', basketId: 'b1', ts: 1 }),
      kioskEvent('k1', { type: 'assist-requested', ts: 2 }),
      { key: 'kiosk/status', deviceId: 'k1', payload: { state: 'assist', ts: 3 }, receivedAt: 3 },
      kioskEvent('k2', { type: 'item-scanned', basketId: 'b2', sku: 's', qty: 1, ts: 4 }),
      kioskEvent('k2', { type: 'weight-mismatch', basketId: 'b2', expectedWeightG: 100, measuredWeightG: 0, ts: 5 }),
      { key: 'esl/status', deviceId: 'e1', payload: { batteryMv: 3000, displayedPriceCents: null, ts: 6 }, receivedAt: 6 },
    ];
    const alerts = await lastValueFrom(from(messages).pipe(kioskAlerts(), toArray()));
    expect(alerts.map((a) => [a.kind, a.key])).toEqual([
      ['kiosk-assist', 'kiosk-assist:k1'],
      ['kiosk-weight-mismatch', 'kiosk-weight-mismatch:k2'],
    ]);
  });
});
