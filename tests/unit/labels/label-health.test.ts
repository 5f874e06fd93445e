/** Label health with time as a parameter: offline after missed check-ins, low battery, alerts that resolve themselves. */
import { describe, expect, it } from 'vitest';
import { checkedIn, labelAlertActions, labelHealth, type LabelSighting } from '../../../edge/labels/label-health.js';

const thresholds = { checkInIntervalMs: 60_000, missedCheckIns: 3, lowBatteryMv: 2_400, checkEveryMs: 1_000 };
const label = (over: Partial<LabelSighting> = {}): LabelSighting => ({ labelId: 'esl-a1', trackedSince: 0, batteryMv: 2_900, ...over });

/** runs the actions against a set of active alert keys, as the alert service would */
function apply(active: Set<string>, sighting: LabelSighting, now: number) {
  const actions = labelAlertActions(
    sighting,
    labelHealth(sighting, thresholds, now),
    { shelfId: 'shelf-a', facing: 1 },
    thresholds,
    (key) => active.has(key),
  );
  for (const action of actions) {
    if ('raise' in action) active.add(action.raise.key);
    else active.delete(action.resolve);
  }
  return actions;
}

describe('labelHealth', () => {
  it('is offline only after the missed check-ins, counted from the last check-in', () => {
    const seen = label({ lastSeenAt: 1_000 });
    expect(labelHealth(seen, thresholds, 1_000 + 180_000).condition).toBe('ok');
    expect(labelHealth(seen, thresholds, 1_000 + 180_001)).toEqual({ offline: true, batteryLow: false, condition: 'offline' });
  });

  it('a bound label never seen counts from when it was tracked', () => {
    expect(labelHealth(label({ trackedSince: 10_000 }), thresholds, 100_000).condition).toBe('never-seen');
    expect(labelHealth(label({ trackedSince: 10_000 }), thresholds, 190_001).condition).toBe('offline');
  });

  it('battery below the threshold is low; unknown (null) is not', () => {
    expect(labelHealth(label({ lastSeenAt: 0, batteryMv: 2_399 }), thresholds, 0)).toEqual({
      offline: false,
      batteryLow: true,
      condition: 'battery-low',
    });
    expect(labelHealth(label({ lastSeenAt: 0, batteryMv: 2_400 }), thresholds, 0).batteryLow).toBe(false);
    expect(labelHealth(label({ lastSeenAt: 0, batteryMv: null }), thresholds, 0).batteryLow).toBe(false);
  });

  it('a check-in moves last seen forward only, and an unknown battery keeps the last known', () => {
    const seen = checkedIn(label({ lastSeenAt: 5_000, batteryMv: 2_800 }), {
      driverId: 'oepl:ap-1',
      at: 4_000,
      batteryMv: null,
      displayedPriceCents: 199,
    });
    expect(seen).toMatchObject({ lastSeenAt: 5_000, batteryMv: 2_800, driverId: 'oepl:ap-1', displayedPriceCents: 199 });
  });
});

describe('label alerts', () => {
  it('label-offline opens once when check-ins stop and resolves when the label checks in again', () => {
    const active = new Set<string>();
    const silent = label({ lastSeenAt: 0 });
    expect(apply(active, silent, 100_000)).toEqual([]);
    const opened = apply(active, silent, 200_000);
    expect(opened).toEqual([
      {
        raise: expect.objectContaining({
          kind: 'label-offline',
          key: 'label-offline:esl-a1',
          severity: 'warning',
          deviceId: 'esl-a1',
          shelfId: 'shelf-a',
          facing: 1,
          title: expect.stringContaining('esl-a1 (shelf-a/1)') as string,
        }) as unknown,
      },
    ]);
    expect(apply(active, silent, 300_000)).toEqual([]); // still offline: nothing new
    const back = checkedIn(silent, { driverId: 'mqtt-esl', at: 300_000, batteryMv: 2_900 });
    expect(apply(active, back, 300_000)).toEqual([{ resolve: 'label-offline:esl-a1', resolution: 'label checked in again' }]);
    expect(active.size).toBe(0);
  });

  it('label-battery-low opens below the threshold, stays while the label is offline, resolves on a good battery', () => {
    const active = new Set<string>();
    const low = label({ lastSeenAt: 0, batteryMv: 2_100 });
    expect(apply(active, low, 0)).toEqual([
      {
        raise: expect.objectContaining({
          kind: 'label-battery-low',
          key: 'label-battery-low:esl-a1',
          title: expect.stringContaining('2100 mV') as string,
        }) as unknown,
      },
    ]);
    // offline: the battery alert is left as it is, the offline one opens
    expect(apply(active, low, 200_000)).toEqual([{ raise: expect.objectContaining({ kind: 'label-offline' }) as unknown }]);
    expect([...active].sort()).toEqual(['label-battery-low:esl-a1', 'label-offline:esl-a1']);
    const replaced = checkedIn(low, { driverId: 'mqtt-esl', at: 200_000, batteryMv: 3_000 });
    expect(apply(active, replaced, 200_000)).toEqual([
      { resolve: 'label-offline:esl-a1', resolution: 'label checked in again' },
      { resolve: 'label-battery-low:esl-a1', resolution: 'battery back above the threshold (replaced)' },
    ]);
  });

  it('names the product first, then the facing, when the label is bound to a product the planogram names', () => {
    const silent = label({ lastSeenAt: 0, batteryMv: 2_100 });
    const place = { shelfId: 'shelf-a', facing: 1, sku: 'milk', productName: 'Oat milk 1 l' };
    const actions = labelAlertActions(silent, labelHealth(silent, thresholds, 0), place, thresholds, () => false);
    expect(actions).toEqual([
      {
        raise: expect.objectContaining({ title: 'Label esl-a1 (Oat milk 1 l, shelf-a/1) battery low: 2100 mV (below 2400 mV)' }) as unknown,
      },
    ]);
    // the name is only words: the alert's fields are the place's
    expect(actions[0]).not.toHaveProperty('raise.productName');
    expect(actions[0]).toHaveProperty('raise.sku', 'milk');
  });
});
