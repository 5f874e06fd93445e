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
  trafficSnapshot,
  type DepletionObservation,
  type DepletionParams,
  type DepletionState,
  type TrafficSnapshot,
} from './depletion.js';
import { emptyPhantomState, observeDrop, observeRestock, observeSale, type PhantomParams, type PhantomState } from './phantom-stock.js';
import { skuAvailability, type SkuAvailability } from './availability.js';
import { emptyNoSalesState, observeNoSales, type NoSalesParams, type NoSalesState } from './no-sales.js';
import {
  emptyStuckScaleState,
  observeReading,
  observeSkuSale,
  type StuckScaleChange,
  type StuckScaleParams,
  type StuckScaleState,
} from './stuck-scale.js';
import {
  emptyTareState,
  observeTareReading,
  observeTareUnits,
  proposeTare,
  type TareEvidence,
  type TareParams,
  type TareState,
} from './tare-proposal.js';
import { decidePrediction, type PredictedStockOut, type PredictionPolicy } from './stock-out-prediction.js';

export type InsightFacing = {
  shelfId: string;
  facing: number;
  sku: string;
  name: string;
  capacityUnits: number;
  /** the load cell's tare and the product's unit weight (planogram): for tare proposals; without them, none */
  tareG?: number;
  unitWeightG?: number;
};

export type TareProposal = {
  shelfId: string;
  facing: number;
  sku: string;
  currentTareG: number;
  proposedTareG: number;
  evidence: TareEvidence;
};

export type InsightOptions = {
  depletion: DepletionParams;
  prediction: PredictionPolicy;
  phantom: PhantomParams;
  noSales: NoSalesParams;
  stuckScale: StuckScaleParams;
  tare: TareParams;
  availabilitySafetyUnits: number;
  hourOf: (at: number) => number;
  formatTime: (at: number) => string;
};

export type PhantomStockAlert = { key: string; sku: string; name: string; title: string; unexplainedUnits: number };

/** A facing that holds stock and sells nothing (no-sales), or whose load cell is frozen (scale-stuck): one per facing. */
export type FacingAlert = {
  key: string;
  shelfId: string;
  facing: number;
  sku: string;
  title: string;
  /** no-sales: the units expected over the silence; scale-stuck: the kiosk units sold while the cell read the same */
  units: number;
};

export type InsightDecision =
  | { type: 'prediction-open' | 'prediction-update'; alert: PredictedStockOut }
  | { type: 'prediction-resolve'; key: string; resolution: 'restocked' | 'rate-fell' | 'ran-empty' }
  | { type: 'phantom-open'; alert: PhantomStockAlert }
  | { type: 'phantom-resolve'; key: string }
  | { type: 'no-sales-open' | 'scale-stuck-open'; alert: FacingAlert }
  | { type: 'no-sales-resolve' | 'scale-stuck-resolve'; key: string }
  | { type: 'availability'; availability: SkuAvailability };

/** Data the engine could not use, counted (a health or metrics reader shows them; nothing is raised for them). */
export type InsightCounters = {
  unknownFacing: number;
  unknownSku: number;
  /** kiosk sales of a sku none of whose facings has reported units yet: no evidence either way */
  noShelfUnits: number;
  clockWentBack: number;
  gaps: number;
  /** raw shelf readings of a facing not in the planogram (the stock room reports them too) */
  readingsUnknownFacing: number;
};

type FacingTrack = {
  plan: InsightFacing;
  depletion: DepletionState;
  prediction: PredictedStockOut | undefined;
  noSales: NoSalesState;
  scale: StuckScaleState;
  tare: TareState;
};

export function phantomStockKey(sku: string): string {
  return `phantom-stock:${sku}`;
}

export function noSalesKey(shelfId: string, facing: number): string {
  return `no-sales:${shelfId}/${facing}`;
}

export function scaleStuckKey(shelfId: string, facing: number): string {
  return `scale-stuck:${shelfId}/${facing}`;
}

