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
import { endInFlight, launchSend, offerSend, requeueInFlight, type SendSlot, type Superseded } from './label-send-slot.js';
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

/** Sent through the command channel, its result awaited; `waitingAnnounced`: `waiting` was reported for it already. */
type InFlight = { content: LabelContent; waitingAnnounced?: boolean };
/** Not sent yet; `away`: the label was not connected, the content goes out when it connects or reports. */
type Queued = InFlight & { away?: boolean };
/** One command in flight per label; a newer version queued meanwhile waits for its result (label-send-slot). */
type LabelSlot = { labelId: string; sends: SendSlot<InFlight, Queued> };

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
      const { inFlight, queued } = slot.sends;
      if (queued) this.fail(slot.labelId, queued.content.version, 'gateway stopping', true, now);
      slot.sends = inFlight ? { inFlight } : {};
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
      slot = { labelId: content.labelId, sends: {} };
      this.slots.set(content.labelId, slot);
    }
    const offered = offerSend(slot.sends, { content });
    if (offered.outcome === 'duplicate') return;
    if (offered.outcome === 'stale') return this.superseded(slot.labelId, offered.superseded, now);
    slot.sends = offered.slot;
    if (offered.superseded) this.superseded(slot.labelId, offered.superseded, now);
    // one command in flight per label: this version goes out once that one ended; otherwise now, even to a label away
    if (slot.sends.inFlight) return;
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
      const launched =
        slot && !slot.sends.inFlight && !slot.sends.queued?.away
          ? launchSend(slot.sends, ({ content, waitingAnnounced }): InFlight => ({
              content,
              ...(waitingAnnounced ? { waitingAnnounced } : {}),
            }))
          : undefined;
      if (!slot || !launched) continue;
      slot.sends = launched.slot;
      const tracked = launched.sent;
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

  private ended(slot: LabelSlot, tracked: InFlight, result: CommandResult): void {
    if (slot.sends.inFlight !== tracked) return;
    const { labelId } = slot;
    const { version, priceCents } = tracked.content;
    const at = result.endedAt;
    const displayed = result.ack?.displayedPriceCents;
    if (result.outcome === 'dropped' && result.detail?.startsWith('not-connected')) {
      // the label is away: the content goes out when it connects or reports (unless a newer version came meanwhile)
      if (!tracked.waitingAnnounced) this.events.emit({ type: 'waiting', labelId, version, at });
      const step = requeueInFlight(slot.sends, ({ content }): Queued => ({ content, away: true, waitingAnnounced: true }));
      const newer = step.superseded ? step.slot.queued : undefined;
      if (step.superseded) this.superseded(labelId, step.superseded, at);
      slot.sends = newer ? { queued: { content: newer.content, away: true, waitingAnnounced: true } } : step.slot;
      if (newer) this.events.emit({ type: 'waiting', labelId, version: newer.content.version, at });
      return;
    }
    slot.sends = endInFlight(slot.sends);
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
    const queued = slot?.sends.queued;
    if (!slot || !queued?.away) return;
    if (displayedPriceCents !== null && displayedPriceCents === queued.content.priceCents) {
      slot.sends = {};
      this.events.emit({ type: 'confirmed', labelId, version: queued.content.version, displayedPriceCents, at });
      this.promoteNext(slot);
      return;
    }
    slot.sends = { queued: { content: queued.content, waitingAnnounced: true } };
    this.queue.add(labelId);
    this.pump();
  }

  /** The label's command ended: a version queued meanwhile goes out; a label with nothing on its way is forgotten. */
  private promoteNext(slot: LabelSlot): void {
    const { inFlight, queued } = slot.sends;
    if (!inFlight && !queued) {
      this.slots.delete(slot.labelId);
      return;
    }
    if (inFlight || !queued) return;
    this.queue.add(slot.labelId);
    this.pump();
  }

  private fail(labelId: string, version: number, reason: string, retryable: boolean, at: number): void {
    this.events.emit({ type: 'failed', labelId, version, reason, retryable, at });
  }

  /** A newer version replaced this one: sending it again would not help. */
  private superseded(labelId: string, { content, by }: Superseded, at: number): void {
    this.fail(labelId, content.version, `superseded by version ${by}`, false, at);
  }
}
