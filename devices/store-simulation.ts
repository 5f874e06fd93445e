/**
 * A whole simulated store built from the planogram: one shelf device per shelf, one label per facing, the
 * kiosks, the refrigerated cases — plus shoppers who take goods and check out, staff who restock facings that stayed
 * low, and now and then a case door left open or a warm spell in a case (what the gateway's cold chain is for).
 * Everything the shoppers and staff decide comes from one seeded random source, so a seed replays a day.
 */
import type { Logger } from 'pino';
import type { DeviceCredential } from './credentials-file.js';
import type { SecretRenewal } from './device-connection.js';
import type { DeviceKind } from '../edge/device-registry/topics.js';
import { PlanogramIndex, facingKey, type FacingPlan, type Planogram } from '../edge/planogram/planogram.js';
import { EslSimulator } from './esl-simulator.js';
import { inFaultWindow, type FacingRef, type InsightFaultPlan } from './demo-insight-faults.js';
import { CheckoutAbortedError, KioskBusyError, KioskSimulator } from './kiosk-simulator.js';
import { MqttCaseSimulator } from './mqtt-case-simulator.js';
import { pickOne, pickWeighted, randomBetween, randomInt, seededRandom, type RandomSource } from './random.js';
import { ShelfSimulator } from './shelf-simulator.js';
import { TimerGroup, systemTimers, type Timers } from './timer-group.js';

/** Intervals at speed 1; `speed` divides every one of them. */
export type StoreTiming = {
  /** a shopper takes goods this often */
  shopperIntervalMs: number;
  /** from taking goods to arriving at a kiosk */
  checkoutDelayMs: number;
  /** staff look for facings to restock this often */
  restockCheckMs: number;
  /** a facing must stay low this long before staff restock it */
  restockDelayMs: number;
  shelfReportIntervalMs: number;
  shelfStatusIntervalMs: number;
  eslStatusIntervalMs: number;
  eslDisplayDelayMinMs: number;
  eslDisplayDelayMaxMs: number;
  kioskStepDelayMs: number;
  kioskAssistDurationMs: number;
  kioskStatusIntervalMs: number;
  caseReportIntervalMs: number;
  /** each case idle this long may have a door opened briefly, left open, or a warm spell */
  caseCheckMs: number;
  /** a shopper takes a drink: too short for a door alert */
  caseBriefOpenMs: number;
  /** a door left open: longer than the demo's doorOpenMaxMs (config/demo.yaml), so a door alert opens */
  caseDoorLeftOpenMs: number;
  /** a warm spell: longer than the demo's aboveForMs, so a cold-chain alert opens, then resolves once it is over */
  caseWarmSpellMs: number;
};

export const DEFAULT_STORE_TIMING: StoreTiming = {
  shopperIntervalMs: 1_500,
  checkoutDelayMs: 4_000,
  restockCheckMs: 5_000,
  restockDelayMs: 60_000,
  shelfReportIntervalMs: 1_000,
  shelfStatusIntervalMs: 60_000,
  eslStatusIntervalMs: 30_000,
  eslDisplayDelayMinMs: 50,
  eslDisplayDelayMaxMs: 400,
  kioskStepDelayMs: 300,
  kioskAssistDurationMs: 3_000,
  kioskStatusIntervalMs: 30_000,
  caseReportIntervalMs: 2_000,
  caseCheckMs: 20_000,
  caseBriefOpenMs: 8_000,
  caseDoorLeftOpenMs: 75_000,
  caseWarmSpellMs: 120_000,
};

/** What a case goes through on a check (per idle case, each `caseCheckMs`); the rest of the time nothing happens. */
export const CASE_EVENT_PROBABILITIES = { briefOpen: 0.3, doorLeftOpen: 0.05, warmSpell: 0.05 } as const;
/** The demo cases' air: normal, and during a warm spell (both apart from the case limits in config/demo.yaml). */
export const CASE_TEMPERATURES_C = { normal: 3.5, warmMin: 6.5, warmMax: 8.5 } as const;

