/**
 * The LabelDriver of direct MQTT labels: each label is a device of kind `esl` with its own connection, reached
 * through the command channel (`esl/<id>/cmd`, acked on `esl/<id>/ack`). The ack's `displayedPriceCents` confirms;
 * `esl/<id>/status` messages are the label's check-ins (battery, displayed price).
 *
 *  - At most one command in flight per label: a newer version waits for the one in flight to end; one not sent yet
 *    (queued, or waiting for a label that is not connected) is superseded at once.
 *  - A label that is not connected gets `waiting`; the content goes out when it connects or reports its status.
 *  - `maxInFlight` bounds commands in flight over all labels (the command channel's own bound is shared with others).
 */
import type { Logger } from 'pino';
import type { GatewayBus } from '../core/events.js';
import type { HealthCheck } from '../core/module.js';
import type { CommandRequest, CommandResult } from '../device-registry/command-channel.js';
import { onDeviceMessages } from '../device-registry/device-source.js';
import type { FlashPattern, LabelContent, LabelDriver, LabelDriverEvent } from './label-driver.js';
import type { MqttLabelDriverLimits } from './label-driver-limits.js';

/** Listeners of one driver's events, isolated: one that throws is logged and the others still get the event. */
export class LabelEvents {
  private readonly listeners = new Set<(event: LabelDriverEvent) => void>();

  constructor(private readonly log: Logger) {}

  add(listener: (event: LabelDriverEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: LabelDriverEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.log.error({ err: error, event: event.type }, 'label event listener failed');
      }
    }
  }
}

/** Every limit: `configDefaults(MqttLabelDriverLimitsSchema)` and what differs (label-driver-limits.ts). */
export type MqttLabelDriverOptions = MqttLabelDriverLimits;

export type MqttLabelDriverDeps = {
  bus: GatewayBus;
  commands: { send(request: CommandRequest): Promise<CommandResult> };
  log: Logger;
  now: () => number;
  /** whether a label id is a direct MQTT label (registered as kind `esl`) */
  isDirectLabel: (labelId: string) => boolean;
};

type Phase = 'queued' | 'sent' | 'waiting';
type Tracked = { content: LabelContent; phase: Phase; waitingAnnounced?: boolean };
type LabelSlot = { labelId: string; current?: Tracked; next?: LabelContent };

export class MqttLabelDriver implements LabelDriver {
  readonly name = 'labels-mqtt-esl';
  readonly driverId = 'mqtt-esl';
  private readonly options: MqttLabelDriverOptions;
  private readonly events: LabelEvents;
  /** labels with content on its way or waiting (bounded by maxLabels); removed when their content ends */
  private readonly slots = new Map<string, LabelSlot>();
  private readonly queue = new Set<string>();
  private inFlight = 0;
  private started = false;
  private unsubscribes: Array<() => void> = [];

  constructor(
    options: MqttLabelDriverOptions,
    private readonly deps: MqttLabelDriverDeps,
  ) {
    this.options = options;
    this.events = new LabelEvents(deps.log);
  }

  async start(): Promise<void> {
    const { bus } = this.deps;
    this.unsubscribes = [
      onDeviceMessages(bus, ['esl/status'], `${this.driverId}:check-ins`, (message) => {
        const { batteryMv, displayedPriceCents } = message.payload;
        const labelId = message.deviceId;
        this.events.emit({
          type: 'check-in',
          labelId,
          batteryMv,
          ...(displayedPriceCents !== null ? { displayedPriceCents } : {}),
          at: message.receivedAt,
        });
        this.seen(labelId, displayedPriceCents, message.receivedAt);
      }),
      bus.on('device.connection', `${this.driverId}:connections`, (event) => {
        if (event.kind === 'esl' && event.connected) this.seen(event.deviceId, null, event.at);
      }),
    ];
    this.started = true;
    this.events.emit({ type: 'link', up: true, detail: 'direct labels through the gateway broker', at: this.deps.now() });
  }

  async stop(): Promise<void> {
    this.started = false;
    for (const unsubscribe of this.unsubscribes) unsubscribe();
    this.unsubscribes = [];
    const now = this.deps.now();
    // content in flight ends through the command channel (dropped: gateway stopping); the rest ends here
    for (const slot of this.slots.values()) {
      if (slot.next) this.fail(slot.labelId, slot.next.version, 'gateway stopping', true, now);
      slot.next = undefined;
      if (slot.current && slot.current.phase !== 'sent') {
        this.fail(slot.labelId, slot.current.content.version, 'gateway stopping', true, now);
        slot.current = undefined;
      }
    }
    this.queue.clear();
    this.events.emit({ type: 'link', up: false, detail: 'stopped', at: now });
  }

  health(): HealthCheck {
    return { ok: this.started, inFlight: this.inFlight, queued: this.queue.size, labels: this.slots.size };
  }

  handles(labelId: string): boolean {
    return this.deps.isDirectLabel(labelId);
  }

  onEvent(listener: (event: LabelDriverEvent) => void): () => void {
    return this.events.add(listener);
  }

