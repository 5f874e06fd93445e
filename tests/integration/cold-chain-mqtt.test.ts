/**
 * Cold-chain limits belong to the case, not to its transport: one `coldChain.cases` section gives an MQTT case
 * (kind `case`, publishing `case/<id>/telemetry` with MQTT.js) and an OPC UA case (the node-opcua simulator under
 * `opcua.devices`, with no limits of its own there) the same limits, and both get the same cold-chain and door alerts
 * through the same alert service.
 */
import type { MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { CASE_BROWSE_PATHS, OpcuaCaseSimulator } from '../../devices/opcua-case-simulator.js';
import type { Alert } from '../../edge/alerts/alerts.js';
import { completeCaseMessage, recordCase } from '../helpers/opcua-case.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

const LIMITS = { maxTemperatureC: 5, aboveForMs: 300, backInRangeForMs: 300, doorOpenMaxMs: 300 };
const FAST_RECOVERY = {
  reconnectInitialMs: 100,
  reconnectMaxMs: 500,
  recoveryDeadlineMs: 2_000,
  requestTimeoutMs: 2_000,
  minSilenceMs: 1_000,
};
const MQTT_CASE = 'case-mqtt';
const OPCUA_CASE = 'case-opcua';
const TELEMETRY_TOPIC = `store/test-store/case/${MQTT_CASE}/telemetry`;

async function alertsOf(gw: TestGateway, deviceId: string): Promise<Alert[]> {
  const response = await gw.api('/api/alerts?state=active');
  expect(response.status).toBe(200);
  return ((await response.json()) as { alerts: Alert[] }).alerts.filter((alert) => alert.deviceId === deviceId);
}

/** What staff see of an alert, with the case's id taken out so two cases' alerts compare. */
function asSeenByStaff(alert: Alert | undefined, deviceId: string) {
  if (!alert) return undefined;
  const anyCase = (text: string) => text.replace(deviceId, '<case>');
  return { kind: alert.kind, severity: alert.severity, state: alert.state, key: anyCase(alert.key), title: anyCase(alert.title) };
}

describe('cold chain over MQTT and OPC UA from one config section', () => {
  let gw: TestGateway | undefined;
  let simulator: OpcuaCaseSimulator | undefined;
  afterEach(async () => {
    await gw?.dispose();
    await simulator?.stop();
    gw = undefined;
    simulator = undefined;
  });

  it('an MQTT case too warm with its door open gets the same alerts as the OPC UA case, and both resolve alike', async () => {
    simulator = new OpcuaCaseSimulator({ port: 0, temperatureC: 3, noiseC: 0, updateIntervalMs: 100 });
    await simulator.start();
    gw = await startTestGateway({
      overrides: {
        coldChain: {
          cases: [
            { id: MQTT_CASE, ...LIMITS },
            { id: OPCUA_CASE, ...LIMITS },
          ],
        },
        opcua: {
          devices: [
            {
              id: OPCUA_CASE,
              kind: 'case',
              endpointUrl: simulator.endpointUrl,
              samplingIntervalMs: 100,
              items: [
                { field: 'temperatureC', browsePath: CASE_BROWSE_PATHS.temperatureC },
                { field: 'doorOpen', browsePath: CASE_BROWSE_PATHS.doorOpen },
              ],
              recovery: FAST_RECOVERY,
            },
          ],
        },
      },
    });
    expect(gw.built.coldChain.watchedCases).toBe(2);
    const mqttSeen = recordCase(gw, MQTT_CASE);
    const opcuaSeen = recordCase(gw, OPCUA_CASE);
    const mqttCase: MqttClient = await gw.connectDevice(MQTT_CASE, 'case');
    const publish = (telemetry: { temperatureC: number; doorOpen: boolean }) =>
      mqttCase.publishAsync(TELEMETRY_TOPIC, JSON.stringify({ ...telemetry, ts: Date.now() }), { qos: 1 });

    // both cases in range, door closed: the same message on the bus from either transport
    await publish({ temperatureC: 3, doorOpen: false });
    const fromMqtt = await eventually(() => mqttSeen.messages.find((m) => m.deviceId === MQTT_CASE), 5_000, 'MQTT case telemetry');
    const fromOpcua = await eventually(
      () => opcuaSeen.messages.find((m) => m.deviceId === OPCUA_CASE && completeCaseMessage(m)),
      10_000,
      'OPC UA case telemetry',
    );
    expect(fromMqtt.key).toBe(fromOpcua.key);
    expect(Object.keys(fromMqtt.payload).sort()).toEqual(Object.keys(fromOpcua.payload).sort());

    // too warm and the door left open, longer than the limits allow
    simulator.setTemperature(9);
    simulator.openDoor();
    await publish({ temperatureC: 9, doorOpen: true });
    const both = async () => {
      const [mqttAlerts, opcuaAlerts] = await Promise.all([alertsOf(gw!, MQTT_CASE), alertsOf(gw!, OPCUA_CASE)]);
      return mqttAlerts.length === 2 && opcuaAlerts.length === 2 ? { mqttAlerts, opcuaAlerts } : undefined;
    };
    const { mqttAlerts, opcuaAlerts } = await eventually(both, 10_000, 'cold-chain and door alerts of both cases');
    const byKind = (alerts: Alert[], kind: string) => alerts.find((alert) => alert.kind === kind);
    for (const kind of ['cold-chain', 'case-door-open']) {
      expect(asSeenByStaff(byKind(mqttAlerts, kind), MQTT_CASE)).toEqual(asSeenByStaff(byKind(opcuaAlerts, kind), OPCUA_CASE));
    }
    expect(byKind(mqttAlerts, 'cold-chain')).toMatchObject({ key: `cold-chain:${MQTT_CASE}`, severity: 'critical', state: 'open' });
    expect(byKind(mqttAlerts, 'cold-chain')?.title).toBe(`Case ${MQTT_CASE}: 9.0 °C, above its 5 °C limit for 0 s — check the goods`);
    expect(byKind(mqttAlerts, 'case-door-open')).toMatchObject({ key: `case-door-open:${MQTT_CASE}`, severity: 'warning' });

    // back in range, door closed: both resolved by the system, with the same resolutions
    simulator.setTemperature(3);
    simulator.closeDoor();
    await publish({ temperatureC: 3, doorOpen: false });
    const service = gw.built.alerts.service;
    await eventually(
      () => {
        const quiet = (id: string) => !service.activeByKey(`cold-chain:${id}`) && !service.activeByKey(`case-door-open:${id}`);
        return [MQTT_CASE, OPCUA_CASE].every(quiet) ? true : undefined;
      },
      10_000,
      'all four alerts resolved',
    );
    const resolutions = async (id: string) => {
      const opened = mqttAlerts.concat(opcuaAlerts).filter((a) => a.deviceId === id);
      const alerts = await Promise.all(opened.map(async (a) => (await (await gw!.api(`/api/alerts/${a.id}`)).json()) as Alert));
      return alerts.map((a) => `${a.kind}: ${a.resolvedBy} ${a.resolution}`).sort();
    };
    expect(await resolutions(MQTT_CASE)).toEqual(['case-door-open: system door closed', 'cold-chain: system back in range']);
    expect(await resolutions(OPCUA_CASE)).toEqual(await resolutions(MQTT_CASE));
  });
});
