/**
 * Watches the files an open SQLite connection writes: a database or WAL file deleted or replaced under the running
 * gateway (a careless cleanup script, a restore over a running store) goes unnoticed by SQLite, which keeps writing
 * to the descriptors it holds — and after the next restart the store is empty. Every few seconds each file's device
 * and inode are compared with what was opened; a change makes storage health fail with a critical log line (once).
 * The same tick notes the free space of the data dir's disk, for health and the disk-full answer.
 */
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Logger } from 'pino';
import { freeBytesOf } from './disk-full.js';

type FileId = { dev: number; ino: number };

/** Pure: what changed between the file opened and the file now at its path, if anything. */
export function fileChange(file: string, opened: FileId | undefined, now: FileId | undefined): string | undefined {
  if (opened === undefined) return undefined;
  if (now === undefined) return `${basename(file)} was deleted under the running gateway`;
  if (now.dev !== opened.dev || now.ino !== opened.ino) return `${basename(file)} was replaced under the running gateway`;
  return undefined;
}

async function fileId(file: string): Promise<FileId | undefined> {
  try {
    const found = await stat(file);
    return { dev: found.dev, ino: found.ino };
  } catch {
    return undefined;
  }
}

export class DatabaseWatch {
  private readonly opened = new Map<string, FileId | undefined>();
  private timer: NodeJS.Timeout | undefined;
  private checking = false;
  /** the first change seen; stays until restart (the open connection writes to the lost file from then on) */
  problem: string | undefined;
  freeBytes: number | undefined;

  constructor(
    private readonly files: readonly string[],
    private readonly dataDir: string,
    private readonly intervalMs: number,
    private readonly log: Logger,
  ) {}

  /** Records the files as opened now (call after the database is open and its WAL exists). */
  async start(): Promise<void> {
    for (const file of this.files) this.opened.set(file, await fileId(file));
    await this.measureFreeSpace();
    this.timer = setInterval(() => void this.check(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  async check(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      await this.measureFreeSpace();
      if (this.problem !== undefined) return;
      for (const file of this.files) {
        const now = await fileId(file);
        // a file missing at start (no WAL yet) is watched from the moment it appears
        if (this.opened.get(file) === undefined) this.opened.set(file, now);
        const change = fileChange(file, this.opened.get(file), now);
        if (change === undefined) continue;
        this.problem =
          `${change}: writes from now on are lost at the next restart; stop the gateway and restore the data dir ` + 'from a backup';
        this.log.fatal({ file, dataDir: this.dataDir }, this.problem);
        return;
      }
    } finally {
      this.checking = false;
    }
  }

  private async measureFreeSpace(): Promise<void> {
    this.freeBytes = await freeBytesOf(this.dataDir);
  }
}
