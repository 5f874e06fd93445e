/**
 * Shelf KPIs, pure (time is a parameter): on-shelf availability (facing-minutes not empty / all facing-minutes
 * watched), stock-outs (a facing at 0 units until restocked: count and duration), replenishment accuracy (low-stock
 * alerts answered by a restock within the target / all decided ones) and prediction lead time (how long before a
 * stock-out its `stock-out-predicted` alert opened). The kpis module records the samples from the bus (module.ts);
 * these functions turn them into numbers over a window and per store day (the store's midnight to midnight:
 * store-days.ts; the staff page charts the days).
 */
import type { Alert } from '../alerts/alerts.js';
import { percentile } from './kpi.js';
import type { StoreDays } from './store-days.js';

/** A facing whose units the gateway knows since `since`: its time from then on counts as facing-time. */
export type WatchedFacing = { shelfId: string; facing: number; since: number };

/** A facing at 0 units from `startedAt` until restocked at `endedAt` (absent: still empty). */
export type StockOutSample = { shelfId: string; facing: number; startedAt: number; endedAt?: number };

/** A low-stock alert (it turns critical when the facing empties): opened, and how it ended once it did. */
export type StockAlertSample = { alertId: string; openedAt: number; resolvedAt?: number; restocked: boolean };

/** A `stock-out-predicted` alert of a facing: opened, and resolved once it was (restocked, rate fell, ran empty). */
export type PredictionSample = { alertId: string; shelfId: string; facing: number; openedAt: number; resolvedAt?: number };

export type ShelfKpiSamples = {
  watched: WatchedFacing[];
  stockOuts: StockOutSample[];
  stockAlerts: StockAlertSample[];
  predictions: PredictionSample[];
};

export type AvailabilityNumbers = { percent: number | null; watchedFacingMinutes: number; emptyFacingMinutes: number };
export type StockOutNumbers = { count: number; restocked: number; ongoing: number; totalMs: number; meanMs: number | null };
export type AccuracyNumbers = { alerts: number; onTime: number; pending: number; percent: number | null };
export type LeadTimeNumbers = { stockOuts: number; predicted: number; predictedPercent: number | null; meanMs: number | null };

export type ShelfKpis = {
  onShelfAvailability: AvailabilityNumbers & { perDay: Array<{ day: string } & AvailabilityNumbers> };
  stockOuts: StockOutNumbers & { perDay: Array<{ day: string; count: number; totalMs: number }> };
  replenishmentAccuracy: AccuracyNumbers & { targetMs: number; perDay: Array<{ day: string } & AccuracyNumbers> };
  predictionLeadTime: LeadTimeNumbers & { p50Ms: number | null; perDay: Array<{ day: string } & LeadTimeNumbers> };
};

/**
 * A prediction resolved this long before the stock-out began still preceded it: the insight room resolves it
 * ("ran empty") on the same stock change the kpis module sees, in whichever order the two handle it.
 */
export const PREDICTION_RESOLVE_SLACK_MS = 5_000;

export function facingKeyOf(shelfId: string, facing: number): string {
  return `${shelfId}/${facing}`;
}

/**
 * What a facing's units do to its stock-out: one begins when they reach 0 (also a first reading of 0), the open one
 * ends when they rise above 0. Unknown units (null) change nothing.
 */
export function stockOutChange(open: StockOutSample | undefined, units: number | null): 'began' | 'ended' | undefined {
  if (units === null) return undefined;
  if (units === 0 && open === undefined) return 'began';
  if (units > 0 && open !== undefined) return 'ended';
  return undefined;
}

/** The sample a low-stock alert gives when this change opened it or resolved it (restocked: by the system's restock). */
export function stockAlertSampleOf(alert: Alert, previous: Alert | undefined): StockAlertSample | undefined {
  if (alert.kind !== 'low-stock') return undefined;
  if (previous === undefined) return { alertId: alert.id, openedAt: alert.openedAt, restocked: false };
  if (alert.state !== 'resolved' || previous.state === 'resolved' || alert.resolvedAt === undefined) return undefined;
  const restocked = alert.resolvedBy === 'system' && alert.resolution === 'restocked';
  return { alertId: alert.id, openedAt: alert.openedAt, resolvedAt: alert.resolvedAt, restocked };
}

/** The sample a facing's `stock-out-predicted` alert gives when this change opened or resolved it. */
export function predictionSampleOf(alert: Alert, previous: Alert | undefined): PredictionSample | undefined {
  if (alert.kind !== 'stock-out-predicted' || alert.shelfId === undefined || alert.facing === undefined) return undefined;
  const sample = { alertId: alert.id, shelfId: alert.shelfId, facing: alert.facing, openedAt: alert.openedAt };
  if (previous === undefined) return sample;
  if (alert.state !== 'resolved' || previous.state === 'resolved' || alert.resolvedAt === undefined) return undefined;
  return { ...sample, resolvedAt: alert.resolvedAt };
}

