/**
 * Benchmark 3 — memory per connected device: RSS of the broker process with N idle devices connected, minus its RSS
 * before any device connected, divided by N; gateway vs bare aedes vs mosquitto, each in a fresh process.
 *
 * A device is an mqtt.js client (in two load workers, bounded connect concurrency) that CONNECTs with its id and
 * secret (keepalive 60 s), SUBSCRIBEs to its own command topic at QoS 1 — what an electronic shelf label does — and
 * idles. Gateway devices are provisioned (scrypt N = 1024) before the baseline is taken, so the delta is what a
 * *connection* costs, not what a registered device costs. Before the baseline, `warmupDevices` other devices connect
 * and leave again. Node brokers are garbage-collected before each reading.
 */
import { join } from 'node:path';
import {
  startAedesBroker,
  startGatewayBroker,
  startMosquittoBroker,
  type BrokerName,
  type BrokerUnderTest,
  type NodeBroker,
} from './brokers.js';
import { eslId, secretOf, topicOf } from './fixture.js';
import { ChildHandle, makeTempDir, removeTempDir } from './ipc.js';
import type { ConnectIdleResult, IdleDeviceSpec } from './load-worker.js';
import { sleep } from './stats.js';

/** `warmupDevices` connect and disconnect before the baseline, so one-off growth (JIT, heap spaces) is not billed per device. */
export type MemorySettings = {
  /** devices connected at each measurement, ascending */
  stages: number[];
  /** the stages that get a row of their own in the table (the others only feed the slope) */
  reportStages: number[];
  warmupDevices: number;
  workers: number;
  concurrencyPerWorker: number;
};
/** `jsDeltaBytes`: growth of the JS heap + external memory (node brokers only). */
export type MemoryStage = {
  devices: number;
  connected: number;
  rssDeltaBytes: number;
  bytesPerDevice: number;
  jsDeltaBytes: number | null;
  connectMs: number;
};
export type BrokerMemory = {
  baselineRssBytes: number;
  stages: MemoryStage[];
  /** least-squares slope of RSS over the stages, bytes per device: steadier than one stage's delta / devices */
  rssSlopeBytes: number;
  jsSlopeBytes: number | null;
};
export type MemoryResult = Record<BrokerName, BrokerMemory>;

/** Least-squares slope of y over x; the intercept is free, so a one-off jump at the first stage does not tilt it. */
export function slope(points: readonly { x: number; y: number }[]): number {
  const all = points;
  const meanX = all.reduce((s, p) => s + p.x, 0) / all.length;
  const meanY = all.reduce((s, p) => s + p.y, 0) / all.length;
  const sxy = all.reduce((s, p) => s + (p.x - meanX) * (p.y - meanY), 0);
  const sxx = all.reduce((s, p) => s + (p.x - meanX) ** 2, 0);
  return sxy / sxx;
}

function deviceSpec(index: number): IdleDeviceSpec {
  const id = eslId(index);
  return { clientId: id, username: id, password: secretOf(id), subscribe: topicOf('esl', id, 'cmd') };
}

