import type { SqliteDatabase, SqlValue } from '../storage/database.js';
import type { WriteSet } from '../storage/write-behind.js';
import type { AlertRepository } from './alert-service.js';
import { isActive, type Alert, type AlertKind } from './alerts.js';

type AlertRow = {
  id: string;
  kind: string;
  key: string;
  state: string;
  severity: string;
  title: string;
  shelf_id: string | null;
  facing: number | null;
  sku: string | null;
  device_id: string | null;
  units: number | null;
  opened_at: number;
  updated_at: number;
  acknowledged_at: number | null;
  acknowledged_by: string | null;
  snoozed_until: number | null;
  resolved_at: number | null;
  resolved_by: string | null;
  resolution: string | null;
};

const COLUMNS = [
  'id',
  'kind',
  'key',
  'state',
  'severity',
  'title',
  'shelf_id',
  'facing',
  'sku',
  'device_id',
  'units',
  'opened_at',
  'updated_at',
  'acknowledged_at',
  'acknowledged_by',
  'snoozed_until',
  'resolved_at',
  'resolved_by',
  'resolution',
] as const;

const UPSERT_ALERT_SQL = `INSERT INTO alerts (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')})
  ON CONFLICT (id) DO UPDATE SET ${COLUMNS.filter((c) => c !== 'id')
    .map((c) => `${c} = excluded.${c}`)
    .join(', ')}`;

function alertToRow(alert: Alert): SqlValue[] {
  return [
    alert.id,
    alert.kind,
    alert.key,
    alert.state,
    alert.severity,
    alert.title,
    alert.shelfId ?? null,
    alert.facing ?? null,
    alert.sku ?? null,
    alert.deviceId ?? null,
    alert.units ?? null,
    alert.openedAt,
    alert.updatedAt,
    alert.acknowledgedAt ?? null,
    alert.acknowledgedBy ?? null,
    alert.snoozedUntil ?? null,
    alert.resolvedAt ?? null,
    alert.resolvedBy ?? null,
    alert.resolution ?? null,
  ];
}

function rowToAlert(row: AlertRow): Alert {
  const alert: Alert = {
    id: row.id,
    kind: row.kind as Alert['kind'],
    key: row.key,
    state: row.state as Alert['state'],
    severity: row.severity as Alert['severity'],
    title: row.title,
    openedAt: row.opened_at,
    updatedAt: row.updated_at,
  };
  if (row.shelf_id !== null) alert.shelfId = row.shelf_id;
  if (row.facing !== null) alert.facing = row.facing;
  if (row.sku !== null) alert.sku = row.sku;
  if (row.device_id !== null) alert.deviceId = row.device_id;
  if (row.units !== null) alert.units = row.units;
  if (row.acknowledged_at !== null) alert.acknowledgedAt = row.acknowledged_at;
  if (row.acknowledged_by !== null) alert.acknowledgedBy = row.acknowledged_by;
  if (row.snoozed_until !== null) alert.snoozedUntil = row.snoozed_until;
  if (row.resolved_at !== null) alert.resolvedAt = row.resolved_at;
  if (row.resolved_by !== null) alert.resolvedBy = row.resolved_by;
  if (row.resolution !== null) alert.resolution = row.resolution;
  return alert;
}

/**
 * Write-behind set of alert changes. The database allows one active alert per key: if an older alert's resolution was
 * given up while the disk was refusing writes, its row is still active, and the newer alert supersedes it instead of
 * failing every flush. Past the pending bound, the oldest resolved alerts' final states are given up first.
 */
export const alertWrites: WriteSet<Alert> = {
  name: 'alerts',
  async write(tx, alerts) {
    await tx.runMany(
      `UPDATE alerts SET state = 'resolved', resolution = 'superseded', resolved_at = ?, updated_at = ?
       WHERE key = ? AND id <> ? AND state <> 'resolved'`,
      alerts.filter(isActive).map((a) => [a.updatedAt, a.updatedAt, a.key, a.id]),
    );
    await tx.runMany(UPSERT_ALERT_SQL, alerts.map(alertToRow));
  },
  evictable: (alert) => !isActive(alert),
};

/** Reads alerts from SQLite. Writes go through the write-behind writer (`alertWrites`), batched with other changes. */
export class AlertStore implements AlertRepository {
  constructor(private readonly db: SqliteDatabase) {}

  async loadActive(): Promise<Alert[]> {
    const rows = await this.db.all<AlertRow>("SELECT * FROM alerts WHERE state <> 'resolved' ORDER BY opened_at");
    return rows.map(rowToAlert);
  }

  async get(id: string): Promise<Alert | undefined> {
    const row = await this.db.get<AlertRow>('SELECT * FROM alerts WHERE id = ?', [id]);
    return row ? rowToAlert(row) : undefined;
  }

  async listResolved(options: { kind?: AlertKind; limit: number }): Promise<Alert[]> {
    const rows = options.kind
      ? await this.db.all<AlertRow>("SELECT * FROM alerts WHERE state = 'resolved' AND kind = ? ORDER BY resolved_at DESC LIMIT ?", [
          options.kind,
          options.limit,
        ])
      : await this.db.all<AlertRow>("SELECT * FROM alerts WHERE state = 'resolved' ORDER BY resolved_at DESC LIMIT ?", [options.limit]);
    return rows.map(rowToAlert);
  }
}
