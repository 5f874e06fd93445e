/** Migration 004 rebuilds the devices table so a refrigerated case (`case`) can be registered; nothing else changes. */
import { afterEach, describe, expect, it } from 'vitest';
import { migrate } from '../../../edge/storage/migrate.js';
import { MIGRATIONS } from '../../../edge/storage/migrations/index.js';
import { SqliteDatabase } from '../../../edge/storage/database.js';

describe('migration 004: device kind case', () => {
  let db: SqliteDatabase | undefined;
  afterEach(async () => db?.close());

  it('keeps every device row and column, and accepts kind case afterwards (still refusing unknown kinds)', async () => {
    db = new SqliteDatabase(':memory:');
    await db.open();
    await migrate(
      db,
      MIGRATIONS.filter((m) => m.version <= 3),
    );
    await db.run(
      'INSERT INTO devices (id, kind, secret_hash, secret_salt, scrypt_n, created_at, disabled_at, last_seen_at, connected) ' +
        'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ['shelf-01', 'shelf', Buffer.from('hash'), Buffer.from('salt'), 1024, 1, 2, 3, 1],
    );
    await expect(
      db.run(
        "INSERT INTO devices (id, kind, secret_hash, secret_salt, scrypt_n, created_at) VALUES ('case-1', 'case', x'00', x'00', 1024, 1)",
      ),
    ).rejects.toThrow(/CHECK/);

    await migrate(
      db,
      MIGRATIONS.filter((m) => m.version <= 4),
    );
    expect(await db.all('SELECT * FROM devices')).toEqual([
      {
        id: 'shelf-01',
        kind: 'shelf',
        secret_hash: Buffer.from('hash'),
        secret_salt: Buffer.from('salt'),
        scrypt_n: 1024,
        created_at: 1,
        disabled_at: 2,
        last_seen_at: 3,
        connected: 1,
      },
    ]);
    await db.run(
      "INSERT INTO devices (id, kind, secret_hash, secret_salt, scrypt_n, created_at) VALUES ('case-1', 'case', x'00', x'00', 1024, 1)",
    );
    await expect(
      db.run(
        "INSERT INTO devices (id, kind, secret_hash, secret_salt, scrypt_n, created_at) VALUES ('x-1', 'fridge', x'00', x'00', 1024, 1)",
      ),
    ).rejects.toThrow(/CHECK/);
  });
});
