/**
 * One OPC UA device's connection: client, session, one subscription and a monitored item per configured variable,
 * kept alive across device restarts and network cuts. The recovery ladder, cheapest first:
 *  1. node-opcua repairs a lost channel itself (`connection_lost` → `start_reconnection` → `after_reconnection`),
 *     re-activating the session or creating a new one and transferring or re-creating the subscription
 *     (`subscriptionId_changed`);
 *  2. an item silent past a multiple of its expected interval (item-watchdog.ts), or one the device answers
 *     `BadNodeIdUnknown`, is re-created — its NodeId resolved again from its browse path;
 *  3. a link that hangs without closing (neither data nor keep-alives for three keep-alive periods) counts as lost;
 *     when node-opcua's repair does not bring data back within `recoveryDeadlineMs` after a loss (the stuck
 *     reconnections of node-opcua issues 678, 1059, 1368), the subscription is terminated, or items stay silent round
 *     after round, everything is thrown away and built again from scratch, with exponential backoff and jitter.
 * The device counts as connected while it is heard from (data or subscription keep-alives), not while a socket is open.
 */
import type { OPCUACertificateManager } from 'node-opcua-certificate-manager';
import type * as Opcua from 'node-opcua-client';
import type { Logger } from 'pino';
import { jitteredBackoffMs, type Backoff } from '../core/backoff.js';
import type { DeviceMessage } from '../device-registry/messages.js';
import { mapSample, type CaseSnapshot, type ItemSample, type SampleRejection } from './device-mapping.js';
import { ItemWatchdog } from './item-watchdog.js';
import { expectedIntervalMs, type OpcuaDeviceConfig, type OpcuaItemConfig } from './opcua-devices-config.js';

/** What the device sessions use of node-opcua: its client side and the certificate manager their connections share. */
export type OpcuaModule = typeof Opcua & { OPCUACertificateManager: typeof OPCUACertificateManager };

/** Loads node-opcua's client side (an import of seconds): only when OPC UA devices are configured. */
export async function loadOpcuaClient(): Promise<OpcuaModule> {
  const [client, { OPCUACertificateManager }] = await Promise.all([import('node-opcua-client'), import('node-opcua-certificate-manager')]);
  return { ...client, OPCUACertificateManager };
}

export type SessionTiming = {
  /** first delay of the rebuild backoff (and of node-opcua's own reconnection) */
  reconnectInitialMs: number;
  /** ceiling of both */
  reconnectMaxMs: number;
  /** after a cut, data must flow again within this, or the connection is rebuilt from scratch */
  recoveryDeadlineMs: number;
  /** a connect, session or subscription request that takes longer fails the attempt */
  requestTimeoutMs: number;
  /** how often the item watchdog looks */
  watchdogCheckMs: number;
  /** an item silent for this many expected intervals is re-created */
  staleMultiple: number;
  /** ... but never sooner than this */
  minSilenceMs: number;
  /** watchdog rounds in a row with stale items and no data at all before the connection is rebuilt */
  maxSilentRounds: number;
};

/** The watchdog's own pace, not options: a device's `recovery` options (defaults in its schema) set the rest. */
export const WATCHDOG_TIMING = { watchdogCheckMs: 1_000, maxSilentRounds: 3 } as const;

export type ItemRecreateReason = 'stale' | 'node-unknown' | 'terminated';

export type DeviceSessionDeps = {
  opcua: OpcuaModule;
  device: OpcuaDeviceConfig;
  /** the password read from `device.passwordEnv`, if the device logs in */
  password: string | undefined;
  /** the client's certificate and the device certificates store IT trusts: one for every device of the driver */
  certificateManager: OPCUACertificateManager;
  timing: SessionTiming;
  now: () => number;
  random: () => number;
  log: Logger;
  onMessage: (message: DeviceMessage) => void;
  /** heard from / lost: pairs, starting with `true` */
  onConnection: (connected: boolean) => void;
  onSampleRejected: (reason: SampleRejection) => void;
  onItemRecreated: (reason: ItemRecreateReason) => void;
  onRebuild: (reason: string) => void;
};

export type SessionStage = 'connect' | 'session' | 'subscribe' | 'resolve' | 'monitor';

/** Something went wrong talking to one device; says which device, where, and at what step. */
export class OpcuaDeviceError extends Error {
  constructor(
    readonly deviceId: string,
    readonly endpointUrl: string,
    readonly stage: SessionStage,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`OPC UA device ${deviceId} (${endpointUrl}) ${stage}: ${message}`, options);
    this.name = 'OpcuaDeviceError';
  }
}

