/**
 * The store's insight in one place, without I/O: facings' units and kiosk sales in, decisions out (prediction and
 * phantom-stock alerts to open, update or resolve; availability per sku). The insight module feeds it from the bus
 * and acts on its decisions; the replay harness feeds it a seeded store day and scores its decisions. Time is a
 * parameter of every call; the hour of day and the clock text come from functions passed in.
 */
import {
  emptyDepletionState,
  emptyStoreTraffic,
  forecastEmpty,
  observeUnits,
  type DepletionParams,
  type DepletionState,
} from './depletion.js';
import { emptyPhantomState, observeDrop, observeSale, type PhantomParams, type PhantomState } from './phantom-stock.js';
import { skuAvailability, type SkuAvailability } from './availability.js';
import { decidePrediction, type PredictedStockOut, type PredictionPolicy } from './stock-out-prediction.js';

export type InsightFacing = {
  shelfId: string;
  facing: number;
  sku: string;
  name: string;
  capacityUnits: number;
};

export type InsightOptions = {
  depletion: DepletionParams;
  prediction: PredictionPolicy;
  phantom: PhantomParams;
  availabilitySafetyUnits: number;
  hourOf: (at: number) => number;
  formatTime: (at: number) => string;
};

export type PhantomStockAlert = { key: string; sku: string; name: string; title: string; unexplainedUnits: number };

export type InsightDecision =
  | { type: 'prediction-open' | 'prediction-update'; alert: PredictedStockOut }
  | { type: 'prediction-resolve'; key: string; resolution: 'restocked' | 'rate-fell' | 'ran-empty' }
  | { type: 'phantom-open'; alert: PhantomStockAlert }
  | { type: 'phantom-resolve'; key: string }
  | { type: 'availability'; availability: SkuAvailability };

/** Data the engine could not use, counted (a health or metrics reader shows them; nothing is raised for them). */
export type InsightCounters = {
  unknownFacing: number;
  unknownSku: number;
  /** kiosk sales of a sku none of whose facings has reported units yet: no evidence either way */
  noShelfUnits: number;
  clockWentBack: number;
  gaps: number;
};

type FacingTrack = { plan: InsightFacing; depletion: DepletionState; prediction: PredictedStockOut | undefined };

export function phantomStockKey(sku: string): string {
  return `phantom-stock:${sku}`;
}

export class InsightEngine {
  private readonly facings = new Map<string, FacingTrack>();
  private readonly facingsBySku = new Map<string, FacingTrack[]>();
  private readonly phantom = new Map<string, PhantomState>();
  private readonly traffic = emptyStoreTraffic();
  readonly counters: InsightCounters = { unknownFacing: 0, unknownSku: 0, noShelfUnits: 0, clockWentBack: 0, gaps: 0 };

  constructor(
    planogram: readonly InsightFacing[],
    private readonly options: InsightOptions,
  ) {
    for (const plan of planogram) {
      const track: FacingTrack = { plan, depletion: emptyDepletionState(), prediction: undefined };
      this.facings.set(`${plan.shelfId}/${plan.facing}`, track);
      const list = this.facingsBySku.get(plan.sku) ?? [];
      list.push(track);
      this.facingsBySku.set(plan.sku, list);
    }
  }

  /** A facing's units changed (from its load cell, or the stock pipeline's sales estimate). */
  facingUnits(shelfId: string, facing: number, units: number, at: number): InsightDecision[] {
    const track = this.facings.get(`${shelfId}/${facing}`);
    if (track === undefined) {
      this.counters.unknownFacing++;
      return [];
    }
    const decisions: InsightDecision[] = [];
    const previous = track.depletion.units;
    const observation = observeUnits(track.depletion, this.traffic, units, at, this.options.hourOf, this.options.depletion);
    if (observation.kind === 'clock-went-back') {
      this.counters.clockWentBack++;
      return [];
    }
    if (observation.kind === 'gap') this.counters.gaps++;
    if (observation.kind === 'taken') observeDrop(this.phantomOf(track.plan.sku), observation.dropped, at, this.options.phantom);
    this.decide(track, at, observation.kind === 'restocked', decisions);
    if (previous !== units) decisions.push({ type: 'availability', availability: this.availability(track.plan.sku, at) });
    return decisions;
  }

