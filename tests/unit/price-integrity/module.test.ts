import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { AlertService } from '../../../edge/alerts/alert-service.js';
import type { AlertDetails, NewAlert } from '../../../edge/alerts/alerts.js';
import { GatewayBus } from '../../../edge/core/events.js';
import type { LabelDirectory } from '../../../edge/labels/label-directory.js';
import type { LabelDriver, LabelDriverEvent } from '../../../edge/labels/label-driver.js';
import type { LabelPriceRecord } from '../../../edge/labels/label-price-book.js';
import { PriceIntegrityModule } from '../../../edge/price-integrity/module.js';

const MILK = '4000000000017';
const BEANS = '4000000000024';

/** The alert calls the module makes, against a map of active alerts by key. */
class FakeAlerts {
  readonly active = new Map<string, NewAlert>();
  readonly resolved: { key: string; by: string; resolution: string }[] = [];
  raise(input: NewAlert) {
    const opened = !this.active.has(input.key);
    if (opened) this.active.set(input.key, input);
    return { alert: this.active.get(input.key), opened };
  }
  updateByKey(key: string, details: AlertDetails) {
    const existing = this.active.get(key);
    if (existing) this.active.set(key, { ...existing, ...details });
    return existing;
  }
  resolveByKey(key: string, by: string, resolution: string) {
    if (!this.active.delete(key)) return undefined;
    this.resolved.push({ key, by, resolution });
    return {};
  }
}

function fixture(records: Record<string, LabelPriceRecord>) {
  const listeners = new Set<(event: LabelDriverEvent) => void>();
  const driver = {
    driverId: 'mqtt-esl',
    onEvent: (listener: (event: LabelDriverEvent) => void) => (listeners.add(listener), () => listeners.delete(listener)),
  } as unknown as LabelDriver;
  const directory: LabelDirectory = {
    labelsForSku: (sku) => (sku === MILK ? ['esl-m1', 'esl-m2'] : []),
    bindingOf: (labelId) => (labelId === 'esl-m1' ? { labelId, shelfId: 'shelf-a', facing: 1, sku: MILK } : undefined),
    driverFor: () => driver,
    drivers: () => [driver],
    onDriversChanged: () => () => undefined,
  };
  const alerts = new FakeAlerts();
  const bus = new GatewayBus({
    onHandlerError: ({ error }) => {
      throw error;
    },
  });
  const module = new PriceIntegrityModule({
    bus,
    directory,
    prices: { priceRecord: (id) => records[id] },
    alerts: () => alerts as unknown as AlertService,
    log: pino({ level: 'silent' }),
  });
  const driverEvent = (event: LabelDriverEvent) => listeners.forEach((listener) => listener(event));
  return { module, alerts, driverEvent, listeners };
}

const confirmed = (labelId: string, sku: string, priceCents: number): LabelPriceRecord => ({
  labelId,
  version: 1,
  confirmed: { version: 1, sku, priceCents, campaignId: 'c1', at: 0 },
});

describe('PriceIntegrityModule', () => {
  it('compares a kiosk scan only with labels that confirmed this sku; an open mismatch follows the prices seen last', () => {
    // esl-m2 still shows beans from before it was moved to milk: not milk's confirmed price
    const { module, alerts } = fixture({ 'esl-m1': confirmed('esl-m1', MILK, 205), 'esl-m2': confirmed('esl-m2', BEANS, 899) });
    module.kioskScanned('kiosk-1', MILK, 199);
    const key = `price-mismatch:sku:${MILK}`;
    expect(alerts.active.get(key)?.title).toBe(`Price mismatch for ${MILK}: kiosk kiosk-1 charged 1.99, label esl-m1 shows 2.05`);
    module.kioskScanned('kiosk-2', MILK, 189);
    expect(alerts.active.get(key)?.title).toBe(`Price mismatch for ${MILK}: kiosk kiosk-2 charged 1.89, label esl-m1 shows 2.05`);
    expect(module.counters).toMatchObject({ kioskChecks: 2, mismatchesRaised: 1 });
    module.kioskScanned('kiosk-1', MILK, 205);
    expect(alerts.active.size).toBe(0);
    expect(alerts.resolved).toEqual([{ key, by: 'system', resolution: 'prices agree' }]);
  });

  it('a sku no label confirmed raises nothing', () => {
    const { module, alerts } = fixture({});
    module.kioskScanned('kiosk-1', MILK, 199);
    expect(alerts.active.size).toBe(0);
  });

  it('follows check-ins from the drivers while started (a check-in without a price is not compared); stop lets go', async () => {
    const { module, alerts, driverEvent, listeners } = fixture({ 'esl-m1': confirmed('esl-m1', MILK, 205) });
    await module.start();
    driverEvent({ type: 'check-in', labelId: 'esl-m1', batteryMv: 2900, at: 1 });
    expect(module.counters.labelChecks).toBe(0);
    driverEvent({ type: 'check-in', labelId: 'esl-m1', batteryMv: 2900, displayedPriceCents: 250, at: 2 });
    expect(alerts.active.get('price-mismatch:label:esl-m1')).toMatchObject({
      kind: 'price-mismatch',
      severity: 'critical',
      shelfId: 'shelf-a',
      facing: 1,
      sku: MILK,
    });
    driverEvent({ type: 'check-in', labelId: 'esl-m1', batteryMv: 2900, displayedPriceCents: 205, at: 3 });
    expect(alerts.active.size).toBe(0);
    await module.stop();
    expect(listeners.size).toBe(0);
  });
});
