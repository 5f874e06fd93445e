import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DeviceRegistry, InvalidDeviceIdError } from '../../../edge/devices/device-registry.js';
import { SqliteDatabase } from '../../../edge/storage/database.js';
import { DeviceExistsError, DeviceStore } from '../../../edge/devices/device-store.js';
import { migrate } from '../../../edge/storage/migrate.js';

let dir: string;
let db: SqliteDatabase;
let clock: number;

const registry = () => new DeviceRegistry(new DeviceStore(db), { scryptCost: 1024, now: () => clock });

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smartstore-registry-test-'));
  db = new SqliteDatabase(join(dir, 'gateway.db'));
  await db.open();
  await migrate(db);
  clock = 1_000;
});

afterEach(async () => {
  await db.close();
  await rm(dir, { recursive: true, force: true });
});

describe('DeviceRegistry', () => {
  it('provision returns a generated secret that verifies; a wrong one does not', async () => {
    const devices = registry();
    await devices.start();
    const secret = await devices.provision('shelf-01', 'shelf');
    expect(secret).toMatch(/^[A-Za-z0-9_-]{32}$/);
    const summary = { id: 'shelf-01', kind: 'shelf', createdAt: 1_000, disabled: false, lastSeenAt: null };
    expect(await devices.verify('shelf-01', secret)).toEqual({ ok: true, device: summary });
    expect(await devices.verify('shelf-01', secret + 'x')).toEqual({ ok: false, reason: 'bad-secret' });
    expect(await devices.verify('shelf-01', '')).toEqual({ ok: false, reason: 'bad-secret' });
    expect(devices.get('shelf-01')).toEqual(summary);
    expect(devices.list()).toEqual([summary]);
    expect(devices.size).toBe(1);
  });

  it('a given secret is used as is', async () => {
    const devices = registry();
    expect(await devices.provision('esl-1', 'esl', 'my-secret')).toBe('my-secret');
    expect((await devices.verify('esl-1', 'my-secret')).ok).toBe(true);
  });

  it('after a verified secret (cached fingerprint) a wrong one is still refused, and the right one still accepted', async () => {
    const devices = registry();
    const secret = await devices.provision('k1', 'kiosk');
    expect((await devices.verify('k1', secret)).ok).toBe(true);
    expect(await devices.verify('k1', 'guess')).toEqual({ ok: false, reason: 'bad-secret' });
    expect((await devices.verify('k1', secret)).ok).toBe(true);
  });

  it('an unknown or invalid id is unknown-device', async () => {
    const devices = registry();
    await devices.start();
    expect(await devices.verify('nobody', 'x')).toEqual({ ok: false, reason: 'unknown-device' });
    expect(await devices.verify('bad id/+', 'x')).toEqual({ ok: false, reason: 'unknown-device' });
    expect(devices.get('nobody')).toBeUndefined();
  });

  it('the secret is never stored in plain: only a 32-byte scrypt hash and a 16-byte salt', async () => {
    const devices = registry();
    const secret = await devices.provision('shelf-01', 'shelf');
    const row = await db.get<Record<string, unknown>>('SELECT * FROM devices WHERE id = ?', ['shelf-01']);
    expect(Object.keys(row!).sort()).toEqual(['created_at', 'disabled_at', 'id', 'kind', 'last_seen_at', 'scrypt_n', 'secret_hash', 'secret_salt']);
    expect(row!.scrypt_n).toBe(1024);
    const hash = row!.secret_hash as Buffer;
    const salt = row!.secret_salt as Buffer;
    expect(hash).toBeInstanceOf(Buffer);
    expect(hash).toHaveLength(32);
    expect(salt).toHaveLength(16);
    const secretBytes = Buffer.from(secret, 'utf8');
    for (const value of Object.values(row!)) {
      if (Buffer.isBuffer(value)) {
        expect(value.includes(secretBytes)).toBe(false);
        expect(value.toString('base64url')).not.toContain(secret);
      } else expect(String(value)).not.toContain(secret);
    }
  });

  it('the same secret for two devices gives two different hashes (salted)', async () => {
    const devices = registry();
    await devices.provision('a', 'shelf', 'same-secret');
    await devices.provision('b', 'shelf', 'same-secret');
    const rows = await db.all<{ secret_hash: Buffer }>('SELECT secret_hash FROM devices ORDER BY id');
    expect(rows[0]!.secret_hash.equals(rows[1]!.secret_hash)).toBe(false);
  });

  it('refuses an invalid id and a duplicate', async () => {
    const devices = registry();
    await expect(devices.provision('-bad', 'shelf')).rejects.toBeInstanceOf(InvalidDeviceIdError);
    await expect(devices.provision('a/b', 'shelf')).rejects.toMatchObject({ deviceId: 'a/b' });
    await devices.provision('dup', 'esl', 'first');
    await expect(devices.provision('dup', 'esl', 'second')).rejects.toBeInstanceOf(DeviceExistsError);
    expect((await devices.verify('dup', 'first')).ok).toBe(true);
    expect(await devices.verify('dup', 'second')).toEqual({ ok: false, reason: 'bad-secret' });
    expect(await db.get('SELECT count(*) AS n FROM devices')).toEqual({ n: 1 });
  });

  it('a device provisioned through another instance (the CLI) is found by the running one', async () => {
    const running = registry();
    await running.start();
    const cli = registry();
    await cli.start();
    const secret = await cli.provision('late-1', 'kiosk');
    expect(running.get('late-1')).toBeUndefined();
    expect(await running.verify('late-1', secret)).toMatchObject({ ok: true, device: { id: 'late-1', kind: 'kiosk' } });
    expect(running.get('late-1')?.kind).toBe('kiosk');
  });

  it('start loads every stored device; a disabled one is refused as disabled', async () => {
    const first = registry();
    const secret = await first.provision('esl-9', 'esl');
    await first.provision('esl-1', 'esl');
    await new DeviceStore(db).setDisabled('esl-9', 5_000);
    const second = registry();
    await second.start();
    expect(second.list().map((d) => [d.id, d.disabled])).toEqual([
      ['esl-1', false],
      ['esl-9', true],
    ]);
    expect(await second.verify('esl-9', secret)).toEqual({ ok: false, reason: 'disabled' });
  });

  it('markSeen updates lastSeenAt in memory', async () => {
    const devices = registry();
    await devices.provision('s1', 'shelf');
    devices.markSeen('s1', 7_000);
    devices.markSeen('nobody', 7_000);
    expect(devices.get('s1')?.lastSeenAt).toBe(7_000);
  });
});