/** Part / whole in percent with one decimal; null when the whole is 0. */
function percentOf(part: number, whole: number): number | null {
  return whole <= 0 ? null : Math.round((part / whole) * 1000) / 10;
}

const minutes = (ms: number) => Math.round(ms / 6_000) / 10;

type WindowDays = { names: string[]; index: (at: number) => number; start: (index: number) => number; end: (index: number) => number };

/**
 * The store days of [from, to] and the day an instant in it falls on: index 0 is the day of `from`. At most the
 * window's days (the route allows 365), found by bisection (a day is 23 to 25 hours: no division finds it).
 */
function daysOf(from: number, to: number, storeDays: StoreDays): WindowDays {
  const days = storeDays.daysOf(from, to);
  const index = (at: number): number => {
    let low = 0;
    let high = days.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if ((days[middle] as { start: number }).start <= at) low = middle;
      else high = middle - 1;
    }
    return low;
  };
  return {
    names: days.map((day) => day.day),
    index,
    start: (i) => (days[i] as { start: number }).start,
    end: (i) => (days[i] as { end: number }).end,
  };
}

/** Adds the part of [start, end) inside [from, to] to the days it falls on. */
function spread(start: number, end: number, from: number, to: number, days: WindowDays, perDay: number[]): number {
  const a = Math.max(start, from);
  const b = Math.min(end, to);
  if (b <= a) return 0;
  for (let index = days.index(a); index <= days.index(b - 1) && index < perDay.length; index++) {
    perDay[index] = (perDay[index] as number) + Math.min(b, days.end(index)) - Math.max(a, days.start(index));
  }
  return b - a;
}

/** On-shelf availability over [from, to]: the watched facings' time minus the time they stood empty. */
export function onShelfAvailability(
  samples: Pick<ShelfKpiSamples, 'watched' | 'stockOuts'>,
  from: number,
  to: number,
  storeDays: StoreDays,
): ShelfKpis['onShelfAvailability'] {
  const days = daysOf(from, to, storeDays);
  const watchedPerDay = days.names.map(() => 0);
  const emptyPerDay = days.names.map(() => 0);
  let watchedMs = 0;
  let emptyMs = 0;
  for (const facing of samples.watched) watchedMs += spread(facing.since, to, from, to, days, watchedPerDay);
  for (const out of samples.stockOuts) emptyMs += spread(out.startedAt, out.endedAt ?? to, from, to, days, emptyPerDay);
  const numbers = (watched: number, empty: number): AvailabilityNumbers => {
    const emptyKept = Math.min(empty, watched);
    return {
      percent: percentOf(watched - emptyKept, watched),
      watchedFacingMinutes: minutes(watched),
      emptyFacingMinutes: minutes(emptyKept),
    };
  };
  return {
    ...numbers(watchedMs, emptyMs),
    perDay: days.names.map((day, i) => ({ day, ...numbers(watchedPerDay[i] as number, emptyPerDay[i] as number) })),
  };
}

/** Stock-outs that began in [from, to]: how many, how many were restocked, their empty time (the ongoing ones until `to`). */
export function stockOutStats(
  stockOuts: readonly StockOutSample[],
  from: number,
  to: number,
  storeDays: StoreDays,
): ShelfKpis['stockOuts'] {
  const days = daysOf(from, to, storeDays);
  const perDay = days.names.map((day) => ({ day, count: 0, totalMs: 0 }));
  let count = 0;
  let totalMs = 0;
  const restockedMs: number[] = [];
  for (const out of stockOuts) {
    if (out.startedAt < from || out.startedAt > to) continue;
    const ended = out.endedAt !== undefined && out.endedAt <= to;
    const durationMs = (ended ? (out.endedAt as number) : to) - out.startedAt;
    count++;
    totalMs += durationMs;
    if (ended) restockedMs.push(durationMs);
    const day = perDay[days.index(out.startedAt)] as { count: number; totalMs: number };
    day.count++;
    day.totalMs += durationMs;
  }
  const meanMs = restockedMs.length === 0 ? null : Math.round(restockedMs.reduce((sum, ms) => sum + ms, 0) / restockedMs.length);
  return { count, restocked: restockedMs.length, ongoing: count - restockedMs.length, totalMs, meanMs, perDay };
}