export class InsightEngine {
  private readonly facings = new Map<string, FacingTrack>();
  private readonly facingsBySku = new Map<string, FacingTrack[]>();
  /** shelf → its facings by number: a raw reading finds its facing without building a key string */
  private readonly facingsByShelf = new Map<string, Array<FacingTrack | undefined>>();
  private readonly phantom = new Map<string, PhantomState>();
  private readonly traffic = emptyStoreTraffic();
  readonly counters: InsightCounters = {
    unknownFacing: 0,
    unknownSku: 0,
    noShelfUnits: 0,
    clockWentBack: 0,
    gaps: 0,
    readingsUnknownFacing: 0,
  };

  constructor(
    planogram: readonly InsightFacing[],
    private readonly options: InsightOptions,
  ) {
    for (const plan of planogram) {
      const track: FacingTrack = {
        plan,
        depletion: emptyDepletionState(),
        prediction: undefined,
        noSales: emptyNoSalesState(),
        scale: emptyStuckScaleState(),
        tare: emptyTareState(),
      };
      this.facings.set(`${plan.shelfId}/${plan.facing}`, track);
      const shelf = this.facingsByShelf.get(plan.shelfId) ?? [];
      shelf[plan.facing] = track;
      this.facingsByShelf.set(plan.shelfId, shelf);
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
    observeTareUnits(track.tare, units, at);
    if (observation.kind === 'taken') observeDrop(this.phantomOf(track.plan.sku), observation.dropped, at, this.options.phantom);
    else if (observation.kind === 'restocked')
      observeRestock(this.phantomOf(track.plan.sku), at, this.options.phantom, track.plan.capacityUnits - units);
    // once for this facing's forecast and no-sales look: neither changes the traffic the observation just taught
    const snapshot = trafficSnapshot(this.traffic, this.options.depletion);
    this.decide(track, at, observation.kind === 'restocked', decisions, snapshot);
    this.decideNoSales(track, observation, previous, at, snapshot.relative, decisions);
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
    const decisions: InsightDecision[] = [];
    for (const track of tracks) {
      if (observeSkuSale(track.scale, qty, this.options.stuckScale) === 1) decisions.push(this.scaleStuckOpen(track));
    }
    const verdict = observeSale(this.phantomOf(sku), qty, at, this.options.phantom);
    if (!verdict.changed) return decisions;
    const key = phantomStockKey(sku);
    if (!verdict.phantom) {
      decisions.push({ type: 'phantom-resolve', key });
      return decisions;
    }
    const name = (tracks[0] as FacingTrack).plan.name;
    const where = tracks.map((t) => `${t.plan.shelfId}/${t.plan.facing}`).join(', ');
    const title = `${name} sells at the kiosks but its shelf (${where}) does not move: sold from elsewhere, misplaced, or a stuck scale`;
    decisions.push({ type: 'phantom-open', alert: { key, sku, name, title, unexplainedUnits: verdict.unexplainedUnits } });
    return decisions;
  }

  /**
   * One raw reading of a facing's load cell (every reading: the hot path). A number compare and two counters; a
   * decision only when the cell turns stuck or moves again — 1 open, -1 resolve, 0 nothing; see `scaleStuckAlert`.
   */
  scaleReading(shelfId: string, facing: number, weightG: number, at: number): StuckScaleChange {
    const track = this.facingsByShelf.get(shelfId)?.[facing];
    if (track === undefined) {
      this.counters.readingsUnknownFacing++;
      return 0;
    }
    observeTareReading(track.tare, weightG, at, this.options.tare);
    return observeReading(track.scale, weightG, this.options.stuckScale);
  }

  /** Empty facings whose load cell reads a steady offset: a new tare for store IT to confirm (no alert). */
  tareProposals(now: number): TareProposal[] {
    const proposals: TareProposal[] = [];
    for (const { plan, tare } of this.facings.values()) {
      if (plan.tareG === undefined || plan.unitWeightG === undefined) continue;
      const verdict = proposeTare(tare, plan.tareG, plan.unitWeightG, now, this.options.tare);
      if (verdict === undefined) continue;
      const { shelfId, facing, sku, tareG } = plan;
      proposals.push({ shelfId, facing, sku, currentTareG: tareG, proposedTareG: verdict.proposedTareG, evidence: verdict.evidence });
    }
    return proposals;
  }

  /** The scale-stuck alert of a facing (after `scaleReading` or a sale said it turned stuck). */
  scaleStuckAlert(shelfId: string, facing: number): FacingAlert | undefined {
    const track = this.facingsByShelf.get(shelfId)?.[facing];
    return track === undefined ? undefined : this.scaleStuckOpen(track).alert;
  }

  /**
   * The periodic look (every few minutes): quiet facings count as watched, predictions follow the clock. The store's
   * relative traffic is computed once for the look, not three times per facing (see TrafficSnapshot).
   */
  tick(at: number): InsightDecision[] {
    const decisions: InsightDecision[] = [];
    const snapshot = trafficSnapshot(this.traffic, this.options.depletion);
    for (const track of this.facings.values()) {
      const units = track.depletion.units;
      if (units === null) continue;
      const { hourOf, depletion } = this.options;
      const observation = observeUnits(track.depletion, this.traffic, units, at, hourOf, depletion, snapshot);
      if (observation.kind === 'clock-went-back') continue;
      if (observation.kind === 'gap') this.counters.gaps++;
      this.decide(track, at, false, decisions, snapshot);
      this.decideNoSales(track, observation, units, at, snapshot.relative, decisions);
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

  private decide(track: FacingTrack, at: number, restocked: boolean, decisions: InsightDecision[], snapshot: TrafficSnapshot): void {
    const units = track.depletion.units;
    if (units === null) return;
    const forecast = forecastEmpty(track.depletion, this.traffic, at, this.options.hourOf, this.options.depletion, snapshot);
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

  private decideNoSales(
    track: FacingTrack,
    observation: DepletionObservation,
    unitsBefore: number | null,
    at: number,
    relative: number[] | undefined,
    decisions: InsightDecision[],
  ): void {
    if (observation.kind === 'clock-went-back') return;
    const { shelfId, facing, sku, name } = track.plan;
    const units = track.depletion.units ?? 0;
    const verdict = observeNoSales(
      track.noSales,
      {
        kind: observation.kind,
        at,
        unitsBefore: unitsBefore ?? 0,
        units,
        counted: observation.counted,
        typicalDrop: track.depletion.typicalDrop,
      },
      relative,
      this.options.hourOf,
      this.options.noSales,
    );
    if (verdict.change === 'none') return;
    const key = noSalesKey(shelfId, facing);
    if (verdict.change === 'resolve') {
      decisions.push({ type: 'no-sales-resolve', key });
      return;
    }
    const expected = Math.round(verdict.expectedUnits);
    const title =
      `${name} on ${shelfId} facing ${facing} has stock but sold none of the ~${expected} expected: ` + 'blocked, hidden or mislabelled?';
    decisions.push({ type: 'no-sales-open', alert: { key, shelfId, facing, sku, title, units: expected } });
  }

  private scaleStuckOpen(track: FacingTrack): { type: 'scale-stuck-open'; alert: FacingAlert } {
    const { shelfId, facing, sku, name } = track.plan;
    const title = `The load cell on ${shelfId} facing ${facing} (${name}) repeats the same weight while it sells at the kiosks: stuck?`;
    const alert = { key: scaleStuckKey(shelfId, facing), shelfId, facing, sku, title, units: track.scale.salesDuringRun };
    return { type: 'scale-stuck-open', alert };
  }

  private phantomOf(sku: string): PhantomState {
    let state = this.phantom.get(sku);
    if (state === undefined) this.phantom.set(sku, (state = emptyPhantomState()));
    return state;
  }
}
