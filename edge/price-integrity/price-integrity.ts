/**
 * Price integrity, pure: does a price a kiosk charged, or a price a label shows, agree with the price the label
 * confirmed through a campaign? A disagreement is a `price-mismatch` alert (critical: a customer pays it or reads it)
 * naming both prices; agreement resolves it. No I/O — the module (price-integrity-module.ts) feeds it and acts.
 */
import { priceMismatchKey, type NewAlert } from '../alerts/alerts.js';
import type { LabelPriceRecord } from '../labels/label-price-book.js';

/** What to do with the mismatch alert of one key: open (or keep) it, resolve it, or nothing when nothing is known. */
export type IntegrityVerdict =
  { type: 'raise'; alert: NewAlert } | { type: 'resolve'; key: string; resolution: string } | { type: 'unknown' };

/** A label of the scanned sku and the price it has confirmed (labels that confirmed nothing yet are left out). */
export type ConfirmedLabelPrice = { labelId: string; priceCents: number; shelfId?: string; facing?: number };

export const PRICES_AGREE = 'prices agree';

/** Cents as people read them on a shelf: 199 → "1.99". */
export function formatCents(priceCents: number): string {
  return `${Math.floor(priceCents / 100)}.${String(priceCents % 100).padStart(2, '0')}`;
}

/**
 * The confirmed price of a label, as the price book holds it. A label may show a version it was sent but whose ack
 * was lost (the render happened, the answer did not): those prices are `acceptable` too, so a check-in during a
 * campaign is not a false alarm — but only the confirmed price is named in an alert.
 */
export function labelPriceExpectation(
  record: LabelPriceRecord | undefined,
): { confirmedCents: number; acceptable: ReadonlySet<number> } | undefined {
  if (!record?.confirmed) return undefined;
  const acceptable = new Set<number>([record.confirmed.priceCents]);
  for (const pending of [record.inFlight, record.lastSent, record.target]) if (pending) acceptable.add(pending.priceCents);
  return { confirmedCents: record.confirmed.priceCents, acceptable };
}

/**
 * A kiosk charged `scannedCents` for `sku`. The labels of the sku that confirmed a price decide: any of them
 * confirming another price is a mismatch (the first such label is named); all agreeing resolves the sku's alert.
 */
export function checkKioskPrice(input: {
  kioskId: string;
  sku: string;
  scannedCents: number;
  labels: readonly ConfirmedLabelPrice[];
  /** the planogram's name of the sku: the title names the product people see, with its sku */
  productName?: string | undefined;
}): IntegrityVerdict {
  const { kioskId, sku, scannedCents, labels } = input;
  const key = priceMismatchKey({ sku });
  if (labels.length === 0) return { type: 'unknown' };
  const differing = labels.find((label) => label.priceCents !== scannedCents);
  if (!differing) return { type: 'resolve', key, resolution: PRICES_AGREE };
  return {
    type: 'raise',
    alert: {
      kind: 'price-mismatch',
      key,
      severity: 'critical',
      title:
        `Price mismatch for ${productWords(sku, input.productName)}: kiosk ${kioskId} charged ${formatCents(scannedCents)}, ` +
        `label ${differing.labelId} shows ${formatCents(differing.priceCents)}`,
      sku,
      deviceId: kioskId,
      ...(differing.shelfId !== undefined && differing.facing !== undefined
        ? { shelfId: differing.shelfId, facing: differing.facing }
        : {}),
    },
  };
}

/** A label reported showing `displayedCents`; it should show what it confirmed (or a version on its way to it). */
export function checkLabelPrice(input: {
  labelId: string;
  displayedCents: number;
  record: LabelPriceRecord | undefined;
  binding?: { shelfId: string; facing: number; sku: string } | undefined;
  /** the planogram's name of the label's sku, when known */
  productName?: (sku: string) => string | undefined;
}): IntegrityVerdict {
  const { labelId, displayedCents, record, binding } = input;
  const key = priceMismatchKey({ labelId });
  const expected = labelPriceExpectation(record);
  if (!expected) return { type: 'unknown' };
  if (expected.acceptable.has(displayedCents)) return { type: 'resolve', key, resolution: PRICES_AGREE };
  const sku = binding?.sku ?? record?.confirmed?.sku;
  return {
    type: 'raise',
    alert: {
      kind: 'price-mismatch',
      key,
      severity: 'critical',
      title:
        `Price mismatch on label ${labelId}: it shows ${formatCents(displayedCents)}, ` +
        `confirmed ${formatCents(expected.confirmedCents)}${sku ? ` for ${productWords(sku, input.productName?.(sku))}` : ''}`,
      deviceId: labelId,
      ...(sku ? { sku } : {}),
      ...(binding ? { shelfId: binding.shelfId, facing: binding.facing } : {}),
    },
  };
}

/** "Oat milk 1 l (4011-MILK)" when the planogram names the sku, else the sku alone. */
function productWords(sku: string, productName: string | undefined): string {
  return productName === undefined ? sku : `${productName} (${sku})`;
}
