/**
 * Timers and a clock that only move when a test says so, for the simulators' `timers` / `clock` options.
 * MQTT I/O still runs on real time; `advance` yields to it after every timer it fires.
 */
import type { Timers } from '../../devices/timer-group.js';

type Pending = { at: number; intervalMs: number | undefined; callback: () => void };

export class ManualTimers implements Timers {
  now = 1_764_000_000_000;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  readonly clock = (): number => this.now;

  /** Timers currently scheduled; 0 after every owner stopped. */
  get active(): number {
    return this.pending.size;
  }

  setTimeout(callback: () => void, delayMs: number): unknown {
    const id = this.nextId++;
    this.pending.set(id, { at: this.now + Math.max(0, delayMs), intervalMs: undefined, callback });
    return id;
  }

  setInterval(callback: () => void, intervalMs: number): unknown {
    const id = this.nextId++;
    const period = Math.max(1, intervalMs);
    this.pending.set(id, { at: this.now + period, intervalMs: period, callback });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }

  clearInterval(handle: unknown): void {
    this.pending.delete(handle as number);
  }

  /** Moves time forward by `ms`, firing due timers in time order. */
  async advance(ms: number): Promise<void> {
    const target = this.now + ms;
    for (;;) {
      let nextId: number | undefined;
      let next: Pending | undefined;
      for (const [id, timer] of this.pending) {
        if (timer.at <= target && (!next || timer.at < next.at)) {
          nextId = id;
          next = timer;
        }
      }
      if (nextId === undefined || !next) break;
      this.now = next.at;
      if (next.intervalMs === undefined) this.pending.delete(nextId);
      else next.at += next.intervalMs;
      next.callback();
      await new Promise((resolve) => setImmediate(resolve));
    }
    this.now = target;
  }
}
