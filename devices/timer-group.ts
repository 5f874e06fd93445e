/**
 * Owns every timer of one simulator run, so `stop()` can clear them all in one call and nothing keeps
 * the process alive afterwards. Time enters through `Timers`, so tests may pass fake timers.
 */

export type Timers = {
  setTimeout(callback: () => void, delayMs: number): unknown;
  clearTimeout(handle: unknown): void;
  setInterval(callback: () => void, intervalMs: number): unknown;
  clearInterval(handle: unknown): void;
};

export const systemTimers: Timers = {
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  setInterval: (callback, intervalMs) => setInterval(callback, intervalMs),
  clearInterval: (handle) => clearInterval(handle as ReturnType<typeof setInterval>),
};

/** Rejects the pending `sleep()`s of a group that was closed, so an in-flight sequence ends instead of hanging. */
export class TimerGroupClosedError extends Error {
  constructor() {
    super('timer group closed');
    this.name = 'TimerGroupClosedError';
  }
}

export class TimerGroup {
  private readonly intervals = new Set<unknown>();
  private readonly timeouts = new Map<unknown, (() => void) | undefined>();
  private closed = false;

  constructor(private readonly timers: Timers = systemTimers) {}

  /** Calls `callback` every `intervalMs` until the group is closed. */
  every(intervalMs: number, callback: () => void): void {
    if (this.closed) return;
    this.intervals.add(this.timers.setInterval(callback, intervalMs));
  }

  /** Calls `callback` once after `delayMs`, unless the group is closed first. */
  after(delayMs: number, callback: () => void): void {
    if (this.closed) return;
    const handle = this.timers.setTimeout(() => {
      this.timeouts.delete(handle);
      callback();
    }, delayMs);
    this.timeouts.set(handle, undefined);
  }

  /** Resolves after `delayMs`; rejects with `TimerGroupClosedError` if the group is closed before. */
  sleep(delayMs: number): Promise<void> {
    if (this.closed) return Promise.reject(new TimerGroupClosedError());
    return new Promise<void>((resolve, reject) => {
      const handle = this.timers.setTimeout(() => {
        this.timeouts.delete(handle);
        resolve();
      }, delayMs);
      this.timeouts.set(handle, () => reject(new TimerGroupClosedError()));
    });
  }

  /** Number of live timers (intervals + pending timeouts); tests use it to prove stop() cleans up. */
  get size(): number {
    return this.intervals.size + this.timeouts.size;
  }

  /** Clears every timer, rejects pending sleeps and refuses new timers from now on. */
  close(): void {
    this.closed = true;
    for (const handle of this.intervals) this.timers.clearInterval(handle);
    this.intervals.clear();
    const pending = [...this.timeouts];
    this.timeouts.clear();
    for (const [handle, abort] of pending) {
      this.timers.clearTimeout(handle);
      abort?.();
    }
  }
}
