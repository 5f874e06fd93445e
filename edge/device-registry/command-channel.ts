import type { GatewayBus } from '../core/events.js';
import type { GatewayModule } from '../core/module.js';
import { onDeviceMessages, type CommandDelivery, type DeliveryFailure, type DeviceSource, type OutboundCommand } from './device-source.js';
import type { DeviceAck, DeviceMessage } from './messages.js';
import type { DeviceKind } from './topics.js';

export const COMMAND_OUTCOMES = ['confirmed', 'rejected', 'timed-out', 'dropped'] as const;
export type CommandOutcome = (typeof COMMAND_OUTCOMES)[number];

export type CommandRequest = {
  deviceId: string;
  kind: DeviceKind;
  /** the command's `type` as the device contract names it, e.g. 'set-price' */
  type: string;
  /** the command's other fields */
  params?: Readonly<Record<string, unknown>>;
  /** how long to wait for the device's ack (default: the channel's) */
  timeoutMs?: number;
};

export type CommandResult = {
  cmdId: string;
  deviceId: string;
  kind: DeviceKind;
  type: string;
  outcome: CommandOutcome;
  /** why a command was rejected (the device's error) or dropped (e.g. `not-connected`) */
  detail?: string;
  /** the device's ack, when there was one */
  ack?: DeviceAck;
  sentAt: number;
  endedAt: number;
};

export type CommandChannelDeps = {
  bus: GatewayBus;
  /** the transports plugged in; a command goes to the one that carries its device (`DeviceSource.carries`) */
  sources: () => readonly DeviceSource[];
  now: () => number;
  newId: () => string;
  onOutcome: (outcome: CommandOutcome) => void;
  defaultTimeoutMs: number;
  /** bound of commands waiting for an ack; past it a new command is dropped at once */
  maxPending: number;
};

type Pending = {
  request: CommandRequest;
  cmdId: string;
  sentAt: number;
  timer: NodeJS.Timeout;
  resolve: (result: CommandResult) => void;
};

type AckMessage = Extract<DeviceMessage, { payload: DeviceAck }>;

/**
 * Gateway → device commands with an end. Each command gets a `cmdId`; the channel hands it to the device's source,
 * waits for the device's ack on its `ack` channel (matched by cmdId *and* device: a device cannot confirm another's
 * command), and resolves it exactly once as `confirmed`, `rejected` (the device said no), `timed-out` (no ack in
 * time) or `dropped` (it never reached the device: not connected, not reading, gateway stopping). Every outcome is
 * counted and published as `command.result`.
 */
export class CommandChannel implements GatewayModule {
  readonly name = 'commands';
  private readonly pending = new Map<string, Pending>();
  /** device id → its commands waiting for an ack (a subset of `pending`, so bounded by it) */
  private readonly pendingByDevice = new Map<string, Set<string>>();
  private unsubscribes: Array<() => void> | undefined;

  constructor(private readonly deps: CommandChannelDeps) {}

  async start(): Promise<void> {
    this.unsubscribes = [
      onDeviceMessages(this.deps.bus, ['esl/ack', 'shelf/ack', 'kiosk/ack'], 'command-acks', (message) => this.acknowledged(message)),
      // a clean-session device loses what was sent to it with its connection: it will never ack those commands
      this.deps.bus.on('device.connection', 'command-disconnects', (event) => {
        if (event.connected) return;
        const cmdIds = this.pendingByDevice.get(event.deviceId);
        if (!cmdIds) return;
        for (const cmdId of [...cmdIds]) this.dropped(cmdId, 'not-connected', 'device disconnected before it acknowledged');
      }),
    ];
  }