export type StoreSimulationOptions = {
  brokerUrl: string;
  storeId: string;
  planogram: Planogram;
  credentials: readonly DeviceCredential[];
  logger: Logger;
  random: RandomSource;
  /** 2 = everything happens twice as often */
  speed?: number;
  timing?: Partial<StoreTiming>;
  /** facings shoppers favour; default one per 12 facings, at least one */
  hotFacingCount?: number;
  /** share of all shopper picks that go to the hot facings together (0..1) */
  hotFacingShare?: number;
  weightMismatchProbability?: number;
  assistProbability?: number;
  /** devices connecting at the same time */
  connectConcurrency?: number;
  clock?: () => number;
  timers?: Timers;
  /** what a label this simulation does not run shows for a sku (labels behind access points); shoppers pay it */
  labelPriceCents?: (sku: string) => number | undefined;
  /**
   * the price a direct label shows at start if not its planogram price: what it showed when the demo last stopped (an
   * e-paper label keeps its picture without power); undefined: the planogram's price
   */
  shownAtStart?: (labelId: string, sku: string) => number | null | undefined;
  /** where a device whose secret the broker refuses gets a new one (the demo re-provisions it); none: it stays refused */
  renewSecret?: SecretRenewal;
  /** the demo's faults for the insight room (devices/demo-insight-faults.ts); none: every facing is a random shopper's */
  insightFaults?: InsightFaultPlan;
};

export type StoreSimulationStats = {
  /** messages the broker accepted from all devices */
  published: number;
  takes: number;
  unitsTaken: number;
  restocks: number;
  unitsRestocked: number;
  checkouts: number;
  /** baskets a busy or stopping kiosk did not finish */
  failedCheckouts: number;
  /** case doors left open long enough for a door alert */
  doorsLeftOpen: number;
  /** case warm spells long enough for a cold-chain alert */
  warmSpells: number;
};

export type FacingSnapshot = {
  shelfId: string;
  facing: number;
  sku: string;
  units: number;
  capacityUnits: number;
  lowStockUnits: number;
  hot: boolean;
  /** clock time since which the facing is at/below lowStockUnits, if it is */
  lowSince: number | undefined;
};

export type LabelBinding = { deviceId: string; shelfId: string; facing: number; sku: string };

