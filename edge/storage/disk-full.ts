/**
 * A full disk, said so: SQLite's SQLITE_FULL ("database or disk is full") and the file system's ENOSPC become one
 * message that names the disk and the data dir and how much is free, for the HTTP answer (507) and for health.
 */
import { readFile, realpath, statfs } from 'node:fs/promises';

const MAX_CAUSE_DEPTH = 8;

/** Whether the error (or what caused it: group commits and stores wrap storage errors) is a full disk. */
export function isDiskFull(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < MAX_CAUSE_DEPTH && current !== undefined && current !== null; depth++) {
    const { code, message } = current as { code?: unknown; message?: unknown };
    if (code === 'SQLITE_FULL' || code === 'ENOSPC') return true;
    if (typeof message === 'string' && /database or disk is full|no space left on device/i.test(message)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

/** Pure: the one sentence store IT reads. `disk`: the device and mount point, when known. */
export function diskFullMessage(dataDir: string, disk: string | undefined, freeBytes: number | undefined): string {
  const free = freeBytes === undefined ? 'free space unknown' : `${formatBytes(freeBytes)} free`;
  return (
    `the disk holding the data dir ${dataDir}${disk ? ` (${disk})` : ''} is full (${free}): ` +
    'changes are refused until space is freed there; what was acknowledged before is kept'
  );
}

/** Pure: the mount (from /proc/mounts lines) holding `path`: the longest mount point that is a prefix of it. */
export function mountOf(mounts: string, path: string): string | undefined {
  let best: { device: string; point: string } | undefined;
  for (const line of mounts.split('\n')) {
    const [device, rawPoint] = line.split(' ');
    if (!device || !rawPoint) continue;
    // /proc/mounts escapes spaces and such as octal
    const point = rawPoint.replace(/\\([0-7]{3})/g, (_match, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
    const inside = point === '/' || path === point || path.startsWith(`${point}/`);
    if (inside && (!best || point.length >= best.point.length)) best = { device, point };
  }
  return best && `${best.device} mounted on ${best.point}`;
}

/** The device and mount point of the disk holding `dir` (Linux; undefined elsewhere). */
export async function describeDisk(dir: string): Promise<string | undefined> {
  try {
    return mountOf(await readFile('/proc/mounts', 'utf8'), await realpath(dir));
  } catch {
    return undefined;
  }
}

export async function freeBytesOf(dir: string): Promise<number | undefined> {
  try {
    const disk = await statfs(dir);
    return disk.bavail * disk.bsize;
  } catch {
    return undefined;
  }
}
