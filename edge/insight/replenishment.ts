/**
 * The pick list a clerk takes to the backroom: facings to restock now, most urgent first — empty, then predicted to
 * run out (soonest first), then low — each with the units that fill it to capacity. Pure.
 */
import { naturalCompare } from '../core/natural-order.js';

export type ReplenishmentFacing = {
  shelfId: string;
  facing: number;
  sku: string;
  name: string;
  /** null while the facing's units are unknown: it is not listed (a pick list of guesses sends clerks for nothing) */
  units: number | null;
  capacityUnits: number;
  lowStockUnits: number;
  /** the aisle from the planogram's layout, when it has one */
  aisle?: string;
};

export type Urgency = 'empty' | 'predicted' | 'low';

export type PickLine = {
  shelfId: string;
  facing: number;
  sku: string;
  name: string;
  aisle?: string;
  urgency: Urgency;
  units: number;
  /** what fills the facing to capacity */
  unitsToBring: number;
  /** for a predicted facing: when it is expected to run out */
  emptyAt?: number;
};

const URGENCY_ORDER: Record<Urgency, number> = { empty: 0, predicted: 1, low: 2 };

/**
 * Every facing of every shelf, each with its shelf's aisle when the planogram's layout places the shelf (`aisleOf`):
 * what the pick list groups by. Shelves the layout leaves out keep no aisle (their lines come last).
 */
export function facingsWithAisles<F extends Omit<ReplenishmentFacing, 'aisle'>>(
  shelves: ReadonlyArray<{ id: string; facings: readonly F[] }>,
  aisleOf: (shelfId: string) => string | undefined,
): Array<F & { aisle?: string }> {
  return shelves.flatMap((shelf) => {
    const aisle = aisleOf(shelf.id);
    return aisle === undefined ? shelf.facings : shelf.facings.map((f) => ({ ...f, aisle }));
  });
}

/**
 * Facings to restock, ordered by urgency; `predictedEmptyAt` holds the facings with an open stock-out prediction
 * (key `shelfId/facing`). `limit` bounds the list (a pick list of 2,000 lines helps nobody; the API pages).
 */
export function pickList(facings: Iterable<ReplenishmentFacing>, predictedEmptyAt: ReadonlyMap<string, number>, limit: number): PickLine[] {
  const lines: PickLine[] = [];
  for (const f of facings) {
    if (f.units === null) continue;
    const emptyAt = predictedEmptyAt.get(`${f.shelfId}/${f.facing}`);
    const urgency: Urgency | undefined =
      f.units === 0 ? 'empty' : emptyAt !== undefined ? 'predicted' : f.units <= f.lowStockUnits ? 'low' : undefined;
    if (urgency === undefined) continue;
    const line: PickLine = {
      shelfId: f.shelfId,
      facing: f.facing,
      sku: f.sku,
      name: f.name,
      urgency,
      units: f.units,
      unitsToBring: Math.max(0, f.capacityUnits - f.units),
    };
    if (f.aisle !== undefined) line.aisle = f.aisle;
    if (urgency === 'predicted') line.emptyAt = emptyAt;
    lines.push(line);
  }
  lines.sort(
    (a, b) =>
      URGENCY_ORDER[a.urgency] - URGENCY_ORDER[b.urgency] ||
      (a.emptyAt ?? 0) - (b.emptyAt ?? 0) ||
      a.units - b.units ||
      naturalCompare(a.shelfId, b.shelfId) ||
      a.facing - b.facing,
  );
  return lines.slice(0, limit);
}

/** The same lines grouped by aisle (lines without one under `null`), each group in the list's order, aisles by name. */
export function byAisle(lines: readonly PickLine[]): Array<{ aisle: string | null; lines: PickLine[] }> {
  const groups = new Map<string | null, PickLine[]>();
  for (const line of lines) {
    const key = line.aisle ?? null;
    const group = groups.get(key) ?? [];
    group.push(line);
    groups.set(key, group);
  }
  return [...groups]
    .sort(([a], [b]) => (a === null ? 1 : b === null ? -1 : naturalCompare(a, b)))
    .map(([aisle, group]) => ({ aisle, lines: group }));
}
