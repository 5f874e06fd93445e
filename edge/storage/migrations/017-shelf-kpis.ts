export const name = 'shelf-kpis';

/**
 * The shelf KPIs' samples (edge/kpis/shelf-kpis.ts), so a restart keeps on-shelf availability, stock-outs,
 * replenishment accuracy and prediction lead time. Each table is bounded by the store (oldest rows pruned past a row
 * limit, shelf-kpi-store.ts):
 *  - kpi_watched_facings: since when the gateway knows each facing's units (its facing-time counts from then).
 *  - kpi_stock_outs: a facing at 0 units from started_at until restocked (ended_at; NULL while still empty).
 *  - kpi_stock_alerts: low-stock alerts, opened and how they ended (restocked: 1 when the system's restock resolved it).
 *  - kpi_predictions: stock-out-predicted alerts of a facing, opened and resolved.
 */
export const sql = `
CREATE TABLE kpi_watched_facings (
  shelf_id  TEXT NOT NULL,
  facing    INTEGER NOT NULL,
  since     INTEGER NOT NULL,
  PRIMARY KEY (shelf_id, facing)
);
CREATE TABLE kpi_stock_outs (
  shelf_id    TEXT NOT NULL,
  facing      INTEGER NOT NULL,
  started_at  INTEGER NOT NULL,
  ended_at    INTEGER,
  PRIMARY KEY (shelf_id, facing, started_at)
);
CREATE INDEX kpi_stock_outs_started ON kpi_stock_outs (started_at);
CREATE TABLE kpi_stock_alerts (
  alert_id     TEXT PRIMARY KEY,
  opened_at    INTEGER NOT NULL,
  resolved_at  INTEGER,
  restocked    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX kpi_stock_alerts_opened ON kpi_stock_alerts (opened_at);
CREATE TABLE kpi_predictions (
  alert_id     TEXT PRIMARY KEY,
  shelf_id     TEXT NOT NULL,
  facing       INTEGER NOT NULL,
  opened_at    INTEGER NOT NULL,
  resolved_at  INTEGER
);
CREATE INDEX kpi_predictions_opened ON kpi_predictions (opened_at);
`;
