/**
 * The demo store's shelf labels, one kind of carrier per group, as the planogram's `labels` section lists them:
 * - `esl-…` ids: direct MQTT labels (one connection each, simulated by StoreSimulation);
 * - 12/16-digit hex macs: tags behind the simulated OpenEPaperLink AP (HTTP + websocket) that the demo starts on the
 *   port of the `labels.accessPoints` entry in config/demo.yaml, before the gateway, so its driver connects at once;
 * - any other id: labels behind one simulated MQTT access point (device kind `ap`, `DEMO_AP_ID`).
 * Which group a label is in follows from its id only, so the planogram file stays the one place that says it.
 */
import type { Logger } from 'pino';
import type { PlanogramLabelEntry } from '../edge/planogram/planogram-file.js';
import type { PlanogramIndex } from '../edge/planogram/planogram.js';
import type { SecretRenewal } from './device-connection.js';
import type { KeptDisplay } from './label-display-file.js';
import { MqttApSimulator } from './mqtt-ap-simulator.js';
import { OeplApSimulator } from './oepl-ap-simulator.js';
import type { RandomSource } from './random.js';

export const DEMO_AP_ID = 'ap-01';

const MAC_PATTERN = /^[0-9A-Fa-f]{12}([0-9A-Fa-f]{4})?$/;

export type DemoLabel = PlanogramLabelEntry & { sku: string };
export type DemoLabelPlan = { direct: DemoLabel[]; behindMqttAp: DemoLabel[]; behindOepl: DemoLabel[] };

