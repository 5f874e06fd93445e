import type { LabelDirectory } from './label-directory.js';
import type { LabelDriver, LabelDriverEvent } from './label-driver.js';

/**
 * One listener on every label driver the directory knows, kept in step as drivers come and go (an MQTT access point
 * connects, an OEPL AP is configured): `sync()` after each change subscribes the new ones and drops the gone ones.
 */
export class DriverSubscriptions {
  private readonly subscriptions = new Map<LabelDriver, () => void>();

  constructor(
    private readonly directory: LabelDirectory,
    private readonly listener: (event: LabelDriverEvent) => void,
  ) {}

  sync(): void {
    const current = new Set(this.directory.drivers());
    for (const [driver, unsubscribe] of this.subscriptions) {
      if (current.has(driver)) continue;
      unsubscribe();
      this.subscriptions.delete(driver);
    }
    for (const driver of current) if (!this.subscriptions.has(driver)) this.subscriptions.set(driver, driver.onEvent(this.listener));
  }

  clear(): void {
    for (const unsubscribe of this.subscriptions.values()) unsubscribe();
    this.subscriptions.clear();
  }
}
