// One alert on one line: what (the product's name first), where, how long ago, its state, and its buttons; the
// details open on demand. Memoised: an event about another alert does not re-render this one.
import { memo } from 'preact/compat';
import type { Alert } from '../../../../../edge/alerts/alerts.js';
import { formatAge, formatClock, formatDateTime, plural } from '../../format.js';
import { now } from '../../live.js';
import { ACTIONS, ACTIONS_BY_STATE, runAlertAction } from './alert-actions.js';
import { KIND_WORDS, SEVERITY_WORDS, STATE_WORDS } from './alert-words.js';

/** What the list knows about an alert's place, looked up once per render of the list. */
export type AlertPlace = {
  /** the product's name, when the alert is about a facing or a sku the planogram knows */
  productName?: string;
  /** "Aisle Drinks · Shelf shelf-a · facing 1" or "Kiosk kiosk-9 (offline)" */
  where: string;
};

export function displayTitle(alert: Pick<Alert, 'title'>, productName: string | undefined): string {
  return productName && !alert.title.includes(productName) ? `${productName}: ${alert.title}` : alert.title;
}

function Age({ at }: { at: number }) {
  return (
    <time dateTime={new Date(at).toISOString()} title={formatDateTime(at)}>
      {formatAge(at, now.value)}
    </time>
  );
}

function Details({ alert, id }: { alert: Alert; id: string }) {
  return (
    <dl class="alert__details" id={id} data-testid="alert-details">
      <dt>Kind</dt>
      <dd>{KIND_WORDS[alert.kind] ?? alert.kind}</dd>
      <dt>Opened</dt>
      <dd>{formatDateTime(alert.openedAt)}</dd>
      {alert.sku !== undefined && (
        <>
          <dt>SKU</dt>
          <dd>{alert.sku}</dd>
        </>
      )}
      {alert.deviceId !== undefined && (
        <>
          <dt>Device</dt>
          <dd>{alert.deviceId}</dd>
        </>
      )}
      {typeof alert.units === 'number' && (
        <>
          <dt>On the shelf</dt>
          <dd>{plural(alert.units, 'unit')}</dd>
        </>
      )}
      {alert.acknowledgedBy !== undefined && (
        <>
          <dt>Acknowledged by</dt>
          <dd>
            {alert.acknowledgedBy}
            {alert.acknowledgedAt !== undefined && ` at ${formatClock(alert.acknowledgedAt)}`}
          </dd>
        </>
      )}
      {alert.state === 'snoozed' && alert.snoozedUntil !== undefined && (
        <>
          <dt>Snoozed until</dt>
          <dd>{formatClock(alert.snoozedUntil)}</dd>
        </>
      )}
      <dt>Alert id</dt>
      <dd class="alert__id">{alert.id}</dd>
    </dl>
  );
}

type RowProps = {
  alert: Alert;
  place: AlertPlace;
  /** the stock-out prediction of the same facing, folded into this low-stock line (alert-folding.ts) */
  prediction?: Alert | undefined;
  pending: boolean;
  expanded: boolean;
  onToggle: (alertId: string) => void;
};

function AlertRowView({ alert, place, prediction, pending, expanded, onToggle }: RowProps) {
  const title = displayTitle(alert, place.productName);
  const detailsId = `alert-details-${alert.id}`;
  return (
    <li
      class={`alert alert--${alert.severity} alert--${alert.state}`}
      data-testid="alert-item"
      data-alert-id={alert.id}
      data-state={alert.state}
      data-kind={alert.kind}
      data-severity={alert.severity}
      aria-busy={pending ? 'true' : undefined}
    >
      <div class="alert__line">
        <button
          type="button"
          class="alert__summary"
          aria-expanded={expanded}
          aria-controls={expanded ? detailsId : undefined}
          data-testid="alert-expand"
          onClick={() => onToggle(alert.id)}
        >
          <span class={`alert__severity alert__severity--${alert.severity}`}>{SEVERITY_WORDS[alert.severity]}</span>
          <span class="alert__title">{title}</span>
          {prediction && (
            <span class="alert__prediction" data-testid="alert-prediction" data-alert-id={prediction.id}>
              {prediction.title}
            </span>
          )}
          {place.where && <span class="alert__where">{place.where}</span>}
          <span class="alert__age">
            <Age at={alert.openedAt} />
          </span>
          <span class={`badge badge--${alert.state}`}>
            {STATE_WORDS[alert.state]}
            {alert.state === 'snoozed' && alert.snoozedUntil !== undefined && ` until ${formatClock(alert.snoozedUntil)}`}
          </span>
        </button>
        <div class="alert__actions" role="group" aria-label={`Actions for ${title}`}>
          {ACTIONS_BY_STATE[alert.state].map((action) => (
            <button
              key={action}
              type="button"
              class={`button button--${action}`}
              data-testid={ACTIONS[action].testId}
              data-action={action}
              // not `disabled`: that would drop keyboard focus while the write is in flight
              aria-disabled={pending ? 'true' : undefined}
              onClick={() => void runAlertAction(alert.id, action)}
            >
              {ACTIONS[action].label}
            </button>
          ))}
        </div>
      </div>
      {expanded && <Details alert={alert} id={detailsId} />}
    </li>
  );
}

function samePlace(a: AlertPlace, b: AlertPlace): boolean {
  return a.productName === b.productName && a.where === b.where;
}

export const AlertRow = memo(
  AlertRowView,
  (previous, next) =>
    previous.alert === next.alert &&
    previous.prediction === next.prediction &&
    previous.pending === next.pending &&
    previous.expanded === next.expanded &&
    previous.onToggle === next.onToggle &&
    samePlace(previous.place, next.place),
);
