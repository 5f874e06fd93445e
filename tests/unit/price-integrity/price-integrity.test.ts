import { describe, expect, it } from 'vitest';
import { compareAlertsForStaff, priceMismatchKey, staffUrgency, type Alert } from '../../../edge/alerts/alerts.js';
import type { LabelPriceRecord } from '../../../edge/labels/label-price-book.js';
import { checkKioskPrice, checkLabelPrice, formatCents, labelPriceExpectation } from '../../../edge/price-integrity/price-integrity.js';

const MILK = '4000000000017';
const confirmedAt = (priceCents: number, extra: Partial<LabelPriceRecord> = {}): LabelPriceRecord => ({
  labelId: 'esl-m1',
  version: 1,
  confirmed: { version: 1, sku: MILK, priceCents, campaignId: 'c1', at: 1_000 },
  ...extra,
});

describe('price integrity: kiosk scans', () => {
  it("a kiosk price that differs from a label's confirmed price raises a critical price-mismatch naming both prices", () => {
    const verdict = checkKioskPrice({
      kioskId: 'kiosk-1',
      sku: MILK,
      scannedCents: 199,
      labels: [{ labelId: 'esl-m1', priceCents: 205, shelfId: 'shelf-a', facing: 1 }],
    });
    expect(verdict).toMatchObject({
      type: 'raise',
      alert: {
        kind: 'price-mismatch',
        key: priceMismatchKey({ sku: MILK }),
        severity: 'critical',
        sku: MILK,
        deviceId: 'kiosk-1',
        shelfId: 'shelf-a',
        facing: 1,
      },
    });
    if (verdict.type !== 'raise') throw new Error('expected a raise');
    expect(verdict.alert.title).toContain('1.99');
    expect(verdict.alert.title).toContain('2.05');
    expect(verdict.alert.title).toContain('esl-m1');
  });

  it("names the label that differs when only one of the sku's labels does", () => {
    const verdict = checkKioskPrice({
      kioskId: 'k',
      sku: MILK,
      scannedCents: 205,
      labels: [
        { labelId: 'esl-m1', priceCents: 205 },
        { labelId: 'esl-m2', priceCents: 210 },
      ],
    });
    expect(verdict.type === 'raise' && verdict.alert.title).toContain('esl-m2 shows 2.10');
  });

  it('every label agreeing resolves the sku\'s key; no confirmed label is "unknown", never an alert', () => {
    expect(checkKioskPrice({ kioskId: 'k', sku: MILK, scannedCents: 205, labels: [{ labelId: 'esl-m1', priceCents: 205 }] })).toEqual({
      type: 'resolve',
      key: `price-mismatch:sku:${MILK}`,
      resolution: 'prices agree',
    });
    expect(checkKioskPrice({ kioskId: 'k', sku: MILK, scannedCents: 205, labels: [] })).toEqual({ type: 'unknown' });
  });
});

describe('price integrity: label reports', () => {
  it("a label showing another price than it confirmed raises a mismatch on the label's key, naming both", () => {
    const verdict = checkLabelPrice({
      labelId: 'esl-m1',
      displayedCents: 999,
      record: confirmedAt(205),
      binding: { shelfId: 'shelf-a', facing: 1, sku: MILK },
    });
    expect(verdict).toMatchObject({
      type: 'raise',
      alert: { kind: 'price-mismatch', key: 'price-mismatch:label:esl-m1', severity: 'critical', sku: MILK, shelfId: 'shelf-a', facing: 1 },
    });
    if (verdict.type !== 'raise') throw new Error('expected a raise');
    expect(verdict.alert.title).toBe(`Price mismatch on label esl-m1: it shows 9.99, confirmed 2.05 for ${MILK}`);
  });

  it('names the product the planogram knows, with its sku, in both titles', () => {
    const productName = (sku: string) => (sku === MILK ? 'Oat milk 1 l' : undefined);
    const label = checkLabelPrice({
      labelId: 'esl-m1',
      displayedCents: 999,
      record: confirmedAt(205),
      binding: { shelfId: 'shelf-a', facing: 1, sku: MILK },
      productName,
    });
    expect(label.type === 'raise' && label.alert.title).toBe(
      `Price mismatch on label esl-m1: it shows 9.99, confirmed 2.05 for Oat milk 1 l (${MILK})`,
    );
    const kiosk = checkKioskPrice({
      kioskId: 'kiosk-1',
      sku: MILK,
      scannedCents: 199,
      labels: [{ labelId: 'esl-m1', priceCents: 205 }],
      productName: 'Oat milk 1 l',
    });
    expect(kiosk.type === 'raise' && kiosk.alert.title).toBe(
      `Price mismatch for Oat milk 1 l (${MILK}): kiosk kiosk-1 charged 1.99, label esl-m1 shows 2.05`,
    );
  });

  it('the confirmed price resolves; a label that confirmed nothing is unknown', () => {
    expect(checkLabelPrice({ labelId: 'esl-m1', displayedCents: 205, record: confirmedAt(205) })).toMatchObject({
      type: 'resolve',
      key: 'price-mismatch:label:esl-m1',
    });
    expect(checkLabelPrice({ labelId: 'esl-m1', displayedCents: 205, record: undefined })).toEqual({ type: 'unknown' });
    expect(checkLabelPrice({ labelId: 'esl-m1', displayedCents: 205, record: { labelId: 'esl-m1', version: 1 } })).toEqual({
      type: 'unknown',
    });
  });

  it('a price on its way (sent, its ack not yet in) is no false alarm during a campaign', () => {
    const pending = { version: 2, sku: MILK, priceCents: 219, campaignId: 'c2' };
    const record = confirmedAt(205, {
      version: 2,
      target: pending,
      inFlight: { ...pending, attempt: 1, sentAt: 2_000 },
      lastSent: pending,
    });
    expect(labelPriceExpectation(record)).toEqual({ confirmedCents: 205, acceptable: new Set([205, 219]) });
    expect(checkLabelPrice({ labelId: 'esl-m1', displayedCents: 219, record }).type).toBe('resolve');
    expect(checkLabelPrice({ labelId: 'esl-m1', displayedCents: 100, record }).type).toBe('raise');
  });

  it('formats cents as shelf prices', () => {
    expect([formatCents(5), formatCents(199), formatCents(100_000)]).toEqual(['0.05', '1.99', '1000.00']);
  });
});

describe('price-mismatch in the staff order', () => {
  it('ranks with the customer-facing kiosk alerts, before an empty facing', () => {
    expect(staffUrgency({ kind: 'price-mismatch', severity: 'critical' })).toBe(0);
    const base = { id: 'x', state: 'open', title: 't', updatedAt: 0 } as const;
    const empty: Alert = { ...base, id: 'a', kind: 'low-stock', key: 'low-stock:s/1', severity: 'critical', openedAt: 0 };
    const mismatch: Alert = { ...base, id: 'b', kind: 'price-mismatch', key: 'price-mismatch:sku:1', severity: 'critical', openedAt: 10 };
    expect([empty, mismatch].sort(compareAlertsForStaff).map((a) => a.kind)).toEqual(['price-mismatch', 'low-stock']);
  });
});