  /** A kiosk sold `qty` units of `sku` at `at`. */
  sale(sku: string, qty: number, at: number): InsightDecision[] {
    const tracks = this.facingsBySku.get(sku);
    if (tracks === undefined) {
      this.counters.unknownSku++;
      return [];
    }
    // a shelf that never reported (a new facing, a load cell not connected yet) is missing data, not a shelf that does not move
    if (tracks.every((t) => t.depletion.units === null)) {
      this.counters.noShelfUnits++;
      return [];
    }
    const verdict = observeSale(this.phantomOf(sku), qty, at, this.options.phantom);
    if (!verdict.changed) return [];
    const key = phantomStockKey(sku);
    if (!verdict.phantom) return [{ type: 'phantom-resolve', key }];
    const name = (tracks[0] as FacingTrack).plan.name;
    const where = tracks.map((t) => `${t.plan.shelfId}/${t.plan.facing}`).join(', ');
    const title = `${name} sells at the kiosks but its shelf (${where}) does not move: sold from elsewhere, misplaced, or a stuck scale`;
    return [{ type: 'phantom-open', alert: { key, sku, name, title, unexplainedUnits: verdict.unexplainedUnits } }];
  }

  /** The periodic look (every few minutes): quiet facings count as watched, predictions follow the clock. */
  tick(at: number): InsightDecision[] {
    const decisions: InsightDecision[] = [];
    for (const track of this.facings.values()) {
      const units = track.depletion.units;
      if (units === null) continue;
      const observation = observeUnits(track.depletion, this.traffic, units, at, this.options.hourOf, this.options.depletion);
      if (observation.kind === 'clock-went-back') continue;
      this.decide(track, at, false, decisions);
    }
    return decisions;
  }

  /** Open predictions: facing key (`shelfId/facing`) → expected empty time, for the pick list. */
  predictedEmptyAt(): Map<string, number> {
    const predicted = new Map<string, number>();
    for (const [key, track] of this.facings) if (track.prediction !== undefined) predicted.set(key, track.prediction.emptyAt);
    return predicted;
  }

  availability(sku: string, at: number): SkuAvailability {
    const units = (this.facingsBySku.get(sku) ?? []).map((t) => t.depletion.units);
    return skuAvailability(sku, units, this.options.availabilitySafetyUnits, at);
  }

  skus(): IterableIterator<string> {
    return this.facingsBySku.keys();
  }

  private decide(track: FacingTrack, at: number, restocked: boolean, decisions: InsightDecision[]): void {
    const units = track.depletion.units;
    if (units === null) return;
    const forecast = forecastEmpty(track.depletion, this.traffic, at, this.options.hourOf, this.options.depletion);
    const decision = decidePrediction(
      { ...track.plan, units },
      forecast,
      { active: track.prediction !== undefined, restocked, now: at, formatTime: this.options.formatTime },
      this.options.prediction,
    );
    switch (decision.action) {
      case 'open':
      case 'update':
        // an update only when what staff read changed (the clock text, the units): not at every tick
        if (decision.action === 'update' && track.prediction?.title === decision.alert.title) return;
        track.prediction = decision.alert;
        decisions.push({ type: decision.action === 'open' ? 'prediction-open' : 'prediction-update', alert: decision.alert });
        return;
      case 'resolve':
        track.prediction = undefined;
        decisions.push({ type: 'prediction-resolve', key: decision.key, resolution: decision.resolution });
        return;
      case 'none':
        return;
    }
  }

  private phantomOf(sku: string): PhantomState {
    let state = this.phantom.get(sku);
    if (state === undefined) this.phantom.set(sku, (state = emptyPhantomState()));
    return state;
  }
}
