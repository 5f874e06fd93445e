/**
 * A simulated ESL access point (device kind `ap`): one MQTT connection serving many simulated labels. It takes
 * batches of label commands on `ap/<id>/cmd`, answers each command in batched acks on `ap/<id>/ack`, and reports its
 * labels' check-ins (battery, displayed price) in batches on `ap/<id>/labels` — as docs/device-contract.md describes.
 *
 * Labels are asleep most of the time, like real e-paper labels: a command reaches a label at once only with
 * probability `awakeRate`; otherwise the AP acks `queued`, keeps the newest command per label and delivers it at the
 * label's next check-in (then acks `shown`). `ackLossRate` drops acks (the radio lost them) so the gateway's
 * timeouts and check-in confirmations are exercised. A restart (`stop()` + `start()`) forgets the queued commands,
 * like a rebooted AP.
 */
import { Ajv } from 'ajv';
import type { Logger } from 'pino';
import type { ApCommand, ApLabelAck, ApLabelReport } from '../edge/device-registry/messages.js';
import { AP_MAX_BATCH_ITEMS, apCommandSchema } from '../edge/device-registry/schemas.js';
import { DeviceConnection, type DeviceOptions } from './device-connection.js';
import { randomInt, type RandomSource } from './random.js';
import { TimerGroup, systemTimers, type Timers } from './timer-group.js';

export type SimulatedLabel = { labelId: string; priceCents: number | null; batteryMv?: number };

export type MqttApSimulatorOptions = DeviceOptions & {
  labels: readonly SimulatedLabel[];
  /** each label checks in about this often (± 10 %), first at a random point within one interval */
  checkInIntervalMs?: number;
  /** share of commands a label receives at once (it happens to be listening); the rest wait for its check-in */
  awakeRate?: number;
  /** share of acks lost on the way back */
  ackLossRate?: number;
  /** how often the AP looks for due check-ins and sends what it has batched */
  flushIntervalMs?: number;
  /** entries per published batch (≤ AP_MAX_BATCH_ITEMS, and small enough for mqtt.maxPacketBytes) */
  maxBatchItems?: number;
  firmware?: string;
};

export const MQTT_AP_SIM_DEFAULTS = {
  checkInIntervalMs: 30_000,
  awakeRate: 0.5,
  ackLossRate: 0,
  flushIntervalMs: 25,
  maxBatchItems: 50,
} as const;

const MIN_BATTERY_MV = 2_000;

type LabelState = {
  labelId: string;
  priceCents: number | null;
  batteryMv: number;
  nextCheckInAt: number;
  /** the newest command the AP holds for this label until it checks in */
  pending?: { cmdId: string; priceCents: number };
  /** a label that is out of radio range never checks in */
  away: boolean;
};

const commandAjv = new Ajv({ allErrors: false });
const validateApCommand = commandAjv.compile<ApCommand>(apCommandSchema);

export class MqttApSimulator {
  readonly deviceId: string;
  private readonly connection: DeviceConnection<'ap'>;
  private readonly log: Logger;
  private readonly random: RandomSource;
  private readonly clock: () => number;
  private readonly timers: Timers;
  private readonly labels = new Map<string, LabelState>();
  private readonly settings: Required<Pick<MqttApSimulatorOptions, keyof typeof MQTT_AP_SIM_DEFAULTS>>;
  private timerGroup: TimerGroup | undefined;
  private acks: ApLabelAck[] = [];
  private reports: ApLabelReport[] = [];
  /** counters for tests and the demo */
  readonly counts = { batches: 0, commands: 0, acksSent: 0, acksLost: 0, checkIns: 0, invalidBatches: 0 };

  constructor(options: MqttApSimulatorOptions) {
    this.deviceId = options.deviceId;
    this.log = options.logger.child({ component: 'sim-ap', deviceId: options.deviceId });
    this.connection = new DeviceConnection('ap', options, this.log);
    this.random = options.random;
    this.clock = options.clock ?? Date.now;
    this.timers = options.timers ?? systemTimers;
    this.settings = {
      checkInIntervalMs: options.checkInIntervalMs ?? MQTT_AP_SIM_DEFAULTS.checkInIntervalMs,
      awakeRate: options.awakeRate ?? MQTT_AP_SIM_DEFAULTS.awakeRate,
      ackLossRate: options.ackLossRate ?? MQTT_AP_SIM_DEFAULTS.ackLossRate,
      flushIntervalMs: options.flushIntervalMs ?? MQTT_AP_SIM_DEFAULTS.flushIntervalMs,
      maxBatchItems: Math.min(options.maxBatchItems ?? MQTT_AP_SIM_DEFAULTS.maxBatchItems, AP_MAX_BATCH_ITEMS),
    };
    const now = this.now();
    for (const label of options.labels) {
      this.labels.set(label.labelId, {
        labelId: label.labelId,
        priceCents: label.priceCents,
        batteryMv: label.batteryMv ?? randomInt(this.random, 2_900, 3_010),
        nextCheckInAt: now + randomInt(this.random, 0, this.settings.checkInIntervalMs),
        away: false,
      });
    }
  }

  get connected(): boolean {
    return this.connection.connected;
  }

  displayedPriceCents(labelId: string): number | null | undefined {
    return this.labels.get(labelId)?.priceCents;
  }

