/**
 * The LabelDriver of one MQTT access point (device kind `ap`): one connection carries the commands, acks and
 * check-ins of hundreds to thousands of labels, in batches (docs/device-contract.md, "ESL access points").
 *
 *  - `send` queues a label's content; a tick takes queued labels in batches of at most `maxBatchSize`, paced by a
 *    per-AP token bucket (`maxCommandsPerSecond`: the radio side is slow and shared) and a window of commands awaiting
 *    the AP's ack (`maxInFlight`).
 *  - Each label command has its own `cmdId`; an ack counts only when its cmdId *and* label are the ones in flight.
 *    `shown` confirms, `queued` means waiting (the label has not been seen: the AP delivers it at check-in and acks
 *    `shown` then, or the label's next report shows the price), `failed` fails.
 *  - At most one command in flight per label: a newer version waits for the older one's ack; one still queued here,
 *    or only waiting at the AP, is superseded at once (the AP keeps the newest command per label).
 *  - AP offline: link down; what was in flight goes back to the queue (a clean session loses it), the queue waits
 *    (bounded by count and by `offlineQueueTimeoutMs`) and everything not yet shown is sent again on reconnect.
 *
 * Every outcome arrives as an event; every send ends `confirmed` or `failed` (with the reason) sooner or later.
 */
import type { Logger } from 'pino';
import type { GatewayBus } from '../core/events.js';
import type { HealthCheck } from '../core/module.js';
import { refillTokens, takeUpToTokens, tokenBucket, type TokenBucket, type TokenRate } from '../core/token-bucket.js';
import type { CommandChannel } from '../device-registry/command-channel.js';
import { onDeviceMessages, type DeliveryFailure } from '../device-registry/device-source.js';
import type { ApAcks, ApLabelAck, ApLabelCommand, ApLabels } from '../device-registry/messages.js';
import { AP_MAX_BATCH_ITEMS } from '../device-registry/schemas.js';
import type { FlashPattern, LabelContent, LabelDriver, LabelDriverEvent } from './label-driver.js';
import {
  endInFlight,
  launchSend,
  offerSend,
  requeueInFlight,
  supersedeInFlight,
  type SendSlot,
  type Superseded,
} from './label-send-slot.js';
import type { MqttApDriverLimits } from './label-driver-limits.js';
import { LabelEvents } from './mqtt-label-driver.js';

/** The AP's device id and every limit: `configDefaults(MqttApDriverLimitsSchema)` and what differs (label-driver-limits.ts). */
export type MqttApDriverOptions = MqttApDriverLimits & { apId: string };

export type MqttApDriverDeps = {
  bus: GatewayBus;
  /** the command channel: it hands each batch to the transport that carries the AP (the MQTT broker) */
  commands: Pick<CommandChannel, 'dispatch'>;
  log: Logger;
  now: () => number;
  /** whether the AP is connected right now (device liveness); the driver follows `device.connection` after start */
  isConnected?: (deviceId: string) => boolean;
  /** labels known to be behind this AP before it reports them (planogram, bindings) */
  labels?: Iterable<string>;
};

/** Content queued here; `waitingAnnounced`: its `waiting` was reported already (not again after a re-send). */
type Queued = { content: LabelContent; waitingAnnounced?: boolean };
/** Content sent and awaiting the AP's ack (`sent`), or acked `queued`: waiting at the AP for the label to check in. */
type InFlight = Queued & { cmdId: string; phase: 'sent' | 'waiting'; deadline: number };

type LabelSlot = {
  labelId: string;
  /** one command in flight per label; a newer version queued meanwhile waits for its ack (label-send-slot) */
  sends: SendSlot<InFlight, Queued>;
  flash?: FlashPattern;
};

export type MqttApDriverStats = {
  queued: number;
  inFlight: number;
  waiting: number;
  batchesSent: number;
  /** acks naming a cmdId/label that is not in flight (late, duplicate, superseded): ignored */
  acksIgnored: number;
  linkUp: boolean;
};

