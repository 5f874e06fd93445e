/**
 * A simulated smart shelf: one load cell per facing, each reporting the weight on it as a real cell would —
 * tare + units × unit weight, plus measurement noise and a slow temperature drift.
 */
import type { Logger } from 'pino';
import type { ShelfStatus, ShelfWeight } from '../edge/device-registry/messages.js';
import { DeviceConnection, type DeviceOptions } from './device-connection.js';
import { gaussian, type RandomSource } from './random.js';
import { TimerGroup, systemTimers, type Timers } from './timer-group.js';

export type ShelfFacingSetup = {
  /** 1-based position on the shelf, as in the planogram */
  facing: number;
  unitWeightG: number;
  /** units on the facing at start */
  units: number;
  /** units after a restock */
  capacityUnits: number;
  /** what the cell reports with the facing empty */
  tareG: number;
};

export type ShelfSimulatorOptions = DeviceOptions & {
  facings: readonly ShelfFacingSetup[];
  /** one `weight` message per facing every interval */
  reportIntervalMs?: number;
  statusIntervalMs?: number;
  /** σ of the per-reading noise */
  noiseStdDevG?: number;
  /** the drift swings between ±amplitude over one period, so it stays bounded however long the shelf runs */
  driftAmplitudeG?: number;
  driftPeriodMs?: number;
  firmware?: string;
};

export const SHELF_DEFAULTS = {
  reportIntervalMs: 1_000,
  statusIntervalMs: 60_000,
  noiseStdDevG: 2,
  driftAmplitudeG: 3,
  driftPeriodMs: 5 * 60_000,
  firmware: '2.4.1',
} as const;

type FacingState = ShelfFacingSetup & {
  driftPhase: number;
  /** the last weight reported (NaN before the first) */
  lastReportedG: number;
  /** a stuck cell repeats its last report to the digit (a controller resending its last value, a jammed cell) */
  stuck: boolean;
};

export class ShelfSimulator {
  readonly deviceId: string;
  private readonly connection: DeviceConnection<'shelf'>;
  private readonly facings = new Map<number, FacingState>();
  private readonly log: Logger;
  private readonly random: RandomSource;
  private readonly clock: () => number;
  private readonly timers: Timers;
  private readonly settings: Required<Omit<ShelfSimulatorOptions, keyof DeviceOptions | 'facings'>>;
  private timerGroup: TimerGroup | undefined;
  private startedAt = 0;

  constructor(options: ShelfSimulatorOptions) {
    this.deviceId = options.deviceId;
    this.log = options.logger.child({ component: 'sim-shelf', deviceId: options.deviceId });
    this.connection = new DeviceConnection('shelf', options, this.log);
    this.random = options.random;
    this.clock = options.clock ?? Date.now;
    this.timers = options.timers ?? systemTimers;
    this.settings = {
      reportIntervalMs: options.reportIntervalMs ?? SHELF_DEFAULTS.reportIntervalMs,
      statusIntervalMs: options.statusIntervalMs ?? SHELF_DEFAULTS.statusIntervalMs,
      noiseStdDevG: options.noiseStdDevG ?? SHELF_DEFAULTS.noiseStdDevG,
      driftAmplitudeG: options.driftAmplitudeG ?? SHELF_DEFAULTS.driftAmplitudeG,
      driftPeriodMs: options.driftPeriodMs ?? SHELF_DEFAULTS.driftPeriodMs,
      firmware: options.firmware ?? SHELF_DEFAULTS.firmware,
    };
    if (options.facings.length === 0) throw new RangeError(`shelf ${this.deviceId}: no facings`);
    for (const setup of options.facings) {
      if (!Number.isInteger(setup.facing) || setup.facing < 1 || setup.facing > 64) {
        throw new RangeError(`shelf ${this.deviceId}: facing ${setup.facing} is not in 1..64`);
      }
      if (this.facings.has(setup.facing)) throw new RangeError(`shelf ${this.deviceId}: facing ${setup.facing} twice`);
      if (!Number.isInteger(setup.units) || setup.units < 0 || setup.units > setup.capacityUnits) {
        throw new RangeError(`shelf ${this.deviceId}: facing ${setup.facing} units must be 0..capacityUnits`);
      }
      this.facings.set(setup.facing, { ...setup, driftPhase: this.random() * 2 * Math.PI, lastReportedG: Number.NaN, stuck: false });
    }
  }