/**
 * Low-stock alerts opened in [from, to], judged at `now`: on time when a restock resolved them within `targetMs`;
 * missed when resolved otherwise (by hand, or restocked late) or still open past the target; pending (not counted)
 * while still open within it. Per day by the day the alert opened.
 */
export function replenishmentAccuracy(
  alerts: readonly StockAlertSample[],
  targetMs: number,
  from: number,
  to: number,
  now: number,
  storeDays: StoreDays,
): ShelfKpis['replenishmentAccuracy'] {
  const days = daysOf(from, to, storeDays);
  const perDay = days.names.map((day) => ({ day, alerts: 0, onTime: 0, pending: 0 }));
  const total = { alerts: 0, onTime: 0, pending: 0 };
  for (const alert of alerts) {
    if (alert.openedAt < from || alert.openedAt > to) continue;
    const day = perDay[days.index(alert.openedAt)] as (typeof perDay)[number];
    if (alert.resolvedAt === undefined && now - alert.openedAt <= targetMs) {
      total.pending++;
      day.pending++;
      continue;
    }
    const onTime = alert.restocked && alert.resolvedAt !== undefined && alert.resolvedAt - alert.openedAt <= targetMs;
    for (const counts of [total, day]) {
      counts.alerts++;
      if (onTime) counts.onTime++;
    }
  }
  return {
    targetMs,
    ...total,
    percent: percentOf(total.onTime, total.alerts),
    perDay: perDay.map((day) => ({ ...day, percent: percentOf(day.onTime, day.alerts) })),
  };
}

/**
 * For each stock-out that began in [from, to]: the `stock-out-predicted` alert of its facing that was open when it
 * began (opened before, not resolved more than PREDICTION_RESOLVE_SLACK_MS before), and how long before it opened.
 * The share of stock-outs predicted, the mean and median lead.
 */
export function predictionLeadTime(
  samples: Pick<ShelfKpiSamples, 'stockOuts' | 'predictions'>,
  from: number,
  to: number,
  storeDays: StoreDays,
): ShelfKpis['predictionLeadTime'] {
  const byFacing = new Map<string, PredictionSample[]>();
  for (const prediction of samples.predictions) {
    const key = facingKeyOf(prediction.shelfId, prediction.facing);
    const list = byFacing.get(key);
    if (list) list.push(prediction);
    else byFacing.set(key, [prediction]);
  }
  const days = daysOf(from, to, storeDays);
  const perDay = days.names.map((day) => ({ day, stockOuts: 0, leads: [] as number[] }));
  const leads: number[] = [];
  let stockOuts = 0;
  for (const out of samples.stockOuts) {
    if (out.startedAt < from || out.startedAt > to) continue;
    stockOuts++;
    const day = perDay[days.index(out.startedAt)] as (typeof perDay)[number];
    day.stockOuts++;
    let earliest: number | undefined;
    for (const prediction of byFacing.get(facingKeyOf(out.shelfId, out.facing)) ?? []) {
      if (prediction.openedAt > out.startedAt) continue;
      if (prediction.resolvedAt !== undefined && prediction.resolvedAt < out.startedAt - PREDICTION_RESOLVE_SLACK_MS) continue;
      earliest = Math.min(earliest ?? prediction.openedAt, prediction.openedAt);
    }
    if (earliest === undefined) continue;
    leads.push(out.startedAt - earliest);
    day.leads.push(out.startedAt - earliest);
  }
  const numbers = (count: number, found: readonly number[]): LeadTimeNumbers => ({
    stockOuts: count,
    predicted: found.length,
    predictedPercent: percentOf(found.length, count),
    meanMs: found.length === 0 ? null : Math.round(found.reduce((sum, ms) => sum + ms, 0) / found.length),
  });
  return {
    ...numbers(stockOuts, leads),
    p50Ms: percentile(leads, 50),
    perDay: perDay.map((day) => ({ day: day.day, ...numbers(day.stockOuts, day.leads) })),
  };
}

/** Every shelf KPI over the window ending at `now`. */
export function computeShelfKpis(
  samples: ShelfKpiSamples,
  replenishTargetMs: number,
  windowMs: number,
  now: number,
  storeDays: StoreDays,
): ShelfKpis {
  const from = now - windowMs;
  return {
    onShelfAvailability: onShelfAvailability(samples, from, now, storeDays),
    stockOuts: stockOutStats(samples.stockOuts, from, now, storeDays),
    replenishmentAccuracy: replenishmentAccuracy(samples.stockAlerts, replenishTargetMs, from, now, now, storeDays),
    predictionLeadTime: predictionLeadTime(samples, from, now, storeDays),
  };
}
