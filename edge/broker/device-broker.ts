import { readFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, TLSSocket, type Server as TlsServer } from 'node:tls';
import {
  Aedes,
  type AedesPublishPacket,
  type AuthenticateError,
  type Client,
  type ConnectPacket,
  type PublishPacket,
  type Subscription,
} from 'aedes';
import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/gateway-config.js';
import type { GatewayBus } from '../core/events.js';
import { LogThrottle } from '../core/log-throttle.js';
import { readSecretFile } from '../core/secret-file.js';
import type { HealthCheck } from '../core/module.js';
import type { AckGate, AckGates } from '../device-registry/ack-gates.js';
import type { DeviceMessageDecoder } from '../device-registry/decoder.js';
import type { DeviceRegistry } from '../device-registry/device-registry.js';
import {
  publishDeviceMessage,
  type CommandDelivery,
  type DeliveryFailure,
  type DeviceSource,
  type OutboundCommand,
} from '../device-registry/device-source.js';
import { commandTopic, isValidDeviceId } from '../device-registry/topics.js';
import type { ConnectionRejectReason, GatewayMetrics } from '../metrics/gateway-metrics.js';
import { AddressLimits } from './address-limits.js';
import { createDeviceSession, maySubscribe, publishKeyOf, type DeviceSession } from './device-acl.js';
import { guardSocketFrames } from './frame-guard.js';
import { LoginThrottle } from './login-throttle.js';
import { installPersistenceShortcut, type PersistenceShortcut } from './persistence-shortcut.js';
import { installPublishShortcut, type PublishShortcut } from './publish-shortcut.js';
import { installRoutingShortcut, type RoutingShortcut } from './routing-shortcut.js';
import { admitMessage, msUntilToken, newMessageBucket, type MessageBucket, type RateVerdict } from './message-rate-limit.js';
import { asError } from '../core/as-error.js';

export type BrokerOptions = GatewayConfig['mqtt'] & {
  storeId: string;
  /** the CA that signs device certificates (the store CA unless configured); absent: no client-certificate login */
  clientCaFile?: string;
};

/** What the broker asks about device certificates: revoked serials (the store CA's list, kept by edge/pki). */
export type CertificateRevocations = { isRevoked(serial: string): boolean };

export type BrokerDeps = {
  registry: DeviceRegistry;
  decoder: DeviceMessageDecoder;
  metrics: GatewayMetrics;
  log: Logger;
  now: () => number;
  /** every valid device message goes out as `device.message:<kind>/<channel>`, synchronously, in arrival order per connection */
  bus: GatewayBus;
  /** keys whose QoS 1 PUBACK waits until the bus subscribers made the message safe (the relay's kiosk transactions) */
  ackGates?: AckGates;
  revocations?: CertificateRevocations;
};

/**
 * A device's session with what the broker keeps per connection: its message bucket (shared by every connection of the
 * device), how many of its PUBLISHes were dropped over the rate limit but not yet passed through `published`, and the
 * read hold of a device over its limit.
 */
type BrokerSession = DeviceSession & {
  bucket: MessageBucket;
  rateDroppedPending: number;
  readHold: ReadHold | undefined;
  /**
   * The last QoS 0 PUBLISH authorizePublish let through and the clock then: `ingest` takes that time as its
   * receivedAt instead of reading the clock again (a clock read is ~50 ns here, 2 % of a reading's cost). aedes
   * ingests an unrouted QoS 0 message within that same call, so it is the same instant. Not QoS 1: several are
   * admitted before the first is ingested (after its PUBACK), and an earlier admission time would put receivedAt out
   * of order with the messages ingested meanwhile. Anything else reads the clock, as before.
   */
  admitted: PublishPacket | undefined;
  admittedAt: number;
};

/**
 * A device over its rate limit is not read for a while: aedes reads a socket's next chunk only once every packet of the
 * current one is done, so holding the `done` of one dropped packet holds the socket, and TCP pushes back on the device.
 * Dropping alone would still cost a parse and a trip through aedes per packet: a flooding device could keep the event
 * loop busy and every other device waiting. The hold lasts until the bucket would have paid for the packets dropped
 * meanwhile, at most READ_HOLD_MAX_MS — shorter than FLOOD_PAUSE_MS, so a held flooder still counts as flooding.
 */
type ReadHold = { since: number; dropped: number; release: () => void };
const READ_HOLD_MAX_MS = 500;

/** MQTT CONNACK return codes of 3.1.1 used for refusals. */
const RC_IDENTIFIER_REJECTED = 2;
const RC_BAD_CREDENTIALS = 4;
const RC_NOT_AUTHORIZED = 5;

/** The error aedes reports for a socket that sent no CONNECT within `connectTimeout`. */
const AEDES_CONNECT_TIMEOUT = 'connect did not arrive in time';

/** The client's TCP peer address: what the login throttle counts by (aedes is not behind a proxy here). */
function addressOf(client: Client): string {
  return (client.conn as Partial<Socket>).remoteAddress ?? 'unknown';
}

function refusal(message: string, returnCode: number): AuthenticateError {
  return Object.assign<Error, Pick<AuthenticateError, 'returnCode'>>(new Error(message), { returnCode });
}