  /** Commands held for labels that have not checked in since. */
  get queuedCommands(): number {
    let queued = 0;
    for (const label of this.labels.values()) if (label.pending) queued++;
    return queued;
  }

  /** Takes a label out of radio range (it neither receives nor checks in) or brings it back. */
  setAway(labelId: string, away: boolean): void {
    const label = this.labels.get(labelId);
    if (label) label.away = away;
  }

  /** Makes a label check in at the next flush (tests: "the label woke up"). */
  checkInNow(labelId: string): void {
    const label = this.labels.get(labelId);
    if (label) label.nextCheckInAt = this.now();
  }

  setAckLossRate(rate: number): void {
    this.settings.ackLossRate = rate;
  }

  setAwakeRate(rate: number): void {
    this.settings.awakeRate = rate;
  }

  async start(): Promise<void> {
    if (this.timerGroup) throw new Error(`access point ${this.deviceId} is already started`);
    const timerGroup = new TimerGroup(this.timers);
    this.timerGroup = timerGroup;
    try {
      await this.connection.open((payload) => this.onBatch(payload));
    } catch (err) {
      this.timerGroup = undefined;
      throw err;
    }
    if (this.timerGroup !== timerGroup) return; // stopped while connecting
    timerGroup.every(this.settings.flushIntervalMs, () => this.flush());
  }

  /** Disconnects; like a rebooted AP it forgets the commands it held and what it had not sent yet. */
  async stop(): Promise<void> {
    this.timerGroup?.close();
    this.timerGroup = undefined;
    for (const label of this.labels.values()) label.pending = undefined;
    this.acks = [];
    this.reports = [];
    await this.connection.close();
  }

  private onBatch(payload: Buffer): void {
    let batch: unknown;
    try {
      batch = JSON.parse(payload.toString('utf8'));
    } catch {
      this.counts.invalidBatches++;
      this.log.warn({ bytes: payload.length }, 'command batch is not JSON, dropped');
      return;
    }
    if (!validateApCommand(batch)) {
      // without a valid batch there are no cmdIds to answer
      this.counts.invalidBatches++;
      this.log.warn({ error: commandAjv.errorsText(validateApCommand.errors) }, 'invalid command batch, dropped');
      return;
    }
    this.counts.batches++;
    for (const command of batch.commands) {
      this.counts.commands++;
      const label = this.labels.get(command.labelId);
      if (!label) {
        this.ack({ cmdId: command.cmdId, labelId: command.labelId, status: 'failed', error: 'unknown label', retryable: false });
        continue;
      }
      if (command.type === 'flash') {
        this.ack({ cmdId: command.cmdId, labelId: label.labelId, status: 'queued' });
        continue;
      }
      if (!label.away && this.random() < this.settings.awakeRate) {
        this.show(label, command.cmdId, command.priceCents);
        continue;
      }
      // the AP keeps the newest command per label; an older one it held is simply replaced
      label.pending = { cmdId: command.cmdId, priceCents: command.priceCents };
      this.ack({ cmdId: command.cmdId, labelId: label.labelId, status: 'queued' });
    }
  }

  private show(label: LabelState, cmdId: string, priceCents: number): void {
    label.priceCents = priceCents;
    label.pending = undefined;
    // an e-paper refresh costs more battery than a check-in
    label.batteryMv = Math.max(MIN_BATTERY_MV, label.batteryMv - 2);
    this.ack({ cmdId, labelId: label.labelId, status: 'shown', displayedPriceCents: priceCents });
  }

  private ack(ack: ApLabelAck): void {
    if (this.settings.ackLossRate > 0 && this.random() < this.settings.ackLossRate) {
      this.counts.acksLost++;
      return;
    }
    this.acks.push(ack);
  }

  private flush(): void {
    const now = this.now();
    for (const label of this.labels.values()) {
      if (label.away || label.nextCheckInAt > now) continue;
      const interval = this.settings.checkInIntervalMs;
      label.nextCheckInAt = now + randomInt(this.random, Math.round(interval * 0.9), Math.round(interval * 1.1));
      this.counts.checkIns++;
      label.batteryMv = Math.max(MIN_BATTERY_MV, label.batteryMv - 1);
      if (label.pending) this.show(label, label.pending.cmdId, label.pending.priceCents);
      this.reports.push({
        labelId: label.labelId,
        batteryMv: label.batteryMv,
        displayedPriceCents: label.priceCents,
        rssiDbm: randomInt(this.random, -80, -50),
        seenAt: now,
      });
    }
    if (!this.connection.connected) {
      // kept until the connection is back, bounded: the oldest go first, as in a ring buffer of the AP's firmware
      const bound = 4 * this.labels.size;
      if (this.acks.length > bound) this.acks.splice(0, this.acks.length - bound);
      if (this.reports.length > bound) this.reports.splice(0, this.reports.length - bound);
      return;
    }
    const { maxBatchItems } = this.settings;
    while (this.acks.length > 0) {
      const acks = this.acks.splice(0, maxBatchItems);
      this.counts.acksSent += acks.length;
      void this.connection.publish('ack', { acks, ts: now }, 1);
    }
    while (this.reports.length > 0) void this.connection.publish('labels', { labels: this.reports.splice(0, maxBatchItems), ts: now }, 1);
  }

  private now(): number {
    return Math.round(this.clock());
  }
}
