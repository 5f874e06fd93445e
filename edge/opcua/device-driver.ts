/**
 * The OPC UA adapter behind the device-source port: refrigerated cases and shelf controllers configured in
 * `opcua.devices` are subscribed to (monitored items, never polling reads), their values mapped to the same typed
 * device messages an MQTT device of the kind publishes, with `device.connection` events so liveness treats them like
 * any device.
 *
 * Registry: an OPC UA device has no MQTT secret, but store IT sees and manages every device in one list. At start the
 * driver registers each configured device that is not registered yet (kind from the config; its secret is random and
 * thrown away, so nobody can connect over MQTT as it). `GET /api/devices` then lists it with `connected` and
 * `lastSeenAt` from liveness; disabling it closes its session until it is enabled again; removing it closes it too
 * (it is registered again at the next start while the config still names it).
 *
 * node-opcua takes ~2 s to load: it is imported in `start()`, and only when at least one device is configured.
 */
import { join } from 'node:path';
import type { Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { GatewayBus } from '../core/events.js';
import type { HealthCheck } from '../core/module.js';
import type { DeviceRegistry } from '../device-registry/device-registry.js';
import { publishDeviceMessage, type CommandDelivery, type DeviceSource } from '../device-registry/device-source.js';
import { OpcuaDeviceMetrics } from './device-metrics.js';
import { WATCHDOG_TIMING, DeviceSession, loadOpcuaClient, type OpcuaModule, type SessionTiming } from './device-session.js';
import type { OpcuaDeviceConfig, OpcuaRecoveryConfig } from './opcua-devices-config.js';

export type OpcuaDeviceDriverOptions = {
  devices: readonly OpcuaDeviceConfig[];
  /** the gateway's data dir: the client's certificate lives under it (`opcua-client-pki/`) */
  dataDir: string;
};

export type OpcuaDeviceDriverDeps = {
  bus: GatewayBus;
  registry: DeviceRegistry;
  metrics: { registry: Registry; messageAccepted(key: string): void };
  now: () => number;
  log: Logger;
  /** where `passwordEnv` is looked up */
  env: NodeJS.ProcessEnv;
  random?: () => number;
  /** tests may hand in the module; the gateway imports it lazily */
  loadOpcua?: () => Promise<OpcuaModule>;
};

/** The session timing of a device's `recovery` options (the config loader filled in their defaults). */
export function sessionTiming(recovery: OpcuaRecoveryConfig): SessionTiming {
  const { reconnectInitialMs, minSilenceMs } = recovery;
  return {
    reconnectInitialMs,
    reconnectMaxMs: Math.max(reconnectInitialMs, recovery.reconnectMaxMs),
    recoveryDeadlineMs: recovery.recoveryDeadlineMs,
    requestTimeoutMs: recovery.requestTimeoutMs,
    // looks often enough that an item is re-created at most half a silence limit late
    watchdogCheckMs: Math.min(WATCHDOG_TIMING.watchdogCheckMs, Math.max(50, Math.floor(minSilenceMs / 2))),
    staleMultiple: recovery.staleAfterIntervals,
    minSilenceMs,
    maxSilentRounds: WATCHDOG_TIMING.maxSilentRounds,
  };
}

export class OpcuaDeviceDriver implements DeviceSource {
  readonly name = 'opcua-devices';
  readonly transport = 'opcua';
  /** one per configured device (bounded by the config's maxItems) */
  private readonly sessions = new Map<string, DeviceSession>();
  private metrics: OpcuaDeviceMetrics | undefined;
  private certificateManager: InstanceType<OpcuaModule['OPCUACertificateManager']> | undefined;
  private unsubscribe: (() => void) | undefined;
  private connectedCount = 0;

  constructor(
    private readonly options: OpcuaDeviceDriverOptions,
    private readonly deps: OpcuaDeviceDriverDeps,
  ) {}

  async start(): Promise<void> {
    if (this.options.devices.length === 0) return;
    const opcua = await (this.deps.loadOpcua ?? loadOpcuaClient)();
    this.metrics = new OpcuaDeviceMetrics(this.deps.metrics.registry);
    // one for all devices and attempts: each manager watches its folders, a new one per reconnect would pile watchers up
    const certificateManager = new opcua.OPCUACertificateManager({
      rootFolder: join(this.options.dataDir, 'opcua-client-pki'),
      // a device certificate store IT has not trusted is refused (and filed under rejected/ for them to trust)
      automaticallyAcceptUnknownCertificate: false,
    });
    await certificateManager.initialize();
    this.certificateManager = certificateManager;
    for (const device of this.options.devices) {
      if (!(await this.register(device))) continue;
      const password = device.passwordEnv !== undefined ? this.deps.env[device.passwordEnv] : undefined;
      if (device.passwordEnv !== undefined && password === undefined) {
        this.deps.log.error(
          { deviceId: device.id, passwordEnv: device.passwordEnv },
          'opc ua device password variable is not set; device not connected',
        );
        continue;
      }
      this.sessions.set(device.id, this.session(opcua, device, password, certificateManager));
    }
    this.unsubscribe = this.deps.bus.on('device.lifecycle', 'opcua-devices', (event) => {
      // disabled/removed/re-keyed arrive through disconnect() from the devices room; enabled is ours to act on
      if (event.change === 'enabled') this.sessions.get(event.deviceId)?.start();
    });
    for (const [deviceId, session] of this.sessions) {
      if (this.deps.registry.get(deviceId)?.disabled) this.deps.log.info({ deviceId }, 'opc ua device disabled by store IT; not connected');
      else session.start();
    }
  }

  /** Makes sure the configured device is in the registry; false when an MQTT device already has its id. */
  private async register(device: OpcuaDeviceConfig): Promise<boolean> {
    const known = this.deps.registry.get(device.id);
    if (known && known.kind !== device.kind) {
      this.deps.log.error(
        { deviceId: device.id, kind: device.kind, registeredKind: known.kind },
        'opc ua device id is registered with another kind; device not connected',
      );
      return false;
    }
    if (!known) {
      try {
        // the secret is never shown: the device speaks OPC UA, nobody should connect over MQTT as it
        await this.deps.registry.provision(device.id, device.kind);
      } catch (error) {
        // one device that cannot be registered (the CLI added the id a moment ago) must not stop the gateway
        this.deps.log.error({ deviceId: device.id, err: error }, 'opc ua device not registered; device not connected');
        return false;
      }
      this.deps.log.info({ deviceId: device.id, kind: device.kind, endpointUrl: device.endpointUrl }, 'opc ua device registered');
    }
    return true;
  }

  private session(
    opcua: OpcuaModule,
    device: OpcuaDeviceConfig,
    password: string | undefined,
    certificateManager: InstanceType<OpcuaModule['OPCUACertificateManager']>,
  ): DeviceSession {
    const metrics = this.metrics as OpcuaDeviceMetrics;
    return new DeviceSession({
      opcua,
      device,
      password,
      certificateManager,
      timing: sessionTiming(device.recovery),
      now: this.deps.now,
      random: this.deps.random ?? Math.random,
      log: this.deps.log,
      onMessage: (message) => {
        this.deps.metrics.messageAccepted(message.key);
        publishDeviceMessage(this.deps.bus, message);
      },
      onConnection: (connected) => {
        this.connectedCount += connected ? 1 : -1;
        metrics.connected.set(this.connectedCount);
        this.deps.bus.emit('device.connection', {
          deviceId: device.id,
          kind: device.kind,
          source: this.transport,
          connected,
          at: this.deps.now(),
        });
      },
      onSampleRejected: (reason) => metrics.sampleRejected(reason),
      onItemRecreated: (reason) => metrics.itemRecreated(device.id, reason),
      onRebuild: () => metrics.rebuild(device.id),
    });
  }

  health(): HealthCheck {
    // a case that is off is a device problem (liveness shows it), not the gateway's
    return { ok: true, devices: this.sessions.size, connected: this.connectedCount };
  }

  /** A device configured here is carried here, connected or not: its commands must not go to the MQTT broker. */
  carries(deviceId: string): boolean {
    return this.sessions.has(deviceId);
  }

  /** OPC UA devices take no commands (yet): the command channel reports them dropped. */
  deliver(): CommandDelivery {
    return { ok: false, reason: 'not-connected', detail: 'OPC UA devices take no commands' };
  }

  /** Store IT disabled or removed the device: its session closes and stays closed until it is enabled. */
  disconnect(deviceId: string, reason: string): boolean {
    const session = this.sessions.get(deviceId);
    // a new secret means nothing to a device that has none
    if (!session || reason === 'secret-rotated' || !session.isRunning) return false;
    const wasLive = session.isLive;
    this.deps.log.info({ deviceId, reason }, 'closing opc ua device session');
    void session.stop();
    return wasLive;
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    await Promise.all([...this.sessions.values()].map((session) => session.stop()));
    this.sessions.clear();
    const certificateManager = this.certificateManager;
    this.certificateManager = undefined;
    if (certificateManager) {
      // every client counts itself in and none out: reset the count, or dispose() only decrements it
      certificateManager.referenceCounter = 0;
      await certificateManager.dispose();
    }
  }
}