/**
 * The embedded broker devices connect to — the MQTT adapter behind the device-source port: aedes plus our policy,
 * entered through its hooks — authenticate (device registry), authorizePublish/Subscribe (per-device ACL), published
 * (decode, validate, publish `device.message:<kind>/<channel>`) — and limits aedes lacks, at the socket: connection count and maximum
 * packet size. Commands from the command channel go out on the device's `cmd` topic.
 */
export class DeviceBroker implements DeviceSource {
  readonly name = 'broker';
  readonly transport = 'mqtt';
  private aedes: Aedes | undefined;
  private server: Server | undefined;
  private tlsServer: TlsServer | undefined;
  /** the TLS socket of each client that came in over MQTTS (aedes keeps its own reference as a plain stream) */
  private readonly tlsSockets = new WeakMap<Client, TLSSocket>();
  /** device id → serial of the certificate its live session logged in with */
  private readonly certificateSessions = new Map<string, string>();
  private readonly sessions = new WeakMap<Client, BrokerSession>();
  /** authenticated device id → its message bucket; kept across reconnects so reconnecting refills nothing */
  private readonly buckets = new Map<string, MessageBucket>();
  /** QoS 0 packets dropped over the rate limit in authorizePublish: `ingest` passes them by */
  private readonly rateDropped = new WeakSet<PublishPacket>();
  /** clients whose CONNECT asked for a keepalive above mqtt.maxKeepaliveSec → that keepalive (refused at authenticate) */
  private readonly keepaliveRefused = new WeakMap<Client, number>();
  /** authenticated device id → its current connection (keys come from the registry, so the map is bounded by it) */
  private readonly connected = new Map<string, Client>();
  /** command payloads in flight → their cmdId, so a command aedes does not forward can be reported dropped */
  private readonly commandsInFlight = new WeakMap<Buffer, (reason: DeliveryFailure, detail?: string) => void>();
  private readonly sockets = new Set<Socket>();
  /** sockets whose refusal is counted already: aedes may report several errors for one bad stream */
  private readonly refusalCounted = new WeakSet<Socket>();
  private readonly loginThrottle: LoginThrottle;
  private readonly addressLimits: AddressLimits;
  private readonly logThrottle: LogThrottle;
  /** packets of gated keys, put on the bus before their PUBACK (in authorizePublish): `ingest` must not do it twice */
  private readonly ingestedBeforeAck = new WeakSet<PublishPacket>();
  /** skips aedes' subscription match for messages nobody can be subscribed to (routing-shortcut.ts) */
  private routing: RoutingShortcut | undefined;
  /** skips aedes' stored-subscription lookup for QoS 1 messages no persistent session can be subscribed to */
  private persistenceShortcut: PersistenceShortcut | undefined;
  /** hands device messages nothing can be routed to straight to `ingest`, without aedes' publish steps */
  private publishShortcut: PublishShortcut | undefined;

  constructor(
    private readonly options: BrokerOptions,
    private readonly deps: BrokerDeps,
  ) {
    this.loginThrottle = new LoginThrottle(
      {
        maxFailuresPerDevicePerMinute: options.maxAuthFailuresPerMinute,
        maxFailuresPerAddressPerMinute: options.maxAuthFailuresPerAddressPerMinute,
        maxTrackedKeys: 10_000,
      },
      deps.now,
    );
    this.addressLimits = new AddressLimits(
      {
        maxConnectionsPerAddress: options.maxConnectionsPerAddress,
        maxConnectAttemptsPerAddressPerMinute: options.maxConnectAttemptsPerAddressPerMinute,
        maxTrackedAddresses: Math.max(1_000, options.maxConnections * 2),
      },
      deps.now,
    );
    this.logThrottle = new LogThrottle({ burst: 5, windowMs: 60_000, maxKeys: 10_000 }, deps.now);
  }

