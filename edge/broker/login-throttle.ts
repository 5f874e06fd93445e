import { FailureThrottle } from '../core/failure-throttle.js';

export type LoginThrottleOptions = {
  /** wrong secrets for one device id from one client address, a sliding minute */
  maxFailuresPerDevicePerMinute: number;
  /** wrong secrets from one client address, whatever the device id (an address spraying guesses over many ids) */
  maxFailuresPerAddressPerMinute: number;
  maxTrackedKeys: number;
};

/**
 * Failed MQTT logins, counted per client address and, within an address, per device id. Someone guessing `shelf-02`'s
 * secret from one address is slowed down there only: the real `shelf-02` on another address is never refused for it,
 * and the state lives in memory, so a restart starts every address afresh (a lockout never outlives the process).
 * Past a limit a CONNECT is refused without hashing the offered secret. For a device id, attempts whose secret is
 * being checked right now count as failures already, so a burst of concurrent guesses cannot slip past its limit; for
 * the address as a whole they do not: 200 devices behind one access point logging in at once after it rebooted are no
 * guesses (what can slip past the address limit is bounded by the registry's few hash slots).
 */
export class LoginThrottle {
  private readonly perDevice: FailureThrottle;
  private readonly perAddress: FailureThrottle;
  /**
   * `<address> <deviceId>` → attempts being checked; an entry lives only while its check runs, so the map is bounded by
   * the connections in their CONNECT (the broker's per-address and total connection limits)
   */
  private readonly checking = new Map<string, number>();

  constructor(options: LoginThrottleOptions, now: () => number) {
    this.perDevice = new FailureThrottle(
      { maxFailures: options.maxFailuresPerDevicePerMinute, windowMs: 60_000, maxKeys: options.maxTrackedKeys },
      now,
    );
    this.perAddress = new FailureThrottle(
      { maxFailures: options.maxFailuresPerAddressPerMinute, windowMs: 60_000, maxKeys: options.maxTrackedKeys },
      now,
    );
  }

  isBlocked(address: string, deviceId: string): boolean {
    const key = deviceKey(address, deviceId);
    return this.perDevice.isBlocked(key, this.checking.get(key) ?? 0) || this.perAddress.isBlocked(address);
  }

  /** A secret check starts; every `begin` is followed by exactly one `end`. */
  begin(address: string, deviceId: string): void {
    const key = deviceKey(address, deviceId);
    this.checking.set(key, (this.checking.get(key) ?? 0) + 1);
  }

  end(address: string, deviceId: string): void {
    const key = deviceKey(address, deviceId);
    const left = (this.checking.get(key) ?? 1) - 1;
    if (left > 0) this.checking.set(key, left);
    else this.checking.delete(key);
  }

  recordFailure(address: string, deviceId: string): void {
    this.perDevice.recordFailure(deviceKey(address, deviceId));
    this.perAddress.recordFailure(address);
  }

  /** The device's failures from this address are forgotten; the address's guesses at other ids are not. */
  recordSuccess(address: string, deviceId: string): void {
    this.perDevice.recordSuccess(deviceKey(address, deviceId));
  }
}

/** Device ids match the id pattern (no spaces; checked before this is called), so the key is unambiguous. */
function deviceKey(address: string, deviceId: string): string {
  return `${address} ${deviceId}`;
}
