/**
 * The insight replay harness (issue 24): a seeded store day (devices/store-day-scenario.ts) run through the gateway's
 * real pipelines in virtual time, its decisions scored against the scenario's ground truth — per detector precision,
 * recall and lead time — and the pipelines' throughput. Deterministic: same options, same numbers (but the time).
 *
 * What goes in is what the devices send: every load cell's gross weight every 10 s (noise, a hand on the shelf now and
 * then, frozen and drifted cells) and the kiosks' `item-scanned`. The readings go through the stock room's
 * StockPipeline (plausibility, the rolling median, units from weight; its debounce timers on a virtual-time scheduler)
 * and the ShelfStockBook, and the engine gets what the insight module gets from the bus: `stock.changed` quantities
 * from the load cell, every raw reading, the kiosk sales, and a tick every few minutes.
 */
import {
  DEFAULT_SCENARIO,
  scenarioEvents,
  scenarioFacings,
  type ScenarioFacing,
  type ScenarioOptions,
} from '../devices/store-day-scenario.js';
import { VirtualTimeScheduler } from 'rxjs';
import type { DeviceMessage } from '../edge/device-registry/messages.js';
import { PlanogramIndex } from '../edge/planogram/planogram.js';
import { ShelfStockBook } from '../edge/stock/shelf-stock-book.js';
import { StockPipeline, type StockPipelineOptions } from '../edge/stock/stock-pipeline.js';
import { DEFAULT_DEPLETION_PARAMS } from '../edge/insight/depletion.js';
import { InsightEngine, type InsightDecision } from '../edge/insight/insight-engine.js';
import { DEFAULT_PHANTOM_PARAMS, type PhantomParams } from '../edge/insight/phantom-stock.js';
import { DEFAULT_NO_SALES_PARAMS, type NoSalesParams } from '../edge/insight/no-sales.js';
import { DEFAULT_PREDICTION_POLICY } from '../edge/insight/stock-out-prediction.js';
import { DEFAULT_STUCK_SCALE_PARAMS } from '../edge/insight/stuck-scale.js';
import { DEFAULT_TARE_PARAMS } from '../edge/insight/tare-proposal.js';

const MINUTE_MS = 60_000;

export type ReplaySettings = {
  scenario: ScenarioOptions;
  /** the store's restock lead time: a prediction counts only if it came at least this long before the facing emptied */
  leadTimeMs: number;
  /** the engine's periodic look */
  tickMs: number;
  /** a phantom sku counts as found only within this long of its first unexplainable kiosk sale (PHANTOM_FOUND_DEFINITION) */
  phantomFoundWithinMs: number;
  phantom: PhantomParams;
  /** a stuck load cell counts as found only within this long of freezing */
  stuckFoundWithinMs: number;
  noSales: NoSalesParams;
  /** the stock room's pipeline settings */
  stock: StockPipelineOptions;
};

/** What "phantom stock found within N min" means in the scores (printed with them). */
export const PHANTOM_FOUND_DEFINITION =
  "from the later of the fault's onset and the first kiosk sale the fault makes unexplainable (a unit taken after the " +
  'onset, so its shelf never showed it leave): no detector can see phantom stock before such a sale';

export const REPLAY_DEFAULT: ReplaySettings = {
  // a day of history for the store's traffic to be learned, then the scored day
  scenario: { ...DEFAULT_SCENARIO, days: 2 },
  leadTimeMs: 30 * MINUTE_MS,
  tickMs: 5 * MINUTE_MS,
  phantomFoundWithinMs: 15 * MINUTE_MS,
  phantom: DEFAULT_PHANTOM_PARAMS,
  stuckFoundWithinMs: 60 * MINUTE_MS,
  noSales: DEFAULT_NO_SALES_PARAMS,
  // the gateway's defaults (edge/config/config-schema.ts, stock)
  stock: { smoothingWindow: 5, staleAfterMs: 60_000, debounceMs: 5_000, sensorToleranceG: 50 },
};

export const REPLAY_SMOKE: ReplaySettings = {
  ...REPLAY_DEFAULT,
  // readings every 20 s: the unit tests run it twice (the determinism check) on a loaded machine
  scenario: {
    ...DEFAULT_SCENARIO,
    days: 2,
    facings: 120,
    misplacedFacings: 6,
    stuckFacings: 4,
    blockedFacings: 6,
    readingIntervalMs: 20_000,
  },
};

