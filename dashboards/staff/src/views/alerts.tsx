// The alerts view: the active alerts on one line each, most urgent first (the server's rule), snoozed ones last,
// filtered by kind, severity, aisle or shelf and state (kept in the hash: a reload keeps them); the alerts resolved
// while the page was open below; an optional chime for a customer waiting at a kiosk.
import { naturalCompare } from '../../../../edge/core/natural-order.js';
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { ALERT_KINDS, type Alert } from '../../../../edge/alerts/alerts.js';
import { plural } from '../format.js';
import { alerts, devices, facingKey, facings, layout, now, recentlyResolved, type FacingStock } from '../live.js';
import { replaceQuery, route } from '../route.js';
import { formatAge, formatDateTime } from '../format.js';
import { pendingWrites } from './alerts/alert-actions.js';
import { ACTIVE_STATES, compareForList, filtersFromQuery, hasFilters, matchesFilters, withFilter } from './alerts/alert-filters.js';
import { foldPredictions } from './alerts/alert-folding.js';
import { AlertRow, displayTitle, type AlertPlace } from './alerts/alert-row.js';
import { KIND_WORDS, STATE_WORDS } from './alerts/alert-words.js';
import { kioskNotifyOn, notificationProblem, setKioskNotify, watchKioskAlerts } from './alerts/kiosk-notify.js';
import '../styles/alerts.css';

/** Rows drawn at once; a longer list (a broken store's hundreds) says how many more and asks for a filter. */
const ROWS_SHOWN_MAX = 200;

type PlaceLookup = (alert: Alert) => AlertPlace;

function placeLookup(): PlaceLookup {
  const stock = facings.value;
  const deviceStates = devices.value;
  const places = layout.value?.places;
  const aisleNames = new Map((layout.value?.aisles ?? []).map((a) => [a.aisle, a.name ?? a.aisle]));
  let bySku: Map<string, FacingStock> | undefined;
  return (alert) => {
    const parts: string[] = [];
    let productName: string | undefined;
    if (alert.shelfId !== undefined) {
      const aisle = places?.get(alert.shelfId)?.aisle;
      if (aisle !== undefined) parts.push(`Aisle ${aisleNames.get(aisle) ?? aisle}`);
      // the server's titles name the shelf already ("… (shelf-a facing 2)"): not twice on one line
      if (!alert.title.includes(alert.shelfId)) {
        parts.push(alert.facing !== undefined ? `${alert.shelfId} · facing ${alert.facing}` : alert.shelfId);
      }
      if (alert.facing !== undefined) productName = stock.get(facingKey(alert.shelfId, alert.facing))?.name;
    }
    if (productName === undefined && alert.sku !== undefined) {
      bySku ??= new Map([...stock.values()].map((s) => [s.sku, s]));
      productName = bySku.get(alert.sku)?.name;
    }
    if (alert.deviceId !== undefined) {
      const device = deviceStates.get(alert.deviceId);
      const what = alert.kind.startsWith('kiosk') ? 'Kiosk' : 'Device';
      const offline = device !== undefined && !device.connected;
      if (offline) parts.push(`${what} ${alert.deviceId} offline`);
      else if (!alert.title.includes(alert.deviceId)) parts.push(`${what} ${alert.deviceId}`);
    }
    return productName === undefined ? { where: parts.join(' · ') } : { productName, where: parts.join(' · ') };
  };
}

function Filters() {
  const query = route.value.query;
  const filters = filtersFromQuery(query);
  const aisles = layout.value?.aisles ?? [];
  const shelfIds = [...new Set([...facings.value.values()].map((s) => s.shelfId))].sort(naturalCompare);
  const set = (name: 'kind' | 'severity' | 'state' | 'where') => (event: Event) =>
    replaceQuery(withFilter(query, name, (event.currentTarget as HTMLSelectElement).value));
  return (
    <form class="filters" role="search" aria-label="Filter alerts" onSubmit={(event) => event.preventDefault()}>
      <label class="filters__field">
        <span>Kind</span>
        <select data-testid="filter-kind" value={filters.kind ?? ''} onChange={set('kind')}>
          <option value="">All kinds</option>
          {ALERT_KINDS.map((kind) => (
            <option key={kind} value={kind}>
              {KIND_WORDS[kind]}
            </option>
          ))}
        </select>
      </label>
      <label class="filters__field">
        <span>Severity</span>
        <select data-testid="filter-severity" value={filters.severity ?? ''} onChange={set('severity')}>
          <option value="">Any</option>
          <option value="critical">Critical</option>
          <option value="warning">Warning</option>
        </select>
      </label>
      <label class="filters__field">
        <span>Where</span>
        <select data-testid="filter-where" value={filters.where ?? ''} onChange={set('where')}>
          <option value="">Everywhere</option>
          {aisles.map((a) => (
            <option key={a.aisle} value={`aisle:${a.aisle}`}>
              Aisle {a.name ?? a.aisle}
            </option>
          ))}
          {shelfIds.map((id) => (
            <option key={id} value={`shelf:${id}`}>
              Shelf {id}
            </option>
          ))}
        </select>
      </label>
      <label class="filters__field">
        <span>State</span>
        <select data-testid="filter-state" value={filters.state ?? ''} onChange={set('state')}>
          <option value="">Any</option>
          {ACTIVE_STATES.map((state) => (
            <option key={state} value={state}>
              {STATE_WORDS[state]}
            </option>
          ))}
        </select>
      </label>
      {hasFilters(filters) && (
        <button type="button" class="button button--quiet" data-testid="filter-clear" onClick={() => replaceQuery(new URLSearchParams())}>
          Clear filters
        </button>
      )}
    </form>
  );
}

