/**
 * Hourly per-facing weight aggregates for HQ (count, min, max, mean weightG): raw readings never leave the store.
 * `record` is on the hot path of every shelf reading (hundreds of thousands a second under load), so it allocates
 * nothing: one Map lookup by shelf id, then an array slot by facing number, updated in place. Only facings declared up
 * front (the planogram's, at most `maxFacings`) have a record; readings of others are counted and ignored, so nothing
 * a device sends grows the state.
 */

/** Facing numbers are 1..64 (see the shelf/weight schema). */
const MAX_FACING = 64;

type FacingAggregate = { count: number; minG: number; maxG: number; sumG: number };

export type FacingHour = { facing: number; count: number; minWeightG: number; maxWeightG: number; meanWeightG: number };

/** One shelf's hour: what `store.telemetry.hourly` carries. */
export type ShelfHour = { shelfId: string; hourStart: string; hourEnd: string; facings: FacingHour[] };

export const HOUR_MS = 3_600_000;

/** The start of the hour `now` falls in (UTC). */
export function hourStartOf(now: number): number {
  return now - (((now % HOUR_MS) + HOUR_MS) % HOUR_MS);
}

export class HourlyWeightAggregates {
  private shelves = new Map<string, (FacingAggregate | undefined)[]>();
  private facingCount = 0;
  /** readings of facings without a record (not in the planogram, or beyond the bound) */
  ignored = 0;

  constructor(private readonly maxFacings: number) {}

  /** Declares the facings to aggregate (the planogram's); keeps the current hour's figures of those that stay. */
  setFacings(facings: Iterable<{ shelfId: string; facing: number }>): void {
    const next = new Map<string, (FacingAggregate | undefined)[]>();
    let count = 0;
    for (const { shelfId, facing } of facings) {
      if (count >= this.maxFacings) break;
      if (!Number.isInteger(facing) || facing < 1 || facing > MAX_FACING) continue;
      let slots = next.get(shelfId);
      if (!slots) next.set(shelfId, (slots = new Array<FacingAggregate | undefined>(MAX_FACING + 1).fill(undefined)));
      if (slots[facing]) continue;
      slots[facing] = this.shelves.get(shelfId)?.[facing] ?? { count: 0, minG: 0, maxG: 0, sumG: 0 };
      count++;
    }
    this.shelves = next;
    this.facingCount = count;
  }

  get facings(): number {
    return this.facingCount;
  }

  /** The hot path: no allocation. */
  record(shelfId: string, facing: number, weightG: number): void {
    const aggregate = this.shelves.get(shelfId)?.[facing];
    if (aggregate === undefined) {
      this.ignored++;
      return;
    }
    if (aggregate.count === 0) {
      aggregate.minG = weightG;
      aggregate.maxG = weightG;
    } else {
      if (weightG < aggregate.minG) aggregate.minG = weightG;
      if (weightG > aggregate.maxG) aggregate.maxG = weightG;
    }
    aggregate.count++;
    aggregate.sumG += weightG;
  }

  /**
   * Ends the hour [hourStart, hourStart + 1 h): returns each shelf with readings (facings without readings are left
   * out) and starts the next hour from zero.
   */
  takeHour(hourStart: number): ShelfHour[] {
    const start = new Date(hourStart).toISOString();
    const end = new Date(hourStart + HOUR_MS).toISOString();
    const out: ShelfHour[] = [];
    for (const [shelfId, slots] of this.shelves) {
      const facings: FacingHour[] = [];
      for (let facing = 1; facing <= MAX_FACING; facing++) {
        const a = slots[facing];
        if (a === undefined || a.count === 0) continue;
        facings.push({
          facing,
          count: a.count,
          minWeightG: a.minG,
          maxWeightG: a.maxG,
          meanWeightG: Math.round((a.sumG / a.count) * 10) / 10,
        });
        a.count = 0;
        a.sumG = 0;
      }
      if (facings.length > 0) out.push({ shelfId, hourStart: start, hourEnd: end, facings });
    }
    return out;
  }
}
