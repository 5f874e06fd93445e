/**
 * The insight replay harness (issue 24): a seeded store day (devices/store-day-scenario.ts) fed to the InsightEngine in
 * virtual time, its decisions scored against the scenario's ground truth — per detector precision, recall and lead
 * time — and the engine's throughput in events per second. Deterministic: same options, same numbers (but the time).
 *
 * What the engine sees is what the gateway would: a facing's units when its load cell sees a change (not for a
 * misplaced or stuck facing), kiosk payments (a share of the takes, minutes later), and a tick every few minutes.
 */
import {
  DEFAULT_SCENARIO,
  scenarioEvents,
  scenarioFacings,
  type ScenarioFacing,
  type ScenarioOptions,
} from '../devices/store-day-scenario.js';
import { seededRandom } from '../devices/random.js';
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
  /** a phantom sku counts as found only within this long of its first unseen kiosk sale */
  phantomFoundWithinMs: number;
  phantom: PhantomParams;
  /** a stuck load cell counts as found only within this long of freezing */
  stuckFoundWithinMs: number;
  /** every load cell reads this often on the scored day (a shelf controller reports every second; fewer keep it quick) */
  readingIntervalMs: number;
  noSales: NoSalesParams;
};

export const REPLAY_DEFAULT: ReplaySettings = {
  // a day of history for the store's traffic to be learned, then the scored day
  scenario: { ...DEFAULT_SCENARIO, days: 2 },
  leadTimeMs: 30 * MINUTE_MS,
  tickMs: 5 * MINUTE_MS,
  phantomFoundWithinMs: 15 * MINUTE_MS,
  phantom: DEFAULT_PHANTOM_PARAMS,
  stuckFoundWithinMs: 60 * MINUTE_MS,
  readingIntervalMs: 10_000,
  noSales: DEFAULT_NO_SALES_PARAMS,
};

