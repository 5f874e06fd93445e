/**
 * Plausible weight: a facing's load cell reading (gross, tare included) is plausible when it lies between
 * -sensorToleranceG and capacityUnits × unitWeightG × 1.5 + tareG. A cell reads a little below zero when it drifts,
 * and a facing can hold some more than its capacity (stacked, a wrong product, a hand), but not half again as much:
 * a reading outside that range is a broken or badly calibrated cell, not stock (999,999 g once showed as 625 of 8
 * units). Such readings are not counted as units; they make the facing's sensor faulty. The fault ends once plausible
 * readings have held for `clearAfterMs` (an implausible one restarts the wait), so a cell flipping between good and
 * bad readings keeps one alert open instead of opening and resolving one per reading.
 */
import type { FacingPlan, PlanogramIndex } from '../planogram/planogram.js';
import type { SensorFaultChange } from './stock-events.js';

export type PlausibleRange = { minG: number; maxG: number };

/** The plausible weight range of a facing; without a known unit weight there is no upper bound to judge by. */
export function plausibleWeightRange(
  plan: Pick<FacingPlan, 'capacityUnits' | 'tareG'>,
  unitWeightG: number | undefined,
  sensorToleranceG: number,
): PlausibleRange {
  return {
    minG: -sensorToleranceG,
    maxG: unitWeightG === undefined ? Number.POSITIVE_INFINITY : plan.capacityUnits * unitWeightG * 1.5 + plan.tareG,
  };
}

export function isPlausibleWeight(weightG: number, range: PlausibleRange): boolean {
  // written so that NaN is not plausible
  return weightG >= range.minG && weightG <= range.maxG;
}

/**
 * One facing's sensor. A class with every field set in the constructor, and "no plausible streak" as NaN rather than
 * undefined, so every instance keeps one shape and numeric fields: this is read for every reading.
 */
class FacingSensor implements PlausibleRange {
  /** when the current run of plausible readings of a faulty sensor began; NaN when there is none */
  plausibleSince = Number.NaN;

  constructor(
    readonly minG: number,
    readonly maxG: number,
    public faulty: boolean,
  ) {}
}

/**
 * Each facing's plausible range (computed once per planogram) and whether its load cell is faulty now. Runs for every
 * reading: one map lookup and two comparisons; a change of the fault state goes to `onChange`.
 */
export class SensorFaultTracker {
  private readonly sensors = new Map<FacingPlan, FacingSensor>();

  constructor(
    planogram: PlanogramIndex,
    sensorToleranceG: number,
    /** how long plausible readings must hold before a faulty sensor counts as repaired */
    private readonly clearAfterMs: number,
    /** faulty at start: the facing's sensor-fault alert is still active (from before a restart) */
    initiallyFaulty: (plan: FacingPlan) => boolean,
    private readonly onChange: (change: SensorFaultChange) => void,
  ) {
    for (const plan of planogram.planogram.facings) {
      const range = plausibleWeightRange(plan, planogram.product(plan.sku)?.unitWeightG, sensorToleranceG);
      this.sensors.set(plan, new FacingSensor(range.minG, range.maxG, initiallyFaulty(plan)));
    }
  }

  /** Whether a reading of the facing is plausible (to be counted as stock). */
  accept(plan: FacingPlan, weightG: number, at: number): boolean {
    const sensor = this.sensors.get(plan);
    if (!sensor) return true;
    const plausible = isPlausibleWeight(weightG, sensor);
    if (!plausible) {
      sensor.plausibleSince = Number.NaN;
      if (!sensor.faulty) this.changed(plan, sensor, true, weightG, at);
    } else if (sensor.faulty) {
      if (Number.isNaN(sensor.plausibleSince)) sensor.plausibleSince = at;
      if (at - sensor.plausibleSince >= this.clearAfterMs) this.changed(plan, sensor, false, weightG, at);
    }
    return plausible;
  }

  private changed(plan: FacingPlan, sensor: FacingSensor, faulty: boolean, weightG: number, at: number): void {
    sensor.faulty = faulty;
    sensor.plausibleSince = Number.NaN;
    this.onChange({ shelfId: plan.shelfId, facing: plan.facing, sku: plan.sku, faulty, weightG, at });
  }

  isFaulty(plan: FacingPlan): boolean {
    return this.sensors.get(plan)?.faulty ?? false;
  }
}