  async stop(): Promise<void> {
    for (const unsubscribe of this.unsubscribes ?? []) unsubscribe();
    this.unsubscribes = undefined;
    for (const pending of [...this.pending.values()]) this.end(pending, 'dropped', { detail: 'gateway stopping' });
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  send(request: CommandRequest): Promise<CommandResult> {
    const cmdId = this.deps.newId();
    const sentAt = this.deps.now();
    return new Promise<CommandResult>((resolve) => {
      const immediate = (detail: string) => {
        this.deps.onOutcome('dropped');
        const result: CommandResult = {
          cmdId,
          deviceId: request.deviceId,
          kind: request.kind,
          type: request.type,
          outcome: 'dropped',
          detail,
          sentAt,
          endedAt: sentAt,
        };
        this.deps.bus.emit('command.result', result);
        resolve(result);
      };
      if (this.unsubscribes === undefined) return immediate('not-started');
      if (this.pending.size >= this.deps.maxPending) return immediate('too-many-pending');
      const timeoutMs = request.timeoutMs ?? this.deps.defaultTimeoutMs;
      const pending: Pending = {
        request,
        cmdId,
        sentAt,
        resolve,
        timer: setTimeout(() => this.end(pending, 'timed-out', { detail: `no ack within ${timeoutMs} ms` }), timeoutMs),
      };
      pending.timer.unref();
      this.pending.set(cmdId, pending);
      const forDevice = this.pendingByDevice.get(request.deviceId) ?? new Set<string>();
      forDevice.add(cmdId);
      this.pendingByDevice.set(request.deviceId, forDevice);
      const delivery = this.deliver(
        { cmdId, deviceId: request.deviceId, kind: request.kind, payload: { cmdId, type: request.type, ...request.params, ts: sentAt } },
        (reason: DeliveryFailure, detail?: string) => this.dropped(cmdId, reason, detail),
      );
      if (!delivery.ok) this.dropped(cmdId, delivery.reason, delivery.detail);
    });
  }

  /**
   * Hands a command to the source that carries its device and does not wait for an ack: for a sender that matches its
   * device's acks itself (an access point acks each label command of a batch, never the batch). No outcome is counted
   * or published: only the sender knows how its commands end.
   */
  dispatch(command: OutboundCommand, onDropped: (reason: DeliveryFailure, detail?: string) => void): CommandDelivery {
    if (this.unsubscribes === undefined) return { ok: false, reason: 'not-started' };
    return this.deliver(command, onDropped);
  }

  /** The one place a command meets a transport: the source that carries the device, or none (not connected). */
  private deliver(command: OutboundCommand, onDropped: (reason: DeliveryFailure, detail?: string) => void): CommandDelivery {
    const source = this.deps.sources().find((candidate) => candidate.carries(command.deviceId));
    if (!source) return { ok: false, reason: 'not-connected' };
    try {
      return source.deliver(command, onDropped);
    } catch (error) {
      // a transport that throws (params it cannot encode) must not leave the command pending to time out later
      return { ok: false, reason: 'transport-error', detail: (error as Error)?.message ?? String(error) };
    }
  }

  private dropped(cmdId: string, reason: DeliveryFailure, detail?: string): void {
    const pending = this.pending.get(cmdId);
    if (pending) this.end(pending, 'dropped', { detail: detail ? `${reason}: ${detail}` : reason });
  }

  private acknowledged(message: AckMessage): void {
    const pending = this.pending.get(message.payload.cmdId);
    // an ack for a command this device was not sent (late, duplicate, or another device's id) changes nothing
    if (!pending || pending.request.deviceId !== message.deviceId) return;
    const ack = message.payload;
    if (ack.ok) this.end(pending, 'confirmed', { ack });
    else this.end(pending, 'rejected', { ack, detail: ack.error ?? 'rejected by the device' });
  }

  private end(pending: Pending, outcome: CommandOutcome, extra: { detail?: string; ack?: DeviceAck }): void {
    if (!this.pending.delete(pending.cmdId)) return;
    clearTimeout(pending.timer);
    const { request } = pending;
    const forDevice = this.pendingByDevice.get(request.deviceId);
    forDevice?.delete(pending.cmdId);
    if (forDevice?.size === 0) this.pendingByDevice.delete(request.deviceId);
    const result: CommandResult = {
      cmdId: pending.cmdId,
      deviceId: request.deviceId,
      kind: request.kind,
      type: request.type,
      outcome,
      ...(extra.detail !== undefined ? { detail: extra.detail } : {}),
      ...(extra.ack !== undefined ? { ack: extra.ack } : {}),
      sentAt: pending.sentAt,
      endedAt: this.deps.now(),
    };
    this.deps.onOutcome(outcome);
    this.deps.bus.emit('command.result', result);
    pending.resolve(result);
  }
}
