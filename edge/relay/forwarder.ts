/**
 * The forwarder: drains the durable outbox to HQ's MQTT 5 broker (QoS 1, persistent session) and removes a row only
 * once HQ acknowledged it (PUBACK). Two lanes:
 *
 * - **backlog**: at every connect, `liveFromSeq = maxSeq + 1`; every row below it is backlog — drained class by class
 *   (critical first), in seq order within a class, under a rate cap with jitter, each flagged historical: MQTT user
 *   property `historical=true` and CloudEvents extension attribute `"historical": true` in the envelope;
 * - **live**: rows made durable after the connect go out at once, ahead of the backlog, without the flag.
 *
 * Double sends: every connection gets a fresh mqtt.js client whose in-memory store dies with it, and the rows that were
 * in flight are `release`d and read again as backlog at the next connect. So a row is re-sent only when the link broke
 * between its PUBLISH and its PUBACK — at most `maxInFlight` rows per outage; HQ deduplicates those by CloudEvent id.
 * (Relying on mqtt.js's own resend of stored packets instead would keep two copies of the truth — its store and the
 * outbox lease — that must agree across reconnects, for no gain.)
 */
import mqtt, { type IClientOptions, type IConnackPacket, type IPublishPacket, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { LogThrottle } from '../core/log-throttle.js';
import { withHistorical } from './cloud-event.js';
import type { CommandProperties } from './hq-commands.js';
import { DrainRate, RateMeter, type DrainRateOptions } from './drain-rate.js';
import { initialLink, linkDown, linkUp, reconnectDelayMs, type LinkState } from './link-state.js';
import { RELAY_CLASSES, type OutboxRow, type RelayClass, type RelayOutbox } from './outbox.js';

export type RelayLane = 'live' | 'backlog';

export type ForwarderOptions = {
  url: string;
  storeId: string;
  clientId: string;
  topicPrefix: string;
  username: string | null;
  password: string | null;
  /** PEM contents (the module reads the files at start: the constructor does no I/O) */
  tls?: { ca?: string | Buffer; cert?: string | Buffer; key?: string | Buffer; rejectUnauthorized: boolean };
  sessionExpirySec: number;
  keepaliveSec: number;
  connectTimeoutMs: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  maxInFlight: number;
  drain: DrainRateOptions;
  /** rows per outbox read */
  readBatch?: number;
};

export type ForwarderDeps = {
  outbox: RelayOutbox;
  log: Logger;
  now: () => number;
  random?: () => number;
  /** a command from HQ (`<prefix>/<storeId>/commands/#`); its PUBACK waits until the promise settles */
  onCommand?: (topic: string, payload: Buffer, properties: CommandProperties) => Promise<void>;
  /** the link went up or down */
  onLinkChange?: (link: LinkState) => void;
  /** replaces mqtt.connect (tests) */
  connect?: (url: string, options: IClientOptions) => MqttClient;
};

export type LaneCounters = { published: number; acked: number; failed: number; ratePerS: number };

export type ForwarderStatus = {
  link: LinkState;
  maxInFlight: number;
  inFlight: number;
  /** rows at or above it are live; null before the first connect */
  liveFromSeq: number | null;
  lanes: Record<RelayLane, LaneCounters>;
  /** backlog rows/bytes per class still to send since the last connect (all rows while the link is down) */
  backlogPerClass: Record<RelayClass, { rows: number; bytes: number }>;
};

type InFlight = { row: OutboxRow; lane: RelayLane };

const noTrace = (): void => undefined;
const CONTENT_TYPE = 'application/cloudevents+json';
/** publish options, shared by every publish of a lane (mqtt.js reads them, it does not keep or change them) */
const LIVE = { qos: 1, properties: { contentType: CONTENT_TYPE } } as const;
const HISTORICAL = { qos: 1, properties: { contentType: CONTENT_TYPE, userProperties: { historical: 'true' } } } as const;

const perClass = <T>(make: () => T): Record<RelayClass, T> =>
  Object.fromEntries(RELAY_CLASSES.map((c) => [c, make()])) as Record<RelayClass, T>;

export class Forwarder {
  private client: MqttClient | undefined;
  /** connection generation: callbacks of an older connection must not touch the current one's state */
  private gen = 0;
  private connected = false;
  private started = false;
  private link: LinkState;
  private maxInFlight: number;
  private liveFromSeq: number | null = null;
  private readonly inFlight = new Map<number, InFlight>();
  private live: OutboxRow[] = [];
  private backlog: OutboxRow[] = [];
  private readonly liveCursor = perClass(() => 0);
  private readonly backlogCursor = perClass(() => 0);
  private readonly backlogDone = perClass(() => true);
  private backlogReady = false;
  private liveDirty = false;
  private reading = false;
  private readAgain = false;
  private pendingRemovals: number[] = [];
  private removalScheduled = false;
  private readonly removals = new Set<Promise<void>>();
  private readonly drainRate: DrainRate;
  private drainTimer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private unsubscribeDurable: (() => void) | undefined;
  private readonly counters: Record<RelayLane, { published: number; acked: number; failed: number; meter: RateMeter }> = {
    live: { published: 0, acked: 0, failed: 0, meter: new RateMeter() },
    backlog: { published: 0, acked: 0, failed: 0, meter: new RateMeter() },
  };
  private readonly backlogAtConnect = perClass(() => ({ rows: 0, bytes: 0 }));
  private readonly backlogAcked = perClass(() => ({ rows: 0, bytes: 0 }));
  private readonly topics = new Map<string, string>();
  private readonly errorLog: LogThrottle;
  private readonly readBatch: number;
  private readonly random: () => number;

  constructor(
    private readonly options: ForwarderOptions,
    private readonly deps: ForwarderDeps,
  ) {
    this.link = initialLink(deps.now());
    this.maxInFlight = options.maxInFlight;
    this.random = deps.random ?? Math.random;
    this.drainRate = new DrainRate(options.drain, this.random);
    this.readBatch = options.readBatch ?? 500;
    this.errorLog = new LogThrottle({ burst: 3, windowMs: 60_000, maxKeys: 100 }, deps.now);
  }

  /** the URL for logs: credentials written into it (`mqtt://user:secret@host`) never reach a log line */
  private get safeUrl(): string {
    return this.options.url.replace(/\/\/[^/@]*@/, '//[redacted]@');
  }

  get commandTopic(): string {
    return `${this.options.topicPrefix}/${this.options.storeId}/commands/#`;
  }

  eventTopic(type: string): string {
    let topic = this.topics.get(type);
    if (topic === undefined) {
      topic = `${this.options.topicPrefix}/${this.options.storeId}/events/${type}`;
      // event types come from one table in code, so this stays small; the bound guards against a bug that makes them up
      if (this.topics.size < 1_000) this.topics.set(type, topic);
    }
    return topic;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.unsubscribeDurable = this.deps.outbox.onDurable((rows) => this.onDurable(rows));
    this.connect();
  }

  /** Ends the connection; rows in flight are released (they stay in the outbox), acknowledged ones are removed. */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    this.unsubscribeDurable?.();
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.drainTimer);
    const client = this.client;
    this.client = undefined;
    this.dropConnection(null);
    if (client) await client.endAsync(true).catch(() => undefined);
    this.flushRemovals();
    await this.removalsSettled();
  }

  status(): ForwarderStatus {
    const now = this.deps.now();
    const lane = (l: RelayLane): LaneCounters => {
      const c = this.counters[l];
      return { published: c.published, acked: c.acked, failed: c.failed, ratePerS: c.meter.perSecond(now) };
    };
    const backlogPerClass = perClass(() => ({ rows: 0, bytes: 0 }));
    if (this.connected) {
      for (const c of RELAY_CLASSES) {
        backlogPerClass[c] = {
          rows: Math.max(0, this.backlogAtConnect[c].rows - this.backlogAcked[c].rows),
          bytes: Math.max(0, this.backlogAtConnect[c].bytes - this.backlogAcked[c].bytes),
        };
      }
    } else {
      const stats = this.deps.outbox.stats(now);
      for (const c of RELAY_CLASSES) backlogPerClass[c] = { rows: stats.perClass[c].rows, bytes: stats.perClass[c].bytes };
    }
    return {
      link: this.link,
      maxInFlight: this.maxInFlight,
      inFlight: this.inFlight.size,
      liveFromSeq: this.liveFromSeq,
      lanes: { live: lane('live'), backlog: lane('backlog') },
      backlogPerClass,
    };
  }

  // --- connection -------------------------------------------------------------------------------------------------

  private connect(): void {
    if (!this.started) return;
    const gen = ++this.gen;
    const o = this.options;
    const clientOptions: IClientOptions = {
      protocolVersion: 5,
      clientId: o.clientId,
      clean: false,
      // our own backoff with jitter (reconnectDelayMs): mqtt.js's fixed period would make stores reconnect in waves
      reconnectPeriod: 0,
      connectTimeout: o.connectTimeoutMs,
      keepalive: o.keepaliveSec,
      resubscribe: false,
      queueQoSZero: false,
      // mqtt.js traces every packet through `debug`; even switched off that costs ~4 % of a backlog drain
      log: noTrace,
      // a PINGREQ every keepalive even while publishing, instead of re-arming a timer per packet (~2 % of a drain)
      reschedulePings: false,
      properties: { sessionExpiryInterval: o.sessionExpirySec },
      ...(o.username !== null ? { username: o.username } : {}),
      ...(o.password !== null ? { password: o.password } : {}),
      ...(o.tls ? { ca: o.tls.ca, cert: o.tls.cert, key: o.tls.key, rejectUnauthorized: o.tls.rejectUnauthorized } : {}),
    };
    let client: MqttClient;
    try {
      client = (this.deps.connect ?? mqtt.connect)(o.url, clientOptions);
    } catch (error) {
      this.onClosed(gen, (error as Error).message);
      return;
    }
    this.client = client;
    let lastError: string | null = null;
    client.handleMessage = (packet: IPublishPacket, done) => this.onMessage(packet, done);
    client.on('connect', (connack) => this.onConnected(gen, client, connack));
    client.on('error', (error) => {
      lastError = error.message;
    });
    client.on('close', () => this.onClosed(gen, lastError));
  }

  private onConnected(gen: number, client: MqttClient, connack: IConnackPacket): void {
    if (gen !== this.gen || !this.started) return;
    const now = this.deps.now();
    const stats = this.deps.outbox.stats(now);
    // everything durable now is backlog; what becomes durable from here on is live
    this.liveFromSeq = stats.maxSeq + 1;
    for (const c of RELAY_CLASSES) {
      this.liveCursor[c] = stats.maxSeq;
      this.backlogCursor[c] = 0;
      this.backlogDone[c] = false;
      this.backlogAtConnect[c] = { rows: stats.perClass[c].rows, bytes: stats.perClass[c].bytes };
      this.backlogAcked[c] = { rows: 0, bytes: 0 };
    }
    const receiveMaximum = connack.properties?.receiveMaximum ?? 65_535;
    this.maxInFlight = Math.max(1, Math.min(this.options.maxInFlight, receiveMaximum));
    this.connected = true;
    this.link = linkUp(this.link, now);
    this.deps.log.info(
      { url: this.safeUrl, sessionPresent: connack.sessionPresent, liveFromSeq: this.liveFromSeq, maxInFlight: this.maxInFlight },
      'HQ link up',
    );
    this.deps.onLinkChange?.(this.link);
    if (this.deps.onCommand) {
      client.subscribe(this.commandTopic, { qos: 1 }, (error) => {
        if (error && gen === this.gen) this.logError('subscribe', error, 'subscribing to HQ commands failed');
      });
    }
    // acknowledged rows of the last connection may still be on their way out of the outbox: reading the backlog before
    // they are gone would send them again
    this.backlogReady = false;
    void this.removalsSettled().then(() => {
      if (gen !== this.gen) return;
      this.backlogReady = true;
      this.pump();
    });
    this.pump();
  }

  private onClosed(gen: number, error: string | null): void {
    if (gen !== this.gen || !this.started) return;
    const wasUp = this.connected;
    this.dropConnection(error);
    const client = this.client;
    this.client = undefined;
    client?.end(true);
    const delayMs = reconnectDelayMs(
      this.link.attempts,
      { minMs: this.options.reconnectMinMs, maxMs: this.options.reconnectMaxMs },
      this.random,
    );
    if (wasUp) {
      this.deps.log.warn({ url: this.safeUrl, err: error ?? undefined, reconnectInMs: delayMs }, 'HQ link down');
      this.deps.onLinkChange?.(this.link);
    } else {
      const suppressed = this.errorLog.admit('connect');
      if (suppressed >= 0)
        this.deps.log.warn(
          { url: this.safeUrl, err: error ?? undefined, attempts: this.link.attempts, reconnectInMs: delayMs, suppressed },
          'HQ unreachable',
        );
    }
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => this.connect(), delayMs);
  }

  /** Forgets the connection's state: what was leased and not acknowledged goes back to the outbox. */
  private dropConnection(error: string | null): void {
    this.gen++;
    this.connected = false;
    this.backlogReady = false;
    clearTimeout(this.drainTimer);
    this.drainTimer = undefined;
    const leased = [...this.inFlight.keys(), ...this.live.map((r) => r.seq), ...this.backlog.map((r) => r.seq)];
    this.inFlight.clear();
    this.live = [];
    this.backlog = [];
    this.liveDirty = false;
    if (leased.length > 0) this.deps.outbox.release(leased);
    this.link = linkDown(this.link, this.deps.now(), error);
  }

  // --- lanes ------------------------------------------------------------------------------------------------------

  private onDurable(rows: readonly OutboxRow[]): void {
    if (!this.connected || this.liveFromSeq === null) return;
    for (const row of rows) {
      if (row.seq >= this.liveFromSeq) this.liveDirty = true;
      // a row below the live mark that became durable only now (it was mid-commit at connect) belongs to the backlog
      else this.backlogDone[row.relayClass] = false;
    }
    this.pump();
  }

  /** Publishes what the in-flight bound and the rate cap allow — live first — and refills the lanes. */
  private pump(): void {
    if (!this.connected) return;
    while (this.inFlight.size < this.maxInFlight && this.live.length > 0) this.publish(this.live.shift() as OutboxRow, 'live');
    if (this.backlogReady) {
      const now = this.deps.now();
      while (this.inFlight.size < this.maxInFlight && this.backlog.length > 0 && this.live.length === 0) {
        const granted = this.drainRate.take(Math.min(this.backlog.length, this.maxInFlight - this.inFlight.size), now);
        if (granted === 0) {
          this.scheduleDrain(this.drainRate.waitMs(now));
          break;
        }
        for (let i = 0; i < granted; i++) this.publish(this.backlog.shift() as OutboxRow, 'backlog');
      }
    }
    const wantLive = this.liveDirty && this.live.length < this.readBatch;
    const wantBacklog = this.backlogReady && this.backlog.length < this.readBatch / 2 && RELAY_CLASSES.some((c) => !this.backlogDone[c]);
    if (wantLive || wantBacklog) void this.refill();
  }

  private scheduleDrain(waitMs: number): void {
    if (this.drainTimer) return;
    this.drainTimer = setTimeout(
      () => {
        this.drainTimer = undefined;
        this.pump();
      },
      Math.max(1, waitMs),
    );
  }

  private async refill(): Promise<void> {
    if (this.reading) {
      this.readAgain = true;
      return;
    }
    this.reading = true;
    const gen = this.gen;
    try {
      do {
        this.readAgain = false;
        if (this.liveDirty && this.live.length < this.readBatch) {
          this.liveDirty = false;
          for (const c of RELAY_CLASSES) {
            const rows = await this.deps.outbox.read(c, this.liveCursor[c], this.readBatch);
            if (gen !== this.gen) return this.releaseStale(rows);
            if (rows.length === 0) continue;
            this.liveCursor[c] = (rows[rows.length - 1] as OutboxRow).seq;
            for (const row of rows) this.live.push(row);
            if (rows.length === this.readBatch) this.liveDirty = true;
          }
        }
        const liveFromSeq = this.liveFromSeq as number;
        const c = RELAY_CLASSES.find((k) => !this.backlogDone[k]);
        if (c && this.backlogReady && this.backlog.length < this.readBatch / 2) {
          const rows = await this.deps.outbox.read(c, this.backlogCursor[c], this.readBatch, liveFromSeq - 1);
          if (gen !== this.gen) return this.releaseStale(rows);
          if (rows.length < this.readBatch) this.backlogDone[c] = true;
          if (rows.length > 0) this.backlogCursor[c] = (rows[rows.length - 1] as OutboxRow).seq;
          for (const row of rows) this.backlog.push(row);
        }
        this.pump();
      } while (this.readAgain && gen === this.gen);
    } catch (error) {
      this.logError('read', error, 'reading the outbox failed; retrying');
      // a failing read must not stall the lanes for good: try again shortly
      if (gen === this.gen) {
        this.liveDirty = true;
        this.scheduleDrain(1_000);
      }
    } finally {
      this.reading = false;
    }
  }

  private releaseStale(rows: readonly OutboxRow[]): void {
    if (rows.length > 0) this.deps.outbox.release(rows.map((r) => r.seq));
  }

  private publish(row: OutboxRow, lane: RelayLane): void {
    const client = this.client as MqttClient;
    const gen = this.gen;
    this.inFlight.set(row.seq, { row, lane });
    this.counters[lane].published++;
    const backlog = lane === 'backlog';
    client.publish(this.eventTopic(row.type), backlog ? withHistorical(row.body) : row.body, backlog ? HISTORICAL : LIVE, (error) =>
      this.onPublished(gen, row, lane, error),
    );
  }

  private onPublished(gen: number, row: OutboxRow, lane: RelayLane, error: Error | undefined): void {
    if (error) {
      if (gen !== this.gen) return; // the connection ended: the row was released with the others
      this.inFlight.delete(row.seq);
      this.counters[lane].failed++;
      // HQ refused it (reason code ≥ 0x80, e.g. quota exceeded): it stays in the outbox and is tried again after the
      // next connect; meanwhile the lanes go on
      this.deps.outbox.release([row.seq]);
      this.logError('publish', error, 'HQ refused an event; it stays in the outbox');
      this.pump();
      return;
    }
    // HQ has it: remove it even if the connection ended since (its ack is the truth)
    this.queueRemoval(row.seq);
    if (gen !== this.gen) return;
    this.inFlight.delete(row.seq);
    const counters = this.counters[lane];
    counters.acked++;
    counters.meter.add(1, this.deps.now());
    if (lane === 'backlog') {
      const acked = this.backlogAcked[row.relayClass];
      acked.rows++;
      acked.bytes += Buffer.byteLength(row.body);
    }
    this.pump();
  }

  private queueRemoval(seq: number): void {
    this.pendingRemovals.push(seq);
    if (this.removalScheduled) return;
    this.removalScheduled = true;
    // one remove per event-loop turn: PUBACKs arrive in bursts, the outbox batches them into its next group commit
    setImmediate(() => this.flushRemovals());
  }

  private flushRemovals(): void {
    this.removalScheduled = false;
    if (this.pendingRemovals.length === 0) return;
    const seqs = this.pendingRemovals;
    this.pendingRemovals = [];
    const removal: Promise<void> = this.deps.outbox
      .remove(seqs)
      .catch((error: unknown) => this.logError('remove', error, 'removing acknowledged events failed; they will be sent again'));
    this.removals.add(removal);
    void removal.finally(() => this.removals.delete(removal));
  }

  private async removalsSettled(): Promise<void> {
    while (this.removals.size > 0 || this.removalScheduled) {
      if (this.removalScheduled) this.flushRemovals();
      await Promise.all([...this.removals]);
    }
  }

  // --- commands ---------------------------------------------------------------------------------------------------

  private onMessage(packet: IPublishPacket, done: (error?: Error) => void): void {
    const handler = this.deps.onCommand;
    if (!handler) return done();
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    // the PUBACK goes only after the command's outcome is recorded: a crash before that makes HQ deliver it again
    const properties: CommandProperties = {
      ...(packet.properties?.contentType === undefined ? {} : { contentType: packet.properties.contentType }),
      ...(packet.properties?.userProperties === undefined ? {} : { userProperties: packet.properties.userProperties }),
    };
    handler(packet.topic, payload, properties).then(
      () => done(),
      (error: unknown) => {
        this.logError('command', error, 'handling an HQ command failed');
        done();
      },
    );
  }

  private logError(key: string, error: unknown, message: string): void {
    const suppressed = this.errorLog.admit(key);
    if (suppressed >= 0) this.deps.log.warn({ err: error, suppressed }, message);
  }
}
