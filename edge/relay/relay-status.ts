/**
 * What store IT and HQ see of the relay: the link, the outbox per class split into backlog and live, the oldest
 * event's age, the drain rates, the drops and the disk-fill forecast. Built by one pure function from the forwarder's
 * and the outbox's numbers; served by `GET /api/relay`, published as `relay.status` on the bus, exported on /metrics.
 */
import { Type, type Static } from 'typebox';
import { Nullable } from '../core/schema.js';
import type { ForwarderStatus } from './forwarder.js';
import { RELAY_CLASSES, type OutboxStats, type RelayClass } from './outbox.js';

const count = Type.Integer({ minimum: 0 });
const isoTime = Nullable(Type.String({ description: 'RFC 3339' }));

const ClassStatusSchema = Type.Object(
  {
    rows: count,
    bytes: count,
    budgetBytes: count,
    backlogRows: count,
    backlogBytes: count,
    liveRows: count,
    liveBytes: count,
    oldestEventAgeS: Nullable(Type.Number({ minimum: 0 })),
    appendBytesPerS: Type.Number({ minimum: 0 }),
    forecastFullInS: Nullable(
      Type.Number({
        minimum: 0,
        description: 'seconds until the budget is full at the current rate without draining; null when not growing',
      }),
    ),
    dropped: Type.Object({ count, firstAt: isoTime, lastAt: isoTime }, { additionalProperties: false }),
  },
  { additionalProperties: false },
);

const LaneSchema = Type.Object(
  { published: count, acked: count, failed: count, ratePerS: Type.Number({ minimum: 0 }) },
  { additionalProperties: false },
);

export const RelayStatusSchema = Type.Object(
  {
    enabled: Type.Boolean(),
    link: Type.Object(
      {
        up: Type.Boolean(),
        since: isoTime,
        attempts: count,
        lastError: Nullable(Type.String()),
      },
      { additionalProperties: false },
    ),
    inFlight: count,
    maxInFlight: count,
    lanes: Type.Object({ live: LaneSchema, backlog: LaneSchema }, { additionalProperties: false }),
    perClass: Type.Object(
      Object.fromEntries(RELAY_CLASSES.map((c) => [c, ClassStatusSchema])) as Record<RelayClass, typeof ClassStatusSchema>,
      { additionalProperties: false },
    ),
    commands: Type.Object(
      { ok: count, failed: count, unsupported: count, rejected: count, replays: count },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export type RelayStatus = Static<typeof RelayStatusSchema>;
export type CommandCounts = RelayStatus['commands'];

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function relayStatus(input: { forwarder: ForwarderStatus; outbox: OutboxStats; commands: CommandCounts; now: number }): RelayStatus {
  const { forwarder, outbox, now } = input;
  const perClass = {} as RelayStatus['perClass'];
  for (const c of RELAY_CLASSES) {
    const s = outbox.perClass[c];
    const backlog = forwarder.backlogPerClass[c];
    const backlogRows = Math.min(s.rows, backlog.rows);
    const backlogBytes = Math.min(s.bytes, backlog.bytes);
    perClass[c] = {
      rows: s.rows,
      bytes: s.bytes,
      budgetBytes: s.budgetBytes,
      backlogRows,
      backlogBytes,
      liveRows: s.rows - backlogRows,
      liveBytes: s.bytes - backlogBytes,
      oldestEventAgeS: s.oldestCreatedAt === null ? null : Math.max(0, Math.round((now - s.oldestCreatedAt) / 100) / 10),
      appendBytesPerS: Math.round(s.appendBytesPerS),
      forecastFullInS: s.forecastFullInS === null ? null : Math.round(s.forecastFullInS),
      dropped: { count: s.dropped.count, firstAt: iso(s.dropped.firstAt), lastAt: iso(s.dropped.lastAt) },
    };
  }
  return {
    enabled: true,
    link: {
      up: forwarder.link.up,
      since: iso(forwarder.link.since),
      attempts: forwarder.link.attempts,
      lastError: forwarder.link.lastError,
    },
    inFlight: forwarder.inFlight,
    maxInFlight: forwarder.maxInFlight,
    lanes: forwarder.lanes,
    perClass,
    commands: input.commands,
  };
}

/** What the relay reports when `hq.enabled` is false: nothing is recorded or sent. */
export function disabledRelayStatus(): RelayStatus {
  const perClass = {} as RelayStatus['perClass'];
  for (const c of RELAY_CLASSES) {
    perClass[c] = {
      rows: 0,
      bytes: 0,
      budgetBytes: 0,
      backlogRows: 0,
      backlogBytes: 0,
      liveRows: 0,
      liveBytes: 0,
      oldestEventAgeS: null,
      appendBytesPerS: 0,
      forecastFullInS: null,
      dropped: { count: 0, firstAt: null, lastAt: null },
    };
  }
  const lane = { published: 0, acked: 0, failed: 0, ratePerS: 0 };
  return {
    enabled: false,
    link: { up: false, since: null, attempts: 0, lastError: null },
    inFlight: 0,
    maxInFlight: 0,
    lanes: { live: lane, backlog: { ...lane } },
    perClass,
    commands: { ok: 0, failed: 0, unsupported: 0, rejected: 0, replays: 0 },
  };
}

/** What changed enough to publish a new `relay.status`: the link, and the outbox's rows/drops per class. */
export function statusSignature(status: RelayStatus): string {
  return [
    status.link.up,
    status.link.since,
    ...RELAY_CLASSES.flatMap((c) => [status.perClass[c].rows, status.perClass[c].dropped.count]),
  ].join('|');
}
