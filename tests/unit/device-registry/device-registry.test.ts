import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DeviceRegistry, diffDevices, InvalidDeviceIdError, unmappedShelfWarning } from '../../../edge/device-registry/device-registry.js';
import type { DeviceLifecycleEvent } from '../../../edge/device-registry/device-source.js';
import type { DeviceRecord } from '../../../edge/device-registry/device-store.js';
import { SqliteDatabase } from '../../../edge/storage/database.js';
import { DeviceExistsError, DeviceStore } from '../../../edge/device-registry/device-store.js';
import { migratedDatabase, type MigratedDatabase } from '../../helpers/migrated-database.js';

let fixture: MigratedDatabase;
let db: SqliteDatabase;
let clock: number;

const registry = (onChange?: (event: DeviceLifecycleEvent) => void) =>
  new DeviceRegistry(new DeviceStore(db), { scryptCost: 1024, now: () => clock, ...(onChange ? { onChange } : {}) });

/** A registry and the lifecycle events it reports. */
function watched(): { devices: DeviceRegistry; events: DeviceLifecycleEvent[] } {
  const events: DeviceLifecycleEvent[] = [];
  return { devices: registry((event) => events.push(event)), events };
}

/** A second connection to the same file, as the CLI in another process has. */
async function otherConnection(): Promise<{ db: SqliteDatabase; devices: DeviceRegistry }> {
  const other = new SqliteDatabase(db.path);
  await other.open();
  const devices = new DeviceRegistry(new DeviceStore(other), { scryptCost: 1024, now: () => clock });
  await devices.start();
  return { db: other, devices };
}

beforeEach(async () => {
  fixture = await migratedDatabase('smartstore-registry-test-');
  db = fixture.db;
  clock = 1_000;
});

