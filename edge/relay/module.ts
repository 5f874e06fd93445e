/**
 * The HQ relay as one module: the durable outbox (outbox-store.ts), the bus recorder that fills it, the forwarder that
 * drains it to HQ, HQ's commands, and the relay's status (`GET /api/relay`, `relay.status` on the bus, /metrics).
 * Started after the rooms and before the broker: the recorder must listen before the first device message arrives.
 * The forwarder connects in the background — a store starts and serves its devices with HQ unreachable.
 */
import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { AccessGuard } from '../http/auth.js';
import type { GatewayBus } from '../core/events.js';
import type { GatewayModule, HealthCheck } from '../core/module.js';
import type { AckGates } from '../device-registry/ack-gates.js';
import type { SqliteDatabase } from '../storage/database.js';
import { cloudEventFactory } from './cloud-event.js';
import { Forwarder } from './forwarder.js';
import { COMMAND_RESULT_EVENT_TYPE, HqCommandStore, HqCommands, type CommandOutcome, type CommandResult } from './hq-commands.js';
import { RELAY_CLASSES } from './outbox.js';
import { SqliteOutbox } from './outbox-store.js';
import { RelayRecorder } from './relay-recorder.js';
import type { ResolvedRelayConfig } from './relay-config.js';
import { disabledRelayStatus, relayStatus, statusSignature, type CommandCounts, type RelayStatus } from './relay-status.js';
import { relayRoutes } from './routes.js';

declare module '../core/module.js' {
  interface GatewayServices {
    relay: RelayModule;
  }
}

export type RelayModuleDeps = {
  config: ResolvedRelayConfig;
  storeId: string;
  dataDir: string;
  bus: GatewayBus;
  /** the main database (hq_commands) */
  db: SqliteDatabase;
  /** the gateway's Prometheus registry: the relay's metrics join the others on /metrics */
  registry: Registry;
  now: () => number;
  newId: () => string;
  log: Logger;
  /** where the recorder holds kiosk PUBACKs until their events are durable */
  ackGates?: AckGates;
  /** the planogram's facings (hourly aggregates) */
  facings: () => Iterable<{ shelfId: string; facing: number }>;
  /** how often the status is checked for a change worth a `relay.status` event */
  statusIntervalMs?: number;
};

export class RelayModule implements GatewayModule {
  readonly name = 'relay';
  readonly outbox: SqliteOutbox | undefined;
  readonly commands: HqCommands | undefined;
  readonly recorder: RelayRecorder | undefined;
  private forwarder: Forwarder | undefined;
  private statusTimer: NodeJS.Timeout | undefined;
  private lastSignature = '';
  private cached: RelayStatus | undefined;
  private readonly commandCounts: CommandCounts = { ok: 0, failed: 0, unsupported: 0, rejected: 0, replays: 0 };

  constructor(private readonly deps: RelayModuleDeps) {
    if (!deps.config.enabled) return;
    const typePrefix = deps.config.eventTypePrefix;
    const outboxLog = deps.log.child({ part: 'outbox' });
    const outboxDeps = { storeId: deps.storeId, typePrefix, newId: deps.newId, now: deps.now, log: outboxLog };
    this.outbox = new SqliteOutbox(deps.dataDir, deps.config.outbox, outboxDeps);
    this.recorder = new RelayRecorder({
      bus: deps.bus,
      outbox: this.outbox,
      ...(deps.ackGates ? { ackGates: deps.ackGates } : {}),
      storeId: deps.storeId,
      typePrefix,
      newId: deps.newId,
      now: deps.now,
      log: deps.log.child({ part: 'recorder' }),
      config: deps.config.recorder,
      facings: deps.facings,
    });
    const newEvent = cloudEventFactory({ storeId: deps.storeId, typePrefix, newId: deps.newId, now: deps.now });
    const outbox = this.outbox;
    this.commands = new HqCommands({
      store: new HqCommandStore(deps.db),
      report: async (result: CommandResult) => {
        // the same id for every report of one command: HQ keeps one result per command even when it asked twice
        const event = {
          ...newEvent({ type: COMMAND_RESULT_EVENT_TYPE, subject: `commands/${result.commandId}`, data: result }),
          id: `${deps.storeId}/command-result/${result.commandId}`,
        };
        await outbox.append(event, 'critical');
      },
      now: deps.now,
      log: deps.log.child({ part: 'commands' }),
      onOutcome: (outcome: CommandOutcome, replay: boolean) => {
        if (replay) this.commandCounts.replays++;
        else this.commandCounts[outcome]++;
      },
    });
    this.registerMetrics(deps.registry);
  }

