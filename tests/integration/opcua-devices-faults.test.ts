/**
 * The OPC UA driver against what breaks OPC UA clients in stores: the network between gateway and case cut (through a
 * TCP proxy) and healed; a controller that comes back from a firmware update with other NodeIds (found again by
 * browse path). The gateway is never restarted.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CASE_BROWSE_PATHS, OpcuaCaseSimulator } from '../../devices/opcua-case-simulator.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { completeCaseMessage, recordCase } from '../helpers/opcua-case.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

const FAST_RECOVERY = {
  reconnectInitialMs: 100,
  reconnectMaxMs: 500,
  recoveryDeadlineMs: 2_000,
  requestTimeoutMs: 1_500,
  minSilenceMs: 1_000,
};

describe('OPC UA devices: cuts and restarts', () => {
  let gw: TestGateway | undefined;
  let simulator: OpcuaCaseSimulator | undefined;
  let proxy: FaultProxy | undefined;
  afterEach(async () => {
    await gw?.dispose();
    await proxy?.close();
    await simulator?.stop();
    gw = undefined;
    proxy = undefined;
    simulator = undefined;
  });

  it('restores the subscription after a network cut, once the link heals', async () => {
    simulator = new OpcuaCaseSimulator({ port: 0, temperatureC: 3, updateIntervalMs: 100 });
    await simulator.start();
    proxy = await startFaultProxy({ port: simulator.port }, 'opc.tcp');
    const device = {
      id: 'case-1',
      kind: 'case',
      endpointUrl: proxy.url,
      samplingIntervalMs: 100,
      items: [
        { field: 'temperatureC', browsePath: CASE_BROWSE_PATHS.temperatureC },
        { field: 'doorOpen', nodeId: simulator.nodeIds.doorOpen },
      ],
      recovery: FAST_RECOVERY,
    };
    gw = await startTestGateway({ overrides: { opcua: { devices: [device] } } });
    const seen = recordCase(gw);
    await eventually(() => seen.messages.find(completeCaseMessage), 10_000, 'case telemetry');

    proxy.setMode('cut');
    await eventually(() => (seen.connections.at(-1) === false ? true : undefined), 3_000, 'case seen disconnected');
    expect(gw.built.devices.liveness.isConnected('case-1')).toBe(false);
    // while the link is down nothing arrives, whatever the driver tries
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const cutAt = Date.now();
    expect(seen.messages.filter((m) => m.receivedAt > cutAt - 800)).toEqual([]);

    proxy.setMode('pass');
    const healedAt = Date.now();
    simulator.openDoor();
    await eventually(
      () => seen.messages.find((m) => m.receivedAt > healedAt && m.payload.doorOpen === true),
      5_000,
      'values after healing',
    );
    expect(seen.connections.at(-1)).toBe(true);
    expect(gw.built.devices.liveness.isConnected('case-1')).toBe(true);
  });

  it('notices a link that hangs without closing (no RST, no data) and recovers when it passes traffic again', async () => {
    simulator = new OpcuaCaseSimulator({ port: 0, temperatureC: 3, updateIntervalMs: 100 });
    await simulator.start();
    proxy = await startFaultProxy({ port: simulator.port }, 'opc.tcp');
    const device = {
      id: 'case-1',
      kind: 'case',
      endpointUrl: proxy.url,
      samplingIntervalMs: 100,
      items: [
        { field: 'temperatureC', browsePath: CASE_BROWSE_PATHS.temperatureC },
        { field: 'doorOpen', browsePath: CASE_BROWSE_PATHS.doorOpen },
      ],
      recovery: { ...FAST_RECOVERY, minSilenceMs: 300 },
    };
    gw = await startTestGateway({ overrides: { opcua: { devices: [device] } } });
    const seen = recordCase(gw);
    await eventually(() => seen.messages.find(completeCaseMessage), 10_000, 'case telemetry');

    proxy.setMode('black-hole');
    // neither data nor keep-alives for three keep-alive periods: shown down, then rebuilt after the recovery deadline
    await eventually(() => (seen.connections.at(-1) === false ? true : undefined), 6_000, 'case seen disconnected');
    await eventually(
      async () => ((await gw!.built.metrics.value('smartstore_opcua_device_rebuilds_total', { device: 'case-1' })) >= 1 ? true : undefined),
      5_000,
      'connection rebuilt',
    );

    proxy.setMode('pass');
    const healedAt = Date.now();
    simulator.setTemperature(4.5);
    await eventually(
      () => seen.messages.find((m) => m.receivedAt > healedAt && (m.payload.temperatureC ?? 0) > 4),
      8_000,
      'values after the hang',
    );
    expect(seen.connections.at(-1)).toBe(true);
  });

  it('re-creates an item that went silent while the rest of the case kept reporting (staleness watchdog)', async () => {
    simulator = new OpcuaCaseSimulator({ port: 0, temperatureC: 3, updateIntervalMs: 100 });
    await simulator.start();
    const device = {
      id: 'case-1',
      kind: 'case',
      endpointUrl: simulator.endpointUrl,
      samplingIntervalMs: 100,
      items: [
        { field: 'temperatureC', browsePath: CASE_BROWSE_PATHS.temperatureC },
        { field: 'doorOpen', browsePath: CASE_BROWSE_PATHS.doorOpen },
      ],
      recovery: { ...FAST_RECOVERY, staleAfterIntervals: 5, minSilenceMs: 500 },
    };
    gw = await startTestGateway({ overrides: { opcua: { devices: [device] } } });
    const seen = recordCase(gw);
    await eventually(() => seen.messages.find(completeCaseMessage), 10_000, 'case telemetry');
    expect(await gw.built.metrics.value('smartstore_opcua_items_recreated_total')).toBe(0);

    // the door input stalls: the temperature keeps flowing, the door item is silent past 5 × 100 ms (min 500 ms)
    simulator.freeze('doorOpen');
    await eventually(
      async () =>
        (await gw!.built.metrics.value('smartstore_opcua_items_recreated_total', { device: 'case-1', reason: 'stale' })) >= 1
          ? true
          : undefined,
      3_000,
      'stale item re-created',
    );
    // the connection itself was never in doubt
    expect(await gw.built.metrics.value('smartstore_opcua_device_rebuilds_total')).toBe(0);
    expect(seen.connections).toEqual([true]);
    // re-created, the item reports the door's current value again
    simulator.freeze('doorOpen', false);
    simulator.openDoor();
    const since = Date.now();
    await eventually(
      () => seen.messages.find((m) => m.receivedAt >= since && m.payload.doorOpen === true),
      3_000,
      'door after re-creation',
    );
  });

  it('finds the variables again by browse path when the controller comes back with other NodeIds', async () => {
    simulator = new OpcuaCaseSimulator({ port: 0, temperatureC: 3, updateIntervalMs: 100 });
    await simulator.start();
    const device = {
      id: 'case-1',
      kind: 'case',
      endpointUrl: simulator.endpointUrl,
      samplingIntervalMs: 100,
      items: [
        { field: 'temperatureC', browsePath: CASE_BROWSE_PATHS.temperatureC },
        { field: 'doorOpen', browsePath: CASE_BROWSE_PATHS.doorOpen },
      ],
      recovery: FAST_RECOVERY,
    };
    gw = await startTestGateway({ overrides: { opcua: { devices: [device] } } });
    const seen = recordCase(gw);
    await eventually(() => seen.messages.find(completeCaseMessage), 10_000, 'case telemetry');
    const oldTemperatureId = simulator.nodeIds.temperatureC;

    await simulator.restart({ renumber: true });
    expect(simulator.nodeIds.temperatureC).not.toBe(oldTemperatureId);
    const restartedAt = Date.now();
    simulator.setTemperature(7);
    simulator.openDoor();
    const after = await eventually(
      () => seen.messages.find((m) => m.receivedAt > restartedAt && (m.payload.temperatureC ?? 0) > 6 && m.payload.doorOpen === true),
      5_000,
      'values from the renumbered controller',
    );
    expect(after.deviceId).toBe('case-1');
    // found again by path: by re-creating the items (node-unknown, terminated or stale) or by rebuilding the session
    const recreated = await gw.built.metrics.value('smartstore_opcua_items_recreated_total');
    const rebuilt = await gw.built.metrics.value('smartstore_opcua_device_rebuilds_total');
    expect(recreated + rebuilt).toBeGreaterThan(0);
  });
});