  /** Messages the broker accepted from this shelf. */
  get published(): number {
    return this.connection.published;
  }

  facingNumbers(): number[] {
    return [...this.facings.keys()].sort((a, b) => a - b);
  }

  units(facing: number): number {
    return this.facingState(facing).units;
  }

  /** What the cell would read without noise or drift. */
  idealWeightG(facing: number): number {
    const state = this.facingState(facing);
    return state.tareG + state.units * state.unitWeightG;
  }

  /** A shopper takes up to `qty` units; an emptier facing gives what it has. @returns units actually taken */
  take(facing: number, qty: number): number {
    if (!Number.isInteger(qty) || qty < 1) throw new RangeError(`take: qty must be a positive integer, got ${qty}`);
    const state = this.facingState(facing);
    const taken = Math.min(qty, state.units);
    state.units -= taken;
    this.log.debug({ facing, taken, units: state.units }, 'units taken');
    return taken;
  }

  /** Staff fill the facing to capacity. @returns units added */
  restock(facing: number): number {
    const state = this.facingState(facing);
    const added = state.capacityUnits - state.units;
    state.units = state.capacityUnits;
    this.log.debug({ facing, added, units: state.units }, 'facing restocked');
    return added;
  }

  /**
   * The facing's load cell sticks: it reports its last weight again and again, whatever is taken (the demo's stuck
   * cell, which the gateway's scale-stuck detector finds once the sku sells at the kiosks); `stuck` false: it moves again.
   */
  setStuck(facing: number, stuck: boolean): void {
    this.facingState(facing).stuck = stuck;
  }

  async start(): Promise<void> {
    if (this.timerGroup) throw new Error(`shelf ${this.deviceId} is already started`);
    const timerGroup = new TimerGroup(this.timers);
    this.timerGroup = timerGroup;
    this.startedAt = this.clock();
    try {
      await this.connection.open((payload) => this.log.debug({ bytes: payload.length }, 'command ignored'));
    } catch (err) {
      this.timerGroup = undefined;
      throw err;
    }
    if (this.timerGroup !== timerGroup) return; // stopped while connecting
    this.publishStatus();
    this.publishReadings();
    timerGroup.every(this.settings.reportIntervalMs, () => this.publishReadings());
    timerGroup.every(this.settings.statusIntervalMs, () => this.publishStatus());
  }

  async stop(): Promise<void> {
    this.timerGroup?.close();
    this.timerGroup = undefined;
    await this.connection.close();
  }

  private facingState(facing: number): FacingState {
    const state = this.facings.get(facing);
    if (!state) throw new RangeError(`shelf ${this.deviceId} has no facing ${facing}`);
    return state;
  }

  private publishReadings(): void {
    const ts = Math.round(this.clock());
    for (const state of this.facings.values()) {
      const weightG = state.stuck && !Number.isNaN(state.lastReportedG) ? state.lastReportedG : this.readWeightG(state, ts);
      state.lastReportedG = weightG;
      const message: ShelfWeight = { facing: state.facing, weightG, ts };
      void this.connection.publish('weight', message, 0);
    }
  }

  private readWeightG(state: FacingState, now: number): number {
    const { noiseStdDevG, driftAmplitudeG, driftPeriodMs } = this.settings;
    const driftG = driftAmplitudeG * Math.sin((2 * Math.PI * (now - this.startedAt)) / driftPeriodMs + state.driftPhase);
    const weightG = state.tareG + state.units * state.unitWeightG + gaussian(this.random, 0, noiseStdDevG) + driftG;
    return Math.round(weightG * 10) / 10;
  }

  private publishStatus(): void {
    const message: ShelfStatus = {
      firmware: this.settings.firmware,
      tempC: Math.round(gaussian(this.random, 21.5, 0.3) * 10) / 10,
      faults: [],
      ts: Math.round(this.clock()),
    };
    void this.connection.publish('status', message, 0);
  }
}