  readonly routes = (guard: AccessGuard) => relayRoutes({ status: () => this.status(), guard });

  async start(): Promise<void> {
    const { config } = this.deps;
    if (!config.enabled || !this.outbox || !this.commands || !this.recorder) {
      this.deps.log.info('HQ relay disabled (hq.enabled: false)');
      return;
    }
    const tls = await readTls(config.tls);
    await this.outbox.start();
    try {
      await this.recorder.start();
    } catch (error) {
      // the gateway stops only modules that started: close the outbox file ourselves
      await this.outbox.stop().catch(() => undefined);
      throw error;
    }
    const commands = this.commands;
    this.forwarder = new Forwarder(
      {
        url: config.url,
        storeId: this.deps.storeId,
        clientId: config.clientId,
        topicPrefix: config.topicPrefix,
        username: config.username,
        password: config.password,
        ...(tls ? { tls } : {}),
        sessionExpirySec: config.sessionExpirySec,
        keepaliveSec: config.keepaliveSec,
        connectTimeoutMs: config.connectTimeoutMs,
        reconnectMinMs: config.reconnectMinMs,
        reconnectMaxMs: config.reconnectMaxMs,
        maxInFlight: config.maxInFlight,
        drain: config.drain,
      },
      {
        outbox: this.outbox,
        log: this.deps.log.child({ part: 'forwarder' }),
        now: this.deps.now,
        onCommand: async (topic, payload, properties) => void (await commands.receive(topic, payload, properties)),
        onLinkChange: () => this.publishStatus(true),
      },
    );
    this.forwarder.start();
    this.statusTimer = setInterval(() => this.publishStatus(false), this.deps.statusIntervalMs ?? 1_000);
    this.statusTimer.unref();
    this.deps.log.info(
      { url: config.url.replace(/\/\/[^/@]*@/, '//[redacted]@'), clientId: config.clientId, topicPrefix: config.topicPrefix },
      'HQ relay started',
    );
  }

  async stop(): Promise<void> {
    clearInterval(this.statusTimer);
    this.statusTimer = undefined;
    await this.forwarder?.stop();
    this.forwarder = undefined;
    await this.recorder?.stop();
    await this.outbox?.stop();
  }

  health(): HealthCheck {
    if (!this.deps.config.enabled) return { ok: true, enabled: false };
    const status = this.status();
    // HQ being unreachable is what the relay is built for, not a failure of the store
    return {
      ok: true,
      enabled: true,
      linkUp: status.link.up,
      since: status.link.since,
      backlogRows: RELAY_CLASSES.reduce((n, c) => n + status.perClass[c].rows, 0),
    };
  }

  status(): RelayStatus {
    if (!this.forwarder || !this.outbox) return disabledRelayStatus();
    const now = this.deps.now();
    return relayStatus({ forwarder: this.forwarder.status(), outbox: this.outbox.stats(now), commands: { ...this.commandCounts }, now });
  }

  /**
   * One scrape reads the status for a dozen metrics: computed once per scrape, not once per metric (prom-client calls
   * every metric's collect in the same turn of the event loop; the next turn computes afresh).
   */
  private scrapeStatus(): RelayStatus {
    if (this.cached) return this.cached;
    const status = this.status();
    this.cached = status;
    setImmediate(() => {
      this.cached = undefined;
    });
    return status;
  }

  private publishStatus(force: boolean): void {
    if (!this.forwarder) return;
    const status = this.status();
    const signature = statusSignature(status);
    if (!force && signature === this.lastSignature) return;
    this.lastSignature = signature;
    this.deps.bus.emit('relay.status', status);
  }

