// The planogram's layout (GET /api/shelves: each shelf's place, the aisles in walking order), loaded once per page
// and again on demand: it changes only when store IT loads a new planogram, which restarts the gateway. The live
// stream carries the facings' stock; this only says where the shelves stand. Shared by the map and the pick list.
import { signal } from '@preact/signals';
import { getJson } from '../../api.js';
import type { LayoutAnswer } from './map-model.js';

/** null until loaded (or when it could not be): the map shows shelves as a list meanwhile */
export const storeLayout = signal<LayoutAnswer | null>(null);

let loading: Promise<void> | undefined;

/** Loads the layout unless it is loaded or loading; `force` loads it again (the view's "reload" after a restart). */
export function loadStoreLayout(force = false): Promise<void> {
  if (!force && (storeLayout.value || loading)) return loading ?? Promise.resolve();
  loading = getJson<LayoutAnswer>('/api/shelves')
    .then((answer) => {
      // only the places: the facings' stock comes from live.ts
      storeLayout.value = {
        shelves: answer.shelves.map(({ id, place }) => (place ? { id, place } : { id })),
        ...(answer.aisles ? { aisles: answer.aisles } : {}),
      };
    })
    .catch(() => {
      // refused (api.ts asks for a token) or unreachable (live.ts shows the problem): the list view still works
    })
    .finally(() => (loading = undefined));
  return loading;
}

/** The aisle's name from the layout ("Dairy"), when it has one. */
export function aisleName(aisle: string): string | undefined {
  return storeLayout.value?.aisles?.find((a) => a.aisle === aisle)?.name;
}
