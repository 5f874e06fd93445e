export const name = 'campaigns';

/**
 * The price-campaign board (edge/campaigns/campaign-store.ts), so a restart resumes where the gateway stopped:
 *  - campaigns: one row per kept campaign, its header (state, counts, who, when) as JSON; rowid order is board order.
 *  - campaign_labels: one row per label of a campaign (state, version, attempts, reason) as JSON.
 *  - label_prices: the per-label price book shared by campaigns (versions, in flight, confirmed) as JSON.
 * JSON because the pure state machine owns the shape and the store only keeps it; `state` columns are for people
 * reading the file. Rows are written in batches (per flush), never one transaction per label ack.
 */
export const sql = `
CREATE TABLE campaigns (
  id     TEXT PRIMARY KEY,
  state  TEXT NOT NULL,
  doc    TEXT NOT NULL
);
CREATE TABLE campaign_labels (
  campaign_id  TEXT NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
  label_id     TEXT NOT NULL,
  state        TEXT NOT NULL,
  doc          TEXT NOT NULL,
  PRIMARY KEY (campaign_id, label_id)
) WITHOUT ROWID;
CREATE TABLE label_prices (
  label_id  TEXT PRIMARY KEY,
  doc       TEXT NOT NULL
) WITHOUT ROWID;
`;
