// What the store map shows, as plain data: a facing's fill in words, the shelves in the layout's places, a facing's
// history summed up in a sentence. Pure (no signals, no DOM), so it is tested without a browser.
import { naturalCompare } from '../../../../../edge/core/natural-order.js';
import type { Alert } from '../../../../../edge/alerts/alerts.js';

/** A facing's stock as the map reads it (live.ts FacingStock). */
export type FacingFillInput = { units: number | null; capacityUnits: number; lowStockUnits: number; level: string };
export type FillLevel = 'empty' | 'low' | 'ok' | 'unknown';

/** The fill's level and share of capacity (0–1); the words every colour comes with (never colour alone). */
export function facingFill(stock: FacingFillInput): { level: FillLevel; ratio: number } {
  if (stock.units === null) return { level: 'unknown', ratio: 0 };
  const ratio = Math.max(0, Math.min(1, stock.units / Math.max(1, stock.capacityUnits)));
  // `low` follows the gateway's debounced level too: between the marks a facing stays low until restocked
  if (stock.units === 0) return { level: 'empty', ratio };
  if (stock.units <= stock.lowStockUnits || stock.level === 'low') return { level: 'low', ratio };
  return { level: 'ok', ratio };
}

export const FILL_WORDS: Record<FillLevel, string> = { empty: 'Empty', low: 'Low', ok: 'OK', unknown: 'No reading yet' };

/** The legend, in the map's order of concern. */
export const LEGEND: ReadonlyArray<{ level: FillLevel; words: string }> = [
  { level: 'empty', words: 'Empty: no units left' },
  { level: 'low', words: 'Low: at or below its low mark' },
  { level: 'ok', words: 'OK: above its low mark' },
  { level: 'unknown', words: 'No reading yet' },
];

/**
 * Open alerts of each facing, as a short string per "shelfId/facing" ("2 critical"): a primitive, so a facing whose
 * alerts did not change is not drawn again when another's do. Resolved alerts are not in the live map.
 */
export function alertWordsByFacing(alerts: Iterable<Pick<Alert, 'shelfId' | 'facing' | 'severity'>>): Map<string, string> {
  const counts = new Map<string, { n: number; critical: boolean }>();
  for (const alert of alerts) {
    if (alert.shelfId === undefined || alert.facing === undefined) continue;
    const key = `${alert.shelfId}/${alert.facing}`;
    const count = counts.get(key) ?? { n: 0, critical: false };
    count.n += 1;
    count.critical ||= alert.severity === 'critical';
    counts.set(key, count);
  }
  const words = new Map<string, string>();
  for (const [key, { n, critical }] of counts) words.set(key, `${n} open ${n === 1 ? 'alert' : 'alerts'}${critical ? ', critical' : ''}`);
  return words;
}

export type ShelfPlace = { aisle: string; side: 'left' | 'right'; order: number };
export type LayoutAnswer = {
  shelves: ReadonlyArray<{ id: string; place?: ShelfPlace }>;
  aisles?: ReadonlyArray<{ aisle: string; name?: string }>;
};
export type AislePlan = { aisle: string; name?: string; left: string[]; right: string[] };
/** The map's plan: aisles in walking order with each side's shelves in order, and the shelves no aisle holds. */
export type MapPlan = { aisles: AislePlan[]; unplaced: string[] };

/** The plan of `shelfIds` (the live facings' shelves) by the layout; without a layout every shelf is unplaced. */
export function mapPlan(shelfIds: readonly string[], layout: LayoutAnswer | null): MapPlan {
  const places = new Map<string, ShelfPlace>();
  for (const shelf of layout?.shelves ?? []) if (shelf.place) places.set(shelf.id, shelf.place);
  const aisles = (layout?.aisles ?? []).map((a): AislePlan => ({ ...a, left: [], right: [] }));
  const aisleById = new Map(aisles.map((a) => [a.aisle, a]));
  const unplaced: string[] = [];
  for (const id of [...shelfIds].sort(naturalCompare)) {
    const place = places.get(id);
    const aisle = place ? aisleById.get(place.aisle) : undefined;
    if (place && aisle) aisle[place.side].push(id);
    else unplaced.push(id);
  }
  const order = (side: string[]) => side.sort((a, b) => (places.get(a)?.order ?? 0) - (places.get(b)?.order ?? 0));
  for (const aisle of aisles) {
    order(aisle.left);
    order(aisle.right);
  }
  return { aisles: aisles.filter((a) => a.left.length + a.right.length > 0), unplaced };
}

export function aisleTitle(aisle: { aisle: string; name?: string }): string {
  return aisle.name ? `Aisle ${aisle.aisle} · ${aisle.name}` : `Aisle ${aisle.aisle}`;
}

export type HistoryPoint = { at: number; units: number };

/**
 * A facing's history in one sentence, for screen readers and anyone who prefers words to a chart: the range of units
 * over the window, how long it stood empty, and how many times it was refilled.
 */
export function historySummary(points: readonly HistoryPoint[], window: { from: number; to: number }, windowWords: string): string {
  if (points.length === 0) return `No change of units recorded in the ${windowWords}.`;
  let low = Infinity;
  let high = -Infinity;
  let emptyMs = 0;
  let refills = 0;
  points.forEach((point, i) => {
    low = Math.min(low, point.units);
    high = Math.max(high, point.units);
    const until = points[i + 1]?.at ?? window.to;
    if (point.units === 0) emptyMs += Math.max(0, until - Math.max(point.at, window.from));
    const previous = points[i - 1];
    if (previous && point.units > previous.units) refills += 1;
  });
  const last = points[points.length - 1]!.units;
  const parts = [`In the ${windowWords}: between ${low} and ${high} units, ${last} at the last change`];
  parts.push(emptyMs > 0 ? `empty for ${durationWords(emptyMs)}` : 'never empty');
  parts.push(refills === 0 ? 'not refilled' : `refilled ${refills === 1 ? 'once' : `${refills} times`}`);
  return `${parts.join('; ')}.`;
}

function durationWords(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 1) return 'less than a minute';
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
}
