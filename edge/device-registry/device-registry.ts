import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import type { TransactionStep } from '../storage/database.js';
import type { DeviceLifecycleChange, DeviceLifecycleEvent } from './device-source.js';
import type { DeviceRecord, DeviceStore } from './device-store.js';
import { isValidDeviceId, type DeviceKind } from './topics.js';

export type DeviceSummary = { id: string; kind: DeviceKind; createdAt: number; disabled: boolean; lastSeenAt: number | null };

export type VerifyResult = { ok: true; device: DeviceSummary } | { ok: false; reason: 'unknown-device' | 'bad-secret' | 'disabled' };

export class InvalidDeviceIdError extends Error {
  constructor(readonly deviceId: string) {
    super(`invalid device id "${deviceId}": letters, digits, '_', '.', '-', at most 64, starting with a letter or digit`);
    this.name = 'InvalidDeviceIdError';
  }
}

function scryptAsync(secret: string, salt: Buffer, n: number): Promise<Buffer> {
  // maxmem: scrypt needs 128·N·r bytes; leave headroom above Node's 32 MiB default for N = 65536.
  return new Promise((resolve, reject) =>
    scrypt(secret, salt, 32, { N: n, r: 8, p: 1, maxmem: 256 * n * 8 + 1024 * 1024 }, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
}

/** A change of one device, as found by comparing two views of the registry. */
export type DeviceChange = { deviceId: string; kind: DeviceKind; change: DeviceLifecycleChange };

/**
 * What changed from the devices in memory (`before`) to those in the store (`after`): added, removed, disabled,
 * enabled, secret rotated. A device removed and registered again with another kind is a removal and an addition;
 * with the same kind, a new secret. Pure, so the running gateway and tests agree on what another process did.
 */
export function diffDevices(before: ReadonlyMap<string, DeviceRecord>, after: readonly DeviceRecord[]): DeviceChange[] {
  const changes: DeviceChange[] = [];
  const seen = new Set<string>();
  for (const device of after) seen.add(device.id);
  for (const [id, device] of before) if (!seen.has(id)) changes.push({ deviceId: id, kind: device.kind, change: 'removed' });
  for (const device of after) {
    const was = before.get(device.id);
    const change = (change: DeviceLifecycleChange) => changes.push({ deviceId: device.id, kind: device.kind, change });
    if (!was) {
      change('added');
      continue;
    }
    if (was.kind !== device.kind) {
      changes.push({ deviceId: device.id, kind: was.kind, change: 'removed' });
      change('added');
      continue;
    }
    if (!was.secretSalt.equals(device.secretSalt) || !was.secretHash.equals(device.secretHash)) change('secret-rotated');
    if (was.disabledAt === null && device.disabledAt !== null) change('disabled');
    if (was.disabledAt !== null && device.disabledAt === null) change('enabled');
  }
  return changes;
}

/**
 * Why a new registration deserves a second look: a shelf whose id is not a shelf of the planogram is accepted (the
 * planogram may follow), but until it does, its readings match no facing and are counted as unknown.
 */
export function unmappedShelfWarning(id: string, kind: DeviceKind, planogramShelves: ReadonlySet<string>): string | undefined {
  if (kind !== 'shelf' || planogramShelves.has(id)) return undefined;
  return (
    `shelf ${id} is not in the planogram: its readings are ignored (counted as unknown facings) ` +
    'until the planogram lists a shelf with this id'
  );
}

function fingerprint(salt: Buffer, secret: string): Buffer {
  return createHash('sha256').update(salt).update(secret).digest();
}

/**
 * Registered devices and their secrets. Secrets are stored as scrypt hashes; the plain secret is returned once,
 * at provisioning or rotation. The registry keeps every device in memory (loaded at start) so that a CONNECT never
 * waits for the disk — an unknown id costs a map lookup, never a read — and remembers a fast fingerprint of the last
 * verified secret so that reconnect storms (a store's Wi-Fi coming back) cost one SHA-256 per device, not one scrypt.
 *
 * Changes made through this instance are written, applied in memory and reported through `onChange`. Changes another
 * process made to the same file (the CLI) are picked up by `syncWithStore()`, which the running gateway polls.
 * Changes and syncs run one at a time, so a sync never compares memory with a snapshot taken before a change.
 */
export class DeviceRegistry {
  private readonly devices = new Map<string, DeviceRecord>();
  private readonly verified = new Map<string, Buffer>();
  /** scrypt runs on libuv's thread pool, which SQLite and the file system share: leave them threads */
  private hashing = 0;
  private readonly waitingToHash: Array<() => void> = [];
  private static readonly MAX_CONCURRENT_HASHES = 2;
  private changing: Promise<unknown> = Promise.resolve();
  private storeVersion: number | undefined;

  constructor(
    private readonly store: DeviceStore,
    private readonly options: { scryptCost: number; now: () => number; onChange?: (event: DeviceLifecycleEvent) => void },
  ) {}

  async start(): Promise<void> {
    await this.oneAtATime(async () => {
      // the version first: a commit between the two reads is then seen (again) by the next sync, never missed
      this.storeVersion = await this.store.dataVersion();
      this.devices.clear();
      this.verified.clear();
      for (const device of await this.store.loadAll()) this.devices.set(device.id, device);
    });
  }

  get size(): number {
    return this.devices.size;
  }

  /**
   * Registers a device and returns its secret (generated when not given). `withChange` (every change method takes one)
   * commits in the same transaction as the change: the audit entry of who made it.
   */
  async provision(id: string, kind: DeviceKind, secret: string = newSecret(), withChange?: TransactionStep): Promise<string> {
    if (!isValidDeviceId(id)) throw new InvalidDeviceIdError(id);
    const hashed = await this.hash(secret);
    return this.oneAtATime(async () => {
      const record: DeviceRecord = { id, kind, ...hashed, createdAt: this.options.now(), disabledAt: null, lastSeenAt: null };
      await this.store.insert(record, withChange);
      this.devices.set(id, record);
      this.report({ deviceId: id, kind, change: 'added' });
      return secret;
    });
  }

  /** Refuses the device's connections from now on; undefined when there is no such device. */
  disable(id: string, withChange?: TransactionStep): Promise<DeviceSummary | undefined> {
    return this.update(id, async (device) => {
      if (device.disabledAt !== null) return undefined;
      const disabledAt = this.options.now();
      return (await this.store.setDisabled(id, disabledAt, withChange))
        ? { record: { ...device, disabledAt }, change: 'disabled' }
        : 'gone';
    });
  }

  enable(id: string, withChange?: TransactionStep): Promise<DeviceSummary | undefined> {
    return this.update(id, async (device) => {
      if (device.disabledAt === null) return undefined;
      return (await this.store.setDisabled(id, null, withChange)) ? { record: { ...device, disabledAt: null }, change: 'enabled' } : 'gone';
    });
  }

  /** Gives the device a new secret (returned once); the old one stops working at once. */
  async rotateSecret(
    id: string,
    secret: string = newSecret(),
    withChange?: TransactionStep,
  ): Promise<{ device: DeviceSummary; secret: string } | undefined> {
    if (!this.devices.has(id)) return undefined;
    const hashed = await this.hash(secret);
    const device = await this.update(id, async (current) =>
      (await this.store.setSecret(id, hashed, withChange)) ? { record: { ...current, ...hashed }, change: 'secret-rotated' } : 'gone',
    );
    return device ? { device, secret } : undefined;
  }

  /** Forgets the device; undefined when there was none. */
  async remove(id: string, withChange?: TransactionStep): Promise<DeviceSummary | undefined> {
    return this.oneAtATime(async () => {
      const device = this.devices.get(id);
      if (!device) return undefined;
      await this.store.remove(id, withChange);
      this.forget(device);
      return summarize(device);
    });
  }

  /**
   * Applies what another process (the CLI) committed to the devices table since the last look, and reports each
   * change. Costs one `PRAGMA data_version` when nothing changed; reloads the table only when something did.
   */
  syncWithStore(): Promise<DeviceChange[]> {
    return this.oneAtATime(async () => {
      const version = await this.store.dataVersion();
      if (version === this.storeVersion) return [];
      this.storeVersion = version;
      const stored = await this.store.loadAll();
      const changes = diffDevices(this.devices, stored);
      if (changes.length === 0) return changes;
      const changed = new Set(changes.map((change) => change.deviceId));
      for (const change of changes) if (change.change === 'removed') this.devices.delete(change.deviceId);
      // unchanged devices keep their record, so a verify under way for them is not started again
      for (const device of stored) {
        if (!changed.has(device.id)) continue;
        // last-seen times reach the table a flush late: the one in memory is at least as new
        const seenAt = Math.max(device.lastSeenAt ?? 0, this.devices.get(device.id)?.lastSeenAt ?? 0);
        this.devices.set(device.id, { ...device, lastSeenAt: seenAt === 0 ? null : seenAt });
      }
      for (const change of changes) {
        if (change.change !== 'added' && change.change !== 'enabled') this.verified.delete(change.deviceId);
        this.report(change);
      }
      return changes;
    });
  }

  async verify(id: string, secret: string): Promise<VerifyResult> {
    const device = this.devices.get(id);
    if (!device) return { ok: false, reason: 'unknown-device' };
    if (device.disabledAt !== null) return { ok: false, reason: 'disabled' };
    if (this.isRememberedSecret(id, secret)) return { ok: true, device: summarize(device) };
    const hash = await this.withHashSlot(() => scryptAsync(secret, device.secretSalt, device.scryptN));
    // disabled, re-keyed or removed while the hash ran: decide on what the device is now
    if (this.devices.get(id) !== device) return this.verify(id, secret);
    if (hash.length !== device.secretHash.length || !timingSafeEqual(hash, device.secretHash)) return { ok: false, reason: 'bad-secret' };
    this.verified.set(id, fingerprint(device.secretSalt, secret));
    return { ok: true, device: summarize(device) };
  }

  /** Runs a hash when one of the few slots is free; the queue is bounded by the broker's connection limit. */
  private async withHashSlot<T>(hash: () => Promise<T>): Promise<T> {
    // a finishing hash hands its slot straight to the next in line, so a newcomer cannot take it in between
    if (this.hashing >= DeviceRegistry.MAX_CONCURRENT_HASHES) await new Promise<void>((resolve) => this.waitingToHash.push(resolve));
    else this.hashing++;
    try {
      return await hash();
    } finally {
      const next = this.waitingToHash.shift();
      if (next) next();
      else this.hashing--;
    }
  }

  /** Whether `secret` is the one last verified for this device: a SHA-256 comparison, cheap enough for a throttle. */
  isRememberedSecret(id: string, secret: string): boolean {
    const remembered = this.verified.get(id);
    const device = this.devices.get(id);
    return remembered !== undefined && device !== undefined && timingSafeEqual(remembered, fingerprint(device.secretSalt, secret));
  }

  get(id: string): DeviceSummary | undefined {
    const device = this.devices.get(id);
    return device ? summarize(device) : undefined;
  }

  list(): DeviceSummary[] {
    return [...this.devices.values()].map(summarize);
  }

  markSeen(id: string, at: number): void {
    const device = this.devices.get(id);
    if (device) device.lastSeenAt = at;
  }

  private async hash(secret: string): Promise<Pick<DeviceRecord, 'secretHash' | 'secretSalt' | 'scryptN'>> {
    const salt = randomBytes(16);
    const n = this.options.scryptCost;
    return { secretHash: await this.withHashSlot(() => scryptAsync(secret, salt, n)), secretSalt: salt, scryptN: n };
  }

  /**
   * One change of a known device: `apply` writes it and returns the new record, undefined when there is nothing to
   * change, or 'gone' when the row was deleted by another process the last sync has not seen yet.
   */
  private update(
    id: string,
    apply: (device: DeviceRecord) => Promise<{ record: DeviceRecord; change: DeviceLifecycleChange } | 'gone' | undefined>,
  ): Promise<DeviceSummary | undefined> {
    return this.oneAtATime(async () => {
      const device = this.devices.get(id);
      if (!device) return undefined;
      const outcome = await apply(device);
      if (outcome === undefined) return summarize(device);
      if (outcome === 'gone') {
        this.forget(device);
        return undefined;
      }
      // a new record object: a verify that hashed against the old one notices and starts again
      this.devices.set(id, outcome.record);
      this.verified.delete(id);
      this.report({ deviceId: id, kind: device.kind, change: outcome.change });
      return summarize(outcome.record);
    });
  }

  private forget(device: DeviceRecord): void {
    this.devices.delete(device.id);
    this.verified.delete(device.id);
    this.report({ deviceId: device.id, kind: device.kind, change: 'removed' });
  }

  private report(change: DeviceChange): void {
    this.options.onChange?.({ ...change, at: this.options.now() });
  }

  private oneAtATime<T>(work: () => Promise<T>): Promise<T> {
    const result = this.changing.then(work);
    this.changing = result.catch(() => undefined);
    return result;
  }
}

function newSecret(): string {
  return randomBytes(24).toString('base64url');
}

function summarize(device: DeviceRecord): DeviceSummary {
  return {
    id: device.id,
    kind: device.kind,
    createdAt: device.createdAt,
    disabled: device.disabledAt !== null,
    lastSeenAt: device.lastSeenAt,
  };
}
