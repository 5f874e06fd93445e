export const name = 'kpis';

/**
 * The KPI samples (edge/kpis), so a restart keeps the numbers `GET /api/kpis` shows. Each table is bounded by the
 * store (oldest rows pruned past a row limit):
 *  - kpi_replenish: one row per low-stock alert resolved by a restock (opened → resolved).
 *  - kpi_campaigns: one row per price campaign, its latest confirmed/failed label counts.
 *  - kpi_mismatch_days: price-mismatch alerts opened per UTC day.
 */
export const sql = `
CREATE TABLE kpi_replenish (
  alert_id     TEXT PRIMARY KEY,
  shelf_id     TEXT,
  facing       INTEGER,
  opened_at    INTEGER NOT NULL,
  resolved_at  INTEGER NOT NULL
);
CREATE INDEX kpi_replenish_resolved ON kpi_replenish (resolved_at);
CREATE TABLE kpi_campaigns (
  campaign_id  TEXT PRIMARY KEY,
  confirmed    INTEGER NOT NULL,
  failed       INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL
);
CREATE TABLE kpi_mismatch_days (
  day    TEXT PRIMARY KEY,
  count  INTEGER NOT NULL
);
`;
