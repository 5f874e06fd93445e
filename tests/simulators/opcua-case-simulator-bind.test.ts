import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { OpcuaCaseSimulator } from '../../devices/opcua-case-simulator.js';

/**
 * The sockets listening on `port`, as the kernel lists them (/proc/net/tcp and tcp6: local address in hex, state 0A =
 * LISTEN). Read from the kernel rather than by connecting from another interface: tests keep their traffic on 127.0.0.1.
 */
async function listeningAddresses(port: number): Promise<string[]> {
  const found: string[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(table, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (!local || state !== '0A') continue;
      const [address, portHex] = local.split(':');
      if (address && Number.parseInt(portHex ?? '', 16) === port) found.push(address);
    }
  }
  return found;
}

/** 127.0.0.1 as /proc/net/tcp writes it (little-endian hex), and ::1 and ::ffff:127.0.0.1 as tcp6 does. */
const LOOPBACK = new Set(['0100007F', '00000000000000000000000001000000', '0000000000000000FFFF00000100007F']);

describe.runIf(process.platform === 'linux')('OPC UA case simulator binds loopback only', () => {
  let simulator: OpcuaCaseSimulator | undefined;
  afterEach(async () => simulator?.stop());

  it('listens on 127.0.0.1 and on no other interface (its endpoint has security None)', async () => {
    simulator = new OpcuaCaseSimulator({ port: 0, temperatureC: 3 });
    await simulator.start();
    const addresses = await listeningAddresses(simulator.port);
    expect(addresses.length).toBeGreaterThan(0);
    expect(addresses.filter((address) => !LOOPBACK.has(address))).toEqual([]);
    expect(simulator.endpointUrl).toBe(`opc.tcp://127.0.0.1:${simulator.port}`);
  });
});