/** The store cannot be built from these credentials and planogram. */
export class SimulationSetupError extends Error {
  constructor(readonly problems: string[]) {
    super(`cannot build the simulated store:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'SimulationSetupError';
  }
}

const DEFAULT_CONNECT_CONCURRENCY = 50;
const DEFAULT_HOT_FACING_SHARE = 0.6;
const FACINGS_PER_HOT_FACING = 12;
/** Shoppers between the shelf and a kiosk; more are sent home rather than queued without bound. */
const MAX_PENDING_CHECKOUTS = 200;
const DEMO_KIOSK_COUNT = 2;
/** The demo's MQTT refrigerated case; its limits are under coldChain.cases in config/demo.yaml. */
export const DEMO_MQTT_CASE_ID = 'case-drinks';

/**
 * The device ids the demo provisions for a planogram: its shelves, the label devices (default: `esl-0001…` one per
 * facing; the demo passes its direct labels and access points), two kiosks, one MQTT refrigerated case.
 */
export function demoDeviceIds(
  planogram: Planogram,
  kioskCount = DEMO_KIOSK_COUNT,
  labelDevices?: readonly { deviceId: string; kind: 'esl' | 'ap' }[],
  caseIds: readonly string[] = [DEMO_MQTT_CASE_ID],
): { deviceId: string; kind: DeviceKind }[] {
  const shelves = new PlanogramIndex(planogram).shelfIds().map((deviceId) => ({ deviceId, kind: 'shelf' as const }));
  const labels =
    labelDevices ?? planogram.facings.map((_, index) => ({ deviceId: `esl-${String(index + 1).padStart(4, '0')}`, kind: 'esl' as const }));
  const kiosks = Array.from({ length: kioskCount }, (_, index) => ({
    deviceId: `kiosk-${String(index + 1).padStart(2, '0')}`,
    kind: 'kiosk' as const,
  }));
  const cases = caseIds.map((deviceId) => ({ deviceId, kind: 'case' as const }));
  return [...shelves, ...labels, ...kiosks, ...cases];
}

/**
 * Which label shows which facing: labels in id order (esl-0001, esl-0002, …) onto facings in shelf/facing
 * order. Labels beyond the last facing stay unbound.
 */
export function bindLabelsToFacings(planogram: Planogram, labelIds: readonly string[]): LabelBinding[] {
  const facings = [...planogram.facings].sort(byShelfAndFacing);
  const labels = [...labelIds].sort(naturalOrder);
  return facings.slice(0, labels.length).map((plan, index) => ({
    deviceId: labels[index] as string,
    shelfId: plan.shelfId,
    facing: plan.facing,
    sku: plan.sku,
  }));
}

type FacingStock = {
  plan: FacingPlan;
  unitWeightG: number;
  hot: boolean;
  /** relative chance a shopper picks this facing (while it has units) */
  pickWeight: number;
  lowSince: number | undefined;
};

export class StoreSimulation {
  readonly shelves: ReadonlyMap<string, ShelfSimulator>;
  readonly labels: readonly EslSimulator[];
  readonly kiosks: readonly KioskSimulator[];
  readonly cases: readonly MqttCaseSimulator[];
  readonly speed: number;
  private readonly facings: FacingStock[];
  private readonly labelsBySku = new Map<string, EslSimulator>();
  private readonly index: PlanogramIndex;
  private readonly timing: StoreTiming;
  private readonly hotFacingShare: number;
  private readonly connectConcurrency: number;
  private readonly log: Logger;
  private readonly random: RandomSource;
  private readonly clock: () => number;
  private readonly timers: Timers;
  private readonly labelPriceCents: ((sku: string) => number | undefined) | undefined;
  private readonly insightFaults: InsightFaultPlan | undefined;
  /** alternates the kiosk of the fault facings' shoppers: no draw from the random shoppers' stream */
  private faultCheckouts = 0;
  private timerGroup: TimerGroup | undefined;
  private pendingCheckouts = 0;
  /** cases in the middle of a door opening or warm spell (at most one per case) */
  private readonly busyCases = new Set<string>();
  /** its own stream, drawn after every device's: case events never shift what shoppers do */
  private readonly caseRandom: RandomSource;
  private readonly counters = {
    takes: 0,
    unitsTaken: 0,
    restocks: 0,
    unitsRestocked: 0,
    checkouts: 0,
    failedCheckouts: 0,
    doorsLeftOpen: 0,
    warmSpells: 0,
  };

  constructor(options: StoreSimulationOptions) {
    const speed = options.speed ?? 1;
    if (!Number.isFinite(speed) || speed <= 0) throw new RangeError(`speed must be a positive number, got ${speed}`);
    this.speed = speed;
    this.log = options.logger.child({ component: 'sim-store', storeId: options.storeId });
    this.random = options.random;
    this.clock = options.clock ?? Date.now;
    this.timers = options.timers ?? systemTimers;
    this.labelPriceCents = options.labelPriceCents;
    this.insightFaults = options.insightFaults;
    this.index = new PlanogramIndex(options.planogram);
    this.hotFacingShare = Math.min(1, Math.max(0, options.hotFacingShare ?? DEFAULT_HOT_FACING_SHARE));
    this.connectConcurrency = Math.max(1, options.connectConcurrency ?? DEFAULT_CONNECT_CONCURRENCY);
    const timing = { ...DEFAULT_STORE_TIMING, ...options.timing };
    this.timing = Object.fromEntries(
      Object.entries(timing).map(([name, ms]) => [name, Math.max(1, Math.round(ms / speed))]),
    ) as StoreTiming;

    const credentialsByKind = groupByKind(options.credentials);
    this.facings = this.planFacingStock(options.planogram, options.hotFacingCount);
    const faultFacings = this.faultFacingKeys();
    const missing = [...faultFacings].filter(
      (key) => !this.facings.some((stock) => facingKey(stock.plan.shelfId, stock.plan.facing) === key),
    );
    if (missing.length > 0) throw new SimulationSetupError(missing.map((key) => `insight fault facing ${key} is not in the planogram`));
    // Each device gets its own stream, so message timing never shifts what shoppers do.
    const deviceRandom = (): RandomSource => seededRandom(Math.floor(this.random() * 2 ** 32));
    const common = {
      brokerUrl: options.brokerUrl,
      storeId: options.storeId,
      logger: options.logger,
      clock: this.clock,
      timers: this.timers,
      ...(options.renewSecret ? { renewSecret: options.renewSecret } : {}),
    };

    const problems: string[] = [];
    const shelfSecrets = new Map(credentialsByKind.shelf.map((c) => [c.deviceId, c.secret]));
    const shelves = new Map<string, ShelfSimulator>();
    for (const shelfId of this.index.shelfIds()) {
      const secret = shelfSecrets.get(shelfId);
      if (secret === undefined) {
        problems.push(`shelf ${shelfId}: no credentials (a shelf's device id is its shelf id)`);
        continue;
      }
      const facings = this.facings
        .filter((stock) => stock.plan.shelfId === shelfId)
        .map((stock) => ({
          facing: stock.plan.facing,
          unitWeightG: stock.unitWeightG,
          units: this.initialUnits(stock),
          capacityUnits: stock.plan.capacityUnits,
          tareG: stock.plan.tareG,
        }));
      shelves.set(
        shelfId,
        new ShelfSimulator({
          ...common,
          deviceId: shelfId,
          secret,
          random: deviceRandom(),
          facings,
          reportIntervalMs: this.timing.shelfReportIntervalMs,
          statusIntervalMs: this.timing.shelfStatusIntervalMs,
        }),
      );
    }
    if (problems.length > 0) throw new SimulationSetupError(problems);
    this.shelves = shelves;

    const unusedShelves = [...shelfSecrets.keys()].filter((id) => !shelves.has(id));
    if (unusedShelves.length > 0) this.log.warn({ deviceIds: unusedShelves }, 'shelf credentials not in the planogram, not simulated');

    const labelSecrets = new Map(credentialsByKind.esl.map((c) => [c.deviceId, c.secret]));
    const shownAtStart = (labelId: string, sku: string): number | null => {
      const kept = options.shownAtStart?.(labelId, sku);
      return kept !== undefined ? kept : (this.index.product(sku)?.priceCents ?? null);
    };
    const bindings = bindLabelsToFacings(options.planogram, [...labelSecrets.keys()]);
    this.labels = bindings.map((binding) => {
      const label = new EslSimulator({
        ...common,
        deviceId: binding.deviceId,
        secret: labelSecrets.get(binding.deviceId) as string,
        random: deviceRandom(),
        sku: binding.sku,
        priceCents: shownAtStart(binding.deviceId, binding.sku),
        statusIntervalMs: this.timing.eslStatusIntervalMs,
        displayDelayMinMs: this.timing.eslDisplayDelayMinMs,
        displayDelayMaxMs: this.timing.eslDisplayDelayMaxMs,
      });
      if (!this.labelsBySku.has(binding.sku)) this.labelsBySku.set(binding.sku, label);
      return label;
    });
    if (labelSecrets.size > bindings.length) {
      this.log.warn({ unused: labelSecrets.size - bindings.length }, 'more labels than facings, extra labels not simulated');
    }

    this.kiosks = credentialsByKind.kiosk.map(
      (credential) =>
        new KioskSimulator({
          ...common,
          deviceId: credential.deviceId,
          secret: credential.secret,
          random: deviceRandom(),
          stepDelayMs: this.timing.kioskStepDelayMs,
          assistDurationMs: this.timing.kioskAssistDurationMs,
          statusIntervalMs: this.timing.kioskStatusIntervalMs,
          ...(options.weightMismatchProbability === undefined ? {} : { weightMismatchProbability: options.weightMismatchProbability }),
          ...(options.assistProbability === undefined ? {} : { assistProbability: options.assistProbability }),
        }),
    );
    if (this.kiosks.length === 0) this.log.warn('no kiosk credentials: shoppers will not check out');

    this.cases = credentialsByKind.case.map(
      (credential) =>
        new MqttCaseSimulator({
          ...common,
          deviceId: credential.deviceId,
          secret: credential.secret,
          random: deviceRandom(),
          temperatureC: CASE_TEMPERATURES_C.normal,
          reportIntervalMs: this.timing.caseReportIntervalMs,
        }),
    );
    this.caseRandom = deviceRandom();
  }