async function measureBroker(broker: BrokerUnderTest, settings: MemorySettings, progress: (line: string) => void): Promise<BrokerMemory> {
  const workers = Array.from({ length: settings.workers }, () => ChildHandle.fork('load-worker'));
  try {
    const maxDevices = Math.max(...settings.stages);
    const warmup = Array.from({ length: settings.warmupDevices }, (_, i) => deviceSpec(maxDevices + i + 1));
    await (workers[0] as ChildHandle).request('connectIdle', {
      port: broker.mqttPort,
      devices: warmup,
      concurrency: settings.concurrencyPerWorker,
      keepaliveSec: 60,
    });
    await (workers[0] as ChildHandle).request('disconnectIdle');
    await sleep(1_000);
    const baseline = await broker.memory();
    const stages: MemoryStage[] = [];
    let connectedSoFar = 0;
    for (const target of settings.stages) {
      const began = performance.now();
      // the new devices of this stage, dealt out to the workers
      const batches = workers.map((_, w) => {
        const specs: IdleDeviceSpec[] = [];
        for (let i = connectedSoFar + 1 + w; i <= target; i += workers.length) specs.push(deviceSpec(i));
        return specs;
      });
      const results = await Promise.all(
        workers.map((worker, w) =>
          worker.request<ConnectIdleResult>(
            'connectIdle',
            { port: broker.mqttPort, devices: batches[w], concurrency: settings.concurrencyPerWorker, keepaliveSec: 60 },
            900_000,
          ),
        ),
      );
      const failed = results.reduce((sum, r) => sum + r.failed, 0);
      if (failed > 0)
        throw new Error(`${broker.name}: ${failed} devices failed to connect (${results.find((r) => r.firstError)?.firstError})`);
      const connectMs = performance.now() - began;
      connectedSoFar = target;
      await sleep(2_000);
      const memory = await broker.memory();
      const statuses = await Promise.all(workers.map((worker) => worker.request<{ connected: number }>('idleStatus')));
      const connected = statuses.reduce((sum, s) => sum + s.connected, 0);
      const rssDeltaBytes = memory.rssBytes - baseline.rssBytes;
      const jsDeltaBytes = memory.jsBytes !== null && baseline.jsBytes !== null ? memory.jsBytes - baseline.jsBytes : null;
      const stage: MemoryStage = {
        devices: target,
        connected,
        rssDeltaBytes,
        bytesPerDevice: rssDeltaBytes / target,
        jsDeltaBytes,
        connectMs,
      };
      stages.push(stage);
      progress(
        `memory ${broker.name.padEnd(9)} ${String(target).padStart(6)} devices (${connected} connected): ` +
          `RSS +${(stage.rssDeltaBytes / 2 ** 20).toFixed(1)} MiB,` +
          ` ${(stage.bytesPerDevice / 1024).toFixed(1)} KiB/device` +
          (jsDeltaBytes === null ? '' : ` (JS heap + external +${(jsDeltaBytes / 2 ** 20).toFixed(1)} MiB)`) +
          `, connected in ${(connectMs / 1000).toFixed(1)} s`,
      );
    }
    const jsPoints = stages.flatMap((s) => (s.jsDeltaBytes === null ? [] : [{ x: s.devices, y: s.jsDeltaBytes }]));
    return {
      baselineRssBytes: baseline.rssBytes,
      stages,
      rssSlopeBytes: slope(stages.map((s) => ({ x: s.devices, y: s.rssDeltaBytes }))),
      jsSlopeBytes: jsPoints.length > 0 ? slope(jsPoints) : null,
    };
  } finally {
    await Promise.all(workers.map((worker) => worker.close(60_000)));
  }
}

export async function runMemory(settings: MemorySettings, progress: (line: string) => void): Promise<MemoryResult> {
  const dataDir = await makeTempDir('memory');
  const maxDevices = Math.max(...settings.stages);
  try {
    const result: Partial<MemoryResult> = {};
    for (const name of ['gateway', 'aedes', 'mosquitto'] as const) {
      let broker: BrokerUnderTest | undefined;
      try {
        if (name === 'gateway') {
          const gateway: NodeBroker = await startGatewayBroker({
            dataDir: join(dataDir, 'gateway'),
            planogramFile: null,
            maxConnections: maxDevices + 2_000,
          });
          broker = gateway;
          await gateway.provision(
            'esl',
            Array.from({ length: maxDevices + settings.warmupDevices }, (_, i) => eslId(i + 1)),
          );
        } else if (name === 'aedes') {
          broker = await startAedesBroker();
        } else {
          broker = await startMosquittoBroker({ counter: false });
        }
        result[name] = await measureBroker(broker, settings, progress);
      } finally {
        await broker?.stop();
      }
    }
    return result as MemoryResult;
  } finally {
    await removeTempDir(dataDir);
  }
}
