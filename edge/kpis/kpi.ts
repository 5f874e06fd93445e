/**
 * Store KPIs, pure (time is a parameter): how fast low shelves are refilled (time-to-replenish: a low-stock alert
 * opened → resolved by a restock), how many price updates labels confirm, and how many price mismatches open a day;
 * the first two also per store day of the window (midnight to midnight in the store's time zone: store-days.ts), for
 * the staff page's charts.
 * The module (module.ts) records the samples as alerts and campaigns change; these functions turn them into numbers.
 */
import type { Alert } from '../alerts/alerts.js';
import type { StoreDays } from './store-days.js';

export const DAY_MS = 86_400_000;

/** One low-stock alert resolved by a restock. */
export type ReplenishSample = { alertId: string; shelfId?: string; facing?: number; openedAt: number; resolvedAt: number };

/** A campaign's latest label outcomes (its counts only grow; the last report wins). */
export type CampaignOutcome = { campaignId: string; confirmed: number; failed: number; updatedAt: number };

/** Price mismatches opened on one store day (`YYYY-MM-DD`). */
export type MismatchDay = { day: string; count: number };

export type DurationStats = { count: number; meanMs: number | null; p90Ms: number | null };

export type PriceUpdateNumbers = { confirmed: number; failed: number; successPercent: number | null };

export type Kpis = {
  windowMs: number;
  from: number;
  to: number;
  timeToReplenish: DurationStats;
  /** every store day of the window, oldest first, by the day the restock was seen (a day without one: count 0) */
  timeToReplenishPerDay: Array<{ day: string } & DurationStats>;
  priceUpdates: PriceUpdateNumbers;
  /** every store day of the window, oldest first; a campaign's labels count on the day of its last report */
  priceUpdatesPerDay: Array<{ day: string } & PriceUpdateNumbers>;
  /** only the days with a mismatch */
  priceMismatchesPerDay: MismatchDay[];
};

/** The sample a low-stock alert gives when this change resolved it by a restock (the system saw the shelf refilled). */
export function replenishSampleOf(alert: Alert, previous: Alert | undefined): ReplenishSample | undefined {
  if (alert.kind !== 'low-stock' || alert.state !== 'resolved' || !previous || previous.state === 'resolved') return undefined;
  // resolved by hand ("dismissed") is not a replenishment: only the system's restock counts
  if (alert.resolvedBy !== 'system' || alert.resolution !== 'restocked' || alert.resolvedAt === undefined) return undefined;
  return {
    alertId: alert.id,
    openedAt: alert.openedAt,
    resolvedAt: alert.resolvedAt,
    ...(alert.shelfId !== undefined ? { shelfId: alert.shelfId } : {}),
    ...(alert.facing !== undefined ? { facing: alert.facing } : {}),
  };
}

/** Whether this change opened a price mismatch (counted once, when it opens). */
export function opensPriceMismatch(alert: Alert, previous: Alert | undefined): boolean {
  return alert.kind === 'price-mismatch' && previous === undefined;
}

/** Nearest-rank percentile (p in 0..100) of the values; null when there are none. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] as number;
}

export function durationStats(durationsMs: readonly number[]): DurationStats {
  if (durationsMs.length === 0) return { count: 0, meanMs: null, p90Ms: null };
  const sum = durationsMs.reduce((total, value) => total + value, 0);
  return { count: durationsMs.length, meanMs: Math.round(sum / durationsMs.length), p90Ms: percentile(durationsMs, 90) };
}

/** Confirmed / (confirmed + failed), in percent with one decimal; null before any outcome. */
export function successPercent(confirmed: number, failed: number): number | null {
  const total = confirmed + failed;
  return total === 0 ? null : Math.round((confirmed / total) * 1000) / 10;
}

/** The KPIs over the window ending at `now`: samples resolved, campaigns reported and days touched within it. */
export function computeKpis(
  data: { replenish: readonly ReplenishSample[]; campaigns: readonly CampaignOutcome[]; mismatches: readonly MismatchDay[] },
  windowMs: number,
  now: number,
  storeDays: StoreDays,
): Kpis {
  const from = now - windowMs;
  const days = storeDays.daysOf(from, now).map((day) => day.day);
  const durationsByDay = new Map<string, number[]>(days.map((day) => [day, []]));
  const durations: number[] = [];
  for (const sample of data.replenish) {
    if (sample.resolvedAt < from || sample.resolvedAt > now) continue;
    const duration = sample.resolvedAt - sample.openedAt;
    durations.push(duration);
    durationsByDay.get(storeDays.dayOf(sample.resolvedAt))?.push(duration);
  }
  const outcomesByDay = new Map<string, { confirmed: number; failed: number }>(days.map((day) => [day, { confirmed: 0, failed: 0 }]));
  let confirmed = 0;
  let failed = 0;
  for (const outcome of data.campaigns) {
    if (outcome.updatedAt < from || outcome.updatedAt > now) continue;
    confirmed += outcome.confirmed;
    failed += outcome.failed;
    const day = outcomesByDay.get(storeDays.dayOf(outcome.updatedAt));
    if (day) {
      day.confirmed += outcome.confirmed;
      day.failed += outcome.failed;
    }
  }
  const firstDay = days[0] ?? storeDays.dayOf(from);
  const lastDay = days.at(-1) ?? storeDays.dayOf(now);
  const mismatches = data.mismatches.filter((day) => day.day >= firstDay && day.day <= lastDay).sort((a, b) => a.day.localeCompare(b.day));
  return {
    windowMs,
    from,
    to: now,
    timeToReplenish: durationStats(durations),
    timeToReplenishPerDay: days.map((day) => ({ day, ...durationStats(durationsByDay.get(day) ?? []) })),
    priceUpdates: { confirmed, failed, successPercent: successPercent(confirmed, failed) },
    priceUpdatesPerDay: days.map((day) => {
      const counts = outcomesByDay.get(day) ?? { confirmed: 0, failed: 0 };
      return { day, ...counts, successPercent: successPercent(counts.confirmed, counts.failed) };
    }),
    priceMismatchesPerDay: mismatches.map((day) => ({ ...day })),
  };
}
