// A facing's stock-out prediction and its low-stock alert tell the person restocking it one thing: the list shows
// them on one line, the low-stock alert's (it carries the buttons), with the prediction's "will run out by 14:35"
// under its title. Both stay alerts of their own on the server (the KPIs time the prediction); only the list folds.
import type { Alert } from '../../../../../edge/alerts/alerts.js';
import { facingKey } from '../../../../../edge/planogram/planogram.js';

export type FoldedAlerts = {
  /** the alerts to draw, in the order given, without the predictions folded into a low-stock line */
  rows: Alert[];
  /** low-stock alert id → the stock-out prediction of the same facing, shown on its line */
  predictions: ReadonlyMap<string, Alert>;
};

/** Folds each stock-out prediction into the low-stock alert of its facing, when both are among `alerts`. */
export function foldPredictions(alerts: readonly Alert[]): FoldedAlerts {
  const lowStock = new Map<string, Alert>();
  for (const alert of alerts) {
    if (alert.kind === 'low-stock' && alert.shelfId !== undefined && alert.facing !== undefined)
      lowStock.set(facingKey(alert.shelfId, alert.facing), alert);
  }
  const predictions = new Map<string, Alert>();
  const rows = alerts.filter((alert) => {
    if (alert.kind !== 'stock-out-predicted' || alert.shelfId === undefined || alert.facing === undefined) return true;
    const low = lowStock.get(facingKey(alert.shelfId, alert.facing));
    if (low === undefined) return true;
    predictions.set(low.id, alert);
    return false;
  });
  return { rows, predictions };
}
