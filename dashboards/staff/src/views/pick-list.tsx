// The pick list (issue 24): the facings to restock now — empty, predicted to run out, low — with the units that fill
// each to capacity and the product's name, grouped by aisle when the planogram has a layout. It follows the store:
// fetched again shortly after stock or alerts change (debounced: a busy store does not fetch per reading) and every
// minute. Printed, it is a plain list on paper (styles/pick-list.css).
import { effect, useSignal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { ApiError, getJson } from '../api.js';
import { formatClock } from '../format.js';
import { alerts, facings, storeInfo } from '../live.js';
import { replaceQuery, route } from '../route.js';
import { principal } from '../session.js';
import '../styles/pick-list.css';
import { aisleTitle } from './map/map-model.js';
import { aisleName, loadStoreLayout } from './map/store-layout.js';
import { settledRefresh } from '../settled-refresh.js';
import { pickGroups, totalWords, urgencyWords, type PickListAnswer, type PickOrder } from './pick-list/pick-list-model.js';

const REFRESH_AFTER_CHANGE_MS = 2_000;
/** a store that never goes quiet for 2 s still gets a fresh list this often */
const REFRESH_AT_MOST_AFTER_MS = 10_000;
const REFRESH_EVERY_MS = 60_000;
const MAX_LINES = 200;
const ORDERS: ReadonlyArray<{ order: PickOrder; label: string }> = [
  { order: 'aisle', label: 'By aisle' },
  { order: 'urgency', label: 'Most urgent first' },
];

/** The clerk's choice, kept in the address (`#/pick-list?order=urgency`). */
function setOrder(order: PickOrder): void {
  const query = new URLSearchParams(route.value.query);
  if (order === 'aisle') query.delete('order');
  else query.set('order', order);
  replaceQuery(query);
}

export function PickListView() {
  const answer = useSignal<PickListAnswer | null>(null);
  const problem = useSignal<string | null>(null);

  // the aisles' names; again once someone signs in (a load refused before left none)
  const signedIn = principal.value?.name;
  useEffect(() => void loadStoreLayout(), [signedIn]);

  useEffect(() => {
    let controller: AbortController | undefined;
    const load = () => {
      controller?.abort();
      const mine = (controller = new AbortController());
      getJson<PickListAnswer>(`/api/replenishment?limit=${MAX_LINES}`, { signal: mine.signal })
        .then((body) => {
          answer.value = body;
          problem.value = null;
        })
        .catch((error: unknown) => {
          if (mine.signal.aborted) return;
          problem.value =
            error instanceof ApiError && error.status === 503
              ? 'The pick list needs store insight, which is switched off on this gateway (insight.enabled).'
              : `Could not load the pick list: ${error instanceof Error ? error.message : String(error)}`;
        });
    };
    const refresh = settledRefresh(load, REFRESH_AFTER_CHANGE_MS, REFRESH_AT_MOST_AFTER_MS);
    let first = true;
    // any stock or alert change: one fetch once the store has been quiet for a moment
    const stopWatching = effect(() => {
      void facings.value;
      void alerts.value;
      if (first) {
        first = false;
        load();
        return;
      }
      refresh.changed();
    });
    const every = setInterval(load, REFRESH_EVERY_MS);
    return () => {
      stopWatching();
      refresh.cancel();
      clearInterval(every);
      controller?.abort();
    };
  }, []);

  const body = answer.value;
  const order: PickOrder = route.value.query.get('order') === 'urgency' ? 'urgency' : 'aisle';
  const hasAisles = (body?.aisles?.length ?? 0) > 0;
  const grouped = hasAisles && order === 'aisle';
  const groups = body ? pickGroups(body, order) : [];
  return (
    <section class="view pick-list" aria-labelledby="view-heading">
      <div class="pick-list__head">
        <h2 id="view-heading" tabIndex={-1}>
          Pick list
        </h2>
        <button type="button" class="button pick-list__print" data-testid="pick-list-print" onClick={() => window.print()}>
          Print
        </button>
      </div>
      {hasAisles && (
        <div class="pick-list__orders" role="group" aria-label="Order of the list">
          {ORDERS.map((o) => (
            <button
              key={o.order}
              type="button"
              class="button"
              data-testid={`pick-order-${o.order}`}
              aria-pressed={o.order === order}
              onClick={() => setOrder(o.order)}
            >
              {o.label}
            </button>
          ))}
        </div>
      )}
      {problem.value && (
        <p class="pick-list__problem" role="status">
          {problem.value}
        </p>
      )}
      {body && (
        <p class="pick-list__summary" data-testid="pick-list-summary">
          {groups.length === 0 ? 'Nothing to restock right now.' : `${totalWords(groups)}.`}
          {` Store ${storeInfo.value?.storeId ?? ''}, as of ${formatClock(body.at)}.`}
        </p>
      )}
      {!body && !problem.value && <p class="view__empty">Loading the pick list…</p>}
      {groups.map((group) => (
        <section
          key={group.aisle ?? '-'}
          class="pick-list__group"
          data-testid="pick-group"
          data-aisle={group.aisle ?? ''}
          aria-labelledby={grouped ? `pick-aisle-${group.aisle ?? 'none'}` : 'view-heading'}
        >
          {grouped && (
            <h3 class="pick-list__aisle" id={`pick-aisle-${group.aisle ?? 'none'}`}>
              {group.aisle === null ? 'Shelves not on the map' : aisleTitle({ aisle: group.aisle, name: aisleName(group.aisle) })}
            </h3>
          )}
          <ol class="pick-list__lines">
            {group.lines.map((line) => (
              <li
                key={`${line.shelfId}/${line.facing}`}
                class={`pick-line pick-line--${line.urgency}`}
                data-testid="pick-line"
                data-urgency={line.urgency}
                data-shelf-id={line.shelfId}
                data-facing={line.facing}
              >
                <span class="pick-line__check" aria-hidden="true" />
                <span class="pick-line__urgency">{urgencyWords(line, formatClock)}</span>
                <span class="pick-line__product">{line.name}</span>
                <span class="pick-line__bring">
                  Bring <strong>{line.unitsToBring}</strong>
                </span>
                <span class="pick-line__where">
                  {!grouped && line.aisle !== undefined && `aisle ${line.aisle}, `}
                  {`shelf ${line.shelfId}, facing ${line.facing} · ${line.units} on the shelf · sku ${line.sku}`}
                </span>
              </li>
            ))}
          </ol>
        </section>
      ))}
    </section>
  );
}
