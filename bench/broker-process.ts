/**
 * Child process holding the broker under test, so that it has a core of its own and its RSS is its own:
 * - `gateway`: the full gateway from `buildGateway` (auth, ACL, schema, pipelines, storage, HTTP), log level silent;
 * - `aedes`: bare aedes — `Aedes.createBroker()` + `net.createServer(broker.handle)`, no policy hooks; a `published`
 *   hook only counts (the gateway's consumer sits in that same hook, so both count at the same point).
 * Driven over IPC by the orchestrator (see ipc.ts).
 */
import { createServer, type AddressInfo, type Server } from 'node:net';
import { Aedes } from 'aedes';
import { createLogger } from '../edge/core/logger.js';
import { buildGateway, type StoreGateway } from '../edge/main.js';
import type { DeviceKind } from '../edge/device-registry/topics.js';
import { benchGatewayConfig, secretOf, type BenchGatewaySettings } from './fixture.js';
import { serveRequests } from './ipc.js';
import { rssOf } from './procfs.js';

export type BrokerKind = 'gateway' | 'aedes';
export type StartParams = { kind: 'aedes' } | { kind: 'gateway'; settings: BenchGatewaySettings };
export type StartResult = { mqttPort: number; httpPort: number | null; pid: number };
export type CountResult = { count: number; atNs: string };
/** `jsBytes`: V8 heap in use plus memory outside it held by JS objects (Buffers): what the broker's objects take. */
export type MemoryResult = { rssBytes: number; jsBytes: number };

let gateway: StoreGateway | undefined;
let aedes: Aedes | undefined;
let server: Server | undefined;
let aedesCount = 0;

async function start(params: StartParams): Promise<StartResult> {
  if (params.kind === 'gateway') {
    const config = await benchGatewayConfig(params.settings);
    gateway = buildGateway(config, { log: createLogger({ level: 'silent', pretty: false }) });
    await gateway.gateway.start();
    return { mqttPort: gateway.broker.port, httpPort: gateway.http.port, pid: process.pid };
  }
  const broker = await Aedes.createBroker({
    published: (_packet, client, done) => {
      if (client) aedesCount++;
      done(null);
    },
  });
  aedes = broker;
  // noDelay as in the gateway's accept(), so that PUBACKs are not held back by Nagle in one broker and not the other
  const tcp = createServer({ noDelay: true }, broker.handle);
  await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
  server = tcp;
  return { mqttPort: (tcp.address() as AddressInfo).port, httpPort: null, pid: process.pid };
}

/** Provisions devices through the registry (scrypt N = 1024) in parallel batches; already known ids are skipped. */
async function provision(params: { kind: DeviceKind; ids: string[]; concurrency?: number }): Promise<{ provisioned: number }> {
  const registry = gateway?.devices.registry;
  if (!registry) throw new Error('provision needs the gateway');
  const todo = params.ids.filter((id) => !registry.get(id));
  let next = 0;
  const worker = async () => {
    while (next < todo.length) {
      const id = todo[next++] as string;
      await registry.provision(id, params.kind, secretOf(id));
    }
  };
  await Promise.all(Array.from({ length: params.concurrency ?? 16 }, worker));
  return { provisioned: todo.length };
}

async function count(): Promise<CountResult> {
  const value = gateway ? await gateway.metrics.value('smartstore_device_messages_total') : aedesCount;
  return { count: value, atNs: process.hrtime.bigint().toString() };
}

/** A gateway metric summed over its labels (0 for bare aedes). */
async function metric(params: { name: string }): Promise<number> {
  return gateway ? gateway.metrics.value(params.name) : 0;
}

function memory(): MemoryResult {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    gc();
  }
  const usage = process.memoryUsage();
  return { rssBytes: rssOf('self'), jsBytes: usage.heapUsed + usage.external };
}

function connected(): number {
  return gateway ? gateway.broker.connectedDevices : (aedes?.connectedClients ?? 0);
}

async function stop(): Promise<void> {
  if (gateway) await gateway.gateway.stop();
  if (aedes) {
    const broker = aedes;
    await new Promise<void>((resolve) => broker.close(() => resolve()));
  }
  if (server) {
    const tcp = server;
    await new Promise<void>((resolve) => tcp.close(() => resolve()));
  }
}

serveRequests({ start, provision, count, metric, memory, connected }, stop);
