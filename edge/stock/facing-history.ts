/**
 * A facing's units over time, for the staff page's charts: what is recorded (one point per facing and minute in which
 * its units changed) and how a window is cut down to what a chart can draw. Pure.
 */

export type HistoryPoint = { at: number; units: number };

/** A facing's units as the history keeps them: the last value of `minute`, reached at `at`. */
export type FacingHistoryRow = { shelfId: string; facing: number; minute: number; at: number; units: number };

export const HISTORY_MINUTE_MS = 60_000;
/** What a chart a few hundred pixels wide can show; more points are drawn on top of each other. */
export const MAX_HISTORY_POINTS = 500;

export function historyMinute(at: number): number {
  return Math.floor(at / HISTORY_MINUTE_MS);
}

/**
 * The row to record for a facing whose stock changed, or undefined when its units did not (a level or source change,
 * units still unknown). The caller keys it by facing and minute, so changes within one minute coalesce to the last.
 */
export function historyRow(
  view: { shelfId: string; facing: number; units: number | null; updatedAt: number | null },
  previousUnits: number | null,
): FacingHistoryRow | undefined {
  if (view.units === null || view.updatedAt === null || view.units === previousUnits) return undefined;
  return { shelfId: view.shelfId, facing: view.facing, minute: historyMinute(view.updatedAt), at: view.updatedAt, units: view.units };
}

/** The write-behind key of a row: one per facing and minute. */
export function historyKey(row: FacingHistoryRow): string {
  return `${row.shelfId}/${row.facing}@${row.minute}`;
}

/**
 * The points of the window `[from, to]` for a chart: `before` is the last point before the window (the units the
 * facing had when it began; it is drawn at `from`), `points` those inside it in time order. Past `maxPoints`, the
 * window is cut into `maxPoints / 2` equal spans and each keeps its lowest and its highest point, in time order: an
 * empty facing (the thing staff look for) never disappears between two full ones, as it would by averaging.
 */
export function chartPoints(
  before: HistoryPoint | undefined,
  points: readonly HistoryPoint[],
  window: { from: number; to: number },
  maxPoints = MAX_HISTORY_POINTS,
): HistoryPoint[] {
  // a point of the window's first minute that came before `from` is what the facing held as the window began
  let start = before;
  const inside: HistoryPoint[] = [];
  for (const point of points) {
    if (point.at < window.from) start = point;
    else inside.push(point);
  }
  const all = start ? [{ at: window.from, units: start.units }, ...inside] : inside;
  if (all.length <= maxPoints) return all;
  const spans = Math.max(1, Math.floor(maxPoints / 2));
  const spanMs = (window.to - window.from + 1) / spans;
  const kept: HistoryPoint[] = [];
  let span = -1;
  let low: HistoryPoint | undefined;
  let high: HistoryPoint | undefined;
  const keep = (): void => {
    if (!low || !high) return;
    if (low === high) kept.push(low);
    else kept.push(...(low.at <= high.at ? [low, high] : [high, low]));
  };
  for (const point of all) {
    const index = Math.min(spans - 1, Math.max(0, Math.floor((point.at - window.from) / spanMs)));
    if (index !== span) {
      keep();
      span = index;
      low = high = point;
    } else {
      if (point.units < (low as HistoryPoint).units) low = point;
      if (point.units > (high as HistoryPoint).units) high = point;
    }
  }
  keep();
  return kept;
}