afterEach(() => fixture.dispose());

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
    expect(Object.keys(row!).sort()).toEqual([
      'connected',
      'created_at',
      'disabled_at',
      'id',
      'kind',
      'last_seen_at',
      'scrypt_n',
      'secret_hash',
      'secret_salt',
    ]);
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

  it('an unknown id costs no database read: the registry answers from memory', async () => {
    const store = new DeviceStore(db);
    await store.insert(record('known'));
    const calls: string[] = [];
    const counted = new Proxy(store, {
      get(target, property, receiver) {
        const value: unknown = Reflect.get(target, property, receiver);
        return typeof value === 'function'
          ? (...args: unknown[]) => (calls.push(String(property)), (value as (...a: unknown[]) => unknown).apply(target, args))
          : value;
      },
    });
    const devices = new DeviceRegistry(counted, { scryptCost: 1024, now: () => clock });
    await devices.start();
    calls.length = 0;
    expect(await devices.verify('nobody', 'x')).toEqual({ ok: false, reason: 'unknown-device' });
    expect(await devices.verify('known', 'wrong')).toEqual({ ok: false, reason: 'bad-secret' });
    expect(calls).toEqual([]);
  });

  it('a device provisioned through another connection (the CLI) is unknown until the next sync, then verifies', async () => {
    const { devices: running, events } = watched();
    await running.start();
    const cli = await otherConnection();
    try {
      const secret = await cli.devices.provision('late-1', 'kiosk');
      expect(await running.verify('late-1', secret)).toEqual({ ok: false, reason: 'unknown-device' });
      expect(await running.syncWithStore()).toEqual([{ deviceId: 'late-1', kind: 'kiosk', change: 'added' }]);
      expect(events).toEqual([{ deviceId: 'late-1', kind: 'kiosk', change: 'added', at: 1_000 }]);
      expect(await running.verify('late-1', secret)).toMatchObject({ ok: true, device: { id: 'late-1', kind: 'kiosk' } });
      // nothing changed since: nothing reported, and the table is not read again
      expect(await running.syncWithStore()).toEqual([]);
    } finally {
      await cli.db.close();
    }
  });

  it('its own writes are not reported twice by a sync (data_version moves only for other connections)', async () => {
    const { devices, events } = watched();
    await devices.start();
    await devices.provision('s1', 'shelf');
    await devices.disable('s1');
    expect(events.map((e) => e.change)).toEqual(['added', 'disabled']);
    expect(await devices.syncWithStore()).toEqual([]);
    expect(events).toHaveLength(2);
  });

  it('disable refuses the device (even with a remembered secret), enable lets it in again; each reports once', async () => {
    const { devices, events } = watched();
    const secret = await devices.provision('esl-1', 'esl');
    expect((await devices.verify('esl-1', secret)).ok).toBe(true);
    clock = 2_000;
    expect(await devices.disable('esl-1')).toMatchObject({ id: 'esl-1', disabled: true });
    expect(await devices.disable('esl-1')).toMatchObject({ disabled: true }); // again: no change, no event
    expect(await devices.verify('esl-1', secret)).toEqual({ ok: false, reason: 'disabled' });
    expect(devices.isRememberedSecret('esl-1', secret)).toBe(false);
    expect(await db.get('SELECT disabled_at FROM devices WHERE id = ?', ['esl-1'])).toEqual({ disabled_at: 2_000 });
    clock = 3_000;
    expect(await devices.enable('esl-1')).toMatchObject({ disabled: false });
    expect((await devices.verify('esl-1', secret)).ok).toBe(true);
    expect(events).toEqual([
      { deviceId: 'esl-1', kind: 'esl', change: 'added', at: 1_000 },
      { deviceId: 'esl-1', kind: 'esl', change: 'disabled', at: 2_000 },
      { deviceId: 'esl-1', kind: 'esl', change: 'enabled', at: 3_000 },
    ]);
  });

  it('rotate-secret: the old secret (remembered or not) stops working, the new one works, and it survives a restart', async () => {
    const { devices, events } = watched();
    const old = await devices.provision('k1', 'kiosk');
    expect((await devices.verify('k1', old)).ok).toBe(true);
    expect(devices.isRememberedSecret('k1', old)).toBe(true);
    const rotated = await devices.rotateSecret('k1');
    expect(rotated).toMatchObject({ device: { id: 'k1', kind: 'kiosk' }, secret: expect.stringMatching(/^[A-Za-z0-9_-]{32}$/) as string });
    expect(devices.isRememberedSecret('k1', old)).toBe(false);
    expect(await devices.verify('k1', old)).toEqual({ ok: false, reason: 'bad-secret' });
    expect((await devices.verify('k1', rotated!.secret)).ok).toBe(true);
    expect(events.at(-1)).toMatchObject({ deviceId: 'k1', change: 'secret-rotated' });
    const restarted = registry();
    await restarted.start();
    expect(await restarted.verify('k1', old)).toEqual({ ok: false, reason: 'bad-secret' });
    expect((await restarted.verify('k1', rotated!.secret)).ok).toBe(true);
  });

  it('remove forgets the device in memory and in the table', async () => {
    const { devices, events } = watched();
    const secret = await devices.provision('s9', 'shelf');
    expect(await devices.remove('s9')).toMatchObject({ id: 's9', kind: 'shelf' });
    expect(await devices.verify('s9', secret)).toEqual({ ok: false, reason: 'unknown-device' });
    expect(await db.get('SELECT count(*) AS n FROM devices')).toEqual({ n: 0 });
    expect(events.at(-1)).toMatchObject({ deviceId: 's9', change: 'removed' });
  });

  it('an unknown id: every change answers undefined and reports nothing', async () => {
    const { devices, events } = watched();
    await devices.start();
    expect(await devices.disable('nobody')).toBeUndefined();
    expect(await devices.enable('nobody')).toBeUndefined();
    expect(await devices.rotateSecret('nobody')).toBeUndefined();
    expect(await devices.remove('nobody')).toBeUndefined();
    expect(events).toEqual([]);
  });

  it('changes made through another connection are found by a sync: disabled, secret rotated, removed', async () => {
    const { devices: running, events } = watched();
    const secrets = {
      a: await running.provision('a', 'shelf'),
      b: await running.provision('b', 'esl'),
      c: await running.provision('c', 'kiosk'),
    };
    expect((await running.verify('b', secrets.b)).ok).toBe(true);
    running.markSeen('a', 9_000);
    events.length = 0;
    const cli = await otherConnection();
    try {
      await cli.devices.disable('a');
      const rotated = await cli.devices.rotateSecret('b');
      await cli.devices.remove('c');
      expect(await running.syncWithStore()).toEqual([
        { deviceId: 'c', kind: 'kiosk', change: 'removed' },
        { deviceId: 'a', kind: 'shelf', change: 'disabled' },
        { deviceId: 'b', kind: 'esl', change: 'secret-rotated' },
      ]);
      expect(events.map((e) => `${e.deviceId}:${e.change}`)).toEqual(['c:removed', 'a:disabled', 'b:secret-rotated']);
      expect(await running.verify('a', secrets.a)).toEqual({ ok: false, reason: 'disabled' });
      expect(running.get('a')?.lastSeenAt).toBe(9_000); // the newer time in memory is kept
      expect(running.isRememberedSecret('b', secrets.b)).toBe(false);
      expect(await running.verify('b', secrets.b)).toEqual({ ok: false, reason: 'bad-secret' });
      expect((await running.verify('b', rotated!.secret)).ok).toBe(true);
      expect(await running.verify('c', secrets.c)).toEqual({ ok: false, reason: 'unknown-device' });
    } finally {
      await cli.db.close();
    }
  });

  it('a change of a device another connection deleted meanwhile reports it removed, not changed', async () => {
    const { devices: running, events } = watched();
    await running.provision('gone', 'esl');
    const cli = await otherConnection();
    try {
      await cli.devices.remove('gone');
      expect(await running.disable('gone')).toBeUndefined();
      expect(events.map((e) => e.change)).toEqual(['added', 'removed']);
      expect(running.get('gone')).toBeUndefined();
    } finally {
      await cli.db.close();
    }
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

function record(id: string, overrides: Partial<DeviceRecord> = {}): DeviceRecord {
  return {
    id,
    kind: 'shelf',
    secretHash: Buffer.alloc(32, 1),
    secretSalt: Buffer.alloc(16, 2),
    scryptN: 1024,
    createdAt: 1,
    disabledAt: null,
    lastSeenAt: null,
    ...overrides,
  };
}

describe('diffDevices', () => {
  const before = new Map([
    ['same', record('same')],
    ['off', record('off')],
    ['on', record('on', { disabledAt: 5 })],
    ['keyed', record('keyed')],
    ['gone', record('gone', { kind: 'esl' })],
    ['rekind', record('rekind', { kind: 'esl' })],
  ]);

  it('names every change, removals first', () => {
    const after = [
      record('same', { lastSeenAt: 99 }), // last seen is liveness, not a lifecycle change
      record('off', { disabledAt: 7 }),
      record('on'),
      record('keyed', { secretSalt: Buffer.alloc(16, 3) }),
      record('rekind', { kind: 'kiosk' }),
      record('new', { kind: 'kiosk' }),
    ];
    expect(diffDevices(before, after)).toEqual([
      { deviceId: 'gone', kind: 'esl', change: 'removed' },
      { deviceId: 'off', kind: 'shelf', change: 'disabled' },
      { deviceId: 'on', kind: 'shelf', change: 'enabled' },
      { deviceId: 'keyed', kind: 'shelf', change: 'secret-rotated' },
      { deviceId: 'rekind', kind: 'esl', change: 'removed' },
      { deviceId: 'rekind', kind: 'kiosk', change: 'added' },
      { deviceId: 'new', kind: 'kiosk', change: 'added' },
    ]);
  });

  it('nothing changed: nothing', () => {
    expect(
      diffDevices(
        before,
        [...before.values()].map((d) => ({ ...d })),
      ),
    ).toEqual([]);
  });
});

describe('unmappedShelfWarning', () => {
  it('warns for a shelf the planogram does not list, never for labels and kiosks', () => {
    const shelves = new Set(['shelf-a']);
    expect(unmappedShelfWarning('shelf-a', 'shelf', shelves)).toBeUndefined();
    expect(unmappedShelfWarning('shelf-z', 'shelf', shelves)).toMatch(/^shelf shelf-z is not in the planogram/);
    expect(unmappedShelfWarning('esl-1', 'esl', shelves)).toBeUndefined();
  });
});
