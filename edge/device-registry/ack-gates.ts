/**
 * Ack gates: a room that must not let a device believe a message was taken before it is safe (the relay: a kiosk
 * transaction is durable in the outbox; the alerts room: the alert a kiosk event opened is committed) registers a gate
 * for that message key. A device source that can delay its acknowledgement (the MQTT broker: the QoS 1 PUBACK) asks
 * `gateFor(key)` after it published the message on the bus; the gate returns the promise of what the bus subscribers
 * did with that very message, and the source acknowledges only when it resolves — on rejection it does not, so the
 * device sends the message again. Several rooms may gate one key: the ack waits for all of them.
 *
 * Keys without a gate (shelf readings) cost one Map lookup; gates are few and registered at start.
 */
import type { DeviceMessage } from './messages.js';
import { asError } from '../core/as-error.js';

export type AckGate = (message: DeviceMessage) => Promise<void> | undefined;

export class AckGates {
  /** per key: its gates, and the one gate the source asks (all of them combined), rebuilt when they change */
  private readonly gates = new Map<string, { each: AckGate[]; combined: AckGate }>();

  /** Holds acks of messages on `key` until `gate`'s promise settles; returns the function that lets go. */
  hold(key: DeviceMessage['key'], gate: AckGate): () => void {
    const each = [...(this.gates.get(key)?.each ?? [])];
    if (each.includes(gate)) throw new Error(`this ack gate for ${key} is registered already`);
    each.push(gate);
    this.set(key, each);
    return () => {
      const current = this.gates.get(key)?.each ?? [];
      if (!current.includes(gate)) return;
      this.set(
        key,
        current.filter((other) => other !== gate),
      );
    };
  }

  gateFor(key: string): AckGate | undefined {
    return this.gates.get(key)?.combined;
  }

  private set(key: string, each: AckGate[]): void {
    if (each.length === 0) this.gates.delete(key);
    else this.gates.set(key, { each, combined: each.length === 1 ? (each[0] as AckGate) : combine(each) });
  }
}

/** Asks every gate (each sees the message even if another throws); undefined when none holds the ack. */
function combine(gates: readonly AckGate[]): AckGate {
  return (message) => {
    const held: Promise<void>[] = [];
    for (const gate of gates) {
      try {
        const pending = gate(message);
        if (pending) held.push(pending);
      } catch (error) {
        held.push(Promise.reject(asError(error)));
      }
    }
    if (held.length === 0) return undefined;
    return Promise.all(held).then(() => undefined);
  };
}
