// Product names by sku, from the shelves the page knows: a label's price is for a product people know by name. A
// computed signal that keeps its map while the names stay the same, so a stock event (units changed) does not make
// every campaign card render again.
import { computed } from '@preact/signals';
import { facings } from '../../live.js';

let last: ReadonlyMap<string, string> = new Map();

function sameEntries(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [sku, name] of a) if (b.get(sku) !== name) return false;
  return true;
}

export const productNames = computed<ReadonlyMap<string, string>>(() => {
  const next = new Map<string, string>();
  for (const facing of facings.value.values()) next.set(facing.sku, facing.name);
  if (!sameEntries(next, last)) last = next;
  return last;
});
