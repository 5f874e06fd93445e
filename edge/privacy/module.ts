import type { Logger } from 'pino';
import type { GatewayModule } from '../core/module.js';
import { protectKioskEvent, Pseudonymizer, type KioskEventFields } from './customer-data.js';
import { loadOrCreatePseudonymKey } from './pseudonym-key.js';
import type { RetentionModule } from './retention.js';

declare module '../core/module.js' {
  interface GatewayServices {
    privacy: PrivacyModule;
    retention: RetentionModule;
  }
}

/**
 * Customer data protection: loads (or makes) the store's pseudonym key at start and protects kiosk events as they are
 * decoded — before the bus, so storage, the live stream and the relay to HQ only ever see the protected event.
 */
export class PrivacyModule implements GatewayModule {
  readonly name = 'privacy';
  private pseudonyms: Pseudonymizer | undefined;

  constructor(private readonly deps: { keyFile: string; log: Logger }) {}

  async start(): Promise<void> {
    const { key, created } = await loadOrCreatePseudonymKey(this.deps.keyFile);
    this.pseudonyms = new Pseudonymizer(key);
    if (created)
      this.deps.log.info(
        { keyFile: this.deps.keyFile },
        'made the store pseudonym key (back it up with the data dir: pseudonyms change without it)',
      );
  }

  async stop(): Promise<void> {}

  /** The decoder's step for kiosk events; refuses to run before the key is loaded rather than let data through. */
  readonly protectKioskEvent = <T extends KioskEventFields>(event: T): T => {
    if (!this.pseudonyms) throw new Error('customer data protection is not started: kiosk event refused');
    return protectKioskEvent(event, this.pseudonyms);
  };
}
