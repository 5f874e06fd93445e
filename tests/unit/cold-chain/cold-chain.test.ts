import { asyncScheduler } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import {
  coldChainSignals,
  doorOpenTooLong,
  temperatureExcursions,
  type CaseReading,
  type ColdChainPolicy,
} from '../../../edge/cold-chain/cold-chain.js';

const newScheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
/** Inside `run()` the async scheduler runs on virtual time (its `now()` is the frame): what the operators get. */
const virtual = asyncScheduler;

const MIN = 60_000;
const POLICY: ColdChainPolicy = { maxTemperatureC: 5, aboveForMs: 10 * MIN, backInRangeForMs: 5 * MIN, doorOpenMaxMs: 2 * MIN };

/** A marble string with the given letters at the given virtual times (ms), e.g. [[5000, 'a']] → '5000ms a'. */
function marbleAt(events: ReadonlyArray<readonly [number, string]>): string {
  let frame = 0;
  const parts: string[] = [];
  for (const [time, letter] of events) {
    if (time < frame) throw new Error(`marbleAt: ${time} is before frame ${frame}`);
    if (time > frame) parts.push(`${time - frame}ms`);
    parts.push(letter);
    frame = time + 1;
  }
  return parts.join(' ');
}

describe('temperatureExcursions', () => {
  it('opens an excursion when the case stays above its limit for aboveForMs, and recovers after backInRangeForMs in range', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      const temps = cold(
        marbleAt([
          [0, 'a'],
          [1 * MIN, 'b'],
          [4 * MIN, 'c'],
          [20 * MIN, 'a'],
          [22 * MIN, 'a'],
        ]),
        { a: 3, b: 7, c: 8 },
      );
      expectObservable(temps.pipe(temperatureExcursions(POLICY, virtual))).toBe(
        marbleAt([
          [11 * MIN, 'x'],
          [25 * MIN, 'y'],
        ]),
        {
          x: { type: 'excursion', temperatureC: 7, since: 1 * MIN },
          y: { type: 'recovered', temperatureC: 3, since: 20 * MIN },
        },
      );
    });
  });

  it('ignores a spike shorter than aboveForMs, and a dip back into range shorter than backInRangeForMs', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      // 9 min warm, 1 min cool, 10 min warm: the excursion is the last run only; then a 2-min dip does not end it
      const temps = cold(
        marbleAt([
          [0, 'w'],
          [9 * MIN, 'c'],
          [10 * MIN, 'w'],
          [25 * MIN, 'c'],
          [27 * MIN, 'w'],
        ]),
        { w: 6, c: 4 },
      );
      expectObservable(temps.pipe(temperatureExcursions(POLICY, virtual))).toBe(marbleAt([[20 * MIN, 'x']]), {
        x: { type: 'excursion', temperatureC: 6, since: 10 * MIN },
      });
    });
  });

  it('raises the excursion of a case that went quiet while warm', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('w', { w: 12 }).pipe(temperatureExcursions(POLICY, virtual))).toBe(marbleAt([[10 * MIN, 'x']]), {
        x: { type: 'excursion', temperatureC: 12, since: 0 },
      });
    });
  });

  it('exactly at the limit is in range', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('a', { a: 5 }).pipe(temperatureExcursions(POLICY, virtual))).toBe('');
    });
  });

  it('started in an excursion (alert open before a restart), reports the recovery', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('a', { a: 3 }).pipe(temperatureExcursions(POLICY, virtual, true))).toBe(marbleAt([[5 * MIN, 'y']]), {
        y: { type: 'recovered', temperatureC: 3, since: 0 },
      });
    });
  });
});

describe('doorOpenTooLong', () => {
  it('warns for a door open longer than doorOpenMaxMs and reports its closing; a short opening says nothing', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      const doors = cold(
        marbleAt([
          [0, 'o'],
          [1 * MIN, 'c'],
          [3 * MIN, 'o'],
          [4 * MIN, 'o'],
          [7 * MIN, 'c'],
          [8 * MIN, 'c'],
        ]),
        { o: true, c: false },
      );
      expectObservable(doors.pipe(doorOpenTooLong(POLICY, virtual))).toBe(
        marbleAt([
          [5 * MIN, 'w'],
          [7 * MIN, 'k'],
        ]),
        {
          w: { type: 'door-open-too-long', since: 3 * MIN },
          k: { type: 'door-closed', since: 7 * MIN },
        },
      );
    });
  });

  it('started alerting (door alert open before a restart), reports the door closed at once', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('c', { c: false }).pipe(doorOpenTooLong(POLICY, virtual, true))).toBe('k', {
        k: { type: 'door-closed', since: 0 },
      });
    });
  });
});

describe('coldChainSignals', () => {
  it('watches each configured case with its own limits and ignores the others', () => {
    const policies = new Map<string, ColdChainPolicy>([
      ['case-1', POLICY],
      ['case-2', { ...POLICY, maxTemperatureC: -18, aboveForMs: 1 * MIN }],
    ]);
    newScheduler().run(({ cold, expectObservable }) => {
      const r = (caseId: string, temperatureC?: number, doorOpen?: boolean): CaseReading => ({
        caseId,
        telemetry: { ...(temperatureC !== undefined ? { temperatureC } : {}), ...(doorOpen !== undefined ? { doorOpen } : {}), ts: 0 },
      });
      const readings = cold(
        marbleAt([
          [0, 'a'],
          [1, 'b'],
          [2, 'c'],
          [3, 'd'],
        ]),
        {
          a: r('case-1', 4, true), // door open, in range
          b: r('case-2', -10), // freezer warm
          c: r('case-3', 30), // no limits configured: ignored
          d: r('case-1', undefined, false), // door closed after 3 ms: says nothing
        },
      );
      expectObservable(readings.pipe(coldChainSignals((id) => policies.get(id), virtual))).toBe(marbleAt([[1 + 1 * MIN, 'x']]), {
        x: { type: 'excursion', temperatureC: -10, since: 1, caseId: 'case-2' },
      });
    });
  });
});
