/**
 * A simulated electronic shelf label: shows one sku's price, takes `set-price` commands from the gateway on
 * its `cmd` topic, answers each with an `ack`, and reports what it shows in `status`.
 */
import { Ajv } from 'ajv';
import type { Logger } from 'pino';
import type { DeviceAck, EslCommand, EslStatus } from '../edge/device-registry/messages.js';
import { eslCommandSchema } from '../edge/device-registry/schemas.js';
import { DeviceConnection, type DeviceOptions } from './device-connection.js';
import { gaussian, randomInt, type RandomSource } from './random.js';
import { TimerGroup, TimerGroupClosedError, systemTimers, type Timers } from './timer-group.js';

export type EslSimulatorOptions = DeviceOptions & {
  sku: string;
  /** price shown at start; null = blank label */
  priceCents: number | null;
  statusIntervalMs?: number;
  /** an e-paper refresh takes a moment: the new price shows after a random delay in [min, max] */
  displayDelayMinMs?: number;
  displayDelayMaxMs?: number;
  initialBatteryMv?: number;
  firmware?: string;
};

export const ESL_DEFAULTS = {
  statusIntervalMs: 30_000,
  displayDelayMinMs: 50,
  displayDelayMaxMs: 400,
  firmware: '1.0.3',
} as const;

/** Commands waiting for the display; more than this and the label answers "busy" instead of queueing. */
const MAX_PENDING_COMMANDS = 32;
const MIN_BATTERY_MV = 2_000;
const ERROR_MAX_CHARS = 256;

// Compiled once per process: every label shares it.
const commandAjv = new Ajv({ allErrors: true });
const validateEslCommand = commandAjv.compile<EslCommand>(eslCommandSchema);

export class EslSimulator {
  readonly deviceId: string;
  readonly sku: string;
  private readonly connection: DeviceConnection<'esl'>;
  private readonly log: Logger;
  private readonly random: RandomSource;
  private readonly clock: () => number;
  private readonly timers: Timers;
  private readonly statusIntervalMs: number;
  private readonly displayDelayMinMs: number;
  private readonly displayDelayMaxMs: number;
  private readonly firmware: string;
  private timerGroup: TimerGroup | undefined;
  private shownPriceCents: number | null;
  private batteryMv: number;
  /** Commands are applied one at a time, in arrival order, like the label's firmware does. */
  private commandQueue: Promise<void> = Promise.resolve();
  private pendingCommands = 0;
  /** the LED blinks (find-my-facing) */
  flashing = false;

  constructor(options: EslSimulatorOptions) {
    this.deviceId = options.deviceId;
    this.sku = options.sku;
    this.log = options.logger.child({ component: 'sim-esl', deviceId: options.deviceId });
    this.connection = new DeviceConnection('esl', options, this.log);
    this.random = options.random;
    this.clock = options.clock ?? Date.now;
    this.timers = options.timers ?? systemTimers;
    this.statusIntervalMs = options.statusIntervalMs ?? ESL_DEFAULTS.statusIntervalMs;
    this.displayDelayMinMs = options.displayDelayMinMs ?? ESL_DEFAULTS.displayDelayMinMs;
    this.displayDelayMaxMs = Math.max(this.displayDelayMinMs, options.displayDelayMaxMs ?? ESL_DEFAULTS.displayDelayMaxMs);
    this.firmware = options.firmware ?? ESL_DEFAULTS.firmware;
    this.shownPriceCents = options.priceCents;
    this.batteryMv = options.initialBatteryMv ?? randomInt(this.random, 2_950, 3_010);
  }

  get displayedPriceCents(): number | null {
    return this.shownPriceCents;
  }

  /** Messages the broker accepted from this label. */
  get published(): number {
    return this.connection.published;
  }

  async start(): Promise<void> {
    if (this.timerGroup) throw new Error(`label ${this.deviceId} is already started`);
    const timerGroup = new TimerGroup(this.timers);
    this.timerGroup = timerGroup;
    try {
      await this.connection.open((payload) => this.onCommand(payload, timerGroup));
    } catch (err) {
      this.timerGroup = undefined;
      throw err;
    }
    if (this.timerGroup !== timerGroup) return; // stopped while connecting
    this.publishStatus();
    timerGroup.every(this.statusIntervalMs, () => this.publishStatus());
  }