export type DetectorScore = {
  /** cases of the ground truth the detector was scored on */
  cases: number;
  found: number;
  /** found / cases */
  recall: number;
  /** alerts that the ground truth confirms / alerts judged (preempted ones are not judged) */
  precision: number;
  falseAlarms: number;
  medianLeadMin: number | null;
};

export type ReplayResult = {
  days: number;
  facings: number;
  scenarioEvents: number;
  /** events the engine was fed (units, sales, ticks) and how fast it took them */
  engineEvents: number;
  engineEventsPerS: number;
  /** device messages (raw readings, kiosk sales) through the stock pipeline and the engine, and how fast */
  deviceMessages: number;
  deviceMessagesPerS: number;
  /** what the stock pipeline made of the readings: low/ok signals, sensor-fault changes, implausible readings dropped */
  stock: { signals: number; sensorFaults: number; implausible: number };
  replayMs: number;
  prediction: DetectorScore & {
    /** stock-outs too fast for any lead: from a restock to empty in less than the lead time (a facing too small) */
    tooFast: number;
    late: number;
    /** alerts resolved by a restock before the facing emptied: the clerk came anyway, not judged */
    preempted: number;
  };
  /**
   * found within `phantomFoundWithinMs` of PHANTOM_FOUND_DEFINITION's start; cases: the faulty facings' skus with such a
   * sale on the scored day; `medianFromOnsetMin`: from the fault's onset
   */
  phantom: DetectorScore & { medianDetectMin: number | null; medianFromOnsetMin: number | null; definition: string };
  /**
   * no-sales against the blocked facings: found = alerted while blocked; an alert on a misplaced or stuck facing (its
   * shelf truly shows no sale) is neither confirmed nor false (`explained`)
   */
  noSales: DetectorScore & { medianDetectMin: number | null; explained: number };
  /** scale-stuck against the stuck load cells (raw readings every minute; live cells jitter a few grams) */
  stuckScale: DetectorScore & { medianDetectMin: number | null; readings: number; detectedLater: number };
  /**
   * tare proposals against the drifted cells: cases are those whose facing stood empty ≥ 12 min on the scored day;
   * found = proposed within 3 g of the drift; false = a healthy facing proposed
   */
  tare: DetectorScore & { medianDetectMin: number | null; drifted: number };
};

type ShelfWeightMessage = Extract<DeviceMessage, { key: 'shelf/weight' }>;

type FacingTruth = { episodeStart: number; firstAlertAt: number | undefined; alertOpenedAt: number | undefined };

