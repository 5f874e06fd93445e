/**
 * Ack gates: a room that must not let a device believe a message was taken before it is safe (the relay: a kiosk
 * transaction is durable in the outbox) registers a gate for that message key. A device source that can delay its
 * acknowledgement (the MQTT broker: the QoS 1 PUBACK) asks `gateFor(key)` after it published the message on the bus;
 * the gate returns the promise of what the bus subscribers did with that very message, and the source acknowledges
 * only when it resolves — on rejection it does not, so the device sends the message again.
 *
 * Keys without a gate (shelf readings) cost one Map lookup; gates are few and registered at start.
 */
import type { DeviceMessage } from './messages.js';

export type AckGate = (message: DeviceMessage) => Promise<void> | undefined;

export class AckGates {
  private readonly gates = new Map<string, AckGate>();

  /** Holds acks of messages on `key` until `gate`'s promise settles; returns the function that lets go. */
  hold(key: DeviceMessage['key'], gate: AckGate): () => void {
    if (this.gates.has(key)) throw new Error(`an ack gate for ${key} is registered already`);
    this.gates.set(key, gate);
    return () => {
      if (this.gates.get(key) === gate) this.gates.delete(key);
    };
  }

  gateFor(key: string): AckGate | undefined {
    return this.gates.get(key);
  }
}
