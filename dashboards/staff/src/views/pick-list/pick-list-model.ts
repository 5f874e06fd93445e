// The pick list as the page shows it: GET /api/replenishment's lines in their groups (by aisle when the planogram has
// a layout), each line's urgency in words. Pure.
import type { PickLine } from '../../../../../edge/insight/replenishment.js';
/** A line of GET /api/replenishment: the server's own type (edge/insight/replenishment.ts). */
export type { PickLine };
export type PickListAnswer = { at: number; lines: PickLine[]; aisles?: Array<{ aisle: string | null; lines: PickLine[] }> };
export type PickGroup = { aisle: string | null; lines: PickLine[] };

export type PickOrder = 'aisle' | 'urgency';

/**
 * The groups to show: by aisle when the answer has them and the clerk walks the store that way, else one group of
 * every line, most urgent first (the answer's order).
 */
export function pickGroups(answer: PickListAnswer, order: PickOrder = 'aisle'): PickGroup[] {
  if (order === 'aisle' && answer.aisles) return answer.aisles;
  return answer.lines.length > 0 ? [{ aisle: null, lines: answer.lines }] : [];
}

/** What a clerk reads first on a line: why it is on the list. */
export function urgencyWords(line: PickLine, clock: (ms: number) => string): string {
  if (line.urgency === 'empty') return 'Empty';
  if (line.urgency === 'predicted') return line.emptyAt === undefined ? 'Runs out soon' : `Runs out about ${clock(line.emptyAt)}`;
  return 'Low';
}

/** "12 units to bring in 3 aisles" for the list's heading line. */
export function totalWords(groups: readonly PickGroup[]): string {
  let lines = 0;
  let units = 0;
  for (const group of groups) {
    lines += group.lines.length;
    for (const line of group.lines) units += line.unitsToBring;
  }
  const facings = `${lines} ${lines === 1 ? 'facing' : 'facings'}`;
  return `${facings} to restock, ${units} ${units === 1 ? 'unit' : 'units'} to bring`;
}