function KioskNotifyToggle() {
  const on = kioskNotifyOn.value;
  return (
    <div class="kiosk-notify">
      <button
        type="button"
        class="button button--quiet"
        aria-pressed={on}
        data-testid="kiosk-notify"
        onClick={() => void setKioskNotify(!on)}
      >
        {on ? 'Chime for kiosk customers: on' : 'Chime for kiosk customers: off'}
      </button>
      {on && notificationProblem.value && <span class="kiosk-notify__problem">{notificationProblem.value}</span>}
    </div>
  );
}

function RecentlyResolved({ placeOf }: { placeOf: PlaceLookup }) {
  const resolved = recentlyResolved.value;
  if (resolved.length === 0) return null;
  return (
    <details class="resolved" data-testid="recently-resolved">
      <summary>Recently resolved ({resolved.length})</summary>
      <ol class="resolved__list">
        {resolved.map((alert) => {
          const at = alert.resolvedAt ?? alert.updatedAt;
          return (
            <li key={alert.id} data-alert-id={alert.id} data-testid="resolved-item" data-severity={alert.severity}>
              <span class="resolved__title">{displayTitle(alert, placeOf(alert).productName)}</span>
              {' — resolved'}
              {alert.resolvedBy ? ` by ${alert.resolvedBy} ` : ' '}
              <time dateTime={new Date(at).toISOString()} title={formatDateTime(at)}>
                {formatAge(at, now.value)}
              </time>
            </li>
          );
        })}
      </ol>
    </details>
  );
}

/**
 * Keyboard users keep their place: when the alert whose button had focus leaves the list (resolved, filtered out),
 * focus moves to the alert now in its place, or to the heading when the list is empty — not to the page's start.
 */
function useFocusKeeper(drawnIds: readonly string[]) {
  const list = useRef<HTMLUListElement>(null);
  const focused = useRef<{ alertId: string; index: number } | null>(null);
  const onFocusIn = (event: FocusEvent) => {
    const item = (event.target as HTMLElement).closest<HTMLElement>('[data-testid="alert-item"]');
    const alertId = item?.dataset.alertId;
    if (alertId) focused.current = { alertId, index: drawnIds.indexOf(alertId) };
  };
  const onFocusOut = (event: FocusEvent) => {
    // focus went somewhere else on purpose: nothing to keep
    const to = event.relatedTarget as Node | null;
    if (to && !list.current?.contains(to)) focused.current = null;
  };
  useLayoutEffect(() => {
    const remembered = focused.current;
    if (!remembered || drawnIds.includes(remembered.alertId)) return;
    focused.current = null;
    if (document.activeElement && document.activeElement !== document.body) return;
    const items = list.current?.querySelectorAll<HTMLElement>(':scope > li') ?? [];
    const next = items[Math.min(remembered.index, items.length - 1)];
    (next?.querySelector<HTMLElement>('button') ?? document.getElementById('view-heading'))?.focus();
  });
  return { list, onFocusIn, onFocusOut };
}

export function AlertsView() {
  useEffect(watchKioskAlerts, []);
  const [expanded, setExpanded] = useState<ReadonlySet<string>>(new Set());
  const toggle = useCallback(
    (alertId: string) =>
      setExpanded((current) => {
        const next = new Set(current);
        if (!next.delete(alertId)) next.add(alertId);
        return next;
      }),
    [],
  );

  const filters = filtersFromQuery(route.value.query);
  const placeOf = placeLookup();
  const places = layout.value?.places;
  const all = [...alerts.value.values()];
  const shown = all.filter((alert) => matchesFilters(alert, filters, (shelfId) => places?.get(shelfId)?.aisle)).sort(compareForList);
  // a facing's prediction rides on its low-stock line: one line per thing to do
  const { rows, predictions } = foldPredictions(shown);
  const drawn = rows.slice(0, ROWS_SHOWN_MAX);
  const pending = pendingWrites.value;
  const focusKeeper = useFocusKeeper(drawn.map((alert) => alert.id));

  return (
    <section class="view view--alerts" aria-labelledby="view-heading">
      <div class="view__head">
        <h2 id="view-heading" tabIndex={-1}>
          Alerts
        </h2>
        <KioskNotifyToggle />
      </div>
      <Filters />
      <p class="alerts__count" data-testid="alerts-shown" aria-live="polite">
        {hasFilters(filters)
          ? `${shown.length} of ${plural(all.length, 'active alert')} match the filters`
          : plural(all.length, 'active alert')}
      </p>
      {drawn.length > 0 ? (
        <ul
          class="alerts"
          data-testid="alerts-list"
          ref={focusKeeper.list}
          onFocusIn={focusKeeper.onFocusIn}
          onFocusOut={focusKeeper.onFocusOut}
        >
          {drawn.map((alert) => (
            <AlertRow
              key={alert.id}
              alert={alert}
              place={placeOf(alert)}
              prediction={predictions.get(alert.id)}
              pending={pending.has(alert.id)}
              expanded={expanded.has(alert.id)}
              onToggle={toggle}
            />
          ))}
        </ul>
      ) : (
        <p class="view__empty" data-testid="alerts-empty">
          {all.length === 0 ? 'No active alerts.' : 'No alert matches the filters.'}
        </p>
      )}
      {rows.length > drawn.length && (
        <p class="alerts__more">{plural(rows.length - drawn.length, 'more alert')}: choose a filter to see them.</p>
      )}
      <RecentlyResolved placeOf={placeOf} />
    </section>
  );
}
