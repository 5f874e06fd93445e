import { pino } from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it, vi } from 'vitest';
import { jitteredBackoffMs } from '../../../edge/core/backoff.js';
import { GatewayBus } from '../../../edge/core/events.js';
import type { DeviceRegistry, DeviceSummary } from '../../../edge/device-registry/device-registry.js';
import { OpcuaDeviceDriver, sessionTiming } from '../../../edge/opcua/device-driver.js';
import { sessionBackoff, type OpcuaModule } from '../../../edge/opcua/device-session.js';
import { OpcuaRecoverySchema, type OpcuaDeviceConfig } from '../../../edge/opcua/opcua-devices-config.js';
import { configDefaults } from '../../../edge/core/schema-defaults.js';

/** The two registry calls the driver makes, over a map. */
function fakeRegistry(initial: DeviceSummary[] = [], provisionDisabled = false) {
  const devices = new Map(initial.map((d) => [d.id, d]));
  const provision = vi.fn(async (id: string, kind: DeviceSummary['kind']) => {
    devices.set(id, { id, kind, createdAt: 0, disabled: provisionDisabled, lastSeenAt: null });
    return 'secret';
  });
  return { registry: { get: (id: string) => devices.get(id), provision } as unknown as DeviceRegistry, provision, devices };
}

/** Enough of node-opcua for a driver whose sessions never connect: the shared certificate manager. */
const disposed: unknown[] = [];
const fakeOpcua = async () =>
  ({
    OPCUACertificateManager: class {
      referenceCounter = 0;
      async initialize() {}
      async dispose() {
        disposed.push(this);
      }
    },
  }) as unknown as OpcuaModule;

const CASE: OpcuaDeviceConfig = {
  id: 'case-1',
  kind: 'case',
  endpointUrl: 'opc.tcp://127.0.0.1:1',
  securityMode: 'None',
  securityPolicy: 'None',
  samplingIntervalMs: 1_000,
  items: [{ field: 'temperatureC', nodeId: 'ns=1;s=t' }],
  recovery: configDefaults(OpcuaRecoverySchema),
};

function driver(
  devices: OpcuaDeviceConfig[],
  registry: DeviceRegistry,
  loadOpcua: () => Promise<OpcuaModule>,
  env: NodeJS.ProcessEnv = {},
) {
  return new OpcuaDeviceDriver(
    { devices, dataDir: '/nonexistent' },
    {
      bus: new GatewayBus({ onHandlerError: () => undefined }),
      registry,
      metrics: { registry: new Registry(), messageAccepted: () => undefined },
      now: () => 0,
      log: pino({ level: 'silent' }),
      env,
      loadOpcua,
    },
  );
}

describe('OpcuaDeviceDriver', () => {
  it('does not load node-opcua when no OPC UA device is configured', async () => {
    const loadOpcua = vi.fn(async () => ({}) as OpcuaModule);
    const d = driver([], fakeRegistry().registry, loadOpcua);
    await d.start();
    await d.stop();
    expect(loadOpcua).not.toHaveBeenCalled();
    expect(d.health()).toEqual({ ok: true, devices: 0, connected: 0 });
  });

  it('registers a configured device that is not registered yet, and leaves one registered with another kind alone', async () => {
    // registered disabled, so start() builds the session but does not connect it (the fake module has no client)
    const { registry, provision } = fakeRegistry([{ id: 'shelf-9', kind: 'kiosk', createdAt: 0, disabled: false, lastSeenAt: null }], true);
    const d = driver(
      [{ ...CASE }, { ...CASE, id: 'shelf-9', kind: 'shelf', items: [{ field: 'weightG', facing: 1, nodeId: 'ns=1;s=w' }] }],
      registry,
      fakeOpcua,
    );
    await d.start();
    expect(provision).toHaveBeenCalledTimes(1);
    expect(provision).toHaveBeenCalledWith('case-1', 'case');
    expect(d.health()).toMatchObject({ devices: 1 });
    expect(d.deliver()).toMatchObject({ ok: false, reason: 'not-connected' });
    // the command channel hands it the configured case's commands (connected or not), never the refused id's
    expect([d.carries('case-1'), d.carries('shelf-9'), d.carries('esl-1')]).toEqual([true, false, false]);
    await d.stop();
    expect(disposed.length).toBeGreaterThan(0);
  });

  it('does not connect a device whose password variable is missing', async () => {
    const { registry } = fakeRegistry();
    const d = driver([{ ...CASE, username: 'gw', passwordEnv: 'CASE_PASSWORD' }], registry, fakeOpcua);
    await d.start();
    expect(d.health()).toMatchObject({ devices: 0 });
    expect(d.carries('case-1')).toBe(false);
    await d.stop();
  });
});

describe('reconnect timing', () => {
  it('backs off exponentially up to the ceiling, with half of each delay random', () => {
    const backoff = sessionBackoff({
      ...sessionTiming(configDefaults(OpcuaRecoverySchema)),
      reconnectInitialMs: 500,
      reconnectMaxMs: 30_000,
    });
    expect([0, 1, 2, 3, 10].map((attempt) => jitteredBackoffMs(backoff, attempt, () => 0))).toEqual([250, 500, 1_000, 2_000, 15_000]);
    expect([0, 1, 2, 3, 10].map((attempt) => jitteredBackoffMs(backoff, attempt, () => 1))).toEqual([500, 1_000, 2_000, 4_000, 30_000]);
    expect(jitteredBackoffMs(backoff, 1_000, () => 0.5)).toBe(22_500);
  });

  it("maps a device's `recovery` options (their defaults from the schema) to the session timing", () => {
    expect(sessionTiming(configDefaults(OpcuaRecoverySchema))).toEqual({
      reconnectInitialMs: 500,
      reconnectMaxMs: 30_000,
      recoveryDeadlineMs: 10_000,
      requestTimeoutMs: 10_000,
      watchdogCheckMs: 1_000,
      staleMultiple: 5,
      minSilenceMs: 5_000,
      maxSilentRounds: 3,
    });
    const fast = sessionTiming({
      ...configDefaults(OpcuaRecoverySchema),
      reconnectInitialMs: 100,
      reconnectMaxMs: 50,
      minSilenceMs: 400,
      staleAfterIntervals: 3,
    });
    expect(fast).toMatchObject({ reconnectInitialMs: 100, reconnectMaxMs: 100, minSilenceMs: 400, staleMultiple: 3, watchdogCheckMs: 200 });
  });
});
