import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import type { DeviceRecord, DeviceStore } from './device-store.js';
import { isValidDeviceId, type DeviceKind } from './topics.js';

export type DeviceSummary = { id: string; kind: DeviceKind; createdAt: number; disabled: boolean; lastSeenAt: number | null };

export type VerifyResult =
  | { ok: true; device: DeviceSummary }
  | { ok: false; reason: 'unknown-device' | 'bad-secret' | 'disabled' };

export class InvalidDeviceIdError extends Error {
  constructor(readonly deviceId: string) {
    super(`invalid device id "${deviceId}": letters, digits, '_', '.', '-', at most 64, starting with a letter or digit`);
    this.name = 'InvalidDeviceIdError';
  }
}

function scryptAsync(secret: string, salt: Buffer, n: number): Promise<Buffer> {
  // maxmem: scrypt needs 128·N·r bytes; leave headroom above Node's 32 MiB default for N = 65536.
  return new Promise((resolve, reject) =>
    scrypt(secret, salt, 32, { N: n, r: 8, p: 1, maxmem: 256 * n * 8 + 1024 * 1024 }, (error, key) => (error ? reject(error) : resolve(key))),
  );
}

function fingerprint(salt: Buffer, secret: string): Buffer {
  return createHash('sha256').update(salt).update(secret).digest();
}

/**
 * Registered devices and their secrets. Secrets are stored as scrypt hashes; the plain secret is returned once,
 * at provisioning. The registry keeps every device in memory (loaded at start) so that a CONNECT never waits for
 * the disk, and remembers a fast fingerprint of the last verified secret so that reconnect storms (a store's Wi-Fi
 * coming back) cost one SHA-256 per device, not one scrypt.
 */
export class DeviceRegistry {
  private readonly devices = new Map<string, DeviceRecord>();
  private readonly verified = new Map<string, Buffer>();
  /** scrypt runs on libuv's thread pool, which SQLite and the file system share: leave them threads */
  private hashing = 0;
  private readonly waitingToHash: Array<() => void> = [];
  private static readonly MAX_CONCURRENT_HASHES = 2;

  constructor(
    private readonly store: DeviceStore,
    private readonly options: { scryptCost: number; now: () => number },
  ) {}

  async start(): Promise<void> {
    this.devices.clear();
    for (const device of await this.store.loadAll()) this.devices.set(device.id, device);
  }

  get size(): number {
    return this.devices.size;
  }

  /** Registers a device and returns its secret (generated when not given). */
  async provision(id: string, kind: DeviceKind, secret: string = randomBytes(24).toString('base64url')): Promise<string> {
    if (!isValidDeviceId(id)) throw new InvalidDeviceIdError(id);
    const salt = randomBytes(16);
    const record: DeviceRecord = {
      id,
      kind,
      secretHash: await scryptAsync(secret, salt, this.options.scryptCost),
      secretSalt: salt,
      scryptN: this.options.scryptCost,
      createdAt: this.options.now(),
      disabledAt: null,
      lastSeenAt: null,
    };
    await this.store.insert(record);
    this.devices.set(id, record);
    return secret;
  }

  async verify(id: string, secret: string): Promise<VerifyResult> {
    // A device provisioned by the CLI while the gateway runs is not in memory yet: one indexed read finds it.
    const device = this.devices.get(id) ?? (await this.loadProvisionedElsewhere(id));
    if (!device) return { ok: false, reason: 'unknown-device' };
    if (device.disabledAt !== null) return { ok: false, reason: 'disabled' };
    if (this.isRememberedSecret(id, secret)) return { ok: true, device: summarize(device) };
    const hash = await this.withHashSlot(() => scryptAsync(secret, device.secretSalt, device.scryptN));
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

  private async loadProvisionedElsewhere(id: string): Promise<DeviceRecord | undefined> {
    if (!isValidDeviceId(id)) return undefined;
    const device = await this.store.get(id);
    if (device) this.devices.set(id, device);
    return device;
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
}

function summarize(device: DeviceRecord): DeviceSummary {
  return { id: device.id, kind: device.kind, createdAt: device.createdAt, disabled: device.disabledAt !== null, lastSeenAt: device.lastSeenAt };
}