/** Thrown when the planogram's labels and the demo's simulators cannot match. */
export class DemoLabelsError extends Error {
  constructor(readonly problems: string[]) {
    super(`the demo's labels do not fit:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'DemoLabelsError';
  }
}

/** Sorts the planogram's labels by carrier (pure). */
export function planDemoLabels(entries: readonly PlanogramLabelEntry[], planogram: Pick<PlanogramIndex, 'facing'>): DemoLabelPlan {
  const plan: DemoLabelPlan = { direct: [], behindMqttAp: [], behindOepl: [] };
  const problems: string[] = [];
  for (const entry of entries) {
    const sku = planogram.facing(entry.shelfId, entry.facing)?.sku;
    if (sku === undefined) {
      problems.push(`label ${entry.label}: facing ${entry.facing} of ${entry.shelfId} is not in the planogram`);
      continue;
    }
    const label = { ...entry, sku };
    if (entry.label.startsWith('esl-')) plan.direct.push(label);
    else if (MAC_PATTERN.test(entry.label)) plan.behindOepl.push({ ...label, label: entry.label.toUpperCase() });
    else plan.behindMqttAp.push(label);
  }
  if (problems.length > 0) throw new DemoLabelsError(problems);
  return plan;
}

/** The price a simulated OEPL tag shows: the big text of the drawing commands (oeplPriceCommands), `12.34` → 1234. */
export function oeplShownPriceCents(displayedJson: string | null): number | undefined {
  if (displayedJson === null) return undefined;
  try {
    const commands = JSON.parse(displayedJson) as unknown;
    if (!Array.isArray(commands)) return undefined;
    for (const command of commands as { text?: unknown[] }[]) {
      const text = command?.text;
      if (!Array.isArray(text) || text[3] !== 'fonts/bahnschrift70' || typeof text[2] !== 'string') continue;
      const match = /^(\d+)\.(\d{2})$/.exec(text[2]);
      if (match) return Number(match[1]) * 100 + Number(match[2]);
    }
  } catch {
    // the AP shows whatever it was given; a drawing we cannot read has no price we know
  }
  return undefined;
}

export type DemoAccessPointsOptions = {
  plan: DemoLabelPlan;
  /** the planogram's price per sku: what every label shows before the first campaign */
  priceOf: (sku: string) => number | null;
  /** the OEPL AP the gateway drives (config `labels.accessPoints[0].url`); null: no OEPL labels in this demo */
  oeplUrl: string | null;
  logger: Logger;
  random: RandomSource;
  /** what a label showed when the demo last stopped (label-display-file.ts); none: the planogram's price */
  kept?: (labelId: string) => KeptDisplay | undefined;
};

/** The two simulated access points of the demo; `shownPriceCents` tells shoppers what a label behind them shows. */
export class DemoAccessPoints {
  readonly oepl: OeplApSimulator | undefined;
  mqttAp: MqttApSimulator | undefined;
  private readonly macBySku = new Map<string, string>();
  private readonly apLabelBySku = new Map<string, string>();

  constructor(private readonly options: DemoAccessPointsOptions) {
    const { plan, oeplUrl } = options;
    if (plan.behindOepl.length > 0) {
      if (!oeplUrl)
        throw new DemoLabelsError([
          `${plan.behindOepl.length} OpenEPaperLink labels in the planogram, but no labels.accessPoints entry in the demo config`,
        ]);
      const url = new URL(oeplUrl);
      this.oepl = new OeplApSimulator({
        tagCount: plan.behindOepl.length,
        host: url.hostname,
        port: Number(url.port),
        logger: options.logger,
        random: options.random,
        // quicker than real tags (about a minute) so a demo campaign confirms while one watches
        checkInIntervalMs: 15_000,
        faults: { busyProbability: 0.05, xferTimeoutProbability: 0.02 },
        // a "nightly" reboot every 20 minutes: the labels page shows the AP's link going down and coming back
        rebootEveryMs: 20 * 60_000,
        // the AP's tag database and the tags' pictures from the demo's last run
        savedTag: (mac) => options.kept?.(mac)?.oepl,
      });
      // the simulator names its tags itself (0000021D00A00000, …): the planogram must list those
      const missing = plan.behindOepl.filter((label) => !this.oepl?.macs.includes(label.label)).map((label) => label.label);
      if (missing.length > 0)
        throw new DemoLabelsError([
          `OpenEPaperLink macs not served by the simulated AP: ${missing.join(', ')} (it serves ${this.oepl.macs.join(', ')})`,
        ]);
    }
    for (const label of plan.behindOepl) if (!this.macBySku.has(label.sku)) this.macBySku.set(label.sku, label.label);
    for (const label of plan.behindMqttAp) if (!this.apLabelBySku.has(label.sku)) this.apLabelBySku.set(label.sku, label.label);
  }

  /** Starts the OEPL AP (before the gateway: its driver connects when the labels room starts). */
  async startOepl(): Promise<void> {
    await this.oepl?.start();
  }

  /** Starts the MQTT AP (after the gateway: it connects to the gateway's broker with its own credentials). */
  async startMqttAp(device: { brokerUrl: string; storeId: string; secret: string; renewSecret?: SecretRenewal }): Promise<void> {
    if (this.options.plan.behindMqttAp.length === 0) return;
    this.mqttAp = new MqttApSimulator({
      ...device,
      deviceId: DEMO_AP_ID,
      logger: this.options.logger,
      random: this.options.random,
      labels: this.options.plan.behindMqttAp.map((label) => ({ labelId: label.label, priceCents: this.priceAtStart(label) })),
    });
    await this.mqttAp.start();
  }

  async stop(): Promise<void> {
    await this.mqttAp?.stop();
    await this.oepl?.stop();
  }

  /** What a label showed when the demo last stopped, if it still labels that sku; else the planogram's price. */
  private priceAtStart(label: DemoLabel): number | null {
    const kept = this.options.kept?.(label.label);
    return kept?.sku === label.sku && kept.priceCents !== undefined ? kept.priceCents : this.options.priceOf(label.sku);
  }

  /** What every label behind the two APs shows now, for the label display file (labels of an AP not running: none). */
  displays(): Record<string, KeptDisplay> {
    const displays: Record<string, KeptDisplay> = {};
    const mqttAp = this.mqttAp;
    if (mqttAp) {
      for (const label of this.options.plan.behindMqttAp) {
        const priceCents = mqttAp.displayedPriceCents(label.label);
        if (priceCents !== undefined) displays[label.label] = { sku: label.sku, priceCents };
      }
    }
    for (const label of this.options.plan.behindOepl) {
      const tag = this.oepl?.tag(label.label);
      if (tag) {
        const { hash, displayedJson: json, updatecount, updatelast } = tag;
        displays[label.label] = { oepl: { hash, json, updatecount, updatelast } };
      }
    }
    return displays;
  }

  /** What a label behind one of the APs shows for this sku (undefined: no such label, or nothing readable yet). */
  shownPriceCents(sku: string): number | undefined {
    const apLabel = this.apLabelBySku.get(sku);
    if (apLabel !== undefined) return this.mqttAp?.displayedPriceCents(apLabel) ?? undefined;
    const mac = this.macBySku.get(sku);
    if (mac !== undefined) return oeplShownPriceCents(this.oepl?.tag(mac)?.displayedJson ?? null);
    return undefined;
  }
}