  private registerMetrics(registry: Registry): void {
    const status = () => this.scrapeStatus();
    const perClass = (name: string, help: string, value: (s: RelayStatus, c: (typeof RELAY_CLASSES)[number]) => number | null) =>
      new Gauge({
        name,
        help,
        labelNames: ['class'],
        registers: [registry],
        collect() {
          const s = status();
          this.reset();
          for (const c of RELAY_CLASSES) {
            const v = value(s, c);
            if (v !== null) this.labels(c).set(v);
          }
        },
      });
    new Gauge({
      name: 'smartstore_relay_link_up',
      help: 'whether the link to HQ is up (1) or down (0)',
      registers: [registry],
      collect() {
        this.set(status().link.up ? 1 : 0);
      },
    });
    perClass('smartstore_relay_outbox_rows', 'events in the outbox waiting for HQ, by class', (s, c) => s.perClass[c].rows);
    perClass('smartstore_relay_outbox_bytes', 'bytes of events in the outbox, by class', (s, c) => s.perClass[c].bytes);
    perClass('smartstore_relay_budget_bytes', 'disk budget of each class', (s, c) => s.perClass[c].budgetBytes);
    perClass(
      'smartstore_relay_backlog_rows',
      'events older than the current connection (sent historical, rate-capped), by class',
      (s, c) => s.perClass[c].backlogRows,
    );
    perClass(
      'smartstore_relay_oldest_event_age_seconds',
      'age of the oldest event waiting for HQ, by class',
      (s, c) => s.perClass[c].oldestEventAgeS,
    );
    perClass(
      'smartstore_relay_forecast_full_seconds',
      "seconds until a class's budget is full at the current rate (absent when not growing)",
      (s, c) => s.perClass[c].forecastFullInS,
    );
    perClass(
      'smartstore_relay_dropped_events',
      'events dropped over budget since the data dir was created, by class (each reported to HQ)',
      (s, c) => s.perClass[c].dropped.count,
    );
    new Gauge({
      name: 'smartstore_relay_drain_rate',
      help: 'events per second HQ acknowledged over the last 10 s, by lane',
      labelNames: ['lane'],
      registers: [registry],
      collect() {
        const s = status();
        this.labels('live').set(s.lanes.live.ratePerS);
        this.labels('backlog').set(s.lanes.backlog.ratePerS);
      },
    });
    const acked = { live: 0, backlog: 0 };
    new Counter({
      name: 'smartstore_relay_events_acked_total',
      help: 'events HQ acknowledged, by lane',
      labelNames: ['lane'],
      registers: [registry],
      collect() {
        const s = status();
        for (const lane of ['live', 'backlog'] as const) {
          this.labels(lane).inc(Math.max(0, s.lanes[lane].acked - acked[lane]));
          acked[lane] = s.lanes[lane].acked;
        }
      },
    });
    const commandsSeen: CommandCounts = { ok: 0, failed: 0, unsupported: 0, rejected: 0, replays: 0 };
    new Counter({
      name: 'smartstore_relay_hq_commands_total',
      help: 'commands from HQ by result (replays: delivered again, answered from the record)',
      labelNames: ['result'],
      registers: [registry],
      collect: () => {
        const metric = registry.getSingleMetric('smartstore_relay_hq_commands_total') as Counter<'result'>;
        for (const key of Object.keys(commandsSeen) as (keyof CommandCounts)[]) {
          metric.labels(key).inc(Math.max(0, this.commandCounts[key] - commandsSeen[key]));
          commandsSeen[key] = this.commandCounts[key];
        }
      },
    });
  }
}

async function readTls(
  tls: ResolvedRelayConfig['tls'],
): Promise<{ ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized: boolean } | undefined> {
  if (!tls.ca && !tls.cert && !tls.key && tls.rejectUnauthorized) return undefined;
  const read = async (file: string | null, what: string) => {
    if (!file) return undefined;
    try {
      return await readFile(file);
    } catch (error) {
      throw new Error(`hq.tls.${what}: cannot read ${file}: ${(error as Error).message}`, { cause: error });
    }
  };
  const [ca, cert, key] = await Promise.all([read(tls.ca, 'ca'), read(tls.cert, 'cert'), read(tls.key, 'key')]);
  return { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}), rejectUnauthorized: tls.rejectUnauthorized };
}
