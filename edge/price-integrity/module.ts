/**
 * Price integrity's side effects: follows kiosk `item-scanned` events (on the bus) and label check-ins (from every
 * label driver), asks the pure rules (price-integrity.ts) whether the price agrees with the one the label confirmed
 * (the campaign service's price book), and opens or resolves the `price-mismatch` alert. Started after the campaign
 * service, so the price book it reads is the resumed one.
 */
import { DriverSubscriptions } from '../labels/driver-subscriptions.js';
import type { Logger } from 'pino';
import type { AlertService } from '../alerts/alert-service.js';
import type { GatewayBus } from '../core/events.js';
import type { GatewayModule, HealthCheck } from '../core/module.js';
import type { LabelDirectory } from '../labels/label-directory.js';
import type { LabelDriverEvent } from '../labels/label-driver.js';
import type { LabelPriceRecord } from '../labels/label-price-book.js';
import { checkKioskPrice, checkLabelPrice, type ConfirmedLabelPrice, type IntegrityVerdict } from './price-integrity.js';

declare module '../core/module.js' {
  interface GatewayServices {
    priceIntegrity: PriceIntegrityModule;
  }
}

export type PriceIntegrityDeps = {
  bus: GatewayBus;
  directory: LabelDirectory;
  /** the campaign service's price book */
  prices: { priceRecord(labelId: string): LabelPriceRecord | undefined };
  alerts: () => AlertService;
  log: Logger;
  /** the planogram's name of a sku (alert titles name the product); absent: titles name the sku */
  productName?: (sku: string) => string | undefined;
};

export class PriceIntegrityModule implements GatewayModule {
  readonly name = 'price-integrity';
  readonly counters = { kioskChecks: 0, labelChecks: 0, mismatchesRaised: 0, resolved: 0 };
  private readonly driverSubscriptions: DriverSubscriptions;
  private unsubscribes: Array<() => void> = [];

  constructor(private readonly deps: PriceIntegrityDeps) {
    this.driverSubscriptions = new DriverSubscriptions(deps.directory, this.onDriverEvent);
  }

  async start(): Promise<void> {
    this.driverSubscriptions.sync();
    this.unsubscribes.push(
      this.deps.directory.onDriversChanged(() => this.driverSubscriptions.sync()),
      this.deps.bus.on('device.message:kiosk/event', 'price-integrity', (message) => {
        const event = message.payload;
        if (event.type !== 'item-scanned' || event.sku === undefined || event.priceCents === undefined) return;
        this.kioskScanned(message.deviceId, event.sku, event.priceCents);
      }),
    );
  }

  async stop(): Promise<void> {
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe();
    this.driverSubscriptions.clear();
  }

  health(): HealthCheck {
    return { ok: true, ...this.counters };
  }

  /** A kiosk charged `scannedCents` for `sku` (a unit price). */
  kioskScanned(kioskId: string, sku: string, scannedCents: number): void {
    this.counters.kioskChecks += 1;
    const labels: ConfirmedLabelPrice[] = [];
    for (const labelId of this.deps.directory.labelsForSku(sku)) {
      const confirmed = this.deps.prices.priceRecord(labelId)?.confirmed;
      // a label that confirmed another sku's price is not yet this sku's label: nothing to compare with
      if (!confirmed || confirmed.sku !== sku) continue;
      const binding = this.deps.directory.bindingOf(labelId);
      labels.push({ labelId, priceCents: confirmed.priceCents, ...(binding ? { shelfId: binding.shelfId, facing: binding.facing } : {}) });
    }
    this.apply(checkKioskPrice({ kioskId, sku, scannedCents, labels, productName: this.deps.productName?.(sku) }), { kioskId, sku });
  }

  /** A label reported the price it shows. */
  labelReported(labelId: string, displayedCents: number): void {
    this.counters.labelChecks += 1;
    const verdict = checkLabelPrice({
      labelId,
      displayedCents,
      record: this.deps.prices.priceRecord(labelId),
      binding: this.deps.directory.bindingOf(labelId),
      ...(this.deps.productName ? { productName: this.deps.productName } : {}),
    });
    this.apply(verdict, { labelId });
  }

  private readonly onDriverEvent = (event: LabelDriverEvent): void => {
    if (event.type === 'check-in' && event.displayedPriceCents !== undefined) this.labelReported(event.labelId, event.displayedPriceCents);
  };

  private apply(verdict: IntegrityVerdict, context: Record<string, unknown>): void {
    const alerts = this.deps.alerts();
    if (verdict.type === 'raise') {
      const { opened } = alerts.raise(verdict.alert);
      // still mismatched, perhaps at other prices: the title names the prices seen last
      if (!opened) alerts.updateByKey(verdict.alert.key, { title: verdict.alert.title });
      else {
        this.counters.mismatchesRaised += 1;
        this.deps.log.warn({ ...context, key: verdict.alert.key, title: verdict.alert.title }, 'price mismatch');
      }
    } else if (verdict.type === 'resolve') {
      if (alerts.resolveByKey(verdict.key, 'system', verdict.resolution)) {
        this.counters.resolved += 1;
        this.deps.log.info({ ...context, key: verdict.key }, 'price mismatch resolved');
      }
    }
  }
}
