import { mkdir, open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';

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
 * exists (kill -9, power cut) is taken over.
 */
export class DataDirLock {
  readonly file: string;
  private held = false;

  constructor(dataDir: string) {
    this.file = join(dataDir, 'gateway.lock');
  }

  async acquire(): Promise<void> {
    await mkdir(join(this.file, '..'), { recursive: true });
    // bounded: a stale lock is removed once, then the exclusive create decides
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const handle = await open(this.file, 'wx', 0o644);
        await handle.writeFile(`${process.pid}\n`);
        await handle.close();
        this.held = true;
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
  }

  async release(): Promise<void> {
    if (!this.held) return;
    this.held = false;
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
