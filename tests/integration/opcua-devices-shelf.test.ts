/**
 * An industrial shelf controller speaking OPC UA feeds the same low-stock pipeline as an MQTT smart shelf: its facing
 * weight, mapped to `shelf/weight`, drains the facing and opens the same low-stock alert. The controller is a plain
 * node-opcua server written here, not one of ours.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { UAVariable } from 'node-opcua-address-space';
import { OPCUACertificateManager } from 'node-opcua-certificate-manager';
import { OPCUAServer } from 'node-opcua-server';
import { StatusCodes } from 'node-opcua-status-code';
import { DataType, Variant } from 'node-opcua-variant';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

/** A shelf controller with one load cell: `ns=1;s=shelf/facing-1/net-weight`, grams. */
async function startShelfController(pkiDir: string) {
  const server = new OPCUAServer({
    port: 0,
    hostname: '127.0.0.1',
    serverCertificateManager: new OPCUACertificateManager({ rootFolder: pkiDir }),
  });
  await server.initialize();
  const addressSpace = server.engine.addressSpace!;
  const namespace = addressSpace.getOwnNamespace();
  const shelf = namespace.addObject({ organizedBy: addressSpace.rootFolder.objects, browseName: 'ShelfController' });
  const weight: UAVariable = namespace.addVariable({
    componentOf: shelf,
    browseName: 'Facing1NetWeight',
    nodeId: 's=shelf/facing-1/net-weight',
    dataType: 'Double',
    minimumSamplingInterval: 0,
  });
  const set = (grams: number) =>
    weight.setValueFromSource(new Variant({ dataType: DataType.Double, value: grams }), StatusCodes.Good, new Date());
  set(0);
  await server.start();
  // a PLC refreshes its inputs: the same weight, a new timestamp
  let grams = 0;
  const scan = setInterval(() => set(grams), 100);
  return {
    endpointUrl: `opc.tcp://127.0.0.1:${server.endpoints[0]!.port}`,
    setWeight(value: number) {
      grams = value;
      set(value);
    },
    async stop() {
      clearInterval(scan);
      await server.shutdown(0);
    },
  };
}

describe('OPC UA shelf controller', () => {
  let gw: TestGateway | undefined;
  let controller: Awaited<ReturnType<typeof startShelfController>> | undefined;
  let pkiDir: string | undefined;
  afterEach(async () => {
    await gw?.dispose();
    await controller?.stop();
    if (pkiDir) await rm(pkiDir, { recursive: true, force: true });
    gw = undefined;
    controller = undefined;
  });

  it('drains a facing and opens the low-stock alert, as an MQTT shelf would', async () => {
    pkiDir = await mkdtemp(join(tmpdir(), 'smartstore-shelf-controller-'));
    controller = await startShelfController(pkiDir);
    controller.setWeight(10 * 1040); // 10 × oat milk 1 l on shelf-a facing 1 (planogram of the test gateway)
    const device = {
      id: 'shelf-a',
      kind: 'shelf',
      endpointUrl: controller.endpointUrl,
      samplingIntervalMs: 100,
      items: [{ field: 'weightG', facing: 1, nodeId: 'ns=1;s=shelf/facing-1/net-weight' }],
      recovery: { reconnectInitialMs: 100, reconnectMaxMs: 500, recoveryDeadlineMs: 2_000, minSilenceMs: 1_000 },
    };
    gw = await startTestGateway({ overrides: { opcua: { devices: [device] } } });

    await eventually(
      () => (gw!.built.stock.stockIfStarted?.get('shelf-a', 1)?.units === 10 ? true : undefined),
      10_000,
      '10 units from the OPC UA weight',
    );
    controller.setWeight(1 * 1040);
    const alert = await eventually(() => gw!.built.alerts.service.activeByKey('low-stock:shelf-a/1'), 5_000, 'low-stock alert');
    expect(alert).toMatchObject({ kind: 'low-stock', shelfId: 'shelf-a', facing: 1, units: 1 });
    const list = (await (await gw.api('/api/devices')).json()) as { devices: { id: string; kind: string; connected: boolean }[] };
    expect(list.devices).toContainEqual(expect.objectContaining({ id: 'shelf-a', kind: 'shelf', connected: true }));
  });
});
