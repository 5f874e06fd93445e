/**
 * OPC UA devices through the gateway: a refrigerated case simulator (node-opcua server on port 0) configured under
 * `opcua.devices`, subscribed to by the driver, seen as a device (registry, liveness) and as `case/telemetry`
 * messages — and back after the controller restarts on the same port, without restarting the gateway.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CASE_BROWSE_PATHS, OpcuaCaseSimulator } from '../../devices/opcua-case-simulator.js';
import type { Alert } from '../../edge/alerts/alerts.js';
import { recordCase } from '../helpers/opcua-case.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

/** Quick recovery settings: a test waits for seconds, a store for half a minute. */
const FAST_RECOVERY = {
  reconnectInitialMs: 100,
  reconnectMaxMs: 500,
  recoveryDeadlineMs: 2_000,
  requestTimeoutMs: 2_000,
  minSilenceMs: 1_000,
};

function caseDevice(endpointUrl: string, extra: Record<string, unknown> = {}) {
  return {
    id: 'case-1',
    kind: 'case',
    endpointUrl,
    samplingIntervalMs: 100,
    items: [
      { field: 'temperatureC', browsePath: CASE_BROWSE_PATHS.temperatureC },
      { field: 'doorOpen', browsePath: CASE_BROWSE_PATHS.doorOpen },
    ],
    recovery: FAST_RECOVERY,
    ...extra,
  };
}

describe('OPC UA devices', () => {
  let gw: TestGateway | undefined;
  let simulator: OpcuaCaseSimulator | undefined;
  afterEach(async () => {
    await gw?.dispose();
    await simulator?.stop();
    gw = undefined;
    simulator = undefined;
  });

  it('subscribes to a configured case: registered, connected, sends case/telemetry; an excursion opens a cold-chain alert', async () => {
    simulator = new OpcuaCaseSimulator({ port: 0, temperatureC: 3, noiseC: 0.05, updateIntervalMs: 100 });
    await simulator.start();
    const coldChain = { maxTemperatureC: 5, aboveForMs: 300, backInRangeForMs: 300, doorOpenMaxMs: 300 };
    gw = await startTestGateway({ overrides: { opcua: { devices: [caseDevice(simulator.endpointUrl, { coldChain })] } } });
    const seen = recordCase(gw);

    const first = await eventually(
      () => seen.messages.find((m) => m.payload.temperatureC !== undefined && m.payload.doorOpen !== undefined),
      10_000,
      'case telemetry',
    );
    expect(first.deviceId).toBe('case-1');
    expect(first.payload.temperatureC).toBeCloseTo(3, 0);
    expect(first.payload.doorOpen).toBe(false);
    expect(await gw.built.metrics.value('smartstore_device_messages_total', { channel: 'case/telemetry' })).toBeGreaterThan(0);

    const list = (await (await gw.api('/api/devices')).json()) as {
      devices: { id: string; kind: string; connected: boolean; lastSeenAt: number | null }[];
    };
    expect(list.devices).toContainEqual(expect.objectContaining({ id: 'case-1', kind: 'case', connected: true }));

    // too warm for longer than aboveForMs: a critical cold-chain alert, through the same alert service as any alert
    simulator.setTemperature(9);
    const alert = await eventually(
      async () => {
        const body = (await (await gw!.api('/api/alerts')).json()) as { alerts: Alert[] };
        return body.alerts.find((a) => a.kind === 'cold-chain');
      },
      5_000,
      'cold-chain alert',
    );
    expect(alert).toMatchObject({ key: 'cold-chain:case-1', severity: 'critical', state: 'open', deviceId: 'case-1' });
    // back in range for backInRangeForMs: resolved by the system
    simulator.setTemperature(3);
    await eventually(
      () => (gw!.built.alerts.service.activeByKey('cold-chain:case-1') === undefined ? true : undefined),
      5_000,
      'cold-chain resolved',
    );

    // the door is a monitored item too: open past doorOpenMaxMs → warning, closed → resolved
    simulator.openDoor();
    await eventually(() => gw!.built.alerts.service.activeByKey('case-door-open:case-1'), 5_000, 'door alert');
    expect(gw.built.alerts.service.activeByKey('case-door-open:case-1')?.severity).toBe('warning');
    simulator.closeDoor();
    await eventually(
      () => (gw!.built.alerts.service.activeByKey('case-door-open:case-1') === undefined ? true : undefined),
      5_000,
      'door alert resolved',
    );
  });

  it('gets values again within 5 s after the case controller restarts on the same port', async () => {
    simulator = new OpcuaCaseSimulator({ port: 0, temperatureC: 3, updateIntervalMs: 100 });
    await simulator.start();
    gw = await startTestGateway({ overrides: { opcua: { devices: [caseDevice(simulator.endpointUrl)] } } });
    const seen = recordCase(gw);
    // both items monitored: every value the case has flows
    await eventually(
      () => seen.messages.find((m) => m.payload.temperatureC !== undefined && m.payload.doorOpen !== undefined),
      10_000,
      'case telemetry',
    );

    await simulator.restart();
    const restartedAt = Date.now();
    simulator.setTemperature(6);
    const after = await eventually(
      () => seen.messages.find((m) => m.receivedAt > restartedAt && (m.payload.temperatureC ?? 0) > 5),
      5_000,
      'values after the restart',
    );
    expect(after.receivedAt - restartedAt).toBeLessThan(5_000);
    // liveness saw it go and come back
    expect(seen.connections).toEqual([true, false, true]);
    expect(gw.built.devices.liveness.isConnected('case-1')).toBe(true);
  });

  it('closes the session of a case store IT disables, and subscribes again when it is enabled', async () => {
    simulator = new OpcuaCaseSimulator({ port: 0, temperatureC: 3, updateIntervalMs: 100 });
    await simulator.start();
    gw = await startTestGateway({ overrides: { opcua: { devices: [caseDevice(simulator.endpointUrl)] } } });
    const seen = recordCase(gw);
    await eventually(() => seen.messages.find((m) => m.payload.doorOpen !== undefined), 10_000, 'case telemetry');

    expect((await gw.api('/api/devices/case-1/disable', { method: 'POST' })).status).toBe(200);
    await eventually(() => (seen.connections.at(-1) === false ? true : undefined), 3_000, 'case disconnected');
    const disabledAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(seen.messages.filter((m) => m.receivedAt > disabledAt)).toEqual([]);

    expect((await gw.api('/api/devices/case-1/enable', { method: 'POST' })).status).toBe(200);
    const enabledAt = Date.now();
    await eventually(() => seen.messages.find((m) => m.receivedAt > enabledAt), 5_000, 'values after enabling');
    expect(seen.connections).toEqual([true, false, true]);
  });
});