export class MqttApDriver implements LabelDriver {
  readonly name: string;
  readonly driverId: string;
  private readonly options: MqttApDriverOptions;
  private readonly events: LabelEvents;
  private readonly slots = new Map<string, LabelSlot>();
  /** labels with something to send, oldest first (a Set keeps insertion order and makes re-queueing idempotent) */
  private readonly queue = new Set<string>();
  /** cmdId → label, for commands the AP has not acked yet (bounded by maxInFlight) */
  private readonly sent = new Map<string, LabelSlot>();
  /** cmdId → label, for commands the AP holds until the label checks in (bounded by the labels tracked) */
  private readonly waiting = new Map<string, LabelSlot>();
  /** `maxCommandsPerSecond`, holding a batch or a tick's worth of commands, whichever is more */
  private readonly commandRate: TokenRate;
  private bucket: TokenBucket;
  private linkUp = false;
  /** no batch before this (the AP has just connected and may not have subscribed yet) */
  private sendableAt = 0;
  /** when the link last went down: queued content waits `offlineQueueTimeoutMs` from here */
  private downSince: number;
  private nextCmd = 0;
  private readonly cmdPrefix = Math.random().toString(36).slice(2, 6);
  private batchesSent = 0;
  private waitingSweptAt = 0;
  private acksIgnored = 0;
  private timer: NodeJS.Timeout | undefined;
  private unsubscribes: Array<() => void> = [];

  constructor(
    options: MqttApDriverOptions,
    private readonly deps: MqttApDriverDeps,
  ) {
    this.options = {
      ...options,
      maxBatchSize: Math.min(options.maxBatchSize, AP_MAX_BATCH_ITEMS),
    };
    this.driverId = `mqtt-ap:${options.apId}`;
    this.name = `labels-${this.driverId}`;
    this.events = new LabelEvents(deps.log);
    this.downSince = deps.now();
    for (const labelId of deps.labels ?? []) this.slotOf(labelId);
    const { maxBatchSize, maxCommandsPerSecond, tickMs } = this.options;
    this.commandRate = { perSecond: maxCommandsPerSecond, capacity: Math.max(maxBatchSize, (maxCommandsPerSecond * tickMs) / 1_000) };
    this.bucket = tokenBucket(this.commandRate, 0, 0);
  }

