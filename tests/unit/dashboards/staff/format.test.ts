/** The staff page's words for money, ages and counts, in the store's currency and locale (GET /api/store). */
import { afterEach, describe, expect, it } from 'vitest';
import { formatAge, formatClock, formatMoney, plural } from '../../../../dashboards/staff/src/format.js';
import { storeInfo } from '../../../../dashboards/staff/src/live.js';

const store = (currency: string, locale: string, timeZone = 'UTC') => {
  storeInfo.value = { storeId: 'store-1', currency, locale, timeZone };
};

afterEach(() => {
  storeInfo.value = null;
});

describe('formatMoney', () => {
  it("writes integer cents in the store's currency and locale", () => {
    store('EUR', 'en');
    expect(formatMoney(199)).toBe('€1.99');
    store('EUR', 'de-DE');
    expect(formatMoney(123456)).toBe('1.234,56\u00a0€');
    store('CHF', 'de-CH');
    expect(formatMoney(500)).toBe('CHF\u00a05.00');
  });

  it('knows currencies without minor units: 500 yen are 500, not 5', () => {
    store('JPY', 'ja-JP');
    expect(formatMoney(500)).toBe('￥500');
  });

  it('before the store is known: euros in English', () => {
    expect(formatMoney(1000)).toBe('€10.00');
  });
});

describe('formatAge, formatClock, plural', () => {
  it('says how long ago in words', () => {
    const now = 10 * 86_400_000;
    expect(formatAge(now - 20_000, now)).toBe('just now');
    expect(formatAge(now - 5 * 60_000, now)).toBe('5 min ago');
    expect(formatAge(now - 130 * 60_000, now)).toBe('2 h 10 min ago');
    expect(formatAge(now - 3 * 60 * 60_000, now)).toBe('3 h ago');
    expect(formatAge(now - 3 * 86_400_000, now)).toBe('3 d ago');
    // a clock a little ahead of the gateway's is not "in the future"
    expect(formatAge(now + 5_000, now)).toBe('just now');
  });

  it("writes the time of day on the store's clock, not the browser's", () => {
    store('EUR', 'de-DE', 'Europe/Berlin');
    expect(formatClock(Date.UTC(2026, 0, 15, 13, 5))).toBe('14:05');
  });

  it('counts in words', () => {
    expect(plural(1, 'label')).toBe('1 label');
    expect(plural(0, 'label')).toBe('0 labels');
    expect(plural(2, 'battery', 'batteries')).toBe('2 batteries');
  });
});