  async stop(): Promise<void> {
    this.timerGroup?.close();
    this.timerGroup = undefined;
    await this.commandQueue;
    await this.connection.close();
  }

  private onCommand(payload: Buffer, timerGroup: TimerGroup): void {
    let command: unknown;
    try {
      command = JSON.parse(payload.toString('utf8'));
    } catch {
      this.log.warn({ bytes: payload.length }, 'command is not JSON, dropped');
      return;
    }
    const cmdId = commandIdOf(command);
    if (cmdId === undefined) {
      // Without a cmdId there is nothing the gateway could match an ack to.
      this.log.warn('command without a valid cmdId, dropped');
      return;
    }
    if (!validateEslCommand(command)) {
      const error = `invalid command: ${commandAjv.errorsText(validateEslCommand.errors, { dataVar: 'cmd' })}`;
      this.rejectCommand(cmdId, error);
      return;
    }
    if (command.type === 'flash') {
      // the LED blinks until told to stop; the simulator only remembers which
      this.flashing = command.pattern !== 'stop';
      this.publishAck({ cmdId, ok: true, ts: this.now() });
      return;
    }
    const { priceCents } = command;
    if (priceCents === undefined) {
      this.rejectCommand(cmdId, 'set-price needs priceCents');
      return;
    }
    if (command.sku !== undefined && command.sku !== this.sku) {
      this.rejectCommand(cmdId, `sku mismatch: label shows ${this.sku}, command is for ${command.sku}`);
      return;
    }
    if (this.pendingCommands >= MAX_PENDING_COMMANDS) {
      this.rejectCommand(cmdId, 'label busy: too many pending commands');
      return;
    }
    this.pendingCommands += 1;
    this.commandQueue = this.commandQueue
      .then(async () => {
        await timerGroup.sleep(randomInt(this.random, this.displayDelayMinMs, this.displayDelayMaxMs));
        this.shownPriceCents = priceCents;
        // An e-paper refresh costs more battery than a status report.
        this.drainBattery(2);
        this.log.debug({ cmdId, priceCents }, 'price displayed');
        this.publishAck({ cmdId, ok: true, displayedPriceCents: priceCents, ts: this.now() });
      })
      .catch((err: unknown) => {
        if (!(err instanceof TimerGroupClosedError)) this.log.error({ err, cmdId }, 'command failed');
      })
      .finally(() => {
        this.pendingCommands -= 1;
      });
  }

  private rejectCommand(cmdId: string, error: string): void {
    this.log.warn({ cmdId, error }, 'command rejected');
    const ack: DeviceAck = { cmdId, ok: false, error: error.slice(0, ERROR_MAX_CHARS), ts: this.now() };
    if (this.shownPriceCents !== null) ack.displayedPriceCents = this.shownPriceCents;
    this.publishAck(ack);
  }

  private publishAck(ack: DeviceAck): void {
    void this.connection.publish('ack', ack, 1);
  }

  private publishStatus(): void {
    this.drainBattery(1);
    const status: EslStatus = {
      batteryMv: this.batteryMv,
      displayedPriceCents: this.shownPriceCents,
      sku: this.sku,
      firmware: this.firmware,
      rssiDbm: Math.max(-110, Math.min(-30, Math.round(gaussian(this.random, -62, 3)))),
      ts: this.now(),
    };
    void this.connection.publish('status', status, 0);
  }

  private drainBattery(mv: number): void {
    this.batteryMv = Math.max(MIN_BATTERY_MV, this.batteryMv - mv);
  }

  private now(): number {
    return Math.round(this.clock());
  }
}

function commandIdOf(command: unknown): string | undefined {
  if (typeof command !== 'object' || command === null || !('cmdId' in command)) return undefined;
  const { cmdId } = command;
  return typeof cmdId === 'string' && cmdId.length >= 1 && cmdId.length <= 64 ? cmdId : undefined;
}