/**
 * The rebuild backoff (attempt 0-based): doubling from `reconnectInitialMs` up to `reconnectMaxMs`, with "equal jitter" —
 * half fixed, half random — so a store's cases coming back after a power cut do not reconnect in lockstep.
 */
export function sessionBackoff(timing: SessionTiming): Backoff {
  return { baseMs: timing.reconnectInitialMs, maxMs: timing.reconnectMaxMs, factor: 2, jitter: 0.5 };
}

const NODE_UNKNOWN = /BadNodeIdUnknown|BadNodeIdInvalid/;

type Item = {
  key: string;
  config: OpcuaItemConfig;
  intervalMs: number;
  monitored: Opcua.ClientMonitoredItem | undefined;
  /** a re-creation under way: no second one for the same item */
  recreating: boolean;
};

/** One attempt's client and what hangs off it; events of an older attempt are ignored. */
type Connection = {
  client: Opcua.OPCUAClient;
  session?: Opcua.ClientSession;
  subscription?: Opcua.ClientSubscription;
  closed: boolean;
  /** the subscription's keep-alive period as the device granted it: silence past a few of these is a dead link */
  keepaliveMs?: number;
};

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export class DeviceSession {
  private readonly items: Item[];
  private readonly watchdog: ItemWatchdog;
  private current: Connection | undefined;
  private running = false;
  private live = false;
  private attempt = 0;
  private snapshot: CaseSnapshot = {};
  private retryTimer: NodeJS.Timeout | undefined;
  private watchdogTimer: NodeJS.Timeout | undefined;
  private recoveryTimer: NodeJS.Timeout | undefined;
  private loop: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  /** what the last start()/stop() asked for */
  private wanted = false;
  private dataSinceLastRound = false;
  private lastHeardAt = 0;
  private silentRounds = 0;
  private readonly backoff: Backoff;

  constructor(private readonly deps: DeviceSessionDeps) {
    const { device, timing } = deps;
    this.backoff = sessionBackoff(timing);
    this.items = device.items.map((config, index) => ({
      key: `${index}:${config.field}${config.facing !== undefined ? `/${config.facing}` : ''}`,
      config,
      intervalMs: expectedIntervalMs(device, config),
      monitored: undefined,
      recreating: false,
    }));
    this.watchdog = new ItemWatchdog({ multiple: timing.staleMultiple, minSilenceMs: timing.minSilenceMs, maxItems: this.items.length });
  }

  get deviceId(): string {
    return this.deps.device.id;
  }

  get isLive(): boolean {
    return this.live;
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Starts connecting in the background: an unreachable device never holds up the gateway's start. */
  start(): void {
    this.wanted = true;
    // enabled again while the session of the disable is still closing: starts once it is closed
    if (this.stopping || this.running) return;
    this.running = true;
    this.attempt = 0;
    this.scheduleBuild(0);
  }

  stop(): Promise<void> {
    this.wanted = false;
    this.stopping ??= (async () => {
      this.running = false;
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
      await this.loop;
      await this.teardown('stopped');
    })().finally(() => {
      this.stopping = undefined;
      if (this.wanted) this.start();
    });
    return this.stopping;
  }

  private scheduleBuild(delayMs: number): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.loop = this.build();
    }, delayMs);
    this.retryTimer.unref();
  }

  /** One attempt from scratch; on failure, the next one after the backoff. */
  private async build(): Promise<void> {
    if (!this.running) return;
    const { device } = this.deps;
    try {
      await this.connect();
      this.attempt = 0;
      this.deps.log.info({ deviceId: device.id, endpointUrl: device.endpointUrl, items: this.items.length }, 'opc ua device subscribed');
    } catch (error) {
      await this.teardown('failed');
      if (!this.running) return;
      const delayMs = jitteredBackoffMs(this.backoff, this.attempt++, this.deps.random);
      // one line per attempt: the backoff bounds them
      this.deps.log.warn(
        { deviceId: device.id, endpointUrl: device.endpointUrl, err: (error as Error).message, retryInMs: delayMs, attempt: this.attempt },
        'opc ua device unreachable; retrying',
      );
      this.scheduleBuild(delayMs);
    }
  }

  /** Throws everything of the current attempt away and builds again after the backoff. */
  private rebuild(reason: string): void {
    if (!this.running || !this.current || this.current.closed) return;
    this.deps.onRebuild(reason);
    this.deps.log.warn({ deviceId: this.deviceId, endpointUrl: this.deps.device.endpointUrl, reason }, 'opc ua device connection rebuilt');
    this.loop = this.teardown(reason).then(() => {
      if (!this.running) return;
      this.scheduleBuild(jitteredBackoffMs(this.backoff, this.attempt++, this.deps.random));
    });
  }

  private async connect(): Promise<void> {
    const { opcua, device, timing } = this.deps;
    const fail = (stage: SessionStage, error: unknown) =>
      new OpcuaDeviceError(device.id, device.endpointUrl, stage, (error as Error)?.message ?? String(error), { cause: error });
    const client = opcua.OPCUAClient.create({
      applicationName: 'smartstore-edge',
      clientName: `smartstore-edge:${device.id}`,
      endpointMustExist: false,
      securityMode: opcua.MessageSecurityMode[device.securityMode],
      securityPolicy: opcua.SecurityPolicy[device.securityPolicy],
      clientCertificateManager: this.deps.certificateManager,
      // maxRetry 1: the first connect fails fast into our backoff; after a cut node-opcua retries on its own
      connectionStrategy: {
        maxRetry: 1,
        initialDelay: timing.reconnectInitialMs,
        maxDelay: timing.reconnectMaxMs,
        randomisationFactor: 0.5,
      },
      keepSessionAlive: true,
      requestedSessionTimeout: Math.max(10_000, timing.recoveryDeadlineMs * 2),
      defaultTransactionTimeout: timing.requestTimeoutMs,
    });
    const connection: Connection = { client, closed: false };
    this.current = connection;
    this.watchClient(connection);

    try {
      await withTimeout(client.connect(device.endpointUrl), timing.requestTimeoutMs * 2, 'connect');
    } catch (error) {
      throw fail('connect', error);
    }
    try {
      const identity: Opcua.UserIdentityInfo =
        device.username !== undefined
          ? { type: opcua.UserTokenType.UserName, userName: device.username, password: this.deps.password ?? '' }
          : { type: opcua.UserTokenType.Anonymous };
      connection.session = await withTimeout(client.createSession(identity), timing.requestTimeoutMs, 'create session');
    } catch (error) {
      throw fail('session', error);
    }
    const fastestMs = Math.min(...this.items.map((item) => item.intervalMs));
    try {
      connection.subscription = await withTimeout(
        connection.session.createSubscription2({
          requestedPublishingInterval: Math.max(50, Math.min(fastestMs, 1_000)),
          requestedLifetimeCount: 100,
          requestedMaxKeepAliveCount: 10,
          maxNotificationsPerPublish: 1_000,
          publishingEnabled: true,
          priority: 1,
        }),
        timing.requestTimeoutMs,
        'create subscription',
      );
    } catch (error) {
      throw fail('subscribe', error);
    }
    connection.keepaliveMs = connection.subscription.publishingInterval * connection.subscription.maxKeepAliveCount;
    this.watchSubscription(connection, connection.subscription);
    for (const item of this.items) {
      // an item the device does not have today is retried by the watchdog; the others flow meanwhile
      await this.createItem(connection, item).catch((error: unknown) =>
        this.deps.log.warn(
          { deviceId: device.id, item: item.key, err: (error as Error).message },
          'opc ua item not monitored yet; retrying',
        ),
      );
      this.watchdog.arm(item.key, item.intervalMs, this.deps.now());
    }
    this.startWatchdog(connection);
  }

  /** The NodeId to monitor: resolved from the browse path when there is one (every time: it may have moved). */
  private async resolve(connection: Connection, item: Item): Promise<string> {
    const { opcua, device, timing } = this.deps;
    if (item.config.browsePath === undefined) return item.config.nodeId as string;
    const session = connection.session;
    if (!session) throw new OpcuaDeviceError(device.id, device.endpointUrl, 'resolve', 'no session');
    const result = await withTimeout(
      session.translateBrowsePath(opcua.makeBrowsePath('ObjectsFolder', item.config.browsePath)),
      timing.requestTimeoutMs,
      'translate browse path',
    );
    const target = result.targets?.[0]?.targetId;
    if (!result.statusCode.isGood() || !target) {
      throw new OpcuaDeviceError(device.id, device.endpointUrl, 'resolve', `${item.config.browsePath}: ${result.statusCode.name}`);
    }
    return target.toString();
  }

  private async createItem(connection: Connection, item: Item): Promise<void> {
    const { opcua, device, timing } = this.deps;
    const subscription = connection.subscription;
    if (!subscription || connection.closed) return;
    const nodeId = await this.resolve(connection, item);
    const monitored = opcua.ClientMonitoredItem.create(
      subscription,
      { nodeId, attributeId: opcua.AttributeIds.Value },
      {
        samplingInterval: item.intervalMs,
        queueSize: 10,
        discardOldest: true,
        // a device that refreshes a value reports it even unchanged: silence then means trouble, not a steady value
        filter: new opcua.DataChangeFilter({
          trigger: opcua.DataChangeTrigger.StatusValueTimestamp,
          deadbandType: opcua.DeadbandType.None,
        }),
      },
      opcua.TimestampsToReturn.Both,
    );
    item.monitored = monitored;
    monitored.on('changed', (dataValue: Opcua.DataValue) => {
      if (connection !== this.current || item.monitored !== monitored) return;
      this.sample(connection, item, dataValue);
    });
    const created = new Promise<void>((resolve, reject) => {
      monitored.once('initialized', () => resolve());
      monitored.once('err', (message: string) =>
        reject(new OpcuaDeviceError(device.id, device.endpointUrl, 'monitor', `${nodeId}: ${message}`)),
      );
    });
    monitored.once('terminated', () => {
      // node-opcua terminates an item it could not re-create after a reconnection (its NodeId is gone)
      if (connection === this.current && item.monitored === monitored && !connection.closed)
        void this.recreate(connection, item, 'terminated');
    });
    await withTimeout(created, timing.requestTimeoutMs, 'create monitored item').catch(async (error: unknown) => {
      if (item.monitored === monitored) item.monitored = undefined;
      throw error;
    });
  }

  private async recreate(connection: Connection, item: Item, reason: ItemRecreateReason): Promise<void> {
    if (item.recreating || connection !== this.current || connection.closed) return;
    item.recreating = true;
    this.deps.onItemRecreated(reason);
    this.deps.log.info({ deviceId: this.deviceId, item: item.key, reason }, 'opc ua item re-created');
    const old = item.monitored;
    item.monitored = undefined;
    try {
      if (old) await withTimeout(old.terminate(), this.deps.timing.requestTimeoutMs, 'delete monitored item').catch(() => undefined);
      await this.createItem(connection, item);
    } catch (error) {
      this.deps.log.warn(
        { deviceId: this.deviceId, item: item.key, err: (error as Error).message },
        'opc ua item not re-created; the watchdog tries again',
      );
    } finally {
      item.recreating = false;
      this.watchdog.arm(item.key, item.intervalMs, this.deps.now());
    }
  }

  private sample(connection: Connection, item: Item, dataValue: Opcua.DataValue): void {
    const now = this.deps.now();
    const status = dataValue.statusCode;
    const sample: ItemSample = {
      value: dataValue.value?.value,
      good: status.isGood(),
      status: status.name,
      sourceTimestampMs: dataValue.sourceTimestamp ? dataValue.sourceTimestamp.getTime() : null,
      serverTimestampMs: dataValue.serverTimestamp ? dataValue.serverTimestamp.getTime() : null,
    };
    if (!sample.good && NODE_UNKNOWN.test(sample.status)) {
      // the device forgot the node (firmware update, restart with a new address space): find it again by its path
      void this.recreate(connection, item, 'node-unknown');
      return;
    }
    this.watchdog.seen(item.key, now);
    this.dataSinceLastRound = true;
    this.heard();
    const result = mapSample(this.deps.device, item.config, sample, this.snapshot, now);
    this.snapshot = result.snapshot;
    if (result.ok) this.deps.onMessage(result.message);
    else this.deps.onSampleRejected(result.reason);
  }

  /** Data or a keep-alive arrived: the device is connected (again). */
  private heard(): void {
    this.lastHeardAt = this.deps.now();
    clearTimeout(this.recoveryTimer);
    this.recoveryTimer = undefined;
    if (this.live) return;
    this.live = true;
    this.attempt = 0;
    this.silentRounds = 0;
    // after a gap every item gets a fresh period: the gap is not the items' fault
    const now = this.deps.now();
    for (const item of this.items) this.watchdog.arm(item.key, item.intervalMs, now);
    this.deps.onConnection(true);
  }

  private lost(reason: string): void {
    if (this.live) {
      this.live = false;
      this.deps.onConnection(false);
      this.deps.log.warn({ deviceId: this.deviceId, endpointUrl: this.deps.device.endpointUrl, reason }, 'opc ua device connection lost');
    }
    // node-opcua repairs it from here; if no data comes back in time, we start over
    const connection = this.current;
    if (connection && !this.recoveryTimer) {
      this.recoveryTimer = setTimeout(() => {
        this.recoveryTimer = undefined;
        if (connection === this.current && !this.live) this.rebuild('no data within the recovery deadline');
      }, this.deps.timing.recoveryDeadlineMs);
      this.recoveryTimer.unref();
    }
  }

  private watchClient(connection: Connection): void {
    const { client } = connection;
    const mine = () => connection === this.current && !connection.closed;
    client.on('connection_lost', () => mine() && this.lost('connection lost'));
    client.on('start_reconnection', () => mine() && this.lost('reconnecting'));
    client.on('after_reconnection', () => {
      if (mine()) this.deps.log.info({ deviceId: this.deviceId }, 'opc ua channel re-established; waiting for data');
    });
    client.on('close', () => mine() && this.rebuild('client closed'));
  }

  private watchSubscription(connection: Connection, subscription: Opcua.ClientSubscription): void {
    const mine = () => connection === this.current && !connection.closed;
    subscription.on('keepalive', () => mine() && this.heard());
    subscription.on('terminated', () => mine() && this.rebuild('subscription terminated'));
    subscription.on('internal_error', (error: Error) => mine() && this.rebuild(`subscription error: ${error.message}`));
    subscription.on('status_changed', (status: Opcua.StatusCode) => {
      // BadTimeout: the server dropped the subscription (its lifetime ran out while we were cut off)
      if (mine() && !status.isGood()) this.rebuild(`subscription ${status.name}`);
    });
    // node-opcua re-created the subscription on a new server session: the items come along; give them a fresh period
    (subscription as unknown as NodeJS.EventEmitter).on('subscriptionId_changed', (newId: number, oldId: number) => {
      if (!mine()) return;
      this.deps.log.info(
        { deviceId: this.deviceId, subscriptionId: newId, previousSubscriptionId: oldId },
        'opc ua subscription re-created by the client',
      );
      const now = this.deps.now();
      for (const item of this.items) this.watchdog.arm(item.key, item.intervalMs, now);
    });
  }

  private startWatchdog(connection: Connection): void {
    clearInterval(this.watchdogTimer);
    this.watchdogTimer = setInterval(() => this.checkItems(connection), this.deps.timing.watchdogCheckMs);
    this.watchdogTimer.unref();
  }

  private checkItems(connection: Connection): void {
    if (connection !== this.current || connection.closed || !this.live) return;
    const now = this.deps.now();
    // neither data nor keep-alives: a link that hangs without closing (no RST) — node-opcua may take minutes to notice
    const silenceLimitMs = Math.max(this.deps.timing.minSilenceMs, 3 * (connection.keepaliveMs ?? 0));
    if (now - this.lastHeardAt > silenceLimitMs) {
      this.lost('nothing heard');
      return;
    }
    const stale = this.watchdog.takeStale(now);
    if (stale.length === 0) {
      this.silentRounds = 0;
      this.dataSinceLastRound = false;
      return;
    }
    // stale items and nothing else heard either: the session itself is suspect
    this.silentRounds = this.dataSinceLastRound ? 0 : this.silentRounds + 1;
    this.dataSinceLastRound = false;
    if (this.silentRounds >= this.deps.timing.maxSilentRounds) {
      this.rebuild('items silent');
      return;
    }
    for (const key of stale) {
      const item = this.items.find((candidate) => candidate.key === key);
      if (item) void this.recreate(connection, item, 'stale');
    }
  }

  private async teardown(reason: string): Promise<void> {
    clearInterval(this.watchdogTimer);
    this.watchdogTimer = undefined;
    clearTimeout(this.recoveryTimer);
    this.recoveryTimer = undefined;
    this.watchdog.clear();
    this.snapshot = {};
    for (const item of this.items) item.monitored = undefined;
    if (this.live) {
      this.live = false;
      this.deps.onConnection(false);
    }
    const connection = this.current;
    this.current = undefined;
    if (!connection || connection.closed) return;
    connection.closed = true;
    const timeoutMs = Math.min(this.deps.timing.requestTimeoutMs, 2_000);
    // a dead peer never answers: bounded waits, errors ignored — the sockets are closed either way
    if (connection.session && reason === 'stopped')
      await withTimeout(connection.session.close(true), timeoutMs, 'close session').catch(() => undefined);
    await withTimeout(connection.client.disconnect(), timeoutMs, 'disconnect').catch(() => undefined);
    connection.client.removeAllListeners();
  }
}
