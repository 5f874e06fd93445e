/**
 * Which label shows which facing, and which driver carries it — the seam between the label room's bindings and
 * drivers (LabelsModule) and the campaign service. Read-only for the campaign service.
 */
import type { LabelDriver } from './label-driver.js';

export type LabelBinding = { labelId: string; shelfId: string; facing: number; sku: string };

export interface LabelDirectory {
  /** the labels currently bound to facings of this sku (bounded by the planogram) */
  labelsForSku(sku: string): readonly string[];
  bindingOf(labelId: string): LabelBinding | undefined;
  /** the driver that carries the label now (undefined: no driver knows it — the send waits or fails, the caller decides) */
  driverFor(labelId: string): LabelDriver | undefined;
  /** every driver, to subscribe to their events once */
  drivers(): readonly LabelDriver[];
  /** a driver came or went (an MQTT access point connected, an OEPL AP was configured) */
  onDriversChanged(listener: () => void): () => void;
}
