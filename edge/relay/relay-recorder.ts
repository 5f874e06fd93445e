/**
 * Records what goes to HQ: subscribes the routes of relay-events.ts to the bus (one handler name each, e.g.
 * 'relay.alerts'), wraps what they return in a CloudEvent and appends it to the outbox. Every hour boundary it appends
 * the hour's weight aggregates. A failed append (backpressure, disk) is an error log (rate-limited) and a count,
 * never an unhandled rejection.
 *
 * For routes that hold the ack (kiosk events) it registers an ack gate: the broker publishes a kiosk's QoS 1 message
 * on the bus, this records it synchronously, and the gate hands the broker the promise of that very message's appends
 * (looked up by the message object, in a WeakMap) — the PUBACK goes out once they are durable.
 */
import type { Logger } from 'pino';
import type { GatewayBus } from '../core/events.js';
import { LogThrottle } from '../core/log-throttle.js';
import type { GatewayModule } from '../core/module.js';
import type { AckGates } from '../device-registry/ack-gates.js';
import { cloudEventFactory, type CloudEventFactory } from './cloud-event.js';
import type { RecorderConfig } from './outbox-config.js';
import type { RelayOutbox } from './outbox.js';
import { RELAY_ROUTES, RelayRouteState, type RelayOutput, type RelayRoute } from './relay-events.js';
import { HOUR_MS, hourStartOf } from './telemetry-aggregates.js';
import { asError } from '../core/as-error.js';

export type RelayRecorderDeps = {
  bus: GatewayBus;
  outbox: Pick<RelayOutbox, 'append'>;
  /** where the kiosk route holds acks until durable; without it, acks are not held */
  ackGates?: AckGates;
  storeId: string;
  /** the reverse-DNS prefix of event types (cloud-event.ts) */
  typePrefix?: string;
  newId: () => string;
  now: () => number;
  log: Logger;
  config: RecorderConfig;
  /** the planogram's facings: the only ones with hourly aggregates */
  facings: () => Iterable<{ shelfId: string; facing: number }>;
  /** a failed append, per relay type (for a metric) */
  onAppendFailed?: (type: string) => void;
  /** the table; tests pass their own */
  routes?: readonly RelayRoute[];
};

/** A route seen without its per-event payload type (the table's entries are checked where they are declared). */
type AnyRoute = {
  event: string;
  handler: string;
  holdsAck?: boolean;
  translate(payload: unknown, state: RelayRouteState, now: number): RelayOutput | readonly RelayOutput[] | undefined;
};

const DEVICE_MESSAGE_PREFIX = 'device.message:';
const noop = () => undefined;

export class RelayRecorder implements GatewayModule {
  readonly name = 'relay-recorder';
  readonly state: RelayRouteState;
  readonly counts = { appended: 0, appendFailures: 0, hoursSent: 0 };
  private readonly newEvent: CloudEventFactory;
  private readonly logThrottle: LogThrottle;
  /** the appends of each gated message, until the broker asks (entries go with their message) */
  private readonly durable = new WeakMap<object, Promise<void>>();
  private readonly stops: (() => void)[] = [];
  private hourTimer: NodeJS.Timeout | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private hourStart = 0;

  constructor(private readonly deps: RelayRecorderDeps) {
    this.state = new RelayRouteState({
      maxOpenPerKiosk: deps.config.maxOpenBasketsPerKiosk,
      maxOpen: deps.config.maxOpenBaskets,
      staleAfterMs: deps.config.basketStaleAfterMs,
      maxLines: deps.config.maxBasketLines,
      maxStockFacings: deps.config.maxStockFacings,
      maxAggregateFacings: deps.config.maxAggregateFacings,
    });
    this.newEvent = cloudEventFactory(deps);
    this.logThrottle = new LogThrottle({ burst: 5, windowMs: 60_000, maxKeys: 100 }, deps.now);
  }

