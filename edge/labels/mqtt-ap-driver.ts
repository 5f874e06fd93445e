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

type Phase = 'queued' | 'sent' | 'waiting';

/** The content a label is getting: queued here, sent and awaiting the AP's ack, or waiting at the AP for the label. */
type Tracked = { content: LabelContent; phase: Phase; queuedAt: number; cmdId?: string; deadline?: number; waitingAnnounced?: boolean };

type LabelSlot = {
  labelId: string;
  current?: Tracked;
  /** a newer version held back while `current` awaits its ack */
  next?: LabelContent;
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
      if (slot.next) this.fail(slot.labelId, slot.next.version, 'gateway stopping', true, now);
      if (slot.current) this.fail(slot.labelId, slot.current.content.version, 'gateway stopping', true, now);
      slot.next = undefined;
      slot.current = undefined;
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
    const current = slot.current;
    if (current && content.version < current.content.version) {
      return this.fail(content.labelId, content.version, `superseded by version ${current.content.version}`, false, now);
    }
    if (current && content.version === current.content.version) return; // the same version is on its way already
    if (!current) {
      if (!this.enqueue(slot))
        return this.fail(content.labelId, content.version, `queue full (${this.options.maxQueued} labels)`, true, now);
      slot.current = { content, phase: 'queued', queuedAt: now };
      return;
    }
    if (current.phase === 'sent') {
      // one command in flight per label: this version goes out once the AP answered the one in flight
      if (slot.next && slot.next.version < content.version)
        this.fail(content.labelId, slot.next.version, `superseded by version ${content.version}`, false, now);
      if (!slot.next || slot.next.version < content.version) slot.next = content;
      return;
    }
    // queued here, or only waiting at the AP (which keeps the newest command per label): replaced at once
    this.supersede(slot, content, now);
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
      const current = slot.current;
      if (current?.phase === 'queued' && commands.length < room) {
        const cmdId = this.newCmdId();
        const { sku, productName, priceCents } = current.content;
        commands.push({ cmdId, labelId, type: 'set-price', sku, productName: productName.slice(0, 128), priceCents });
        current.phase = 'sent';
        current.cmdId = cmdId;
        current.deadline = now + this.options.ackTimeoutMs;
        this.sent.set(cmdId, slot);
        entry.cmdId = cmdId;
      } else if (current?.phase === 'queued') {
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
    for (const { slot, cmdId, flash } of carried) {
      if (flash && !slot.flash) slot.flash = flash;
      if (cmdId !== undefined && slot.current?.cmdId === cmdId && this.sent.delete(cmdId)) this.requeue(slot);
      if (slot.flash || slot.current?.phase === 'queued') this.queue.add(slot.labelId);
    }
  }

  private acked(payload: ApAcks, at: number): void {
    for (const ack of payload.acks) {
      const slot = this.sent.get(ack.cmdId) ?? this.waiting.get(ack.cmdId);
      // matched by cmdId *and* label: a late, duplicate or superseded ack, or one naming another label, changes nothing
      if (!slot || slot.labelId !== ack.labelId || slot.current?.cmdId !== ack.cmdId) {
        this.acksIgnored++;
        continue;
      }
      this.applyAck(slot, slot.current, ack, at);
    }
  }

  private applyAck(slot: LabelSlot, current: Tracked, ack: ApLabelAck, at: number): void {
    const { labelId } = slot;
    const { version, priceCents } = current.content;
    if (ack.status === 'queued') {
      if (current.phase !== 'sent') return; // a repeated `queued` for a command already waiting
      this.sent.delete(ack.cmdId);
      current.phase = 'waiting';
      current.deadline = at + this.options.maxWaitingMs;
      this.waiting.set(ack.cmdId, slot);
      if (!current.waitingAnnounced) this.events.emit({ type: 'waiting', labelId, version, at });
      current.waitingAnnounced = true;
      // the AP holds it now and keeps only the newest per label: a version held back goes out at once
      if (slot.next) this.supersede(slot, slot.next, at);
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
    this.promoteNext(slot, at);
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
      const current = slot?.current;
      // a `shown` ack may be lost; what the label reports it shows is the proof that matters
      if (!slot || !current || current.phase === 'queued' || displayed === null || displayed !== current.content.priceCents) continue;
      this.end(slot);
      this.events.emit({ type: 'confirmed', labelId: slot.labelId, version: current.content.version, displayedPriceCents: displayed, at });
      this.promoteNext(slot, at);
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
      for (const slot of [...this.sent.values()]) this.requeue(slot);
      this.sent.clear();
      return;
    }
    this.sendableAt = at + this.options.settleMs;
    // the AP may have restarted and lost what it held for its labels: everything not shown yet goes again
    for (const slot of [...this.waiting.values()]) this.requeue(slot);
    this.waiting.clear();
    // the time the link was down earns no commands: the bucket counts from the reconnect
    this.bucket.refilledAt = at;
  }

  private expire(now: number): void {
    for (const [cmdId, slot] of this.sent) {
      const current = slot.current;
      if (!current || current.deadline === undefined || now < current.deadline) continue;
      this.sent.delete(cmdId);
      this.end(slot);
      this.fail(
        slot.labelId,
        current.content.version,
        `no ack from access point ${this.options.apId} within ${this.options.ackTimeoutMs} ms`,
        true,
        now,
      );
      this.promoteNext(slot, now);
    }
    // waiting lasts hours: looked at once a second, not every tick
    if (this.waiting.size > 0 && now - this.waitingSweptAt >= 1_000) {
      this.waitingSweptAt = now;
      this.expireWaiting(now);
    }
    if (!this.linkUp && now - this.downSince >= this.options.offlineQueueTimeoutMs) {
      for (const labelId of [...this.queue]) {
        const slot = this.slots.get(labelId);
        const current = slot?.current;
        if (!slot || !current || current.phase !== 'queued') continue;
        this.queue.delete(labelId);
        this.end(slot);
        this.fail(
          labelId,
          current.content.version,
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
      const current = slot.current;
      if (!current || current.deadline === undefined || now < current.deadline) continue;
      this.waiting.delete(cmdId);
      this.end(slot);
      this.fail(slot.labelId, current.content.version, `label not seen within ${this.options.maxWaitingMs} ms`, true, now);
    }
  }

  /** Replaces what the label is getting (queued here or waiting at the AP) with a newer version, sent next. */
  private supersede(slot: LabelSlot, content: LabelContent, now: number): void {
    const old = slot.current;
    if (old) {
      if (old.cmdId !== undefined) this.waiting.delete(old.cmdId);
      this.fail(slot.labelId, old.content.version, `superseded by version ${content.version}`, false, now);
    }
    slot.next = undefined;
    slot.current = { content, phase: 'queued', queuedAt: now };
    this.queue.add(slot.labelId);
  }

  private promoteNext(slot: LabelSlot, now: number): void {
    const next = slot.next;
    if (!next) return;
    slot.next = undefined;
    slot.current = { content: next, phase: 'queued', queuedAt: now };
    this.queue.add(slot.labelId);
  }

  private requeue(slot: LabelSlot): void {
    const current = slot.current;
    if (!current) return;
    current.phase = 'queued';
    current.cmdId = undefined;
    current.deadline = undefined;
    this.queue.add(slot.labelId);
  }

  /** The label's current command ended (confirmed or failed): forget its cmdId. */
  private end(slot: LabelSlot): void {
    const cmdId = slot.current?.cmdId;
    if (cmdId !== undefined) {
      this.sent.delete(cmdId);
      this.waiting.delete(cmdId);
    }
    slot.current = undefined;
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
    const slot: LabelSlot = { labelId };
    this.slots.set(labelId, slot);
    return slot;
  }

  private fail(labelId: string, version: number, reason: string, retryable: boolean, at: number): void {
    this.events.emit({ type: 'failed', labelId, version, reason, retryable, at });
  }

  private newCmdId(): string {
    return `${this.cmdPrefix}${(this.nextCmd++).toString(36)}`;
  }
}
