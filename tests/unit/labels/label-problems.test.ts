import { describe, expect, it } from 'vitest';
import {
  compareLabels,
  labelFailure,
  labelProblem,
  needsAttention,
  sortLabels,
  type LabelFacts,
} from '../../../edge/labels/label-problems.js';

const label = (over: Partial<LabelFacts> = {}): LabelFacts => ({
  labelId: 'esl-1',
  state: 'ok',
  driverLinkUp: true,
  displayedPriceCents: 199,
  confirmedPriceCents: 199,
  pendingPriceCents: null,
  shelfId: 'shelf-a',
  facing: 1,
  ...over,
});

describe('label problems', () => {
  it('a driver whose link is down fails its labels, whatever their own state', () => {
    expect(labelFailure(label({ driverLinkUp: false, state: 'offline' }))).toBe('driver-link');
    expect(labelProblem(label({ driverLinkUp: false, state: 'offline' }))).toBe('failed');
    expect(labelProblem(label({ driverLinkUp: null }))).toBe('ok');
  });

  it('a settled label showing another price than it confirmed has failed; during a campaign it is only pending', () => {
    expect(labelFailure(label({ displayedPriceCents: 249 }))).toBe('price-mismatch');
    expect(labelProblem(label({ displayedPriceCents: 249, pendingPriceCents: 249 }))).toBe('price-pending');
    // nothing confirmed yet, or nothing shown: nothing to disagree with
    expect(labelProblem(label({ displayedPriceCents: 249, confirmedPriceCents: null }))).toBe('ok');
    expect(labelProblem(label({ displayedPriceCents: null }))).toBe('ok');
  });

  it('otherwise the label health names the problem', () => {
    expect(labelProblem(label({ state: 'offline' }))).toBe('offline');
    expect(labelProblem(label({ state: 'never-seen' }))).toBe('never-seen');
    expect(labelProblem(label({ state: 'battery-low', pendingPriceCents: 100 }))).toBe('battery-low');
    expect([...['failed', 'offline', 'never-seen', 'battery-low'].map((p) => needsAttention(p as never))]).toEqual([
      true,
      true,
      true,
      true,
    ]);
    expect(needsAttention('price-pending') || needsAttention('ok')).toBe(false);
  });

  it('orders failed, offline, never seen, low battery, pending, ok; then by shelf, facing (numerically), unbound last', () => {
    const labels = [
      label({ labelId: 'ok-unbound', shelfId: null, facing: null }),
      label({ labelId: 'ok-a10', facing: 10 }),
      label({ labelId: 'ok-a2', facing: 2 }),
      label({ labelId: 'pending', pendingPriceCents: 100 }),
      label({ labelId: 'battery', state: 'battery-low' }),
      label({ labelId: 'never', state: 'never-seen' }),
      label({ labelId: 'offline', state: 'offline' }),
      label({ labelId: 'failed', driverLinkUp: false }),
    ].map((facts) => ({ ...facts, problem: labelProblem(facts) }));
    // the fast sort the API uses agrees with the comparator
    expect(sortLabels([...labels].reverse())).toEqual([...labels].sort(compareLabels));
    expect(sortLabels(labels).map((facts) => facts.labelId)).toEqual([
      'failed',
      'offline',
      'never',
      'battery',
      'pending',
      'ok-a2',
      'ok-a10',
      'ok-unbound',
    ]);
  });
});
