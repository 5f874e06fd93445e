export const name = 'device-liveness-alert-rearm';

/**
 * devices.connected: whether a device was connected at the last flush, so `device list` in the CLI (another process)
 * can show it while the gateway runs; reset when the gateway starts.
 * alert_silences: a low-stock alert resolved by hand while its facing was still low stays silent until the facing
 * empties or `lowStock.rearmAfterMs` passes — across restarts.
 */
export const sql = `
ALTER TABLE devices ADD COLUMN connected INTEGER NOT NULL DEFAULT 0;

CREATE TABLE alert_silences (
  key          TEXT PRIMARY KEY,
  silenced_at  INTEGER NOT NULL
);
`;
