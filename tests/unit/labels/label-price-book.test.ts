import { describe, expect, it } from 'vitest';
import {
  copyPriceRecord,
  dropTarget,
  emptyPriceBook,
  forgetLabel,
  issueVersion,
  markSent,
  priceRecordOf,
  recordShown,
  settleInFlight,
  shouldShow,
  showsAlready,
} from '../../../edge/labels/label-price-book.js';

describe('label price book', () => {
  it('issues growing versions per label and tells which target a new one replaced', () => {
    const book = emptyPriceBook();
    const first = issueVersion(book, 'esl-1', { sku: 'milk', priceCents: 129, campaignId: 'c1' });
    const other = issueVersion(book, 'esl-2', { sku: 'tea', priceCents: 249, campaignId: 'c1' });
    const second = issueVersion(book, 'esl-1', { sku: 'milk', priceCents: 139, campaignId: 'c2' });
    expect([first.content.version, other.content.version, second.content.version]).toEqual([1, 1, 2]);
    expect(first.replaced).toBeUndefined();
    expect(second.replaced).toEqual({ version: 1, sku: 'milk', priceCents: 129, campaignId: 'c1' });
    expect(shouldShow(priceRecordOf(book, 'esl-1'))?.priceCents).toBe(139);
  });

  it('records what the label shows from the version it acked; a late older ack never overrides a newer one', () => {
    const book = emptyPriceBook();
    const v1 = issueVersion(book, 'esl-1', { sku: 'milk', priceCents: 129, campaignId: 'c1' }).content;
    markSent(book, 'esl-1', v1, 1, 10);
    const v2 = issueVersion(book, 'esl-1', { sku: 'milk', priceCents: 139, campaignId: 'c2' }).content;
    expect(recordShown(book, 'esl-1', 1, 20)).toEqual(v1); // the label shows 129: true, and v2 stays the target
    expect(priceRecordOf(book, 'esl-1')).toMatchObject({ confirmed: { version: 1, priceCents: 129, at: 20 }, target: v2 });
    expect(priceRecordOf(book, 'esl-1')?.inFlight).toBeUndefined();
    markSent(book, 'esl-1', v2, 1, 30);
    expect(recordShown(book, 'esl-1', 2, 40)).toEqual(v2);
    expect(recordShown(book, 'esl-1', 1, 50)).toBeUndefined(); // older than what it confirmed
    expect(recordShown(book, 'esl-1', 2, 50)).toBeUndefined(); // duplicate
    expect(recordShown(book, 'esl-1', 9, 50)).toBeUndefined(); // never issued
    expect(priceRecordOf(book, 'esl-1')).toMatchObject({ confirmed: { version: 2, priceCents: 139, at: 40 } });
    expect(priceRecordOf(book, 'esl-1')?.target).toBeUndefined();
    expect(showsAlready(priceRecordOf(book, 'esl-1'), 'milk', 139)).toBe(true);
    expect(showsAlready(priceRecordOf(book, 'esl-1'), 'milk', 129)).toBe(false);
  });

  it('settles and drops only the version named', () => {
    const book = emptyPriceBook();
    const v1 = issueVersion(book, 'esl-1', { sku: 'milk', priceCents: 129, campaignId: 'c1' }).content;
    markSent(book, 'esl-1', v1, 1, 10);
    expect(settleInFlight(book, 'esl-1', 2)).toBe(false);
    expect(settleInFlight(book, 'esl-1', 1)).toBe(true);
    dropTarget(book, 'esl-1', 2);
    expect(priceRecordOf(book, 'esl-1')?.target).toEqual(v1);
    dropTarget(book, 'esl-1', 1);
    expect(priceRecordOf(book, 'esl-1')?.target).toBeUndefined();
    expect(priceRecordOf(book, '__proto__')).toBeUndefined();
  });

  it('forgets a label only when nothing is under way for it', () => {
    const book = emptyPriceBook();
    const v1 = issueVersion(book, 'esl-1', { sku: 'milk', priceCents: 129, campaignId: 'c1' }).content;
    expect(forgetLabel(book, 'esl-1')).toBe(false);
    markSent(book, 'esl-1', v1, 1, 10);
    dropTarget(book, 'esl-1', 1);
    expect(forgetLabel(book, 'esl-1')).toBe(false); // still on the radio
    settleInFlight(book, 'esl-1', 1);
    expect(forgetLabel(book, 'esl-1')).toBe(true);
    expect(priceRecordOf(book, 'esl-1')).toBeUndefined();
  });

  it('copies a record whole and apart: equal to its JSON round trip, and changing the copy changes nothing in the book', () => {
    const book = emptyPriceBook();
    const first = issueVersion(book, 'esl-1', { sku: 'milk', priceCents: 199, campaignId: 'c1' }).content;
    markSent(book, 'esl-1', first, 1, 1_000);
    recordShown(book, 'esl-1', first.version, 2_000);
    const second = issueVersion(book, 'esl-1', { sku: 'milk', priceCents: 249, campaignId: 'c2' }).content;
    markSent(book, 'esl-1', second, 2, 3_000);
    const record = priceRecordOf(book, 'esl-1')!;
    expect(Object.keys(record).sort()).toEqual(['confirmed', 'inFlight', 'labelId', 'lastSent', 'target', 'version']);

    const copy = copyPriceRecord(record);
    expect(copy).toEqual(JSON.parse(JSON.stringify(record)));
    for (const field of ['target', 'inFlight', 'lastSent', 'confirmed'] as const) {
      expect(copy[field]).not.toBe(record[field]);
      (copy[field] as { priceCents: number }).priceCents = 0;
    }
    copy.version = 99;
    expect(priceRecordOf(book, 'esl-1')).toMatchObject({ version: 2, target: { priceCents: 249 }, confirmed: { priceCents: 199 } });
  });
});
