/**
 * The MQTT side every simulated device shares: connect as the device (client id = username = device id,
 * password = secret, as docs/device-contract.md requires), subscribe to its own `cmd` topic, publish JSON
 * on its own channels, end cleanly. Simulators own one `DeviceConnection` each and stay about behaviour.
 */
import { connect, connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { commandTopic, deviceTopic, type DeviceChannel, type DeviceKind } from '../edge/device-registry/topics.js';
import type { RandomSource } from './random.js';
import type { Timers } from './timer-group.js';

/**
 * Asked for a new secret when the broker refuses the device's secret (store IT rotated it, or the device was
 * re-registered): resolves with the secret to log in with from now on, or undefined when there is none to be had.
 */
export type SecretRenewal = (device: { deviceId: string; kind: DeviceKind }) => Promise<string | undefined>;

/** What every simulator needs; kind-specific options extend it. */
export type DeviceOptions = {
  brokerUrl: string;
  storeId: string;
  deviceId: string;
  secret: string;
  /** none: a refused secret stays refused (the device keeps retrying with it, as firmware would) */
  renewSecret?: SecretRenewal;
  logger: Logger;
  /** seeded random source, see random.ts */
  random: RandomSource;
  /** device clock for `ts`, ms since epoch; defaults to Date.now */
  clock?: () => number;
  timers?: Timers;
};

/** Telemetry may be lost (QoS 0); acks and kiosk events must arrive (QoS 1). */
export type PublishQos = 0 | 1;

const KEEPALIVE_SEC = 30;
const RECONNECT_PERIOD_MS = 2_000;
const CONNECT_TIMEOUT_MS = 10_000;
/** A graceful end waits for in-flight QoS 1 acks; with the broker gone that could be forever. */
const END_TIMEOUT_MS = 2_000;
/** CONNACK codes for a refused secret: MQTT 3.1.1 §3.2.2.3 "bad user name or password", MQTT 5 §3.2.2.2 0x86 */
const SECRET_REFUSED_CODES: ReadonlySet<number> = new Set([4, 0x86]);

/** CONNACK codes for "not now": MQTT 3.1.1 "not authorized" (5), MQTT 5 0x87 — a disabled device, or a login throttle */
const NOT_AUTHORIZED_CODES: ReadonlySet<number> = new Set([5, 0x87]);

function isNotAuthorized(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' && NOT_AUTHORIZED_CODES.has(code);
}

/** Whether the broker refused the login for its secret (not for a disabled device, a throttle or a bad client id). */
export function isSecretRefused(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' && SECRET_REFUSED_CODES.has(code);
}

export class DeviceConnection<K extends DeviceKind> {
  readonly commandTopic: string;
  private client: MqttClient | undefined;
  private opening: Promise<void> | undefined;
  private publishedCount = 0;
  private failedPublishCount = 0;
  /** Only the first error of an outage is a warning; reconnect attempts repeat it every few seconds. */
  private errorReported = false;
  /** the secret this device logs in with: the configured one until a renewal replaces it */
  private secret: string;
  /** the secret the current connection attempt offered: a refusal of an older one needs no second renewal */
  private offeredSecret: string;
  private renewing: Promise<void> | undefined;

  constructor(
    readonly kind: K,
    private readonly options: Pick<DeviceOptions, 'brokerUrl' | 'storeId' | 'deviceId' | 'secret' | 'renewSecret'>,
    private readonly log: Logger,
  ) {
    this.commandTopic = commandTopic(options.storeId, kind, options.deviceId);
    this.secret = options.secret;
    this.offeredSecret = options.secret;
  }

  get published(): number {
    return this.publishedCount;
  }

  get failedPublishes(): number {
    return this.failedPublishCount;
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  /** Connects and subscribes to the device's `cmd` topic; rejects if the broker refuses or is unreachable. */
  open(onCommand: (payload: Buffer) => void): Promise<void> {
    if (this.opening) throw new Error(`device ${this.options.deviceId} is already connected`);
    this.opening = this.connect(onCommand).catch((err: unknown) => {
      this.opening = undefined;
      throw err;
    });
    return this.opening;
  }

  private connectClient(): Promise<MqttClient> {
    this.offeredSecret = this.secret;
    return connectAsync(this.options.brokerUrl, this.clientOptions(), false);
  }

  private clientOptions(): IClientOptions {
    const { deviceId } = this.options;
    return {
      clientId: deviceId,
      username: deviceId,
      password: this.secret,
      keepalive: KEEPALIVE_SEC,
      clean: true,
      reconnectPeriod: RECONNECT_PERIOD_MS,
      // mqtt.js gives up after a refused CONNACK; firmware keeps trying, so a device store IT disabled and enabled
      // again comes back by itself
      reconnectOnConnackError: true,
      connectTimeout: CONNECT_TIMEOUT_MS,
      // Stale telemetry is worse than none: do not queue QoS 0 while offline (keeps memory bounded too).
      queueQoSZero: false,
    };
  }

  /**
   * A new secret from `renewSecret`, once per refused secret: the attempts mqtt.js makes meanwhile (every few seconds)
   * still offer the old one and are refused too, without asking again. False when no new secret came.
   */
  private renew(): Promise<boolean> {
    const renewSecret = this.options.renewSecret;
    if (!renewSecret) return Promise.resolve(false);
    const refused = this.offeredSecret;
    const before = this.secret;
    this.renewing ??= renewSecret({ deviceId: this.options.deviceId, kind: this.kind })
      .then(
        (secret) => {
          // a secret renewed since this attempt began is already the answer
          if (secret !== undefined && refused === this.secret) this.secret = secret;
        },
        (err: unknown) => this.log.warn({ err }, 'could not renew the device secret'),
      )
      .finally(() => {
        this.renewing = undefined;
      });
    return this.renewing.then(() => this.secret !== before);
  }

  private async connect(onCommand: (payload: Buffer) => void): Promise<void> {
    let client: MqttClient;
    try {
      client = await this.connectClient();
    } catch (err) {
      if (isSecretRefused(err) && (await this.renew())) client = await this.connectClient();
      else if (isNotAuthorized(err)) client = this.keepTrying(err);
      else throw err;
    }
    // each reconnect offers the secret known at that moment
    client.on('reconnect', () => {
      this.offeredSecret = this.secret;
      client.options.password = this.secret;
    });
    client.on('error', (err) => {
      if (isSecretRefused(err) && this.offeredSecret === this.secret) void this.renew();
      if (this.errorReported) {
        this.log.debug({ err }, 'mqtt error');
      } else {
        this.errorReported = true;
        this.log.warn({ err }, 'mqtt error');
      }
    });
    client.on('offline', () => this.log.warn('device offline, reconnecting'));
    client.on('connect', () => {
      this.errorReported = false;
      this.log.info('device reconnected');
    });
    client.on('message', (topic, payload) => {
      if (topic === this.commandTopic) onCommand(payload);
    });

    if (!client.connected) {
      // subscribed at the first CONNACK that lets it in; mqtt.js subscribes again after each reconnect
      client.once('connect', () => void this.subscribe(client).catch((err: unknown) => this.log.warn({ err }, 'subscribe failed')));
      this.client = client;
      return;
    }
    try {
      await this.subscribe(client);
    } catch (err) {
      await client.endAsync(true);
      throw err;
    }
    this.client = client;
    this.log.debug({ topic: this.commandTopic }, 'device connected');
  }

  private async subscribe(client: MqttClient): Promise<void> {
    const granted = await client.subscribeAsync(this.commandTopic, { qos: 1 });
    if (granted.some((grant) => grant.qos === 128)) {
      this.log.warn({ topic: this.commandTopic }, 'command subscription refused by broker');
    }
  }

  /**
   * Refused as not authorized at the first login (disabled by store IT, or a login throttle): firmware keeps trying, so
   * the device does too, every few seconds in the background, and comes in once it is enabled.
   */
  private keepTrying(refusal: unknown): MqttClient {
    this.errorReported = true;
    this.log.warn({ err: refusal }, 'device refused by the broker (disabled?): it keeps trying');
    this.offeredSecret = this.secret;
    return connect(this.options.brokerUrl, this.clientOptions());
  }

  /**
   * Publishes `payload` as JSON on one of the device's own channels. Never rejects: a simulated device
   * that cannot publish logs and counts it, like firmware would.
   * @returns whether the broker took the message (QoS 1: PUBACK received; QoS 0: written to the socket)
   */
  async publish(channel: DeviceChannel<K>, payload: object, qos: PublishQos): Promise<boolean> {
    const client = this.client;
    // QoS 0 telemetry is dropped while offline; QoS 1 is queued by mqtt.js and sent after reconnect.
    if (!client || client.disconnecting || (qos === 0 && !client.connected)) {
      this.failedPublishCount += 1;
      return false;
    }
    const topic = deviceTopic(this.options.storeId, this.kind, this.options.deviceId, channel);
    try {
      await client.publishAsync(topic, JSON.stringify(payload), { qos });
      this.publishedCount += 1;
      this.log.debug({ topic }, 'published');
      return true;
    } catch (err) {
      this.failedPublishCount += 1;
      this.log.debug({ err, topic }, 'publish failed');
      return false;
    }
  }

  /** Ends the MQTT session with a DISCONNECT; forces the socket closed if the broker does not answer. */
  async close(): Promise<void> {
    // A stop() during start() must not leave the half-opened client behind.
    await this.opening?.catch(() => undefined);
    this.opening = undefined;
    const client = this.client;
    if (!client) return;
    this.client = undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), END_TIMEOUT_MS);
    });
    try {
      const outcome = await Promise.race([client.endAsync().then(() => 'ended' as const), timedOut]);
      if (outcome === 'timeout') await client.endAsync(true);
    } finally {
      clearTimeout(timer);
    }
    this.log.debug('device disconnected');
  }
}