  /** Connects every device (bounded concurrency), then lets shoppers and staff in. */
  async start(): Promise<void> {
    if (this.timerGroup) throw new Error('store simulation is already started');
    const timerGroup = new TimerGroup(this.timers);
    this.timerGroup = timerGroup;
    this.pendingCheckouts = 0;
    const devices = this.devices();
    const results = await forEachBounded(devices, this.connectConcurrency, (device) => device.start());
    const failures = results.flatMap((result, i) => {
      if (result.status === 'fulfilled') return [];
      const reason: unknown = result.reason;
      return [{ device: devices[i], reason }];
    });
    if (failures.length > 0) {
      timerGroup.close();
      this.timerGroup = undefined;
      await forEachBounded(devices, this.connectConcurrency, (device) => device.stop());
      const first = failures[0];
      throw new Error(
        `${failures.length} of ${devices.length} devices could not connect; ` +
          `first: ${first?.device?.deviceId}: ${errorMessage(first?.reason)}`,
        { cause: first?.reason },
      );
    }
    if (this.timerGroup !== timerGroup) return; // stopped while connecting
    timerGroup.every(this.timing.shopperIntervalMs, () => this.shopperVisits(timerGroup));
    timerGroup.every(this.timing.restockCheckMs, () => this.staffRound());
    if (this.insightFaults) this.startInsightFaults(timerGroup, this.insightFaults);
    this.busyCases.clear();
    if (this.cases.length > 0) timerGroup.every(this.timing.caseCheckMs, () => this.caseRound(timerGroup));
    this.log.info(
      {
        shelves: this.shelves.size,
        labels: this.labels.length,
        kiosks: this.kiosks.length,
        cases: this.cases.length,
        speed: this.speed,
        hotFacings: this.hotFacingKeys(),
      },
      'store simulation started',
    );
  }