  async start(): Promise<void> {
    this.state.aggregates.setFacings(this.deps.facings());
    // the routes' events are a runtime table over the bus's typed events: subscribe through an untyped view of `on`
    const on = this.deps.bus.on.bind(this.deps.bus) as (event: string, name: string, handler: (payload: unknown) => void) => () => void;
    for (const route of (this.deps.routes ?? RELAY_ROUTES) as readonly AnyRoute[]) {
      this.stops.push(on(route.event, route.handler, (payload) => this.record(route, payload)));
      if (route.holdsAck && this.deps.ackGates && route.event.startsWith(DEVICE_MESSAGE_PREFIX)) {
        const key = route.event.slice(DEVICE_MESSAGE_PREFIX.length) as Parameters<AckGates['hold']>[0];
        this.stops.push(this.deps.ackGates.hold(key, (message) => this.durable.get(message)));
      }
    }
    this.hourStart = hourStartOf(this.deps.now());
    this.armHourTimer();
    const sweepMs = Math.min(60_000, Math.max(1_000, this.deps.config.basketStaleAfterMs / 4));
    this.sweepTimer = setInterval(() => this.state.baskets.sweep(this.deps.now()), sweepMs);
    this.sweepTimer.unref();
  }

  /** The hour in progress is not sent at a stop: HQ gets whole hours only. */
  async stop(): Promise<void> {
    for (const stop of this.stops.splice(0)) stop();
    clearTimeout(this.hourTimer);
    clearInterval(this.sweepTimer);
    this.hourTimer = undefined;
    this.sweepTimer = undefined;
  }

  /**
   * Appends the aggregates of the hour that ended (one event per shelf with readings) if the clock passed into a new
   * hour; the hour timer calls it, tests call it with their clock.
   */
  closeHour(now: number = this.deps.now()): void {
    const current = hourStartOf(now);
    if (current <= this.hourStart) return;
    const ended = this.hourStart;
    this.hourStart = current;
    for (const shelf of this.state.aggregates.takeHour(ended)) {
      void this.append({ type: 'store.telemetry.hourly', relayClass: 'telemetry', subject: `shelf/${shelf.shelfId}`, data: shelf }).catch(
        noop,
      );
    }
    this.counts.hoursSent++;
  }

  private armHourTimer(): void {
    const waitMs = this.hourStart + HOUR_MS - this.deps.now();
    this.hourTimer = setTimeout(
      () => {
        this.closeHour();
        this.armHourTimer();
      },
      Math.max(1_000, Math.min(waitMs + 10, HOUR_MS)),
    );
    this.hourTimer.unref();
  }

  private record(route: AnyRoute, payload: unknown): void {
    let output: RelayOutput | readonly RelayOutput[] | undefined;
    try {
      output = route.translate(payload, this.state, this.deps.now());
    } catch (error) {
      // a gated message that could not be recorded must not be acknowledged
      if (route.holdsAck) this.hold(payload, Promise.reject(asError(error)));
      throw error;
    }
    if (output === undefined) return;
    const appended = isList(output) ? Promise.all(output.map((o) => this.append(o))).then(noop) : this.append(output);
    if (route.holdsAck) this.hold(payload, appended);
    else appended.catch(noop);
  }

  private hold(message: unknown, appended: Promise<void>): void {
    // handled here (a message from a source without ack gates is never asked for), still rejected for the broker
    appended.catch(noop);
    if (typeof message === 'object' && message !== null) this.durable.set(message, appended);
  }

  private append(output: RelayOutput): Promise<void> {
    const event = this.newEvent({ type: output.type, subject: output.subject, data: output.data });
    return this.deps.outbox.append(event, output.relayClass).then(
      () => {
        this.counts.appended++;
      },
      (error: unknown) => {
        this.counts.appendFailures++;
        this.deps.onAppendFailed?.(output.type);
        const suppressed = this.logThrottle.admit(output.type);
        if (suppressed >= 0)
          this.deps.log.error({ err: error, type: output.type, subject: output.subject, suppressed }, 'event for HQ not recorded');
        throw error;
      },
    );
  }
}

function isList(output: RelayOutput | readonly RelayOutput[]): output is readonly RelayOutput[] {
  return Array.isArray(output);
}
