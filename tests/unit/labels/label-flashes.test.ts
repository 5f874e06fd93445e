/** One label flashed for two reasons: each reason's stop only counts once no other reason wants the flash. */
import { describe, expect, it } from 'vitest';
import type { FlashPattern } from '../../../edge/labels/label-driver.js';
import { LabelFlashes } from '../../../edge/labels/label-flashes.js';

function setup(maxLabels = 100) {
  const sent: [string, FlashPattern][] = [];
  const driver = { flash: (labelId: string, pattern: FlashPattern) => void sent.push([labelId, pattern]) };
  const flashes = new LabelFlashes({ driverFor: (labelId) => (labelId === 'orphan' ? undefined : driver), maxLabels });
  return { sent, flashes };
}

describe('label flashes', () => {
  it('HQ ending its flash does not stop a find-my-facing flash; the restock does', () => {
    const { sent, flashes } = setup();
    expect(flashes.flash('L1', 'find', 'low-stock')).toBe('sent');
    expect(flashes.flash('L1', 'find', 'hq')).toBe('sent'); // sent again: a label whose pattern ran out flashes anew
    expect(flashes.flash('L1', 'stop', 'hq')).toBe('held');
    expect(flashes.reasonsOf('L1')).toEqual(['low-stock']);
    expect(flashes.flash('L1', 'stop', 'low-stock')).toBe('sent');
    expect(sent).toEqual([
      ['L1', 'find'],
      ['L1', 'find'],
      ['L1', 'stop'],
    ]);
    expect(flashes.reasonsOf('L1')).toEqual([]);
  });

  it('the other way round as well; a stop for a flash nobody holds (after a restart) still reaches the label', () => {
    const { sent, flashes } = setup();
    flashes.flash('L1', 'find', 'hq');
    flashes.flash('L1', 'find', 'low-stock');
    expect(flashes.flash('L1', 'stop', 'low-stock')).toBe('held');
    expect(flashes.flash('L1', 'stop', 'hq')).toBe('sent');
    expect(flashes.flash('L2', 'stop', 'hq')).toBe('sent');
    expect(sent.filter(([, pattern]) => pattern === 'stop')).toEqual([
      ['L1', 'stop'],
      ['L2', 'stop'],
    ]);
  });

  it('a label no driver carries is reported and not held; past maxLabels a flash goes out untracked', () => {
    const { sent, flashes } = setup(1);
    expect(flashes.flash('orphan', 'find', 'hq')).toBe('no-driver');
    expect(flashes.reasonsOf('orphan')).toEqual([]);
    flashes.flash('L1', 'find', 'hq');
    expect(flashes.flash('L2', 'find', 'hq')).toBe('sent');
    expect(flashes.reasonsOf('L2')).toEqual([]);
    expect(sent).toEqual([
      ['L1', 'find'],
      ['L2', 'find'],
    ]);
  });
});