  async stop(): Promise<void> {
    const wasRunning = this.timerGroup !== undefined;
    this.timerGroup?.close();
    this.timerGroup = undefined;
    await forEachBounded(this.devices(), this.connectConcurrency, (device) => device.stop());
    if (wasRunning) this.log.info(this.stats(), 'store simulation stopped');
  }

  stats(): StoreSimulationStats {
    return { published: this.devices().reduce((sum, device) => sum + device.published, 0), ...this.counters };
  }

  /** Current stock of every facing, in shelf/facing order. */
  facingSnapshots(): FacingSnapshot[] {
    return this.facings.map((stock) => ({
      shelfId: stock.plan.shelfId,
      facing: stock.plan.facing,
      sku: stock.plan.sku,
      units: this.shelfOf(stock).units(stock.plan.facing),
      capacityUnits: stock.plan.capacityUnits,
      lowStockUnits: stock.plan.lowStockUnits,
      hot: stock.hot,
      lowSince: stock.lowSince,
    }));
  }

  /** One shopper: takes 1–3 units from a facing, walks to a kiosk a little later and pays. */
  private shopperVisits(timerGroup: TimerGroup): void {
    const stock = pickWeighted(this.random, this.facings, (candidate) =>
      this.shelfOf(candidate).units(candidate.plan.facing) > 0 ? candidate.pickWeight : 0,
    );
    if (!stock) return; // the store is empty
    const { shelfId, facing, sku, lowStockUnits } = stock.plan;
    const shelf = this.shelfOf(stock);
    const taken = shelf.take(facing, randomInt(this.random, 1, 3));
    this.counters.takes += 1;
    this.counters.unitsTaken += taken;
    if (stock.lowSince === undefined && shelf.units(facing) <= lowStockUnits) {
      stock.lowSince = this.clock();
      this.log.info({ shelfId, facing, sku, units: shelf.units(facing) }, 'facing ran low');
    }
    if (this.kiosks.length === 0) return;
    if (this.pendingCheckouts >= MAX_PENDING_CHECKOUTS) {
      this.log.debug('too many shoppers waiting to check out, one leaves');
      return;
    }
    this.pendingCheckouts += 1;
    const kioskChoice = this.random();
    timerGroup.after(this.timing.checkoutDelayMs, () => {
      void this.checkOut(kioskChoice, { sku, qty: taken, priceCents: this.priceOf(sku), unitWeightG: stock.unitWeightG }).finally(() => {
        this.pendingCheckouts -= 1;
      });
    });
  }

