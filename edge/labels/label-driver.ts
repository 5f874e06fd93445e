/**
 * The LabelDriver port: how the labels room reaches shelf labels, whatever carries them — direct MQTT labels
 * (`esl/<id>/…`), MQTT access points (device kind `ap`, one connection for many labels) or an OpenEPaperLink access
 * point over HTTP + websocket. A driver takes "show this price on this label (version v)" and reports what the label
 * actually does; it knows nothing of campaigns. Outcomes arrive as events, never as return values: a label may confirm
 * minutes later, at its next check-in.
 */
import type { GatewayModule } from '../core/module.js';

/** What one label should show. `version` increases per label; an outcome names the version it is about. */
export type LabelContent = { labelId: string; version: number; sku: string; productName: string; priceCents: number };

export type FlashPattern = 'find' | 'stop';

export type LabelDriverEvent =
  /** the label shows `version` (it reported it, or the AP confirmed the render; same content as before counts) */
  | { type: 'confirmed'; labelId: string; version: number; displayedPriceCents?: number; at: number }
  /** `version` will not be shown: `retryable` says whether sending it again may help (AP busy, transfer timeout) */
  | { type: 'failed'; labelId: string; version: number; reason: string; retryable: boolean; at: number }
  /** accepted by the access point, the label has not been seen since: delivered when it checks in */
  | { type: 'waiting'; labelId: string; version: number; at: number }
  /** the label was seen: battery in mV (null: unknown), and the price it shows when the carrier reports it */
  | { type: 'check-in'; labelId: string; batteryMv: number | null; displayedPriceCents?: number; at: number }
  /** the driver's link to its access point (or broker) went up or down */
  | { type: 'link'; up: boolean; detail?: string; at: number };

export interface LabelDriver extends GatewayModule {
  /** e.g. `mqtt-esl`, `mqtt-ap:ap-01`, `oepl:10.20.1.5` */
  readonly driverId: string;
  /** whether this driver carries the label (by id or mac) */
  handles(labelId: string): boolean;
  /** queue the content for the label; at most one version in flight per label — a newer one supersedes a queued older one */
  send(content: LabelContent): void;
  flash(labelId: string, pattern: FlashPattern): void;
  onEvent(listener: (event: LabelDriverEvent) => void): () => void;
}
