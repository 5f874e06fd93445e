export const name = 'label-sightings';

/**
 * What the labels room last heard of each label (edge/labels/label-sightings-store.ts): which driver carried it, when
 * it was seen, its battery and the price it showed. Written in batches; read back at start so that, after a restart,
 * a label behind an MQTT access point still has its driver before the AP reports it again (a resumed campaign queues
 * its price there instead of failing "no driver"), and label health keeps its last-seen times.
 */
export const sql = `
CREATE TABLE label_sightings (
  label_id               TEXT PRIMARY KEY,
  driver_id              TEXT,
  tracked_since          INTEGER NOT NULL,
  last_seen_at           INTEGER,
  battery_mv             INTEGER,
  displayed_price_cents  INTEGER
);
`;