  send(content: LabelContent): void {
    const now = this.deps.now();
    let slot = this.slots.get(content.labelId);
    if (!slot) {
      if (this.slots.size >= this.options.maxLabels)
        return this.fail(content.labelId, content.version, `more than ${this.options.maxLabels} labels pending`, true, now);
      slot = { labelId: content.labelId };
      this.slots.set(content.labelId, slot);
    }
    const current = slot.current;
    if (current && content.version < current.content.version)
      return this.fail(content.labelId, content.version, `superseded by version ${current.content.version}`, false, now);
    if (current && content.version === current.content.version) return;
    if (current?.phase === 'sent') {
      if (slot.next && slot.next.version < content.version)
        this.fail(content.labelId, slot.next.version, `superseded by version ${content.version}`, false, now);
      if (!slot.next || slot.next.version < content.version) slot.next = content;
      return;
    }
    if (current) this.fail(content.labelId, current.content.version, `superseded by version ${content.version}`, false, now);
    slot.current = { content, phase: 'queued' };
    this.queue.add(content.labelId);
    this.pump();
  }

  flash(labelId: string, pattern: FlashPattern): void {
    // a flash has no version to track: its outcome is logged, find-my-facing asks again on the next alert change
    void this.deps.commands
      .send({
        deviceId: labelId,
        kind: 'esl',
        type: 'flash',
        params: { pattern },
        ...(this.options.ackTimeoutMs !== undefined ? { timeoutMs: this.options.ackTimeoutMs } : {}),
      })
      .then((result) => {
        if (result.outcome !== 'confirmed')
          this.deps.log.info({ labelId, pattern, outcome: result.outcome, detail: result.detail }, 'label flash not confirmed');
      });
  }

  private pump(): void {
    if (!this.started) return;
    for (const labelId of this.queue) {
      if (this.inFlight >= this.options.maxInFlight) return;
      this.queue.delete(labelId);
      const slot = this.slots.get(labelId);
      const tracked = slot?.current;
      if (!slot || !tracked || tracked.phase !== 'queued') continue;
      tracked.phase = 'sent';
      this.inFlight++;
      const { sku, priceCents } = tracked.content;
      void this.deps.commands
        .send({
          deviceId: labelId,
          kind: 'esl',
          type: 'set-price',
          params: { sku, priceCents },
          ...(this.options.ackTimeoutMs !== undefined ? { timeoutMs: this.options.ackTimeoutMs } : {}),
        })
        .then((result) => {
          this.inFlight--;
          this.ended(slot, tracked, result);
          this.pump();
        });
    }
  }

  private ended(slot: LabelSlot, tracked: Tracked, result: CommandResult): void {
    if (slot.current !== tracked) return;
    const { labelId } = slot;
    const { version, priceCents } = tracked.content;
    const at = result.endedAt;
    const displayed = result.ack?.displayedPriceCents;
    if (result.outcome === 'dropped' && result.detail?.startsWith('not-connected')) {
      // the label is away: the content goes out when it connects or reports (unless a newer version came meanwhile)
      tracked.phase = 'waiting';
      if (!tracked.waitingAnnounced) this.events.emit({ type: 'waiting', labelId, version, at });
      tracked.waitingAnnounced = true;
      if (slot.next) {
        const next = slot.next;
        slot.next = undefined;
        this.fail(labelId, version, `superseded by version ${next.version}`, false, at);
        slot.current = { content: next, phase: 'waiting', waitingAnnounced: true };
        this.events.emit({ type: 'waiting', labelId, version: next.version, at });
      }
      return;
    }
    slot.current = undefined;
    if (result.outcome === 'confirmed' && (displayed === undefined || displayed === priceCents)) {
      this.events.emit({ type: 'confirmed', labelId, version, ...(displayed !== undefined ? { displayedPriceCents: displayed } : {}), at });
    } else if (result.outcome === 'confirmed') {
      this.fail(labelId, version, `label shows ${displayed} cents, expected ${priceCents}`, true, at);
    } else if (result.outcome === 'rejected') {
      // the label said no (wrong sku, invalid command): sending the same again would not help, unless it was busy
      this.fail(labelId, version, `rejected by the label: ${result.detail ?? 'no reason given'}`, /busy/i.test(result.detail ?? ''), at);
    } else {
      this.fail(labelId, version, `${result.outcome}: ${result.detail ?? ''}`.trim(), true, at);
    }
    this.promoteNext(slot);
  }

  /** The label is there (connected or reporting): content waiting for it goes out, or is confirmed if it shows it. */
  private seen(labelId: string, displayedPriceCents: number | null, at: number): void {
    const slot = this.slots.get(labelId);
    const current = slot?.current;
    if (!slot || !current || current.phase !== 'waiting') return;
    if (displayedPriceCents !== null && displayedPriceCents === current.content.priceCents) {
      slot.current = undefined;
      this.events.emit({ type: 'confirmed', labelId, version: current.content.version, displayedPriceCents, at });
      this.promoteNext(slot);
      return;
    }
    current.phase = 'queued';
    this.queue.add(labelId);
    this.pump();
  }

  private promoteNext(slot: LabelSlot): void {
    const next = slot.next;
    slot.next = undefined;
    if (!next) {
      if (!slot.current) this.slots.delete(slot.labelId);
      return;
    }
    slot.current = { content: next, phase: 'queued' };
    this.queue.add(slot.labelId);
    this.pump();
  }

  private fail(labelId: string, version: number, reason: string, retryable: boolean, at: number): void {
    this.events.emit({ type: 'failed', labelId, version, reason, retryable, at });
  }
}
