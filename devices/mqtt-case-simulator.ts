/**
 * A simulated refrigerated-case controller speaking MQTT (device kind `case`): the air temperature with sensor noise
 * and the door contact on `case/<id>/telemetry`, as docs/device-contract.md ("`case/<id>/telemetry`") asks — every
 * `reportIntervalMs`, and at once when the door opens or closes. The same message the OPC UA case simulator's values
 * become through the gateway's OPC UA driver (devices/opcua-case-simulator.ts), so the cold chain treats both alike.
 * Tests and the demo steer it with `setTemperature`, `openDoor` and `closeDoor`.
 */
import type { Logger } from 'pino';
import type { CaseTelemetry } from '../edge/device-registry/messages.js';
import { DeviceConnection, type DeviceOptions, type PublishQos } from './device-connection.js';
import { gaussian, type RandomSource } from './random.js';
import { TimerGroup, systemTimers, type Timers } from './timer-group.js';

export type MqttCaseSimulatorOptions = DeviceOptions & {
  /** air temperature at start, °C */
  temperatureC?: number;
  /** σ of the per-reading sensor noise, °C */
  noiseStdDevC?: number;
  reportIntervalMs?: number;
};

export const MQTT_CASE_DEFAULTS = { temperatureC: 3.5, noiseStdDevC: 0.05, reportIntervalMs: 2_000 } as const;

/** The contract's range of `temperatureC` (edge/device-registry/schemas.ts): a reading outside it would be refused. */
const MIN_TEMPERATURE_C = -60;
const MAX_TEMPERATURE_C = 100;

export class MqttCaseSimulator {
  readonly deviceId: string;
  private readonly connection: DeviceConnection<'case'>;
  private readonly log: Logger;
  private readonly random: RandomSource;
  private readonly clock: () => number;
  private readonly timers: Timers;
  private readonly noiseStdDevC: number;
  private readonly reportIntervalMs: number;
  private temperatureC: number;
  private doorOpen = false;
  private timerGroup: TimerGroup | undefined;

  constructor(options: MqttCaseSimulatorOptions) {
    this.deviceId = options.deviceId;
    this.log = options.logger.child({ component: 'sim-case', deviceId: options.deviceId });
    this.connection = new DeviceConnection('case', options, this.log);
    this.random = options.random;
    this.clock = options.clock ?? Date.now;
    this.timers = options.timers ?? systemTimers;
    this.temperatureC = options.temperatureC ?? MQTT_CASE_DEFAULTS.temperatureC;
    this.noiseStdDevC = options.noiseStdDevC ?? MQTT_CASE_DEFAULTS.noiseStdDevC;
    this.reportIntervalMs = options.reportIntervalMs ?? MQTT_CASE_DEFAULTS.reportIntervalMs;
  }

  get published(): number {
    return this.connection.published;
  }

  async start(): Promise<void> {
    if (this.timerGroup) throw new Error(`case ${this.deviceId} is already started`);
    const timerGroup = new TimerGroup(this.timers);
    this.timerGroup = timerGroup;
    try {
      // a case takes no commands (the contract gives it no `cmd` channel): anything there is ignored
      await this.connection.open((payload) => this.log.debug({ bytes: payload.length }, 'command ignored'));
    } catch (err) {
      this.timerGroup = undefined;
      throw err;
    }
    if (this.timerGroup !== timerGroup) return; // stopped while connecting
    this.report(0);
    timerGroup.every(this.reportIntervalMs, () => this.report(0));
  }

  async stop(): Promise<void> {
    this.timerGroup?.close();
    this.timerGroup = undefined;
    await this.connection.close();
  }

  /** The air warms or cools to this; reported with the next telemetry. */
  setTemperature(temperatureC: number): void {
    this.temperatureC = temperatureC;
  }

  openDoor(): void {
    this.setDoor(true);
  }

  closeDoor(): void {
    this.setDoor(false);
  }

  /**
   * A door contact changing is sent at once and with QoS 1: a door alert's clock starts when the door opens, and a lost
   * closing would leave the alert open until the next report.
   */
  private setDoor(open: boolean): void {
    if (this.doorOpen === open) return;
    this.doorOpen = open;
    if (this.timerGroup) this.report(1);
  }

  private report(qos: PublishQos): void {
    const noisy = this.temperatureC + gaussian(this.random, 0, this.noiseStdDevC);
    const temperatureC = Math.round(Math.min(MAX_TEMPERATURE_C, Math.max(MIN_TEMPERATURE_C, noisy)) * 10) / 10;
    const message: CaseTelemetry = { temperatureC, doorOpen: this.doorOpen, ts: Math.round(this.clock()) };
    // periodic reports are QoS 0 like other telemetry: the next follows within seconds, a stale one is worth little
    void this.connection.publish('telemetry', message, qos);
  }
}