  async start(): Promise<void> {
    const { bus } = this.deps;
    const apId = this.options.apId;
    this.unsubscribes = [
      onDeviceMessages(bus, ['ap/ack'], `${this.driverId}:acks`, (message) => {
        if (message.deviceId === apId) this.acked(message.payload, message.receivedAt);
      }),
      onDeviceMessages(bus, ['ap/labels'], `${this.driverId}:labels`, (message) => {
        if (message.deviceId === apId) this.reported(message.payload, message.receivedAt);
      }),
      bus.on('device.connection', `${this.driverId}:link`, (event) => {
        if (event.deviceId === apId)
          this.setLink(event.connected, event.at, event.connected ? 'access point connected' : 'access point disconnected');
      }),
      // the AP's SUBSCRIBE to its command topic is in: batches may go at once (settleMs covers an AP whose persistent
      // session kept the subscription and sends none)
      bus.on('device.subscribed', `${this.driverId}:subscribed`, (event) => {
        if (event.deviceId === apId && this.linkUp && event.topics.some((topic) => topic.endsWith(`/ap/${apId}/cmd`)))
          this.sendableAt = Math.min(this.sendableAt, event.at);
      }),
    ];
    const now = this.deps.now();
    this.bucket = tokenBucket(this.commandRate, now, this.options.maxBatchSize);
    if (this.deps.isConnected?.(apId)) this.setLink(true, now, 'access point connected');
    this.timer = setInterval(() => this.tick(this.deps.now()), this.options.tickMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    for (const unsubscribe of this.unsubscribes) unsubscribe();
    this.unsubscribes = [];
    // what is not shown yet ends here: a campaign resumes it after the restart
    const now = this.deps.now();
    for (const slot of this.slots.values()) {
      const { inFlight, queued } = slot.sends;
      if (queued) this.fail(slot.labelId, queued.content.version, 'gateway stopping', true, now);
      if (inFlight) this.fail(slot.labelId, inFlight.content.version, 'gateway stopping', true, now);
      slot.sends = {};
      slot.flash = undefined;
    }
    this.queue.clear();
    this.sent.clear();
    this.waiting.clear();
  }

  health(): HealthCheck {
    return { ok: this.linkUp, ...this.stats };
  }

  get stats(): MqttApDriverStats {
    return {
      queued: this.queue.size,
      inFlight: this.sent.size,
      waiting: this.waiting.size,
      batchesSent: this.batchesSent,
      acksIgnored: this.acksIgnored,
      linkUp: this.linkUp,
    };
  }

  handles(labelId: string): boolean {
    return this.slots.has(labelId);
  }

  onEvent(listener: (event: LabelDriverEvent) => void): () => void {
    return this.events.add(listener);
  }

  send(content: LabelContent): void {
    const now = this.deps.now();
    const slot = this.slotOf(content.labelId);
    if (!slot)
      return this.fail(
        content.labelId,
        content.version,
        `access point ${this.options.apId} tracks ${this.options.maxLabels} labels already`,
        false,
        now,
      );
    const offered = offerSend(slot.sends, { content });
    if (offered.outcome === 'duplicate') return; // the same version is on its way already
    if (offered.outcome === 'stale') return this.superseded(slot.labelId, offered.superseded, now);
    const { inFlight, queued } = slot.sends;
    if (!inFlight && !queued && !this.enqueue(slot))
      return this.fail(content.labelId, content.version, `queue full (${this.options.maxQueued} labels)`, true, now);
    slot.sends = offered.slot;
    if (offered.superseded) this.superseded(slot.labelId, offered.superseded, now);
    // sent and not answered yet: this version goes out once the AP answered the one in flight; only waiting at the AP
    // (which keeps the newest command per label): replaced at once
    if (inFlight?.phase === 'waiting') this.replaceWaiting(slot, now);
  }

  flash(labelId: string, pattern: FlashPattern): void {
    const slot = this.slotOf(labelId);
    if (!slot || !this.enqueue(slot)) {
      this.deps.log.warn({ driverId: this.driverId, labelId, pattern }, 'flash not queued: label not tracked or queue full');
      return;
    }
    slot.flash = pattern;
  }

  /** One step of the driver: deadlines, then as many batches as the rate limit and the in-flight window allow. */
  tick(now: number): void {
    this.expire(now);
    if (!this.linkUp || now < this.sendableAt) return;
    const { maxBatchSize, maxInFlight } = this.options;
    refillTokens(this.bucket, now);
    while (this.queue.size > 0 && this.linkUp) {
      const room = Math.min(maxBatchSize, Math.floor(this.bucket.tokens), maxInFlight - this.sent.size);
      if (room <= 0) return;
      if (!this.sendBatch(room, now)) return;
    }
  }

  private sendBatch(room: number, now: number): boolean {
    const commands: ApLabelCommand[] = [];
    const carried: Array<{ slot: LabelSlot; cmdId?: string; flash?: FlashPattern }> = [];
    for (const labelId of this.queue) {
      if (commands.length >= room) break;
      this.queue.delete(labelId);
      const slot = this.slots.get(labelId);
      if (!slot) continue;
      const entry: { slot: LabelSlot; cmdId?: string; flash?: FlashPattern } = { slot };
      if (slot.flash) {
        commands.push({ cmdId: this.newCmdId(), labelId, type: 'flash', pattern: slot.flash });
        entry.flash = slot.flash;
        slot.flash = undefined;
      }
      const sendable = slot.sends.queued !== undefined && slot.sends.inFlight === undefined;
      const launched =
        sendable && commands.length < room
          ? launchSend(slot.sends, (queued): InFlight => ({
              ...queued,
              cmdId: this.newCmdId(),
              phase: 'sent',
              deadline: now + this.options.ackTimeoutMs,
            }))
          : undefined;
      if (launched) {
        const { cmdId, content } = launched.sent;
        const { sku, productName, priceCents } = content;
        commands.push({ cmdId, labelId, type: 'set-price', sku, productName: productName.slice(0, 128), priceCents });
        slot.sends = launched.slot;
        this.sent.set(cmdId, slot);
        entry.cmdId = cmdId;
      } else if (sendable) {
        this.queue.add(labelId); // the flash took the batch's last place: the content goes in the next one
      }
      carried.push(entry);
    }
    if (commands.length === 0) return false;
    const batchId = this.newCmdId();
    // the AP acks each label command, never the batch: the channel delivers it and leaves the acks to this driver
    const delivery = this.deps.commands.dispatch(
      { cmdId: batchId, deviceId: this.options.apId, kind: 'ap', payload: { batchId, commands, ts: now } },
      (reason, detail) => this.batchLost(carried, reason, detail),
    );
    takeUpToTokens(this.bucket, now, commands.length);
    if (!delivery.ok) {
      this.batchLost(carried, delivery.reason, delivery.detail);
      if (delivery.reason === 'not-connected' || delivery.reason === 'not-started') this.setLink(false, now, delivery.reason);
      return false;
    }
    this.batchesSent++;
    return true;
  }

  /** A batch that did not reach the AP: its commands go back to the queue, to be sent again. */
  private batchLost(
    carried: ReadonlyArray<{ slot: LabelSlot; cmdId?: string; flash?: FlashPattern }>,
    reason: DeliveryFailure,
    detail?: string,
  ): void {
    this.deps.log.debug({ driverId: this.driverId, reason, detail, commands: carried.length }, 'batch not delivered; re-queued');
    const now = this.deps.now();
    for (const { slot, cmdId, flash } of carried) {
      if (flash && !slot.flash) slot.flash = flash;
      if (cmdId !== undefined && slot.sends.inFlight?.cmdId === cmdId && this.sent.delete(cmdId)) this.requeue(slot, now);
      if (slot.flash) this.queue.add(slot.labelId);
    }
  }

  private acked(payload: ApAcks, at: number): void {
    for (const ack of payload.acks) {
      const slot = this.sent.get(ack.cmdId) ?? this.waiting.get(ack.cmdId);
      const inFlight = slot?.sends.inFlight;
      // matched by cmdId *and* label: a late, duplicate or superseded ack, or one naming another label, changes nothing
      if (!slot || !inFlight || slot.labelId !== ack.labelId || inFlight.cmdId !== ack.cmdId) {
        this.acksIgnored++;
        continue;
      }
      this.applyAck(slot, inFlight, ack, at);
    }
  }

  private applyAck(slot: LabelSlot, inFlight: InFlight, ack: ApLabelAck, at: number): void {
    const { labelId } = slot;
    const { version, priceCents } = inFlight.content;
    if (ack.status === 'queued') {
      if (inFlight.phase !== 'sent') return; // a repeated `queued` for a command already waiting
      this.sent.delete(ack.cmdId);
      inFlight.phase = 'waiting';
      inFlight.deadline = at + this.options.maxWaitingMs;
      this.waiting.set(ack.cmdId, slot);
      if (!inFlight.waitingAnnounced) this.events.emit({ type: 'waiting', labelId, version, at });
      inFlight.waitingAnnounced = true;
      // the AP holds it now and keeps only the newest per label: a version held back goes out at once
      if (slot.sends.queued) this.replaceWaiting(slot, at);
      return;
    }
    this.end(slot);
    if (ack.status === 'shown' && (ack.displayedPriceCents === undefined || ack.displayedPriceCents === priceCents)) {
      this.events.emit({
        type: 'confirmed',
        labelId,
        version,
        ...(ack.displayedPriceCents !== undefined ? { displayedPriceCents: ack.displayedPriceCents } : {}),
        at,
      });
    } else if (ack.status === 'shown') {
      this.fail(labelId, version, `label shows ${ack.displayedPriceCents} cents, expected ${priceCents}`, true, at);
    } else {
      this.fail(labelId, version, `access point ${this.options.apId}: ${ack.error ?? 'failed'}`, ack.retryable ?? true, at);
    }
    this.promoteNext(slot);
  }

  /** Check-ins: battery and displayed price of each label heard; a label showing the price in flight confirms it. */
  private reported(payload: ApLabels, at: number): void {
    for (const report of payload.labels) {
      const slot = this.slotOf(report.labelId);
      const displayed = report.displayedPriceCents;
      this.events.emit({
        type: 'check-in',
        labelId: report.labelId,
        batteryMv: report.batteryMv,
        ...(displayed !== null ? { displayedPriceCents: displayed } : {}),
        at,
      });
      const inFlight = slot?.sends.inFlight;
      // a `shown` ack may be lost; what the label reports it shows is the proof that matters
      if (!slot || !inFlight || displayed === null || displayed !== inFlight.content.priceCents) continue;
      this.end(slot);
      this.events.emit({ type: 'confirmed', labelId: slot.labelId, version: inFlight.content.version, displayedPriceCents: displayed, at });
      this.promoteNext(slot);
    }
  }

  private setLink(up: boolean, at: number, detail: string): void {
    if (up === this.linkUp) return;
    this.linkUp = up;
    this.deps.log.info({ driverId: this.driverId, apId: this.options.apId, up }, up ? 'access point link up' : 'access point link down');
    this.events.emit({ type: 'link', up, detail, at });
    if (!up) {
      this.downSince = at;
      // a clean session loses what was in flight: no ack will come for it
      for (const slot of [...this.sent.values()]) this.requeue(slot, at);
      this.sent.clear();
      return;
    }
    this.sendableAt = at + this.options.settleMs;
    // the AP may have restarted and lost what it held for its labels: everything not shown yet goes again
    for (const slot of [...this.waiting.values()]) this.requeue(slot, at);
    this.waiting.clear();
    // the time the link was down earns no commands: the bucket counts from the reconnect
    this.bucket.refilledAt = at;
  }

  private expire(now: number): void {
    for (const [cmdId, slot] of this.sent) {
      const inFlight = slot.sends.inFlight;
      if (!inFlight || now < inFlight.deadline) continue;
      this.sent.delete(cmdId);
      this.end(slot);
      this.fail(
        slot.labelId,
        inFlight.content.version,
        `no ack from access point ${this.options.apId} within ${this.options.ackTimeoutMs} ms`,
        true,
        now,
      );
      this.promoteNext(slot);
    }
    // waiting lasts hours: looked at once a second, not every tick
    if (this.waiting.size > 0 && now - this.waitingSweptAt >= 1_000) {
      this.waitingSweptAt = now;
      this.expireWaiting(now);
    }
    if (!this.linkUp && now - this.downSince >= this.options.offlineQueueTimeoutMs) {
      for (const labelId of [...this.queue]) {
        const slot = this.slots.get(labelId);
        const queued = slot?.sends.queued;
        if (!slot || !queued || slot.sends.inFlight) continue;
        this.queue.delete(labelId);
        slot.sends = {};
        this.fail(
          labelId,
          queued.content.version,
          `access point ${this.options.apId} offline for more than ${this.options.offlineQueueTimeoutMs} ms`,
          true,
          now,
        );
        if (slot.flash) this.queue.add(labelId);
      }
    }
  }

  private expireWaiting(now: number): void {
    for (const [cmdId, slot] of this.waiting) {
      const inFlight = slot.sends.inFlight;
      if (!inFlight || now < inFlight.deadline) continue;
      this.waiting.delete(cmdId);
      this.end(slot);
      this.fail(slot.labelId, inFlight.content.version, `label not seen within ${this.options.maxWaitingMs} ms`, true, now);
    }
  }

  /** The version queued replaces the one waiting at the AP (which keeps only the newest per label): it goes next. */
  private replaceWaiting(slot: LabelSlot, now: number): void {
    const waiting = slot.sends.inFlight;
    if (waiting) this.waiting.delete(waiting.cmdId);
    const step = supersedeInFlight(slot.sends);
    slot.sends = step.slot;
    if (step.superseded) this.superseded(slot.labelId, step.superseded, now);
    this.queue.add(slot.labelId);
  }

  /** The label's command ended (confirmed or failed): a version queued meanwhile goes next. */
  private promoteNext(slot: LabelSlot): void {
    if (slot.sends.queued && !slot.sends.inFlight) this.queue.add(slot.labelId);
  }

  /** A command the AP will not answer (link lost, batch dropped): sent again, unless a newer version is queued. */
  private requeue(slot: LabelSlot, now: number): void {
    const step = requeueInFlight(slot.sends, ({ content, waitingAnnounced }): Queued => ({
      content,
      ...(waitingAnnounced ? { waitingAnnounced } : {}),
    }));
    slot.sends = step.slot;
    if (step.superseded) this.superseded(slot.labelId, step.superseded, now);
    if (slot.sends.queued) this.queue.add(slot.labelId);
  }

  /** The label's command ended (confirmed or failed): forget its cmdId. */
  private end(slot: LabelSlot): void {
    const cmdId = slot.sends.inFlight?.cmdId;
    if (cmdId !== undefined) {
      this.sent.delete(cmdId);
      this.waiting.delete(cmdId);
    }
    slot.sends = endInFlight(slot.sends);
  }

  private enqueue(slot: LabelSlot): boolean {
    if (this.queue.has(slot.labelId)) return true;
    if (this.queue.size >= this.options.maxQueued) return false;
    this.queue.add(slot.labelId);
    return true;
  }

  private slotOf(labelId: string): LabelSlot | undefined {
    const known = this.slots.get(labelId);
    if (known) return known;
    if (this.slots.size >= this.options.maxLabels) return undefined;
    const slot: LabelSlot = { labelId, sends: {} };
    this.slots.set(labelId, slot);
    return slot;
  }

  private fail(labelId: string, version: number, reason: string, retryable: boolean, at: number): void {
    this.events.emit({ type: 'failed', labelId, version, reason, retryable, at });
  }

  /** A newer version replaced this one: sending it again would not help. */
  private superseded(labelId: string, { content, by }: Superseded, at: number): void {
    this.fail(labelId, content.version, `superseded by version ${by}`, false, at);
  }

  private newCmdId(): string {
    return `${this.cmdPrefix}${(this.nextCmd++).toString(36)}`;
  }
}
