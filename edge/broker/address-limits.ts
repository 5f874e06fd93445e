/**
 * Connection fairness per client address: at most `maxConnectionsPerAddress` open sockets and
 * `maxConnectAttemptsPerAddressPerMinute` new ones a minute. One address (a misbehaving device, a scanner on the guest
 * Wi-Fi) then cannot hold every connection slot or keep the broker busy accepting, and every other address's devices
 * still connect. Bounded: an address is tracked while it has open sockets or attempts in the current minute, and at
 * most `maxTrackedAddresses` are (beyond that a new address is refused: only under a flood of distinct addresses).
 */
export type AddressLimitOptions = {
  maxConnectionsPerAddress: number;
  maxConnectAttemptsPerAddressPerMinute: number;
  maxTrackedAddresses: number;
};

export type AddressVerdict = 'accepted' | 'too-many-from-address' | 'too-many-attempts-from-address';

type AddressState = { open: number; windowStart: number; attempts: number };

const WINDOW_MS = 60_000;

export class AddressLimits {
  private readonly addresses = new Map<string, AddressState>();

  constructor(
    private readonly options: AddressLimitOptions,
    private readonly now: () => number,
  ) {}

  /** A new socket from `address`: accepted (counted open until `closed`) or refused, and why. */
  admit(address: string): AddressVerdict {
    const now = this.now();
    let state = this.addresses.get(address);
    if (!state) {
      if (this.addresses.size >= this.options.maxTrackedAddresses) this.sweep(now);
      if (this.addresses.size >= this.options.maxTrackedAddresses) return 'too-many-attempts-from-address';
      state = { open: 0, windowStart: now, attempts: 0 };
      this.addresses.set(address, state);
    }
    if (now - state.windowStart >= WINDOW_MS) {
      state.windowStart = now;
      state.attempts = 0;
    }
    state.attempts++;
    if (state.attempts > this.options.maxConnectAttemptsPerAddressPerMinute) return 'too-many-attempts-from-address';
    if (state.open >= this.options.maxConnectionsPerAddress) return 'too-many-from-address';
    state.open++;
    return 'accepted';
  }

  /** An accepted socket from `address` closed. */
  closed(address: string): void {
    const state = this.addresses.get(address);
    if (!state) return;
    state.open = Math.max(0, state.open - 1);
    if (state.open === 0 && this.now() - state.windowStart >= WINDOW_MS) this.addresses.delete(address);
  }

  openFrom(address: string): number {
    return this.addresses.get(address)?.open ?? 0;
  }

  get trackedAddresses(): number {
    return this.addresses.size;
  }

  private sweep(now: number): void {
    for (const [address, state] of this.addresses)
      if (state.open === 0 && now - state.windowStart >= WINDOW_MS) this.addresses.delete(address);
  }
}
