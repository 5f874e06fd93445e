/**
 * A bare aedes (no gateway) on a TCP port on 127.0.0.1, for tests of what the gateway puts in front of aedes' internals
 * (edge/broker/*-shortcut.ts): `setUp` installs it at the step aedes needs (the emitter before listen(), the
 * persistence after), `client()` connects mqtt.js clients, `close()` ends them, the broker and the port.
 */
import { createServer, type AddressInfo } from 'node:net';
import { Aedes, type AedesOptions } from 'aedes';
import mqtt from 'mqtt';

export type BareAedes = {
  aedes: Aedes;
  url: string;
  client(clientId: string, options?: { clean?: boolean }): Promise<mqtt.MqttClient>;
  /** a client connected later by the test itself, closed with the others */
  track(client: mqtt.MqttClient): mqtt.MqttClient;
  close(): Promise<void>;
};

export async function startBareAedes(
  options: Partial<AedesOptions> = {},
  setUp: { beforeListen?: (aedes: Aedes) => void; afterListen?: (aedes: Aedes) => void } = {},
): Promise<BareAedes> {
  const aedes = new Aedes(options);
  setUp.beforeListen?.(aedes);
  await aedes.listen();
  setUp.afterListen?.(aedes);
  const server = createServer(aedes.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clients: mqtt.MqttClient[] = [];
  const track = (client: mqtt.MqttClient) => {
    clients.push(client);
    return client;
  };
  return {
    aedes,
    url,
    track,
    client: async (clientId, { clean = true } = {}) =>
      track(await mqtt.connectAsync(url, { clientId, clean, reconnectPeriod: 0, protocolVersion: 4 })),
    close: async () => {
      await Promise.all(clients.splice(0).map((client) => client.endAsync(true)));
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
