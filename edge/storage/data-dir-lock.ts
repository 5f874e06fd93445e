import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';

export class DataDirLockedError extends Error {
  constructor(
    readonly lockFile: string,
    readonly pid: number,
  ) {
    super(`data dir is in use by another gateway (pid ${pid}, lock ${lockFile}): stop it first, or give this one another dataDir`);
    this.name = 'DataDirLockedError';
  }
}

/** Whether a process with this pid exists (signal 0 checks without signalling). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * One gateway per data dir: two gateways on one SQLite file would each believe they own the devices, alerts and
 * outbox. The lock is a file holding the owner's pid, created exclusively; a lock left by a process that no longer
 * exists (kill -9, power cut) is taken over. Within one process (tests, a demo starting two gateways) the locks it
 * holds are remembered, so a second gateway on the same dir is refused there too, while a file naming this pid that
 * no lock here holds (a container's pid 1 after a restart) is stale.
 */
export class DataDirLock {
  /** lock files held by this process, absolute */
  private static readonly heldHere = new Set<string>();
  readonly file: string;
  private held = false;

  constructor(dataDir: string) {
    this.file = resolve(dataDir, 'gateway.lock');
  }

  async acquire(): Promise<void> {
    // claimed before the first await, so two acquires in this process cannot both pass
    if (DataDirLock.heldHere.has(this.file)) throw new DataDirLockedError(this.file, process.pid);
    DataDirLock.heldHere.add(this.file);
    try {
      await this.create();
      this.held = true;
    } catch (error) {
      DataDirLock.heldHere.delete(this.file);
      throw error;
    }
  }

  private async create(): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true });
    // The pid is written to a private file first and hard-linked into place: the lock appears with its content, so
    // another gateway starting at the same moment never reads an empty lock and takes it for a stale one.
    const draft = `${this.file}.${process.pid}.${randomBytes(4).toString('hex')}`;
    await writeFile(draft, `${process.pid}\n`, { mode: 0o644 });
    try {
      // bounded: a stale lock is removed once, then the exclusive link decides
      for (let attempt = 0; attempt < 2; attempt++) {
        try {
          await link(draft, this.file);
          return;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        }
        const owner = await DataDirLock.owner(this.file);
        if (owner !== undefined && owner !== process.pid && isAlive(owner)) throw new DataDirLockedError(this.file, owner);
        await unlink(this.file).catch(() => undefined);
      }
      const owner = (await DataDirLock.owner(this.file)) ?? -1;
      throw new DataDirLockedError(this.file, owner);
    } finally {
      await unlink(draft).catch(() => undefined);
    }
  }

  async release(): Promise<void> {
    if (!this.held) return;
    this.held = false;
    DataDirLock.heldHere.delete(this.file);
    await unlink(this.file).catch(() => undefined);
  }

  /** The pid of the gateway running on a data dir, if one runs (the CLI asks this). */
  static async runningGateway(dataDir: string): Promise<number | undefined> {
    const owner = await DataDirLock.owner(join(dataDir, 'gateway.lock'));
    return owner !== undefined && isAlive(owner) ? owner : undefined;
  }

  private static async owner(file: string): Promise<number | undefined> {
    const text = await readFile(file, 'utf8').catch(() => undefined);
    const pid = text === undefined ? NaN : Number.parseInt(text.trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  }
}
