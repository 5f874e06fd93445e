/**
 * The cold chain of refrigerated cases as named RxJS operators: a case above its temperature limit for longer than
 * `aboveForMs` is an excursion (food may be spoiling), over when it has been back in range for `backInRangeForMs`; a
 * door open longer than `doorOpenMaxMs` is a door alert, over when the door closes. Time comes from the scheduler,
 * so marble tests run hours of case data in milliseconds, and a case that goes quiet while warm still raises the
 * excursion when its time is up. Pure: no bus, no alert service here.
 */
import {
  distinctUntilChanged,
  filter,
  groupBy,
  map,
  merge,
  mergeMap,
  of,
  scan,
  share,
  switchMap,
  timer,
  type Observable,
  type OperatorFunction,
  type SchedulerLike,
} from 'rxjs';
import type { CaseTelemetry } from '../device-registry/messages.js';

export type ColdChainPolicy = {
  maxTemperatureC: number;
  aboveForMs: number;
  backInRangeForMs: number;
  doorOpenMaxMs: number;
};

/** A temperature held out of range (`excursion`) or back in range (`recovered`) for the policy's time. */
export type TemperatureSignal =
  { type: 'excursion'; temperatureC: number; since: number } | { type: 'recovered'; temperatureC: number; since: number };

/** A door open too long, then closed. */
export type DoorSignal = { type: 'door-open-too-long'; since: number } | { type: 'door-closed'; since: number };

export type ColdChainSignal = (TemperatureSignal | DoorSignal) & { caseId: string };

/**
 * Runs of a condition: each time it flips, a run starts; it is reported (with the reading that started it) once it
 * has held for its duration, then not again until it flips and holds the other way.
 */
function heldRuns<T>(
  durationOf: (condition: boolean) => number,
  scheduler: SchedulerLike,
): OperatorFunction<{ condition: boolean; reading: T }, { condition: boolean; reading: T; since: number }> {
  return (source) =>
    source.pipe(
      distinctUntilChanged((a, b) => a.condition === b.condition),
      map((start) => ({ ...start, since: scheduler.now() })),
      // a flip before the time is up cancels the run: only conditions that held count
      switchMap((run) => timer(durationOf(run.condition), scheduler).pipe(map(() => run))),
    );
}

/**
 * Case temperatures → excursions and recoveries. Starts in range — a case that is never warm says nothing — unless
 * `inExcursion` (an excursion alert is still open from before a restart: its recovery must still be seen).
 */
export function temperatureExcursions(
  policy: Pick<ColdChainPolicy, 'maxTemperatureC' | 'aboveForMs' | 'backInRangeForMs'>,
  scheduler: SchedulerLike,
  inExcursion = false,
): OperatorFunction<number, TemperatureSignal> {
  return (temperatures) =>
    temperatures.pipe(
      map((temperatureC) => ({ condition: temperatureC > policy.maxTemperatureC, reading: temperatureC })),
      heldRuns<number>((above) => (above ? policy.aboveForMs : policy.backInRangeForMs), scheduler),
      scan(
        (state: { excursion: boolean; signal: TemperatureSignal | undefined }, run) => {
          if (run.condition === state.excursion) return { excursion: state.excursion, signal: undefined };
          const signal: TemperatureSignal = {
            type: run.condition ? 'excursion' : 'recovered',
            temperatureC: run.reading,
            since: run.since,
          };
          return { excursion: run.condition, signal };
        },
        { excursion: inExcursion, signal: undefined },
      ),
      map((state) => state.signal),
      filter((signal): signal is TemperatureSignal => signal !== undefined),
    );
}

/**
 * Door states → a door open too long, then its closing (a door opened and closed in time says nothing). `alerting`:
 * a door alert is still open from before a restart, so the next closing is reported.
 */
export function doorOpenTooLong(
  policy: Pick<ColdChainPolicy, 'doorOpenMaxMs'>,
  scheduler: SchedulerLike,
  alerting = false,
): OperatorFunction<boolean, DoorSignal> {
  return (doors) =>
    doors.pipe(
      distinctUntilChanged(),
      map((open) => ({ open, since: scheduler.now() })),
      switchMap(({ open, since }) =>
        open
          ? timer(policy.doorOpenMaxMs, scheduler).pipe(map(() => ({ type: 'door-open-too-long' as const, since })))
          : of({ type: 'door-closed' as const, since }),
      ),
      scan(
        (state: { alerting: boolean; signal: DoorSignal | undefined }, signal) => {
          if (signal.type === 'door-open-too-long') return { alerting: true, signal };
          return { alerting: false, signal: state.alerting ? signal : undefined };
        },
        { alerting, signal: undefined },
      ),
      map((state) => state.signal),
      filter((signal): signal is DoorSignal => signal !== undefined),
    );
}

export type CaseReading = { caseId: string; telemetry: CaseTelemetry };

/** Which alerts of a case are open when its first reading arrives (they were opened before a restart). */
export type OpenCaseAlerts = { excursion: boolean; door: boolean };

/**
 * Telemetry of every case → cold-chain signals, each case on its own with its own policy. Cases without a policy are
 * ignored, so the groups are bounded by the configured cases.
 */
export function coldChainSignals(
  policyOf: (caseId: string) => ColdChainPolicy | undefined,
  scheduler: SchedulerLike,
  openAlertsOf: (caseId: string) => OpenCaseAlerts = () => ({ excursion: false, door: false }),
): OperatorFunction<CaseReading, ColdChainSignal> {
  return (readings) =>
    readings.pipe(
      filter((reading) => policyOf(reading.caseId) !== undefined),
      groupBy((reading) => reading.caseId),
      mergeMap((group) => {
        const caseId = group.key;
        const policy = policyOf(caseId) as ColdChainPolicy;
        const open = openAlertsOf(caseId);
        const shared = group.pipe(share());
        const temperatures: Observable<TemperatureSignal> = shared.pipe(
          map((r) => r.telemetry.temperatureC),
          filter((t): t is number => t !== undefined),
          temperatureExcursions(policy, scheduler, open.excursion),
        );
        const doors: Observable<DoorSignal> = shared.pipe(
          map((r) => r.telemetry.doorOpen),
          filter((d): d is boolean => d !== undefined),
          doorOpenTooLong(policy, scheduler, open.door),
        );
        return merge(temperatures, doors).pipe(map((signal): ColdChainSignal => ({ ...signal, caseId })));
      }),
    );
}