/** Replays the scenario and scores the detectors on its last day (the days before are history). */
export function replayStoreDay(settings: ReplaySettings): ReplayResult {
  const options = settings.scenario;
  const facings = scenarioFacings(options);
  const facingByKey = new Map(facings.map((f) => [`${f.shelfId}/${f.facing}`, f]));
  const engine = new InsightEngine(
    facings.map((f) => ({
      shelfId: f.shelfId,
      facing: f.facing,
      sku: f.sku,
      name: f.sku,
      capacityUnits: f.capacityUnits,
      tareG: f.tareG,
      unitWeightG: f.unitWeightG,
    })),
    {
      depletion: DEFAULT_DEPLETION_PARAMS,
      prediction: { ...DEFAULT_PREDICTION_POLICY, leadTimeMs: settings.leadTimeMs },
      phantom: settings.phantom,
      noSales: settings.noSales,
      stuckScale: DEFAULT_STUCK_SCALE_PARAMS,
      tare: DEFAULT_TARE_PARAMS,
      availabilitySafetyUnits: 2,
      hourOf: (at) => new Date(at).getUTCHours(),
      formatTime: () => '',
    },
  );
  const scoredFrom = options.startAt + (options.days - 1) * 24 * 60 * MINUTE_MS;
  const truth = new Map<ScenarioFacing, FacingTruth>(
    facings.map((f) => [f, { episodeStart: options.startAt, firstAlertAt: undefined, alertOpenedAt: undefined }]),
  );
  const faulty = new Set<ScenarioFacing>();
  // blocked facings are extras with their own stream: kept out of the prediction and phantom scores
  const extras = new Set(facings.slice(options.facings));
  const faultOf = new Map<ScenarioFacing, 'misplaced' | 'stuck' | 'blocked'>();
  const blockedTruth = new Map<ScenarioFacing, { from: number; to: number | undefined; alertedAt: number | undefined }>();
  const noSales = { alerts: 0, confirmed: 0, explained: 0 };
  const stuckTruth = new Map<ScenarioFacing, { from: number; alertedAt: number | undefined }>();
  const stuck = { alerts: 0, confirmed: 0 };
  const driftTruth = new Map<ScenarioFacing, { offsetG: number; emptySince: number | undefined; longestEmptyMs: number; at: number[] }>();
  const tareFalse = new Set<ScenarioFacing>();
  const tareFound = new Map<ScenarioFacing, number>();
  const prediction = { cases: 0, found: 0, late: 0, tooFast: 0, preempted: 0, confirmed: 0, falseAlarms: 0, leads: [] as number[] };
  // phantom: per sku of a faulty facing, its onset, the first kiosk sale its shelf cannot explain, when the engine flagged it
  const phantomTruth = new Map<string, { onset: number; firstUnseenSaleAt: number | undefined; flaggedAt: number | undefined }>();
  let phantomAlerts = 0;
  const phantomOpen = new Set<string>();
  let phantomConfirmed = 0;
  let scenarioCount = 0;
  let engineEvents = 0;
  let engineMs = 0;
  let deviceMessages = 0;
  let deviceMs = 0;
  let readingCount = 0;
  const stock = { signals: 0, sensorFaults: 0, implausible: 0 };

  const act = (decisions: InsightDecision[], at: number) => {
    for (const decision of decisions) {
      if (at < scoredFrom) {
        // history: alerts of the days before are not scored, but an open one must be known to be open
        if (decision.type === 'prediction-open') (truth.get(facingOf(decision.alert)) as FacingTruth).alertOpenedAt = at;
        if (decision.type === 'prediction-resolve')
          (truth.get(facingByKey.get(facingKeyOf(decision.key)) as ScenarioFacing) as FacingTruth).alertOpenedAt = undefined;
        if (decision.type === 'phantom-open') phantomOpen.add(decision.alert.key);
        if (decision.type === 'phantom-resolve') phantomOpen.delete(decision.key);
        continue;
      }
      switch (decision.type) {
        case 'prediction-open': {
          const t = truth.get(facingOf(decision.alert)) as FacingTruth;
          t.alertOpenedAt = at;
          t.firstAlertAt ??= at;
          break;
        }
        case 'prediction-resolve': {
          const facing = facingByKey.get(facingKeyOf(decision.key)) as ScenarioFacing;
          const t = truth.get(facing) as FacingTruth;
          if (t.alertOpenedAt !== undefined && t.alertOpenedAt >= scoredFrom && !extras.has(facing)) {
            if (decision.resolution === 'ran-empty') prediction.confirmed++;
            else if (decision.resolution === 'restocked') prediction.preempted++;
            else prediction.falseAlarms++;
          }
          t.alertOpenedAt = undefined;
          break;
        }
        case 'phantom-open': {
          // an open alert whose count of unexplained units grew is the same alert
          if (phantomOpen.has(decision.alert.key)) break;
          phantomOpen.add(decision.alert.key);
          phantomAlerts++;
          const case_ = phantomTruth.get(decision.alert.sku);
          if (case_ !== undefined) {
            phantomConfirmed++;
            case_.flaggedAt ??= at;
          }
          break;
        }
        case 'no-sales-open': {
          noSales.alerts++;
          const facing = facingOf(decision.alert);
          const fault = faultOf.get(facing);
          const block = blockedTruth.get(facing);
          if (block !== undefined && block.to === undefined) {
            noSales.confirmed++;
            block.alertedAt ??= at;
          } else if (fault === 'misplaced' || fault === 'stuck') noSales.explained++;
          break;
        }
        case 'scale-stuck-open':
          stuckOpened(decision.alert, at);
          break;
        case 'phantom-resolve':
          phantomOpen.delete(decision.key);
          break;
        case 'prediction-update':
        case 'no-sales-resolve':
        case 'scale-stuck-resolve':
        case 'availability':
          break;
      }
    }
  };
  const stuckOpened = (alert: { shelfId: string; facing: number }, at: number) => {
    stuck.alerts++;
    const case_ = stuckTruth.get(facingOf(alert));
    if (case_ === undefined) return;
    stuck.confirmed++;
    case_.alertedAt ??= at;
  };
  const facingOf = (alert: { shelfId: string; facing: number }) => facingByKey.get(`${alert.shelfId}/${alert.facing}`) as ScenarioFacing;
  const feed = (at: number, run: () => InsightDecision[]) => {
    const began = performance.now();
    const decisions = run();
    engineMs += performance.now() - began;
    engineEvents++;
    act(decisions, at);
  };

  const { pipeline, advance } = stockRoom(facings, settings.stock, options.startAt, {
    quantity: (shelfId, facing, units, at) => feed(at, () => engine.facingUnits(shelfId, facing, units, at)),
    signal: () => stock.signals++,
    sensorFault: () => stock.sensorFaults++,
    implausible: () => stock.implausible++,
  });
  // one message per load cell, refilled for each reading: the pipeline and the engine keep numbers, not the message
  const readingMessages: ShelfWeightMessage[] = facings.map((f) => ({
    key: 'shelf/weight',
    deviceId: f.shelfId,
    payload: { facing: f.facing, weightG: 0, ts: 0 },
    receivedAt: 0,
  }));
  const replayBegan = performance.now();
  let nextTick = options.startAt + settings.tickMs;
  for (const event of scenarioEvents(options, facings)) {
    if (event.type !== 'shelf-weights') scenarioCount++;
    // the pipeline's debounce timers up to now, then the engine's periodic look
    advance(event.at);
    for (; event.at >= nextTick; nextTick += settings.tickMs) {
      const at = nextTick;
      feed(at, () => engine.tick(at));
      if (at < scoredFrom) continue;
      for (const proposal of engine.tareProposals(at)) {
        const facing = facingOf(proposal);
        const drift = driftTruth.get(facing);
        if (drift === undefined) tareFalse.add(facing);
        else if (Math.abs(proposal.proposedTareG - drift.offsetG) <= 3 && !tareFound.has(facing)) tareFound.set(facing, at);
      }
    }
    switch (event.type) {
      case 'shelf-weights': {
        // every load cell's report, as the broker hands it to the stock room and the insight module (the hot path)
        const { at, weightsG } = event;
        const began = performance.now();
        for (let i = 0; i < facings.length; i++) {
          const message = readingMessages[i] as ShelfWeightMessage;
          const { deviceId: shelfId, payload } = message;
          const weightG = weightsG[i] as number;
          payload.weightG = weightG;
          payload.ts = at;
          message.receivedAt = at;
          pipeline.push(message);
          const change = engine.scaleReading(shelfId, payload.facing, weightG, at);
          if (change === 1 && at >= scoredFrom) stuckOpened({ shelfId, facing: payload.facing }, at);
        }
        deviceMs += performance.now() - began;
        deviceMessages += facings.length;
        readingCount += facings.length;
        break;
      }
      case 'fault-started':
        faultOf.set(event.facing, event.kind);
        if (event.kind === 'blocked') {
          blockedTruth.set(event.facing, { from: event.at, to: undefined, alertedAt: undefined });
          break;
        }
        if (event.kind === 'stuck') stuckTruth.set(event.facing, { from: event.at, alertedAt: undefined });
        faulty.add(event.facing);
        phantomTruth.set(event.facing.sku, { onset: event.at, firstUnseenSaleAt: undefined, flaggedAt: undefined });
        break;
      case 'cell-drifted':
        driftTruth.set(event.facing, { offsetG: event.offsetG, emptySince: undefined, longestEmptyMs: 0, at: [] });
        break;
      case 'fault-ended': {
        const block = blockedTruth.get(event.facing);
        if (block !== undefined) block.to = event.at;
        break;
      }
      case 'taken':
      case 'restocked': {
        const drift = driftTruth.get(event.facing);
        if (drift !== undefined && event.seenByShelf) {
          if (event.units === 0) drift.emptySince ??= event.at;
          else if (drift.emptySince !== undefined) {
            drift.longestEmptyMs = Math.max(drift.longestEmptyMs, event.at - drift.emptySince);
            drift.emptySince = undefined;
          }
        }
        const t = truth.get(event.facing) as FacingTruth;
        if (event.type === 'restocked') {
          t.episodeStart = event.at;
          t.firstAlertAt = undefined;
        }
        break;
      }
      case 'paid-at-kiosk': {
        const case_ = phantomTruth.get(event.sku);
        if (case_ !== undefined && !event.shelfSawTake) case_.firstUnseenSaleAt ??= event.at;
        const { at, sku, qty } = event;
        const message: DeviceMessage = {
          key: 'kiosk/event',
          deviceId: 'kiosk-01',
          payload: { type: 'item-scanned', basketId: 'replay', sku, qty, ts: at },
          receivedAt: at,
        };
        const began = performance.now();
        pipeline.push(message);
        deviceMs += performance.now() - began;
        deviceMessages++;
        feed(at, () => engine.sale(sku, qty, at));
        break;
      }
      case 'ran-empty': {
        if (event.at < scoredFrom || faulty.has(event.facing) || extras.has(event.facing)) break;
        const t = truth.get(event.facing) as FacingTruth;
        if (event.at - t.episodeStart < settings.leadTimeMs + DEFAULT_DEPLETION_PARAMS.minObservedMs) {
          prediction.tooFast++;
          break;
        }
        prediction.cases++;
        if (t.firstAlertAt === undefined) break;
        if (event.at - t.firstAlertAt >= settings.leadTimeMs) {
          prediction.found++;
          prediction.leads.push((event.at - t.firstAlertAt) / MINUTE_MS);
        } else prediction.late++;
        break;
      }
    }
  }
  pipeline.stop();
  const replayMs = performance.now() - replayBegan;

  const phantomCases = [...phantomTruth.values()].filter((c) => c.firstUnseenSaleAt !== undefined);
  const phantomFlagged = phantomCases.filter((c) => c.flaggedAt !== undefined);
  // the first unexplainable sale comes after the onset: it is the later of the two
  const detectMin = phantomFlagged.map((c) => ((c.flaggedAt as number) - Math.max(c.onset, c.firstUnseenSaleAt as number)) / MINUTE_MS);
  const fromOnsetMin = phantomFlagged.map((c) => ((c.flaggedAt as number) - c.onset) / MINUTE_MS);
  const phantomFound = detectMin.filter((m) => m * MINUTE_MS <= settings.phantomFoundWithinMs).length;
  const judged = prediction.confirmed + prediction.falseAlarms;
  const blockedDetect = [...blockedTruth.values()]
    .filter((b) => b.alertedAt !== undefined)
    .map((b) => ((b.alertedAt as number) - b.from) / MINUTE_MS);
  const stuckDetect = [...stuckTruth.values()]
    .filter((c) => c.alertedAt !== undefined)
    .map((c) => ((c.alertedAt as number) - c.from) / MINUTE_MS);
  const endAt = options.startAt + options.days * 24 * 60 * MINUTE_MS;
  const tareCases = [...driftTruth.entries()].filter(
    ([, d]) => Math.max(d.longestEmptyMs, d.emptySince === undefined ? 0 : endAt - d.emptySince) >= 12 * MINUTE_MS,
  );
  const tareFoundCases = tareCases.filter(([f]) => tareFound.has(f)).length;
  const stuckFound = stuckDetect.filter((m) => m * MINUTE_MS <= settings.stuckFoundWithinMs).length;
  return {
    days: options.days,
    facings: options.facings,
    scenarioEvents: scenarioCount,
    engineEvents,
    engineEventsPerS: Math.round(engineEvents / (engineMs / 1000)),
    deviceMessages,
    deviceMessagesPerS: Math.round(deviceMessages / (deviceMs / 1000)),
    stock,
    replayMs: Math.round(replayMs),
    prediction: {
      cases: prediction.cases,
      found: prediction.found,
      recall: ratio(prediction.found, prediction.cases),
      precision: ratio(prediction.confirmed, judged),
      falseAlarms: prediction.falseAlarms,
      medianLeadMin: median(prediction.leads),
      tooFast: prediction.tooFast,
      late: prediction.late,
      preempted: prediction.preempted,
    },
    phantom: {
      cases: phantomCases.length,
      found: phantomFound,
      recall: ratio(phantomFound, phantomCases.length),
      precision: ratio(phantomConfirmed, phantomAlerts),
      falseAlarms: phantomAlerts - phantomConfirmed,
      medianLeadMin: null,
      medianDetectMin: median(detectMin),
      medianFromOnsetMin: median(fromOnsetMin),
      definition: PHANTOM_FOUND_DEFINITION,
    },
    noSales: {
      cases: blockedTruth.size,
      found: blockedDetect.length,
      recall: ratio(blockedDetect.length, blockedTruth.size),
      precision: ratio(noSales.confirmed, noSales.alerts - noSales.explained),
      falseAlarms: noSales.alerts - noSales.confirmed - noSales.explained,
      medianLeadMin: null,
      medianDetectMin: median(blockedDetect),
      explained: noSales.explained,
    },
    stuckScale: {
      cases: stuckTruth.size,
      found: stuckFound,
      recall: ratio(stuckFound, stuckTruth.size),
      precision: ratio(stuck.confirmed, stuck.alerts),
      falseAlarms: stuck.alerts - stuck.confirmed,
      medianLeadMin: null,
      medianDetectMin: median(stuckDetect),
      readings: readingCount,
      detectedLater: stuckDetect.length - stuckFound,
    },
    tare: {
      cases: tareCases.length,
      found: tareFoundCases,
      recall: ratio(tareFoundCases, tareCases.length),
      precision: ratio(tareFound.size, tareFound.size + tareFalse.size),
      falseAlarms: tareFalse.size,
      medianLeadMin: null,
      medianDetectMin: null,
      drifted: driftTruth.size,
    },
  };
}

