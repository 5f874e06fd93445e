/** What the OPC UA device tests watch of a refrigerated case on the gateway's bus. */
import type { DeviceMessage } from '../../edge/device-registry/messages.js';
import type { TestGateway } from './test-gateway.js';

export type CaseMessage = Extract<DeviceMessage, { key: 'case/telemetry' }>;

/** Records the case's messages and its connection changes from the bus. */
export function recordCase(gw: TestGateway, deviceId = 'case-1') {
  const messages: CaseMessage[] = [];
  const connections: boolean[] = [];
  gw.built.bus.on('device.message:case/telemetry', 'test', (message) => void messages.push(message));
  gw.built.bus.on('device.connection', 'test', (event) => {
    if (event.deviceId === deviceId) connections.push(event.connected);
  });
  return { messages, connections };
}

/** A message that carries both the temperature and the door state. */
export const completeCaseMessage = (m: CaseMessage) => m.payload.temperatureC !== undefined && m.payload.doorOpen !== undefined;