  private async checkOut(kioskChoice: number, item: { sku: string; qty: number; priceCents: number; unitWeightG: number }): Promise<void> {
    // Shoppers go to a kiosk with the shortest queue; kioskChoice (drawn when they took the goods) breaks ties.
    const shortest = Math.min(...this.kiosks.map((kiosk) => kiosk.queued));
    const candidates = this.kiosks.filter((kiosk) => kiosk.queued === shortest);
    const kiosk = pickOne(() => kioskChoice, candidates);
    try {
      await kiosk.checkout([item]);
      this.counters.checkouts += 1;
    } catch (err) {
      this.counters.failedCheckouts += 1;
      if (err instanceof KioskBusyError || err instanceof CheckoutAbortedError) this.log.debug({ err }, 'checkout not finished');
      else this.log.warn({ err, deviceId: kiosk.deviceId }, 'checkout failed');
    }
  }

  /**
   * The demo's insight faults (devices/demo-insight-faults.ts), each on its own facing with its own steady shoppers:
   * a product sold from a second placement, a stuck load cell, a fast seller, a blocked facing.
   */
  private startInsightFaults(timerGroup: TimerGroup, plan: InsightFaultPlan): void {
    const startedAt = this.clock();
    const scaled = <T extends { fromMs: number; forMs: number; periodMs: number }>(window: T) => ({
      fromMs: window.fromMs / this.speed,
      forMs: window.forMs / this.speed,
      periodMs: window.periodMs / this.speed,
    });
    const elapsed = () => this.clock() - startedAt;
    const every = (ms: number, run: () => void) => timerGroup.every(Math.max(1, Math.round(ms / this.speed)), run);
    const misplaced = this.faultStock(plan.misplaced.facing);
    every(plan.misplaced.sellEveryMs, () => {
      // taken from the second placement: the facing's load cell never sees it leave
      if (elapsed() >= plan.misplaced.fromMs / this.speed) this.faultCheckout(timerGroup, misplaced, 1);
    });
    const stuck = this.faultStock(plan.stuck.facing);
    const stuckWindow = scaled(plan.stuck);
    every(1_000, () => this.shelfOf(stuck).setStuck(stuck.plan.facing, inFaultWindow(elapsed(), stuckWindow)));
    every(plan.stuck.takeEveryMs, () => this.faultTake(timerGroup, stuck));
    const fast = this.faultStock(plan.fast.facing);
    every(plan.fast.takeEveryMs, () => this.faultTake(timerGroup, fast));
    const blocked = this.faultStock(plan.blocked.facing);
    const blockedWindow = scaled(plan.blocked);
    every(plan.blocked.takeEveryMs, () => {
      if (!inFaultWindow(elapsed(), blockedWindow)) this.faultTake(timerGroup, blocked);
    });
  }

  /** A fault facing's shopper takes one unit (if there is one), marks the facing low like any take, and pays later. */
  private faultTake(timerGroup: TimerGroup, stock: FacingStock): void {
    const shelf = this.shelfOf(stock);
    if (shelf.units(stock.plan.facing) === 0) return;
    const taken = shelf.take(stock.plan.facing, 1);
    this.counters.takes += 1;
    this.counters.unitsTaken += taken;
    if (stock.lowSince === undefined && shelf.units(stock.plan.facing) <= stock.plan.lowStockUnits) stock.lowSince = this.clock();
    this.faultCheckout(timerGroup, stock, taken);
  }

  private faultCheckout(timerGroup: TimerGroup, stock: FacingStock, qty: number): void {
    if (this.kiosks.length === 0 || this.pendingCheckouts >= MAX_PENDING_CHECKOUTS) return;
    this.pendingCheckouts += 1;
    const kioskChoice = (this.faultCheckouts++ % 2) / 2 + 0.25;
    const { sku } = stock.plan;
    timerGroup.after(this.timing.checkoutDelayMs, () => {
      void this.checkOut(kioskChoice, { sku, qty, priceCents: this.priceOf(sku), unitWeightG: stock.unitWeightG }).finally(() => {
        this.pendingCheckouts -= 1;
      });
    });
  }