type StockRoomSink = {
  /** a `stock.changed` the insight module takes: the load cell's units (source weight) changed */
  quantity: (shelfId: string, facing: number, units: number, at: number) => void;
  signal: () => void;
  sensorFault: () => void;
  implausible: () => void;
};

/**
 * The stock room as edge/stock/module.ts runs it, without the bus and the database: the scenario's store as a planogram
 * (its unit weights and tares; low at a quarter of capacity, ok again at half), the StockPipeline on a virtual-time
 * scheduler, and the ShelfStockBook that says when what a person sees changed. `advance(at)` runs the pipeline's timers
 * due by `at` and sets the clock there.
 */
function stockRoom(facings: readonly ScenarioFacing[], options: StockPipelineOptions, startAt: number, sink: StockRoomSink) {
  const planogram = new PlanogramIndex({
    products: facings.map((f) => ({ sku: f.sku, name: f.sku, unitWeightG: f.unitWeightG })),
    facings: facings.map((f) => ({
      shelfId: f.shelfId,
      facing: f.facing,
      sku: f.sku,
      capacityUnits: f.capacityUnits,
      lowStockUnits: Math.floor(f.capacityUnits / 4),
      restockUnits: Math.ceil(f.capacityUnits / 2),
      tareG: f.tareG,
    })),
  });
  const scheduler = new VirtualTimeScheduler();
  scheduler.frame = startAt;
  const book = new ShelfStockBook(planogram);
  const pipeline = new StockPipeline({
    planogram,
    options,
    scheduler,
    initialStock: () => undefined,
    initialLevel: () => undefined,
    onUnknownFacing: () => undefined,
    initialSensorFault: () => false,
    onImplausibleReading: sink.implausible,
  });
  pipeline.start((output) => {
    if (output.type === 'sensor-fault') return sink.sensorFault();
    if (output.type === 'signal') {
      book.applySignal(output.signal);
      return sink.signal();
    }
    const view = book.applyQuantity(output.quantity);
    // the insight module's stock.changed handler: a quantity from the load cell, units known
    if (view !== undefined && view.units !== null && view.source === 'weight') {
      sink.quantity(view.shelfId, view.facing, view.units, view.updatedAt ?? output.quantity.at);
    }
  });
  const advance = (at: number) => {
    if (at <= scheduler.frame) return;
    scheduler.maxFrames = at;
    scheduler.flush();
    scheduler.frame = at;
  };
  return { pipeline, advance };
}

function facingKeyOf(alertKey: string): string {
  return alertKey.slice(alertKey.indexOf(':') + 1);
}

function ratio(a: number, b: number): number {
  return b === 0 ? 1 : Math.round((a / b) * 1000) / 1000;
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round((sorted[sorted.length >> 1] as number) * 10) / 10;
}

// `node dist/bench/insight-replay.js`: one replay of the default day, printed as JSON
if (import.meta.url === `file://${process.argv[1]}`) {
  const seed = process.env.BENCH_SEED === undefined ? REPLAY_DEFAULT.scenario.seed : Number(process.env.BENCH_SEED);
  const phantom = { ...DEFAULT_PHANTOM_PARAMS, ...(JSON.parse(process.env.BENCH_PHANTOM ?? '{}') as Partial<PhantomParams>) };
  const noSales = { ...DEFAULT_NO_SALES_PARAMS, ...(JSON.parse(process.env.BENCH_NO_SALES ?? '{}') as Partial<NoSalesParams>) };
  const settings = { ...REPLAY_DEFAULT, phantom, noSales, scenario: { ...REPLAY_DEFAULT.scenario, seed } };
  console.log(JSON.stringify(replayStoreDay(settings), null, 2));
}