  async start(): Promise<void> {
    const aedes = new Aedes({
      connectTimeout: this.options.connectTimeoutMs,
      // 0: the keepalive range is checked in preConnect/authenticate, so the refusal carries a 3.1.1 return code
      // (aedes' own check answers 6, a code MQTT 3.1.1 reserves) and keepalive 0 can be accepted
      keepaliveLimit: 0,
      drainTimeout: this.options.drainTimeoutMs,
      maxTopicLevels: 8,
      queueLimit: 42,
      heartbeatInterval: 60_000,
      preConnect: (client, packet, done) => this.preConnect(client, packet, done),
      authenticate: (client, username, password, done) => void this.authenticate(client, username, password, done),
      authorizePublish: (client, packet, done) => this.authorizePublish(client, packet, done),
      authorizeSubscribe: (client, subscription, done) => this.authorizeSubscribe(client, subscription, done),
      authorizeForward: (client, packet) => this.authorizeForward(client, packet),
      published: (packet, client, done) => this.ingest(packet, client, done),
    });
    // before listen(): aedes subscribes its $SYS filters through the emitter, and the shortcut must see them
    this.routing = installRoutingShortcut(aedes);
    await aedes.listen();
    // after listen(): aedes sets its persistence up there
    this.persistenceShortcut = installPersistenceShortcut(aedes);
    // needs both mirrors: without one, every message takes aedes' own steps
    if (this.routing && this.persistenceShortcut)
      this.publishShortcut = installPublishShortcut(aedes, this.routing, this.persistenceShortcut);
    aedes.on('clientReady', (client) => this.clientReady(client));
    aedes.on('clientDisconnect', (client) => this.clientGone(client));
    // emitted once aedes stored the subscriptions (lib/handlers/subscribe.js completeSubscribe); refused ones have qos 128
    aedes.on('subscribe', (subscriptions, client) =>
      this.subscribed(
        client,
        subscriptions.filter((s) => (s.qos as number) !== 128).map((s) => s.topic),
      ),
    );
    aedes.on('connectionError', (client, error) => this.connectionError(client, error));
    aedes.on('clientError', (client, error) =>
      this.logLimited(`client-error:${client.id}`, 'debug', { deviceId: client.id, err: error.message }, 'client error'),
    );
    this.aedes = aedes;

    try {
      if (this.options.plainListener) {
        const server = createServer((socket) => this.accept(aedes, socket));
        await this.listen(server, this.options.port);
        this.server = server;
        this.deps.log.info({ host: this.options.host, port: this.port }, 'mqtt broker listening');
      }
      const tls = this.options.tls;
      if (tls) {
        const clientCa = this.options.clientCaFile ? await readFile(this.options.clientCaFile).catch(() => undefined) : undefined;
        if (!clientCa && tls.clientCertificates === 'required')
          throw new Error(
            `mqtt.tls.clientCertificates is required but there is no client CA at ${this.options.clientCaFile ?? '(none)'} ` +
              '(run `smartstore-edge ca init`)',
          );
        const tlsServer = createTlsServer(
          {
            cert: await readFile(tls.certFile),
            key: await readSecretFile(tls.keyFile),
            ...(clientCa ? { ca: clientCa, requestCert: true, rejectUnauthorized: tls.clientCertificates === 'required' } : {}),
            minVersion: 'TLSv1.2',
          },
          (socket) => this.accept(aedes, socket),
        );
        // a failed handshake (untrusted or expired certificate, plain MQTT on the TLS port) is a refused connection
        tlsServer.on('tlsClientError', (error, socket) => {
          this.deps.metrics.connectionRejected('tls-handshake');
          this.logLimited(
            'tls-handshake',
            'warn',
            { remoteAddress: socket.remoteAddress, err: error.message },
            'connection refused: TLS handshake failed',
          );
        });
        await this.listen(tlsServer, tls.port);
        this.tlsServer = tlsServer;
        this.deps.log.info(
          { host: this.options.host, port: this.tlsPort, clientCertificates: clientCa ? tls.clientCertificates : 'off' },
          'mqtts listening',
        );
      }
    } catch (error) {
      // the gateway only stops parts that started: close what did start here, or a failed process stays alive
      await this.closeListeners();
      this.aedes = undefined;
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      throw error;
    }
  }

  private async listen(server: Server, port: number): Promise<void> {
    server.maxConnections = this.options.maxConnections;
    server.on('drop', (data) => {
      this.deps.metrics.connectionRejected('too-many-connections');
      this.logLimited(
        'drop',
        'warn',
        { remoteAddress: data?.remoteAddress, maxConnections: this.options.maxConnections },
        'connection refused: too many connections',
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  }

  get tlsPort(): number | undefined {
    return (this.tlsServer?.address() as AddressInfo | null)?.port;
  }

  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? this.options.port;
  }

  /** device messages aedes routed to no subscriber without matching them (undefined: the shortcut is not installed) */
  get unroutedMessages(): number | undefined {
    return this.routing?.shortcuts;
  }

  /** QoS 1 device messages aedes queued for no persistent session without looking them up (undefined: not installed) */
  get unqueuedMessages(): number | undefined {
    return this.persistenceShortcut?.shortcuts;
  }

  /** device messages handed to `ingest` without aedes' publish steps (undefined: the shortcut is not installed) */
  get directlyPublished(): number | undefined {
    return this.publishShortcut?.shortcuts;
  }

  get connectedDevices(): number {
    return this.connected.size;
  }

  get isListening(): boolean {
    return this.server?.listening ?? false;
  }

  health(): HealthCheck {
    return { ok: this.isListening, connectedDevices: this.connected.size };
  }

  /** A device connected to this broker gets its commands here. */
  carries(deviceId: string): boolean {
    return this.connected.has(deviceId);
  }

  /** Sends a command on the device's `cmd` topic (QoS 1). Only the gateway publishes on command topics. */
  deliver(command: OutboundCommand, onDropped: (reason: DeliveryFailure, detail?: string) => void): CommandDelivery {
    const aedes = this.aedes;
    if (!aedes) return { ok: false, reason: 'not-started' };
    const client = this.connected.get(command.deviceId);
    if (!client) return { ok: false, reason: 'not-connected' };
    if (client.conn.writableNeedDrain) return { ok: false, reason: 'backed-up', detail: `${client.conn.writableLength} bytes unread` };
    const payload = Buffer.from(JSON.stringify(command.payload));
    this.commandsInFlight.set(payload, onDropped);
    const packet: PublishPacket = {
      cmd: 'publish',
      topic: commandTopic(this.options.storeId, command.kind, command.deviceId),
      payload,
      qos: 1,
      retain: false,
      dup: false,
    };
    aedes.publish(packet, (error) => {
      if (error) onDropped('transport-error', error.message);
    });
    return { ok: true };
  }

  disconnect(deviceId: string, reason: string): boolean {
    const client = this.connected.get(deviceId);
    if (!client) return false;
    this.deps.log.info({ deviceId, reason }, 'closing device connection');
    client.close();
    return true;
  }

  async stop(): Promise<void> {
    const aedes = this.aedes;
    this.aedes = undefined;
    const closed = this.closeListeners();
    if (aedes) await new Promise<void>((resolve) => aedes.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  /** Stops accepting on both listeners; resolves when they have closed (after their sockets are gone). */
  private closeListeners(): Promise<void> {
    const servers = [this.server, this.tlsServer].filter((server): server is Server => server !== undefined);
    this.server = undefined;
    this.tlsServer = undefined;
    return Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve())))).then(() => undefined);
  }

