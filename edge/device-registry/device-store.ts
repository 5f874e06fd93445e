import type { DeviceKind } from './topics.js';
import type { SqliteDatabase, TransactionScope, TransactionStep } from '../storage/database.js';
import type { WriteSet } from '../storage/write-behind.js';

export type DeviceRecord = {
  id: string;
  kind: DeviceKind;
  secretHash: Buffer;
  secretSalt: Buffer;
  scryptN: number;
  createdAt: number;
  disabledAt: number | null;
  lastSeenAt: number | null;
};

type DeviceRow = {
  id: string;
  kind: DeviceKind;
  secret_hash: Buffer;
  secret_salt: Buffer;
  scrypt_n: number;
  created_at: number;
  disabled_at: number | null;
  last_seen_at: number | null;
  connected: number;
};

/** What `device list` shows: the registry's view plus the liveness the running gateway last wrote. */
export type StoredDeviceStatus = { id: string; kind: DeviceKind; disabled: boolean; connected: boolean; lastSeenAt: number | null };

export class DeviceExistsError extends Error {
  constructor(readonly deviceId: string) {
    super(`device ${deviceId} is already registered`);
    this.name = 'DeviceExistsError';
  }
}

export class DeviceStore {
  constructor(private readonly db: SqliteDatabase) {}

  /**
   * Each change runs in its own transaction with `withChange` (the audit entry of who made it), which runs only when the
   * change took effect: the device and its entry are both on disk, or neither is.
   */
  private change(statement: (tx: TransactionScope) => Promise<boolean>, withChange: TransactionStep | undefined): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const changed = await statement(tx);
      if (changed && withChange) await withChange(tx);
      return changed;
    });
  }

  async insert(device: DeviceRecord, withChange?: TransactionStep): Promise<void> {
    try {
      await this.change(async (tx) => {
        await tx.run(
          `INSERT INTO devices (id, kind, secret_hash, secret_salt, scrypt_n, created_at, disabled_at, last_seen_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
          [
            device.id,
            device.kind,
            device.secretHash,
            device.secretSalt,
            device.scryptN,
            device.createdAt,
            device.disabledAt,
            device.lastSeenAt,
          ],
        );
        return true;
      }, withChange);
    } catch (error) {
      if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT') throw new DeviceExistsError(device.id);
      throw error;
    }
  }

  async loadAll(): Promise<DeviceRecord[]> {
    const rows = await this.db.all<DeviceRow>('SELECT * FROM devices ORDER BY id');
    return rows.map(toRecord);
  }

  async get(id: string): Promise<DeviceRecord | undefined> {
    const row = await this.db.get<DeviceRow>('SELECT * FROM devices WHERE id = ?', [id]);
    return row ? toRecord(row) : undefined;
  }

  setDisabled(id: string, disabledAt: number | null, withChange?: TransactionStep): Promise<boolean> {
    return this.change(
      async (tx) => (await tx.run('UPDATE devices SET disabled_at = ? WHERE id = ?', [disabledAt, id])).changes > 0,
      withChange,
    );
  }

  setSecret(
    id: string,
    secret: { secretHash: Buffer; secretSalt: Buffer; scryptN: number },
    withChange?: TransactionStep,
  ): Promise<boolean> {
    const sql = 'UPDATE devices SET secret_hash = ?, secret_salt = ?, scrypt_n = ? WHERE id = ?';
    return this.change(
      async (tx) => (await tx.run(sql, [secret.secretHash, secret.secretSalt, secret.scryptN, id])).changes > 0,
      withChange,
    );
  }

  remove(id: string, withChange?: TransactionStep): Promise<boolean> {
    return this.change(async (tx) => (await tx.run('DELETE FROM devices WHERE id = ?', [id])).changes > 0, withChange);
  }

  async listStatus(): Promise<StoredDeviceStatus[]> {
    const rows = await this.db.all<Pick<DeviceRow, 'id' | 'kind' | 'disabled_at' | 'connected' | 'last_seen_at'>>(
      'SELECT id, kind, disabled_at, connected, last_seen_at FROM devices ORDER BY id',
    );
    return rows.map((row) => ({
      id: row.id,
      kind: row.kind,
      disabled: row.disabled_at !== null,
      connected: row.connected === 1,
      lastSeenAt: row.last_seen_at,
    }));
  }

  /**
   * SQLite's `PRAGMA data_version` (`SqliteDatabase.dataVersion`): it changes only when another process (the CLI)
   * commits to the file, never for the gateway's own writes. Polling it is how the running gateway
   * notices store IT's changes without reading the devices table.
   */
  dataVersion(): Promise<number> {
    return this.db.dataVersion();
  }
}

function toRecord(row: DeviceRow): DeviceRecord {
  return {
    id: row.id,
    kind: row.kind,
    secretHash: row.secret_hash,
    secretSalt: row.secret_salt,
    scryptN: row.scrypt_n,
    createdAt: row.created_at,
    disabledAt: row.disabled_at,
    lastSeenAt: row.last_seen_at,
  };
}

/** What liveness persists of a device: when it was last seen and whether it is connected. */
export type DeviceLastSeen = { deviceId: string; lastSeenAt: number; connected: boolean };

/** Write-behind set of last-seen times (one row per device and flush, not per message). */
export const lastSeenWrites: WriteSet<DeviceLastSeen> = {
  name: 'device-last-seen',
  write: (tx, values) =>
    tx.runMany(
      'UPDATE devices SET last_seen_at = ?, connected = ? WHERE id = ?',
      values.map((v) => [v.lastSeenAt, v.connected ? 1 : 0, v.deviceId]),
    ),
};
