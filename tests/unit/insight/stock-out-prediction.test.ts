import { describe, expect, it } from 'vitest';
import type { EmptyForecast } from '../../../edge/insight/depletion.js';
import {
  DEFAULT_PREDICTION_POLICY,
  decidePrediction,
  stockOutPredictedKey,
  type FacingOutlook,
  type PredictionPolicy,
} from '../../../edge/insight/stock-out-prediction.js';

const MIN = 60_000;
const NOW = Date.UTC(2026, 11, 7, 12, 0);
const policy: PredictionPolicy = { ...DEFAULT_PREDICTION_POLICY, leadTimeMs: 30 * MIN };
const facing: FacingOutlook = { shelfId: 'shelf-01', facing: 3, sku: '4000000000031', name: 'Oat milk 1 l', units: 6, capacityUnits: 24 };
const formatTime = (at: number) => new Date(at).toISOString().slice(11, 16);
/** A forecast whose chance of emptying within any window is `chance`, expected empty at `emptyInMin`. */
const forecast = (chance: number, emptyInMin: number | undefined): EmptyForecast => ({
  ratePerHour: 10,
  emptyAt: emptyInMin === undefined ? undefined : NOW + emptyInMin * MIN,
  basis: 'recent-rate',
  chanceEmptyWithin: () => chance,
});
const context = (active: boolean, restocked = false) => ({ active, restocked, now: NOW, formatTime });

describe('stock-out prediction', () => {
  it('opens when the chance of running empty within the window reaches openChance, naming product, time and units', () => {
    expect(decidePrediction(facing, forecast(0.1, 90), context(false), policy)).toEqual({ action: 'none' });
    const decision = decidePrediction(facing, forecast(0.4, 40), context(false), policy);
    expect(decision).toEqual({
      action: 'open',
      alert: {
        key: stockOutPredictedKey('shelf-01', 3),
        shelfId: 'shelf-01',
        facing: 3,
        sku: '4000000000031',
        title: 'Oat milk 1 l will run out by 12:40: bring 18 (6 left)',
        units: 18,
        emptyAt: NOW + 40 * MIN,
      },
    });
  });

  it('an open prediction is updated while likely, and resolved only when the chance falls below resolveChance', () => {
    expect(decidePrediction(facing, forecast(0.1, 60), context(true), policy).action).toBe('update');
    expect(decidePrediction(facing, forecast(0.01, undefined), context(true), policy)).toEqual({
      action: 'resolve',
      key: stockOutPredictedKey('shelf-01', 3),
      resolution: 'rate-fell',
    });
  });

  it('resolves on a restock and when the facing ran empty (the prediction came true); no forecast changes nothing', () => {
    expect(decidePrediction(facing, forecast(0.9, 10), context(true, true), policy)).toMatchObject({ resolution: 'restocked' });
    expect(decidePrediction({ ...facing, units: 0 }, forecast(1, 0), context(true), policy)).toMatchObject({ resolution: 'ran-empty' });
    expect(decidePrediction(facing, undefined, context(true), policy)).toEqual({ action: 'none' });
    expect(decidePrediction(facing, undefined, context(false), policy)).toEqual({ action: 'none' });
    // an empty facing is the empty-shelf alert's business, not a prediction
    expect(decidePrediction({ ...facing, units: 0 }, forecast(1, 0), context(false), policy)).toEqual({ action: 'none' });
  });
});
