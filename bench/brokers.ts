/**
 * The three brokers under test behind one interface, as seen from the orchestrator: the gateway and bare aedes in
 * a forked broker-process each, mosquitto as its own process.
 */
import type { DeviceKind } from '../edge/device-registry/topics.js';
import type { CountResult, MemoryResult, StartParams, StartResult } from './broker-process.js';
import type { BenchGatewaySettings } from './fixture.js';
import { ChildHandle } from './ipc.js';
import { MosquittoBroker, type CounterSample } from './mosquitto.js';
import { cpuSecondsOf } from './procfs.js';
import { sleep } from './stats.js';

export type BrokerName = 'gateway' | 'aedes' | 'mosquitto';

export type BrokerUnderTest = {
  name: BrokerName;
  mqttPort: number;
  httpPort: number | null;
  pid: number;
  /** ingested messages so far and when (CLOCK_MONOTONIC, comparable across processes) */
  sample(): Promise<CounterSample>;
  /** resident memory, and for node brokers the JS heap + external memory; node brokers are garbage-collected first */
  memory(): Promise<{ rssBytes: number; jsBytes: number | null }>;
  cpuSeconds(): number;
  /** waits until the ingest counter stops moving (a flood's socket buffers are drained) */
  settle(): Promise<void>;
  stop(): Promise<void>;
};

async function settleBySampling(sample: () => Promise<CounterSample>, pauseMs: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let previous = await sample();
  for (;;) {
    await sleep(pauseMs);
    const current = await sample();
    if (current.count === previous.count || Date.now() > deadline) return;
    previous = current;
  }
}

export type NodeBroker = BrokerUnderTest & {
  child: ChildHandle;
  provision(kind: DeviceKind, ids: string[]): Promise<number>;
  /** a gateway metric summed over its labels */
  metric(name: string): Promise<number>;
};

async function startNodeBroker(name: 'gateway' | 'aedes', params: StartParams, execArgv: string[] = []): Promise<NodeBroker> {
  const child = ChildHandle.fork('broker-process', { execArgv: ['--expose-gc', ...execArgv] });
  const started = await child.request<StartResult>('start', params);
  const sample = async (): Promise<CounterSample> => {
    const result = await child.request<CountResult>('count');
    return { count: result.count, atNs: BigInt(result.atNs) };
  };
  return {
    name,
    child,
    mqttPort: started.mqttPort,
    httpPort: started.httpPort,
    pid: started.pid,
    sample,
    memory: () => child.request<MemoryResult>('memory'),
    cpuSeconds: () => cpuSecondsOf(started.pid),
    settle: () => settleBySampling(sample, 300),
    async provision(kind, ids) {
      return (await child.request<{ provisioned: number }>('provision', { kind, ids, concurrency: 16 }, 900_000)).provisioned;
    },
    metric: (metric) => child.request<number>('metric', { name: metric }),
    stop: () => child.close(),
  };
}

/** `execArgv`: extra node flags of the broker process, e.g. --cpu-prof. */
export function startGatewayBroker(settings: BenchGatewaySettings, execArgv: string[] = []): Promise<NodeBroker> {
  return startNodeBroker('gateway', { kind: 'gateway', settings }, execArgv);
}

export function startAedesBroker(execArgv: string[] = []): Promise<NodeBroker> {
  return startNodeBroker('aedes', { kind: 'aedes' }, execArgv);
}

export async function startMosquittoBroker(options: { counter: boolean }): Promise<BrokerUnderTest> {
  const broker = await MosquittoBroker.start();
  const counter = options.counter ? await broker.counter() : undefined;
  /**
   * The next $SYS counter value mosquitto publishes (every 2 s: mosquitto 2.0 updates when more than sys_interval
   * = 1 s has passed). It publishes only changed values, so no message within 3 s means the count did not move.
   */
  const nextSample = async (): Promise<CounterSample> => {
    if (!counter) throw new Error('mosquitto was started without its counter');
    const seen = counter.samples.length;
    const deadline = Date.now() + 3_000;
    while (counter.samples.length === seen) {
      if (Date.now() > deadline) return { count: counter.samples.at(-1)?.count ?? 0, atNs: process.hrtime.bigint() };
      await sleep(5);
    }
    return counter.samples.at(-1) as CounterSample;
  };
  return {
    name: 'mosquitto',
    mqttPort: broker.port,
    httpPort: null,
    pid: broker.pid,
    sample: nextSample,
    memory: async () => ({ rssBytes: broker.rssBytes(), jsBytes: null }),
    cpuSeconds: () => cpuSecondsOf(broker.pid),
    // flows are windowed: once the publishers are gone there is no backlog to wait for
    settle: () => sleep(500),
    async stop() {
      await counter?.close();
      await broker.stop();
    },
  };
}
