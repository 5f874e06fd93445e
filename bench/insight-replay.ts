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
import { DEFAULT_DEPLETION_PARAMS } from '../edge/insight/depletion.js';
import { InsightEngine, type InsightDecision } from '../edge/insight/insight-engine.js';
import { DEFAULT_PHANTOM_PARAMS, type PhantomParams } from '../edge/insight/phantom-stock.js';
import { DEFAULT_PREDICTION_POLICY } from '../edge/insight/stock-out-prediction.js';

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
};

export const REPLAY_DEFAULT: ReplaySettings = {
  // a day of history for the store's traffic to be learned, then the scored day
  scenario: { ...DEFAULT_SCENARIO, days: 2 },
  leadTimeMs: 30 * MINUTE_MS,
  tickMs: 5 * MINUTE_MS,
  phantomFoundWithinMs: 15 * MINUTE_MS,
  phantom: DEFAULT_PHANTOM_PARAMS,
};

export const REPLAY_SMOKE: ReplaySettings = {
  ...REPLAY_DEFAULT,
  scenario: { ...DEFAULT_SCENARIO, days: 2, facings: 120, misplacedFacings: 6, stuckFacings: 4 },
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
};

type FacingTruth = { episodeStart: number; firstAlertAt: number | undefined; alertOpenedAt: number | undefined };

/** Replays the scenario and scores the detectors on its last day (the days before are history). */
export function replayStoreDay(settings: ReplaySettings): ReplayResult {
  const options = settings.scenario;
  const facings = scenarioFacings(options);
  const facingByKey = new Map(facings.map((f) => [`${f.shelfId}/${f.facing}`, f]));
  const engine = new InsightEngine(
    facings.map((f) => ({ shelfId: f.shelfId, facing: f.facing, sku: f.sku, name: f.sku, capacityUnits: f.capacityUnits })),
    {
      depletion: DEFAULT_DEPLETION_PARAMS,
      prediction: { ...DEFAULT_PREDICTION_POLICY, leadTimeMs: settings.leadTimeMs },
      phantom: settings.phantom,
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
          const t = truth.get(facingByKey.get(facingKeyOf(decision.key)) as ScenarioFacing) as FacingTruth;
          if (t.alertOpenedAt !== undefined && t.alertOpenedAt >= scoredFrom) {
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
        case 'prediction-update':
        case 'phantom-resolve':
        case 'availability':
          break;
      }
    }
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
  for (const event of scenarioEvents(options, facings)) {
    scenarioCount++;
    while (event.at >= nextTick) {
      const at = nextTick;
      feed(at, () => engine.tick(at));
      nextTick += settings.tickMs;
    }
    switch (event.type) {
      case 'fault-started':
        faulty.add(event.facing);
        phantomTruth.set(event.facing.sku, { firstUnseenSaleAt: undefined, flaggedAt: undefined });
        break;
      case 'taken':
      case 'restocked': {
        const t = truth.get(event.facing) as FacingTruth;
        if (event.type === 'restocked') {
          t.episodeStart = event.at;
          t.firstAlertAt = undefined;
        }
        if (event.seenByShelf) feed(event.at, () => engine.facingUnits(event.facing.shelfId, event.facing.facing, event.units, event.at));
        break;
      }
      case 'paid-at-kiosk': {
        const case_ = phantomTruth.get(event.sku);
        if (case_ !== undefined) case_.firstUnseenSaleAt ??= event.at;
        feed(event.at, () => engine.sale(event.sku, event.qty, event.at));
        break;
      }
      case 'ran-empty': {
        if (event.at < scoredFrom || faulty.has(event.facing)) break;
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
  console.log(JSON.stringify(replayStoreDay({ ...REPLAY_DEFAULT, phantom, scenario: { ...REPLAY_DEFAULT.scenario, seed } }), null, 2));
}