  private faultStock(ref: FacingRef): FacingStock {
    const stock = this.facings.find((candidate) => facingKey(candidate.plan.shelfId, candidate.plan.facing) === ref);
    if (!stock) throw new SimulationSetupError([`insight fault facing ${ref} is not in the planogram`]);
    return stock;
  }

  private faultFacingKeys(): Set<string> {
    const plan = this.insightFaults;
    return new Set(plan ? [plan.misplaced.facing, plan.stuck.facing, plan.fast.facing, plan.blocked.facing] : []);
  }

  /** Staff restock the facing that has been low the longest, once it has been low for restockDelayMs. */
  private staffRound(): void {
    const now = this.clock();
    let due: FacingStock | undefined;
    for (const stock of this.facings) {
      if (stock.lowSince === undefined || now - stock.lowSince <= this.timing.restockDelayMs) continue;
      if (!due || stock.lowSince < (due.lowSince ?? Infinity)) due = stock;
    }
    if (!due) return;
    const { shelfId, facing, sku } = due.plan;
    const added = this.shelfOf(due).restock(facing);
    due.lowSince = undefined;
    this.counters.restocks += 1;
    this.counters.unitsRestocked += added;
    this.log.info({ shelfId, facing, sku, added }, 'staff restocked facing');
  }

  /**
   * Each idle case: a shopper opens the door briefly, or (rarely) someone leaves it open or the air warms for a while.
   * Both rare ones outlast the demo's limits, so the gateway raises a door or cold-chain alert and resolves it after.
   */
  private caseRound(timerGroup: TimerGroup): void {
    const { briefOpen, doorLeftOpen, warmSpell } = CASE_EVENT_PROBABILITIES;
    for (const simulator of this.cases) {
      if (this.busyCases.has(simulator.deviceId)) continue;
      const roll = this.caseRandom();
      const { deviceId } = simulator;
      if (roll < warmSpell) {
        const { warmMin, warmMax, normal } = CASE_TEMPERATURES_C;
        const warmC = Math.round(randomBetween(this.caseRandom, warmMin, warmMax) * 10) / 10;
        this.counters.warmSpells += 1;
        this.log.info({ deviceId, temperatureC: warmC, forMs: this.timing.caseWarmSpellMs }, 'case warm spell');
        this.caseEpisode(timerGroup, simulator, this.timing.caseWarmSpellMs, {
          begin: () => simulator.setTemperature(warmC),
          end: () => simulator.setTemperature(normal),
        });
      } else if (roll < warmSpell + doorLeftOpen) {
        this.counters.doorsLeftOpen += 1;
        this.log.info({ deviceId, forMs: this.timing.caseDoorLeftOpenMs }, 'case door left open');
        this.caseEpisode(timerGroup, simulator, this.timing.caseDoorLeftOpenMs, doorOpening(simulator));
      } else if (roll < warmSpell + doorLeftOpen + briefOpen) {
        this.caseEpisode(timerGroup, simulator, this.timing.caseBriefOpenMs, doorOpening(simulator));
      }
    }
  }

  private caseEpisode(timerGroup: TimerGroup, simulator: MqttCaseSimulator, forMs: number, steps: CaseEpisodeSteps): void {
    this.busyCases.add(simulator.deviceId);
    steps.begin();
    timerGroup.after(forMs, () => {
      steps.end();
      this.busyCases.delete(simulator.deviceId);
    });
  }