  private accept(aedes: Aedes, socket: Socket): void {
    const address = socket.remoteAddress ?? 'unknown';
    const verdict = this.addressLimits.admit(address);
    if (verdict !== 'accepted') {
      // refused before any byte is parsed: the address's other sockets and every other address are unaffected
      this.deps.metrics.connectionRejected(verdict);
      this.logLimited(
        `address:${verdict}`,
        'warn',
        {
          remoteAddress: address,
          open: this.addressLimits.openFrom(address),
          limit:
            verdict === 'too-many-from-address'
              ? this.options.maxConnectionsPerAddress
              : this.options.maxConnectAttemptsPerAddressPerMinute,
        },
        verdict === 'too-many-from-address'
          ? 'connection refused: too many connections from this address'
          : 'connection refused: too many connection attempts from this address',
      );
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    socket.setNoDelay(true);
    const client = aedes.handle(socket);
    this.gateReading(socket, client);
    socket.once('close', () => {
      this.sockets.delete(socket);
      this.addressLimits.closed(address);
      this.clientGone(client);
    });
    if (socket instanceof TLSSocket) this.tlsSockets.set(client, socket);
    guardSocketFrames(socket, this.options.maxPacketBytes, (violation) => {
      this.refusalCounted.add(socket);
      const reason: ConnectionRejectReason = violation.reason === 'packet-too-large' ? 'packet-too-large' : 'protocol-error';
      this.deps.metrics.connectionRejected(reason);
      // the client id is known when the frame came after CONNECT; it is shown, never used as a key
      const clientId = typeof client?.id === 'string' ? client.id.slice(0, 64) : undefined;
      this.logLimited(
        `frame:${violation.reason}`,
        'warn',
        {
          remoteAddress: socket.remoteAddress,
          ...(clientId ? { clientId } : {}),
          ...violation,
          maxPacketBytes: this.options.maxPacketBytes,
        },
        'connection closed: bad MQTT frame',
      );
    });
  }

  /**
   * Makes a device's read hold (ReadHold) hold its socket. aedes reads the next chunk when every packet of the last one
   * is done, and also on every 'readable' event even while packets are in flight (lib/client.js nextBatch): a flooding
   * socket then feeds it chunk after chunk — tens of them per event-loop turn — and every other device waits (measured:
   * 100 ms turns, kiosk alerts 50–400 ms late). Its 'readable' listener is put behind one that skips the event while
   * the device is held; the held packet's `done` reads on when the hold ends. Unread bytes stay in the socket buffer
   * and TCP pushes back on the device. Without aedes' listener where expected (another aedes version) nothing changes.
   */
  private gateReading(socket: Socket, client: Client): void {
    const nextBatch = (client as unknown as { _nextBatch?: unknown })._nextBatch;
    if (typeof nextBatch !== 'function' || !socket.listeners('readable').includes(nextBatch)) return;
    const readOn = nextBatch as () => void;
    socket.removeListener('readable', readOn);
    socket.on('readable', () => {
      if (this.sessions.get(client)?.readHold === undefined) readOn();
    });
  }

  private async authenticate(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
    done: (error: AuthenticateError | null, success: boolean | null) => void,
  ): Promise<void> {
    const reject = (reason: ConnectionRejectReason, returnCode: number, message: string) => {
      this.deps.metrics.connectionRejected(reason);
      // keyed by reason only: the username is unauthenticated input and must not grow the throttle's map
      const fields = { deviceId: username?.slice(0, 64), clientId: client.id?.slice(0, 64), remoteAddress: addressOf(client), reason };
      this.logLimited(`auth:${reason}`, 'warn', fields, 'connection refused');
      done(refusal(message, returnCode), false);
    };
    const keepaliveSec = this.keepaliveRefused.get(client);
    if (keepaliveSec !== undefined) {
      return reject(
        'keepalive',
        RC_NOT_AUTHORIZED,
        `keepalive ${keepaliveSec} s is above the ${this.options.maxKeepaliveSec} s this gateway accepts`,
      );
    }
    const tlsSocket = this.tlsSockets.get(client);
    const certificate = tlsSocket?.getPeerCertificate();
    if (tlsSocket && certificate && certificate.serialNumber)
      return this.authenticateByCertificate(client, tlsSocket, certificate, username, reject, done);
    if (!username || !password || password.length === 0)
      return reject('no-credentials', RC_BAD_CREDENTIALS, 'username and password required');
    // checked before the id becomes a key of any map (throttle, hashing queue, log throttle)
    if (!isValidDeviceId(username)) return reject('bad-client-id', RC_IDENTIFIER_REJECTED, 'device id does not match the id pattern');
    if (client.id !== username) return reject('client-id-mismatch', RC_IDENTIFIER_REJECTED, 'client id must equal the device id');
    // an id that is not registered never reaches the throttle: otherwise made-up ids could flush real devices' entries
    if (!this.deps.registry.get(username)) return reject('unknown-device', RC_BAD_CREDENTIALS, 'not authorized');
    const secret = password.toString('utf8');
    // Failures count per client address (and device id within it): a guesser elsewhere never refuses the real device.
    // Behind the guesser's own address (a shared NAT) a secret this gateway has verified before (a cheap fingerprint
    // check, no scrypt) still passes the throttle.
    const address = addressOf(client);
    if (this.loginThrottle.isBlocked(address, username) && !this.deps.registry.isRememberedSecret(username, secret)) {
      return reject('too-many-failures', RC_NOT_AUTHORIZED, 'too many failed logins');
    }
    this.loginThrottle.begin(address, username);
    let result;
    try {
      result = await this.deps.registry.verify(username, secret);
    } catch (error) {
      this.deps.log.error({ err: error, deviceId: username }, 'device verification failed');
      return reject('protocol-error', RC_NOT_AUTHORIZED, 'verification failed');
    } finally {
      this.loginThrottle.end(address, username);
    }
    if (!result.ok) {
      // a disabled device retrying is no guess at its secret: counted, it would stay locked out after store IT enables it
      if (result.reason !== 'disabled') this.loginThrottle.recordFailure(address, username);
      return reject(result.reason, result.reason === 'disabled' ? RC_NOT_AUTHORIZED : RC_BAD_CREDENTIALS, 'not authorized');
    }
    this.loginThrottle.recordSuccess(address, username);
    this.certificateSessions.delete(username);
    this.sessions.set(client, this.newSession(result.device.kind, result.device.id));
    done(null, true);
  }

  /**
   * A device certificate instead of a secret: issued by the trusted CA (TLS verified it, expiry included), not revoked,
   * its CN the device id (= client id = username when one is sent), and the device registered and enabled.
   */
  private authenticateByCertificate(
    client: Client,
    socket: TLSSocket,
    certificate: { serialNumber: string; subject?: { CN?: string | string[] } },
    username: string | undefined,
    reject: (reason: ConnectionRejectReason, returnCode: number, message: string) => void,
    done: (error: AuthenticateError | null, success: boolean | null) => void,
  ): void {
    if (!socket.authorized)
      return reject('certificate-untrusted', RC_NOT_AUTHORIZED, `client certificate not trusted: ${String(socket.authorizationError)}`);
    const serial = certificate.serialNumber.toLowerCase();
    if (this.deps.revocations?.isRevoked(serial)) return reject('certificate-revoked', RC_NOT_AUTHORIZED, 'client certificate revoked');
    const commonName = certificate.subject?.CN;
    const deviceId = typeof commonName === 'string' ? commonName : undefined;
    if (!deviceId || !isValidDeviceId(deviceId) || client.id !== deviceId || (username !== undefined && username !== deviceId)) {
      return reject('certificate-mismatch', RC_IDENTIFIER_REJECTED, "the certificate is not this device's (CN must equal the client id)");
    }
    const device = this.deps.registry.get(deviceId);
    if (!device) return reject('unknown-device', RC_BAD_CREDENTIALS, 'not authorized');
    if (device.disabled) return reject('disabled', RC_NOT_AUTHORIZED, 'not authorized');
    this.certificateSessions.set(deviceId, serial);
    this.sessions.set(client, this.newSession(device.kind, device.id));
    done(null, true);
  }

  private newSession(kind: DeviceSession['kind'], deviceId: string): BrokerSession {
    let bucket = this.buckets.get(deviceId);
    if (!bucket) {
      bucket = newMessageBucket(this.options.deviceRateLimit, this.deps.now());
      this.buckets.set(deviceId, bucket);
    }
    return Object.assign(createDeviceSession(this.options.storeId, kind, deviceId), {
      bucket,
      rateDroppedPending: 0,
      readHold: undefined,
      admitted: undefined,
      admittedAt: 0,
    });
  }

  /**
   * The keepalive range, before aedes starts its CONNECT series. Keepalive 0 ("none", allowed by MQTT 3.1.1) is held to
   * the longest keepalive accepted: aedes then closes the connection after 1.5 × maxKeepaliveSec without a packet, as
   * for any device, so a dead device is noticed. A longer keepalive is refused in `authenticate` with return code 5.
   */
  private preConnect(client: Client, packet: ConnectPacket, done: (error: Error | null, success: boolean) => void): void {
    const keepaliveSec = packet.keepalive ?? 0;
    if (keepaliveSec === 0) packet.keepalive = this.options.maxKeepaliveSec;
    else if (keepaliveSec > this.options.maxKeepaliveSec) this.keepaliveRefused.set(client, keepaliveSec);
    done(null, true);
  }

  /** Closes the live sessions that logged in with these (just revoked) certificates; returns how many. */
  closeCertificateSessions(serials: readonly string[]): number {
    const revoked = new Set(serials.map((serial) => serial.toLowerCase()));
    let closed = 0;
    for (const [deviceId, serial] of this.certificateSessions) {
      if (!revoked.has(serial)) continue;
      this.certificateSessions.delete(deviceId);
      if (this.disconnect(deviceId, 'certificate revoked')) closed++;
    }
    return closed;
  }

  private authorizePublish(client: Client | null, packet: PublishPacket, done: (error?: Error | null) => void): void {
    const session = client ? this.sessions.get(client) : undefined;
    if (!session) {
      this.deps.metrics.publishRejectedFor('not-authenticated');
      return done(new Error('not authenticated'));
    }
    const key = publishKeyOf(session, packet.topic);
    if (key === undefined) {
      this.deps.metrics.publishRejectedFor('acl');
      this.logLimited(
        `acl-pub:${session.deviceId}`,
        'warn',
        { deviceId: session.deviceId, topic: packet.topic },
        'publish refused by ACL; closing connection',
      );
      return done(new Error(`device ${session.deviceId} may not publish on ${packet.topic}`));
    }
    const now = this.deps.now();
    if (packet.qos > 0) {
      // QoS 1/2 over the limit is paced, not dropped: its acknowledgement waits for a token (aedes reads nothing more
      // of this device meanwhile, so TCP pushes back). A kiosk flushing the backlog it kept while the store's network
      // was down drains at the device's rate instead of being cut off at every message over it.
      const waitMs = msUntilToken(session.bucket, now);
      if (waitMs > 0) return this.paceRateLimited(client as Client, session, packet, waitMs, done);
    }
    const verdict = admitMessage(session.bucket, this.options.deviceRateLimit, now);
    if (verdict !== 'accepted') return this.overRateLimit(session, packet, verdict, done);
    // The gateway keeps device state itself; retained device messages would only pile up in the broker.
    packet.retain = false;
    if (packet.qos === 0) {
      session.admitted = packet;
      session.admittedAt = now;
    }
    // aedes writes a QoS 1 PUBACK right after this hook and before `published` (lib/handlers/publish.js: runSeries of
    // authorizePublish, enqueuePublish; enqueuePublish writes the PubAck, then calls broker.publish → published), so
    // a QoS 1 message whose ack must wait is ingested here and `done` is called when its gate settles. QoS 0 has no
    // ack to hold (and QoS 2 its own duplicate check after this hook): they take the usual path. Shelf readings have
    // no gate: one Map lookup.
    if (packet.qos !== 1) return done(null);
    const gate = this.deps.ackGates?.gateFor(key);
    if (gate === undefined) return done(null);
    this.ingestBeforeAck(session, key, packet, gate, done);
  }

  /**
   * Decodes and publishes a gated message now, then acknowledges it once the gate's promise resolves. If it rejects
   * (the outbox could not make it durable), the PUBLISH fails: aedes closes the connection without a PUBACK and the
   * device sends the message again. An invalid message is acknowledged and dropped, as in `ingest`.
   */
  private ingestBeforeAck(
    session: DeviceSession,
    key: string,
    packet: PublishPacket,
    gate: AckGate,
    done: (error?: Error | null) => void,
  ): void {
    this.ingestedBeforeAck.add(packet);
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    const result = this.deps.decoder.decode(key, session.deviceId, payload, this.deps.now());
    if (!result.ok) {
      this.deps.metrics.messageInvalid(result.reason);
      this.logLimited(
        `invalid:${session.deviceId}`,
        'warn',
        { deviceId: session.deviceId, topic: packet.topic, reason: result.reason, detail: result.detail },
        'invalid device message dropped',
      );
      return done(null);
    }
    this.deps.metrics.messageAccepted(result.message.key);
    publishDeviceMessage(this.deps.bus, result.message);
    let pending: Promise<void> | undefined;
    try {
      pending = gate(result.message);
    } catch (error) {
      pending = Promise.reject(asError(error));
    }
    if (pending === undefined) return done(null);
    pending.then(
      () => done(null),
      (error: unknown) => {
        this.logLimited(
          `ack-held:${session.deviceId}`,
          'warn',
          { deviceId: session.deviceId, topic: packet.topic, err: (error as Error)?.message },
          'message not made durable: no PUBACK, closing connection so the device resends',
        );
        done(new Error(`message from ${session.deviceId} on ${packet.topic} was not made durable`));
      },
    );
  }

  /**
   * A QoS 1/2 PUBLISH that finds the bucket empty: authorized again once a token is due. At most one timer per packet
   * aedes is handling for the client (the packets of one read), so the bound is the read size. A client gone
   * meanwhile is answered with an error (aedes drops it).
   */
  private paceRateLimited(
    client: Client,
    session: BrokerSession,
    packet: PublishPacket,
    waitMs: number,
    done: (error?: Error | null) => void,
  ): void {
    this.deps.metrics.messageRateLimited(packet.qos);
    const { messagesPerSecond } = this.options.deviceRateLimit;
    this.logLimited(
      `rate-paced:${session.deviceId}`,
      'warn',
      { deviceId: session.deviceId, messagesPerSecond },
      'device over its message rate limit: its QoS 1 messages are paced',
    );
    setTimeout(() => {
      if (this.sessions.get(client) !== session) return done(new Error(`device ${session.deviceId} went away while paced`));
      this.authorizePublish(client, packet, done);
    }, waitMs).unref();
  }

  /**
   * A QoS 0 PUBLISH over the device's rate limit (QoS 1 is paced, see paceRateLimited): it promises nothing, so it is
   * dropped (aedes goes on, `ingest` passes it by) and the connection stays. A device over the limit for
   * `disconnectAfterMs` without a pause is flooding: disconnected, one log line.
   */
  private overRateLimit(
    session: BrokerSession,
    packet: PublishPacket,
    verdict: Exclude<RateVerdict, 'accepted'>,
    done: (error?: Error | null) => void,
  ): void {
    this.deps.metrics.messageRateLimited(packet.qos);
    const { deviceId } = session;
    const limit = this.options.deviceRateLimit;
    if (verdict === 'flooding') {
      this.deps.metrics.rateLimitDisconnects.inc();
      const overLimitForMs = session.bucket.lastDropAt - session.bucket.floodStartedAt;
      this.logLimited(
        `flood:${deviceId}`,
        'warn',
        { deviceId, messagesPerSecond: limit.messagesPerSecond, burst: limit.burst, overLimitForMs },
        'device flooding: over its message rate limit, disconnected',
      );
      return done(new Error(`device ${deviceId} kept sending over its rate limit`));
    }
    if (session.bucket.floodStartedAt === session.bucket.lastDropAt) {
      this.logLimited(
        `rate-limited:${deviceId}`,
        'warn',
        { deviceId, messagesPerSecond: limit.messagesPerSecond, burst: limit.burst },
        'device over its message rate limit: dropping its QoS 0 messages',
      );
    }
    session.rateDroppedPending++;
    this.rateDropped.add(packet);
    if (session.readHold) {
      session.readHold.dropped++;
      return done(null);
    }
    session.readHold = { since: this.deps.now(), dropped: 1, release: () => done(null) };
    this.holdReading(session);
  }

  /** Keeps the read hold until the dropped packets are paid for at the device's rate (see ReadHold), then lets go. */
  private holdReading(session: BrokerSession): void {
    const hold = session.readHold;
    if (!hold) return;
    const heldMs = this.deps.now() - hold.since;
    const owedMs = Math.min(READ_HOLD_MAX_MS, (hold.dropped * 1000) / this.options.deviceRateLimit.messagesPerSecond) - heldMs;
    if (owedMs >= 1 && this.aedes) {
      setTimeout(() => this.holdReading(session), Math.ceil(owedMs)).unref();
      return;
    }
    session.readHold = undefined;
    hold.release();
  }

  private authorizeSubscribe(
    client: Client,
    subscription: Subscription,
    done: (error: Error | null, subscription?: Subscription | null) => void,
  ): void {
    const session = this.sessions.get(client);
    if (session && maySubscribe(session, subscription.topic)) return done(null, subscription);
    this.deps.metrics.subscribeRejected.inc();
    this.logLimited(`acl-sub:${client.id}`, 'warn', { deviceId: client.id, topic: subscription.topic }, 'subscription refused by ACL');
    done(null, null);
  }

  /**
   * A client whose socket is backed up (it stopped reading) gets nothing more queued. Every write aedes has to wait on
   * holds one of its delivery slots until the drain timeout, and device messages are delivered through the same slots
   * before `published` ingests them: a few hundred commands piling up for one frozen label would stall every device's
   * messages for `drainTimeoutMs`. The drain timeout then drops the client; what was skipped is logged.
   */
  private authorizeForward(client: Client, packet: AedesPublishPacket): AedesPublishPacket | null {
    if (!client.conn.writableNeedDrain) return packet;
    this.logLimited(
      `backed-up:${client.id}`,
      'warn',
      { deviceId: client.id, topic: packet.topic, bufferedBytes: client.conn.writableLength },
      'client is not reading: message not forwarded',
    );
    const payload = typeof packet.payload === 'string' ? undefined : packet.payload;
    const onDropped = payload ? this.commandsInFlight.get(payload) : undefined;
    if (onDropped) onDropped('backed-up', `${client.conn.writableLength} bytes unread`);
    return null;
  }

  /** The hot path: runs for every accepted PUBLISH. */
  private ingest(packet: PublishPacket, client: Client | null, done: (error?: Error | null) => void): void {
    const session = client ? this.sessions.get(client) : undefined;
    // one integer compare per message unless this device had messages dropped over its rate limit
    if (session && session.rateDroppedPending > 0 && this.rateDropped.delete(packet)) {
      session.rateDroppedPending--;
      return done(null);
    }
    if (session && !(packet.qos === 1 && this.ingestedBeforeAck.has(packet))) {
      const key = publishKeyOf(session, packet.topic);
      if (key !== undefined) {
        const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
        const receivedAt = session.admitted === packet ? session.admittedAt : this.deps.now();
        session.admitted = undefined;
        const result = this.deps.decoder.decode(key, session.deviceId, payload, receivedAt);
        if (result.ok) {
          this.deps.metrics.messageAccepted(result.message.key);
          // subscribers are isolated by the bus: one that throws is counted and logged, the broker goes on
          publishDeviceMessage(this.deps.bus, result.message);
        } else {
          this.deps.metrics.messageInvalid(result.reason);
          this.logLimited(
            `invalid:${session.deviceId}`,
            'warn',
            { deviceId: session.deviceId, topic: packet.topic, reason: result.reason, detail: result.detail },
            'invalid device message dropped',
          );
        }
      }
    }
    done(null);
  }

  /**
   * aedes emits clientReady at the end of its CONNECT series, also for a client it closed meanwhile (a PUBLISH refused
   * right after CONNACK, a socket destroyed while the session was set up): its clientDisconnect has come and gone
   * already, so it must not count. Otherwise the connection counts until its socket closes (`accept`) or aedes
   * unregisters it, whichever comes first — aedes does not always do the latter (a failed takeover can drop the
   * registered client from its table, and it then never emits clientDisconnect for it).
   */
  private clientReady(client: Client): void {
    const session = this.sessions.get(client);
    if (!session) return;
    if (client.closed || (client.conn as Socket).destroyed) return;
    session.ready = true;
    this.connected.set(session.deviceId, client);
    this.deps.log.debug({ deviceId: session.deviceId, kind: session.kind }, 'device connected');
    this.deps.bus.emit('device.connection', {
      deviceId: session.deviceId,
      kind: session.kind,
      source: this.transport,
      connected: true,
      at: this.deps.now(),
    });
  }

  private subscribed(client: Client, topics: string[]): void {
    const session = this.sessions.get(client);
    if (!session?.ready || topics.length === 0) return;
    this.deps.bus.emit('device.subscribed', { deviceId: session.deviceId, kind: session.kind, topics, at: this.deps.now() });
  }

  /** The connection stops counting, once: aedes' clientDisconnect and the socket's close both end here. */
  private clientGone(client: Client): void {
    const session = this.sessions.get(client);
    if (!session || !session.ready) return;
    session.ready = false;
    if (this.connected.get(session.deviceId) === client) this.connected.delete(session.deviceId);
    // a removed device's bucket goes with its last connection (the map stays bounded by the registry)
    if (!this.connected.has(session.deviceId) && !this.deps.registry.get(session.deviceId)) this.buckets.delete(session.deviceId);
    this.deps.log.debug({ deviceId: session.deviceId }, 'device disconnected');
    this.deps.bus.emit('device.connection', {
      deviceId: session.deviceId,
      kind: session.kind,
      source: this.transport,
      connected: false,
      at: this.deps.now(),
    });
  }

  /**
   * Errors of a connection before its CONNECT was accepted. Besides CONNACK refusals (errorCode) these are bytes the
   * MQTT parser refused (an HTTP request, a TLS hello, a malformed CONNECT, a PUBLISH before CONNECT): protocol errors
   * too. Counted once per socket — aedes keeps parsing after an error and the frame guard may have counted it first.
   * A socket that sent no CONNECT in time (slowloris) is counted as `connect-timeout`; socket errors (`code`) are not
   * refusals of what the client sent.
   */
  private connectionError(client: Client, error: Error & { errorCode?: number; code?: string }): void {
    const socket = client.conn as Socket;
    const reason: ConnectionRejectReason | undefined =
      error.message === AEDES_CONNECT_TIMEOUT
        ? 'connect-timeout'
        : error.errorCode === 1 || error.errorCode === 2 || (error.errorCode === undefined && error.code === undefined)
          ? 'protocol-error'
          : undefined;
    if (reason && !this.refusalCounted.has(socket)) {
      this.refusalCounted.add(socket);
      this.deps.metrics.connectionRejected(reason);
    }
    // keyed without the client id: before CONNECT is accepted it is unauthenticated input
    this.logLimited('conn-error', 'debug', { clientId: client.id?.slice(0, 64), err: error.message }, 'connection error');
  }

  private logLimited(key: string, level: 'debug' | 'warn' | 'error', fields: Record<string, unknown>, message: string): void {
    if (!this.deps.log.isLevelEnabled(level)) return;
    const suppressed = this.logThrottle.admit(key);
    if (suppressed < 0) return;
    this.deps.log[level](suppressed > 0 ? { ...fields, suppressed } : fields, message);
  }
}
