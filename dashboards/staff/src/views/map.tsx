// The store map (issue 23): shelves where the planogram's layout places them — aisles in walking order, each side's
// shelves from the aisle's start — each facing coloured by its fill and named in words, with its open alerts. Without a
// layout, the shelves as a list of cards. A facing opens its history (units over 24 h or 7 days). The opened facing is
// in the address (`#/map?facing=shelf-01/3`), so a reload or a shared link opens it again.
import { computed } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { facings } from '../live.js';
import { replaceQuery, route } from '../route.js';
import { principal } from '../session.js';
import '../styles/map.css';
import { FacingHistory } from './map/facing-history.js';
import { aisleTitle, LEGEND, mapPlan } from './map/map-model.js';
import { ShelfCard } from './map/shelf-card.js';
import { loadStoreLayout, storeLayout } from './map/store-layout.js';

/** The facings of each shelf, rebuilt only when the set of facings changes (not on every stock event). */
const keysSignature = computed(() => [...facings.value.keys()].join('\n'));
const facingsByShelf = computed(() => {
  const byShelf = new Map<string, number[]>();
  for (const key of keysSignature.value ? keysSignature.value.split('\n') : []) {
    const at = key.lastIndexOf('/');
    const shelfId = key.slice(0, at);
    const list = byShelf.get(shelfId) ?? [];
    list.push(Number(key.slice(at + 1)));
    byShelf.set(shelfId, list);
  }
  for (const list of byShelf.values()) list.sort((a, b) => a - b);
  return byShelf;
});
const plan = computed(() => mapPlan([...facingsByShelf.value.keys()], storeLayout.value));

function openFacing(key: string | null): void {
  const query = new URLSearchParams(route.value.query);
  if (key) query.set('facing', key);
  else query.delete('facing');
  replaceQuery(query);
}

export function MapView() {
  // again once someone signs in: a load refused before (no token yet) left the map without its layout
  const signedIn = principal.value?.name;
  useEffect(() => void loadStoreLayout(), [signedIn]);
  const { aisles, unplaced } = plan.value;
  const byShelf = facingsByShelf.value;
  const opened = route.value.query.get('facing');
  const shelf = (id: string) => <ShelfCard key={id} shelfId={id} facingNumbers={byShelf.get(id) ?? []} onOpen={openFacing} />;
  return (
    <section class="view store-map-view" aria-labelledby="view-heading">
      <h2 id="view-heading" tabIndex={-1}>
        Store map
      </h2>
      <ul class="map-legend" data-testid="map-legend" aria-label="Legend">
        {LEGEND.map((entry) => (
          <li key={entry.level} class="map-legend__item">
            <span class={`map-legend__swatch facing--${entry.level}`} aria-hidden="true" />
            {entry.words}
          </li>
        ))}
        <li class="map-legend__item">Tap or select a facing to see its units over time.</li>
      </ul>
      {opened && facings.value.has(opened) && <FacingHistory key={opened} stockKey={opened} onClose={() => openFacing(null)} />}
      {byShelf.size === 0 && <p class="view__empty">No shelves in the planogram.</p>}
      {aisles.length > 0 && (
        <div class="store-map" data-testid="store-map">
          {aisles.map((aisle) => (
            <section key={aisle.aisle} class="aisle" data-testid="aisle" data-aisle={aisle.aisle} aria-labelledby={`aisle-${aisle.aisle}`}>
              <h3 class="aisle__title" id={`aisle-${aisle.aisle}`}>
                {aisleTitle(aisle)}
              </h3>
              <div class="aisle__sides">
                {(['left', 'right'] as const).map((side) => (
                  <div key={side} class={`aisle__side aisle__side--${side}`}>
                    <p class="aisle__side-name">{side === 'left' ? 'Left side' : 'Right side'}</p>
                    {aisle[side].length === 0 ? <p class="view__empty">No shelves</p> : aisle[side].map(shelf)}
                  </div>
                ))}
              </div>
            </section>
          ))}
        </div>
      )}
      {unplaced.length > 0 && (
        <section class="shelf-list" data-testid="shelves" aria-labelledby="unplaced-heading">
          <h3 id="unplaced-heading" class={aisles.length > 0 ? 'shelf-list__title' : 'visually-hidden'}>
            {aisles.length > 0 ? 'Not placed on the map' : 'Shelves'}
          </h3>
          <div class="shelf-list__cards">{unplaced.map(shelf)}</div>
        </section>
      )}
    </section>
  );
}
