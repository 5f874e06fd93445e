/**
 * Keeps the demo's label display file current: looks at what the simulated labels show every `everyMs`, writes the file
 * when that changed (one write at a time), and once more on stop. A label changes its picture a few times an hour, so a
 * look a second is cheap, and a demo killed outright loses at most the last second's renders (a real label would keep
 * them: the e-paper is the memory), which its next campaign resend repairs.
 */
import type { Logger } from 'pino';
import { writeLabelDisplays, type LabelDisplays } from './label-display-file.js';
import { systemTimers, type Timers } from './timer-group.js';

export type LabelDisplayKeeperOptions = {
  file: string;
  /** what every simulated label shows now */
  snapshot: () => LabelDisplays;
  everyMs: number;
  log: Logger;
  timers?: Timers;
};

export class LabelDisplayKeeper {
  private timer: unknown;
  private written: string | undefined;
  private writing: Promise<void> | undefined;
  private failing = false;
  private readonly timers: Timers;

  constructor(private readonly options: LabelDisplayKeeperOptions) {
    this.timers = options.timers ?? systemTimers;
  }

  /** `kept`: what the file held at start (nothing to write until a label shows something else). */
  start(kept: LabelDisplays): void {
    this.written = JSON.stringify(kept);
    this.timer = this.timers.setInterval(() => {
      // a write still under way: the next look catches up
      if (!this.writing) void this.save();
    }, this.options.everyMs);
  }

  /** Stops looking and writes what the labels show last (nothing when it never started: there are no labels yet). */
  async stop(): Promise<void> {
    if (this.written === undefined) return;
    if (this.timer !== undefined) this.timers.clearInterval(this.timer);
    this.timer = undefined;
    await this.writing;
    await this.save();
  }

  private save(): Promise<void> {
    const displays = this.options.snapshot();
    const text = JSON.stringify(displays);
    if (text === this.written) return Promise.resolve();
    this.writing = writeLabelDisplays(this.options.file, displays)
      .then(
        () => {
          this.written = text;
          if (this.failing) this.options.log.info({ file: this.options.file }, 'label display file written again');
          this.failing = false;
        },
        (error: unknown) => {
          // once per outage; the next look tries again
          if (!this.failing) this.options.log.warn({ err: error, file: this.options.file }, 'cannot write the label display file');
          this.failing = true;
        },
      )
      .finally(() => {
        this.writing = undefined;
      });
    return this.writing;
  }
}