export const REPLAY_SMOKE: ReplaySettings = {
  ...REPLAY_DEFAULT,
  scenario: { ...DEFAULT_SCENARIO, days: 2, facings: 120, misplacedFacings: 6, stuckFacings: 4, blockedFacings: 6 },
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
  replayMs: number;
  prediction: DetectorScore & {
    /** stock-outs too fast for any lead: from a restock to empty in less than the lead time (a facing too small) */
    tooFast: number;
    late: number;
    /** alerts resolved by a restock before the facing emptied: the clerk came anyway, not judged */
    preempted: number;
  };
  phantom: DetectorScore & { medianDetectMin: number | null };
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

type FacingTruth = { episodeStart: number; firstAlertAt: number | undefined; alertOpenedAt: number | undefined };

/** Replays the scenario and scores the detectors on its last day (the days before are history). */
export function replayStoreDay(settings: ReplaySettings): ReplayResult {
  const options = settings.scenario;
  const facings = scenarioFacings(options);
  const facingByKey = new Map(facings.map((f) => [`${f.shelfId}/${f.facing}`, f]));
  const engine = new InsightEngine(
    facings.map((f, i) => ({
      shelfId: f.shelfId,
      facing: f.facing,
      sku: f.sku,
      name: f.sku,
      capacityUnits: f.capacityUnits,
      tareG: 0,
      unitWeightG: unitWeightG(i),
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
  const readings = rawReadings(facings, options.seed);
  const driftTruth = new Map<ScenarioFacing, { offsetG: number; emptySince: number | undefined; longestEmptyMs: number; at: number[] }>();
  const tareFalse = new Set<ScenarioFacing>();
  const tareFound = new Map<ScenarioFacing, number>();
  const prediction = { cases: 0, found: 0, late: 0, tooFast: 0, preempted: 0, confirmed: 0, falseAlarms: 0, leads: [] as number[] };
  // phantom: per sku of a faulty facing, the first unseen kiosk sale, and when the engine flagged it
  const phantomTruth = new Map<string, { firstUnseenSaleAt: number | undefined; flaggedAt: number | undefined }>();
  let phantomAlerts = 0;
  let phantomConfirmed = 0;
  let scenarioCount = 0;
  let engineEvents = 0;
  let engineMs = 0;

  const act = (decisions: InsightDecision[], at: number) => {
    for (const decision of decisions) {
      if (at < scoredFrom) {
        // history: alerts of the days before are not scored, but an open one must be known to be open
        if (decision.type === 'prediction-open') (truth.get(facingOf(decision.alert)) as FacingTruth).alertOpenedAt = at;
        if (decision.type === 'prediction-resolve')
          (truth.get(facingByKey.get(facingKeyOf(decision.key)) as ScenarioFacing) as FacingTruth).alertOpenedAt = undefined;
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
        case 'prediction-update':
        case 'phantom-resolve':
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

  const replayBegan = performance.now();
  // the shelves report their units when they connect: every facing is known (full) from the start
  for (const f of facings) feed(options.startAt, () => engine.facingUnits(f.shelfId, f.facing, f.capacityUnits, options.startAt));
  let nextTick = options.startAt + settings.tickMs;
  // the raw readings of the scored day (the stuck cells freeze on it), from an hour before it
  let nextReading = scoredFrom - 60 * MINUTE_MS;
  for (const event of scenarioEvents(options, facings)) {
    scenarioCount++;
    while (event.at >= nextReading || event.at >= nextTick) {
      if (nextReading <= nextTick) {
        // every load cell reads (not counted in the engine's events/s: a compare each)
        const at = nextReading;
        readings.each((facing, weightG) => {
          const change = engine.scaleReading(facing.shelfId, facing.facing, weightG, at);
          if (change === 1 && at >= scoredFrom) stuckOpened(facing, at);
        });
        nextReading += settings.readingIntervalMs;
        continue;
      }
      const at = nextTick;
      feed(at, () => engine.tick(at));
      if (at >= scoredFrom) {
        for (const proposal of engine.tareProposals(at)) {
          const facing = facingOf(proposal);
          const drift = driftTruth.get(facing);
          if (drift === undefined) tareFalse.add(facing);
          else if (Math.abs(proposal.proposedTareG - drift.offsetG) <= 3 && !tareFound.has(facing)) tareFound.set(facing, at);
        }
      }
      nextTick += settings.tickMs;
    }
    switch (event.type) {
      case 'fault-started':
        faultOf.set(event.facing, event.kind);
        if (event.kind === 'blocked') {
          blockedTruth.set(event.facing, { from: event.at, to: undefined, alertedAt: undefined });
          break;
        }
        if (event.kind === 'stuck') {
          readings.freeze(event.facing);
          stuckTruth.set(event.facing, { from: event.at, alertedAt: undefined });
        }
        faulty.add(event.facing);
        phantomTruth.set(event.facing.sku, { firstUnseenSaleAt: undefined, flaggedAt: undefined });
        break;
      case 'cell-drifted':
        readings.drift(event.facing, event.offsetG);
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
        if (event.seenByShelf) {
          readings.set(event.facing, event.units);
          feed(event.at, () => engine.facingUnits(event.facing.shelfId, event.facing.facing, event.units, event.at));
        }
        break;
      }
      case 'paid-at-kiosk': {
        const case_ = phantomTruth.get(event.sku);
        if (case_ !== undefined) case_.firstUnseenSaleAt ??= event.at;
        feed(event.at, () => engine.sale(event.sku, event.qty, event.at));
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
  const replayMs = performance.now() - replayBegan;

  const phantomCases = [...phantomTruth.values()].filter((c) => c.firstUnseenSaleAt !== undefined);
  const detectMin = phantomCases
    .filter((c) => c.flaggedAt !== undefined)
    .map((c) => ((c.flaggedAt as number) - (c.firstUnseenSaleAt as number)) / MINUTE_MS);
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
      readings: readings.count(),
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

/** 80–500 g a unit, by the facing's place in the list (a tare of 0 for all). */
function unitWeightG(index: number): number {
  return 80 + ((index * 37) % 420);
}

/**
 * Each facing's raw load-cell weight: units × a unit weight plus a few grams of jitter (its own seeded stream), or
 * frozen at its last value once its cell is stuck. A compare per facing per minute: no object per reading.
 */
function rawReadings(facings: readonly ScenarioFacing[], seed: number) {
  const random = seededRandom(seed ^ 0x5ca1e);
  const index = new Map(facings.map((f, i) => [f, i]));
  const units = facings.map((f) => f.capacityUnits);
  const frozenG = facings.map(() => Number.NaN);
  const unitG = facings.map((_, i) => unitWeightG(i));
  const offsetG = facings.map(() => 0);
  let count = 0;
  return {
    set(facing: ScenarioFacing, value: number) {
      units[index.get(facing) as number] = value;
    },
    freeze(facing: ScenarioFacing) {
      const i = index.get(facing) as number;
      frozenG[i] = (units[i] as number) * (unitG[i] as number) + (offsetG[i] as number);
    },
    drift(facing: ScenarioFacing, g: number) {
      offsetG[index.get(facing) as number] = g;
    },
    each(visit: (facing: ScenarioFacing, weightG: number) => void) {
      for (let i = 0; i < facings.length; i++) {
        const frozen = frozenG[i] as number;
        // a live cell: ±3 g of noise around the true weight, to 0.1 g as a controller reports it
        const live = (units[i] as number) * (unitG[i] as number) + (offsetG[i] as number) + Math.round((random() * 6 - 3) * 10) / 10;
        visit(facings[i] as ScenarioFacing, Number.isNaN(frozen) ? live : frozen);
        count++;
      }
    },
    count: () => count,
  };
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
