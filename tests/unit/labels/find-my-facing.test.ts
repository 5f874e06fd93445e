/** Find-my-facing: a low-stock alert opening flashes the facing's labels, its resolution stops them. */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { openAlert, resolveAlert, acknowledgeAlert, type Alert } from '../../../edge/alerts/alerts.js';
import { GatewayBus } from '../../../edge/core/events.js';
import { FindMyFacing, flashFor } from '../../../edge/labels/find-my-facing.js';
import { LabelFlashes } from '../../../edge/labels/label-flashes.js';
import type { FlashPattern, LabelDriver } from '../../../edge/labels/label-driver.js';

const low = (shelfId = 'shelf-a', facing = 1): Alert =>
  openAlert({ kind: 'low-stock', key: `low-stock:${shelfId}/${facing}`, severity: 'warning', title: 'low', shelfId, facing }, 'a1', 0);

describe('flashFor', () => {
  it('find when a low-stock alert opens, stop when it resolves, nothing in between or for other kinds', () => {
    const opened = low();
    expect(flashFor({ alert: opened, previous: undefined })).toEqual({ shelfId: 'shelf-a', facing: 1, pattern: 'find' });
    const acknowledged = acknowledgeAlert(opened, 'anna', 1);
    expect(flashFor({ alert: acknowledged, previous: opened })).toBeUndefined();
    expect(flashFor({ alert: resolveAlert(acknowledged, 'system', 'restocked', 2), previous: acknowledged })).toEqual({
      shelfId: 'shelf-a',
      facing: 1,
      pattern: 'stop',
    });
    const sensor = openAlert(
      { kind: 'sensor-fault', key: 'sensor-fault:shelf-a/1', severity: 'warning', title: 'x', shelfId: 'shelf-a', facing: 1 },
      's1',
      0,
    );
    expect(flashFor({ alert: sensor, previous: undefined })).toBeUndefined();
  });

  it('reads the facing from the key when the alert does not carry it', () => {
    const { shelfId: _s, facing: _f, ...bare } = low('shelf-b', 3);
    expect(flashFor({ alert: bare, previous: undefined })).toEqual({ shelfId: 'shelf-b', facing: 3, pattern: 'find' });
  });
});

describe('FindMyFacing', () => {
  function setup(lowFacings: Array<{ shelfId: string; facing: number }> = []) {
    const bus = new GatewayBus({
      onHandlerError: ({ error }) => {
        throw error;
      },
    });
    const flashes: Array<[string, FlashPattern]> = [];
    const driver = {
      driverId: 'test',
      flash: (labelId: string, pattern: FlashPattern) => flashes.push([labelId, pattern]),
    } as unknown as LabelDriver;
    const outcomes: string[] = [];
    const labels: Record<string, string[]> = { 'shelf-a/1': ['esl-a1', '0000021DA0000001'], 'shelf-a/2': ['esl-orphan'] };
    const find = new FindMyFacing({
      bus,
      labelsAt: (shelfId, facing) => labels[`${shelfId}/${facing}`] ?? [],
      flashes: new LabelFlashes({ driverFor: (labelId) => (labelId === 'esl-orphan' ? undefined : driver), maxLabels: 100 }),
      lowFacings: () => lowFacings,
      log: pino({ level: 'silent' }),
      onFlash: (outcome) => outcomes.push(outcome),
    });
    return { bus, find, flashes, outcomes };
  }

  it('flashes every label of the low facing through its driver, and stops them on restock', () => {
    const { bus, find, flashes } = setup();
    find.start();
    const opened = low();
    bus.emit('alert.changed', { alert: opened, previous: undefined });
    expect(flashes).toEqual([
      ['esl-a1', 'find'],
      ['0000021DA0000001', 'find'],
    ]);
    bus.emit('alert.changed', { alert: resolveAlert(opened, 'system', 'restocked', 5), previous: opened });
    expect(flashes.slice(2)).toEqual([
      ['esl-a1', 'stop'],
      ['0000021DA0000001', 'stop'],
    ]);
    find.stop();
    bus.emit('alert.changed', { alert: low(), previous: undefined });
    expect(flashes).toHaveLength(4);
  });

  it('at start, facings already low flash again (an alert from before a restart); a label without a driver is counted', () => {
    const { find, flashes, outcomes } = setup([
      { shelfId: 'shelf-a', facing: 1 },
      { shelfId: 'shelf-a', facing: 2 },
    ]);
    find.start();
    expect(flashes).toEqual([
      ['esl-a1', 'find'],
      ['0000021DA0000001', 'find'],
    ]);
    expect(outcomes).toEqual(['sent', 'sent', 'no-driver']);
    find.stop();
  });
});