  /** Picks the hot facings and gives them `hotFacingShare` of all shopper picks between them. */
  private planFacingStock(planogram: Planogram, hotFacingCount: number | undefined): FacingStock[] {
    const facings: FacingStock[] = [...planogram.facings].sort(byShelfAndFacing).map((plan) => ({
      plan,
      unitWeightG: this.index.product(plan.sku)?.unitWeightG ?? 0,
      hot: false,
      pickWeight: 1,
      lowSince: undefined,
    }));
    const defaultCount = Math.max(1, Math.round(facings.length / FACINGS_PER_HOT_FACING));
    const hotCount = Math.min(facings.length, Math.max(0, Math.floor(hotFacingCount ?? defaultCount)));
    const cold = [...facings];
    for (let i = 0; i < hotCount; i += 1) {
      const [hot] = cold.splice(Math.floor(this.random() * cold.length), 1);
      if (hot) hot.hot = true;
    }
    // With no hot or no cold facings every facing is equally likely (pickWeight stays 1).
    if (hotCount > 0 && cold.length > 0) {
      for (const stock of facings) {
        stock.pickWeight = stock.hot ? this.hotFacingShare / hotCount : (1 - this.hotFacingShare) / cold.length;
      }
    }
    // the insight faults' facings have their own steady shoppers: random ones would blur what each fault shows
    const faulty = this.faultFacingKeys();
    for (const stock of facings) {
      if (faulty.has(facingKey(stock.plan.shelfId, stock.plan.facing))) stock.pickWeight = 0;
    }
    return facings;
  }

  /** Hot facings start near 60 % so they run low soon; the rest anywhere from half full to full. */
  private initialUnits(stock: FacingStock): number {
    const { capacityUnits, lowStockUnits } = stock.plan;
    const drawn = stock.hot ? Math.round(capacityUnits * 0.6) : randomInt(this.random, Math.ceil(capacityUnits * 0.5), capacityUnits);
    // an insight fault's facing starts full (drawn all the same: the other facings' draws stay what they were)
    const units = this.faultFacingKeys().has(facingKey(stock.plan.shelfId, stock.plan.facing)) ? capacityUnits : drawn;
    // Every facing starts above its low mark, so "ran low" always means shoppers emptied it.
    return Math.min(capacityUnits, Math.max(units, lowStockUnits + 1));
  }

  /** Shoppers pay what the label shows, so gateway price changes reach the tills. */
  private priceOf(sku: string): number {
    return this.labelsBySku.get(sku)?.displayedPriceCents ?? this.labelPriceCents?.(sku) ?? this.index.product(sku)?.priceCents ?? 0;
  }

  private shelfOf(stock: FacingStock): ShelfSimulator {
    const shelf = this.shelves.get(stock.plan.shelfId);
    if (!shelf) throw new Error(`no simulated shelf ${stock.plan.shelfId}`);
    return shelf;
  }

  private hotFacingKeys(): string[] {
    return this.facings.filter((stock) => stock.hot).map((stock) => facingKey(stock.plan.shelfId, stock.plan.facing));
  }

  private devices(): (ShelfSimulator | EslSimulator | KioskSimulator | MqttCaseSimulator)[] {
    return [...this.shelves.values(), ...this.labels, ...this.kiosks, ...this.cases];
  }
}

type CaseEpisodeSteps = { begin: () => void; end: () => void };

function doorOpening(simulator: MqttCaseSimulator): CaseEpisodeSteps {
  return { begin: () => simulator.openDoor(), end: () => simulator.closeDoor() };
}

function groupByKind(credentials: readonly DeviceCredential[]): Record<DeviceKind, DeviceCredential[]> {
  const byKind: Record<DeviceKind, DeviceCredential[]> = { shelf: [], esl: [], kiosk: [], case: [], ap: [] };
  for (const credential of credentials) byKind[credential.kind].push(credential);
  for (const list of Object.values(byKind)) list.sort((a, b) => naturalOrder(a.deviceId, b.deviceId));
  return byKind;
}

/** Runs `task` over `items` with at most `limit` in flight; never rejects, reports each outcome in order. */
async function forEachBounded<T>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<void>,
): Promise<PromiseSettledResult<void>[]> {
  const results = new Array<PromiseSettledResult<void>>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next;
      next += 1;
      try {
        await task(items[index] as T);
        results[index] = { status: 'fulfilled', value: undefined };
      } catch (reason) {
        results[index] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

function byShelfAndFacing(a: FacingPlan, b: FacingPlan): number {
  return naturalOrder(a.shelfId, b.shelfId) || a.facing - b.facing;
}

function naturalOrder(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

function errorMessage(reason: unknown): string {
  return reason instanceof Error ? reason.message : String(reason);
}
