// How the page writes money, ages, clock times and counts: in the store's locale and currency (GET /api/store).
import { storeInfo } from './live.js';

const DEFAULT_LOCALE = 'en';
const DEFAULT_CURRENCY = 'EUR';

/** One formatter per locale and currency: Intl formatters are costly to build and the page formats many prices. */
let moneyFormat: { key: string; format: Intl.NumberFormat } | undefined;

function moneyFormatter(): Intl.NumberFormat {
  const locale = storeInfo.value?.locale ?? DEFAULT_LOCALE;
  const currency = storeInfo.value?.currency ?? DEFAULT_CURRENCY;
  const key = `${locale}/${currency}`;
  if (moneyFormat?.key !== key) moneyFormat = { key, format: new Intl.NumberFormat(locale, { style: 'currency', currency }) };
  return moneyFormat.format;
}

/** Integer minor units (cents) as the store's money: 199 → "€1.99" (en, EUR), "1,99 €" (de-DE). */
export function formatMoney(cents: number): string {
  const format = moneyFormatter();
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  return format.format(cents / 10 ** digits);
}

/** How long ago, in words a person reads at a glance: "just now", "5 min ago", "2 h 10 min ago", "3 d ago". */
export function formatAge(thenMs: number, nowMs: number): string {
  const minutes = Math.floor(Math.max(0, nowMs - thenMs) / 60_000);
  if (minutes < 1) return 'just now';
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 ? `${hours} h ${minutes % 60} min ago` : `${hours} h ago`;
  return `${Math.floor(hours / 24)} d ago`;
}

/** A time of day on the store's clock (its time zone, its locale): "14:05" or "2:05 PM". */
export function formatClock(ms: number): string {
  const info = storeInfo.value;
  return new Date(ms).toLocaleTimeString(info?.locale ?? DEFAULT_LOCALE, {
    hour: '2-digit',
    minute: '2-digit',
    ...(info?.timeZone ? { timeZone: info.timeZone } : {}),
  });
}

/** A date and time on the store's clock, for tooltips and details. */
export function formatDateTime(ms: number): string {
  const info = storeInfo.value;
  return new Date(ms).toLocaleString(info?.locale ?? DEFAULT_LOCALE, {
    dateStyle: 'medium',
    timeStyle: 'short',
    ...(info?.timeZone ? { timeZone: info.timeZone } : {}),
  });
}

/** "1 label", "3 labels"; `pluralWord` when the plural is not word + s ("1 facing", "2 facings" / "1 battery", "2 batteries"). */
export function plural(n: number, word: string, pluralWord = `${word}s`): string {
  return `${n} ${n === 1 ? word : pluralWord}`;
}
