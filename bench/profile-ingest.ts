/**
 * Profiles the gateway's hot path: the gateway runs in a broker process started with `node --cpu-prof`, under the
 * ingest benchmark's load (50 shelves flooding valid weight readings), and the profile is summarised for the steady
 * window only (start-up and provisioning left out) — self time per function and package, inclusive time of the
 * gateway's own functions.
 *
 *   npm run build && node dist/bench/profile-ingest.js [--qos 0|1|both] [--seconds 10] [--broker gateway|aedes]
 *
 * `--broker aedes` profiles bare aedes under the same load: what is left when the gateway's hooks are gone.
 *
 * Profiles are kept in bench/profiles/ (git-ignored *.cpuprofile) for Chrome DevTools / speedscope.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startAedesBroker, startGatewayBroker, type NodeBroker } from './brokers.js';
import { renderSummary, summarizeFile } from './cpuprofile-summary.js';
import { STEADY_UNITS, benchPlanogram, secretOf, shelfId, topicOf, writePlanogram } from './fixture.js';
import { ChildHandle, cleanupNow, makeTempDir, removeTempDir } from './ipc.js';
import { sleep } from './stats.js';

const SHELVES = 50;
const FACINGS = 8;

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

async function profileIngest(broker: 'gateway' | 'aedes', qos: 0 | 1, seconds: number, outDir: string): Promise<void> {
  const dataDir = await makeTempDir('profile');
  const name = `ingest-${broker}-qos${qos}.cpuprofile`;
  try {
    const shelfIds = Array.from({ length: SHELVES }, (_, i) => shelfId(i + 1));
    const planogramFile = join(dataDir, 'planogram.yaml');
    await writePlanogram(planogramFile, benchPlanogram(shelfIds, FACINGS));
    const profileFlags = ['--cpu-prof', `--cpu-prof-dir=${outDir}`, `--cpu-prof-name=${name}`];
    const gateway: NodeBroker =
      broker === 'gateway'
        ? await startGatewayBroker({ dataDir: join(dataDir, 'gateway'), planogramFile }, profileFlags)
        : await startAedesBroker(profileFlags);
    let window = { fromUs: 0, toUs: 0 };
    let rate = 0;
    try {
      if (broker === 'gateway') await gateway.provision('shelf', shelfIds);
      const worker = ChildHandle.fork('load-worker');
      try {
        const publishers = shelfIds.map((id) => ({
          clientId: id,
          username: id,
          password: secretOf(id),
          topic: topicOf('shelf', id, 'weight'),
        }));
        await worker.request('connectPublishers', { port: gateway.mqttPort, publishers, facings: FACINGS, units: STEADY_UNITS });
        await worker.request('flood', { qos, window: 16, qos0WindowChunks: 2 });
        await sleep(3_000);
        const first = await gateway.sample();
        await sleep(seconds * 1000);
        const last = await gateway.sample();
        await worker.request('halt');
        window = { fromUs: Number(first.atNs / 1000n), toUs: Number(last.atNs / 1000n) };
        rate = (last.count - first.count) / (Number(last.atNs - first.atNs) / 1e9);
      } finally {
        await worker.close();
      }
    } finally {
      // the profile is written when the process exits
      await gateway.stop();
    }
    const file = join(outDir, name);
    console.log(`\n=== ${broker} under QoS ${qos} ingest load: ${Math.round(rate).toLocaleString('en-US')} msg/s; profile ${file}\n`);
    console.log(renderSummary(await summarizeFile(file, '/dist/edge/', window), 30));
  } finally {
    await removeTempDir(dataDir);
  }
}

try {
  const qosOption = option('--qos', 'both');
  const seconds = Number(option('--seconds', '10'));
  const outDir = fileURLToPath(new URL('../../bench/profiles/', import.meta.url));
  await mkdir(outDir, { recursive: true });
  const broker = option('--broker', 'gateway') === 'aedes' ? 'aedes' : 'gateway';
  for (const qos of qosOption === 'both' ? ([0, 1] as const) : ([Number(qosOption) as 0 | 1] as const))
    await profileIngest(broker, qos, seconds, outDir);
} catch (error) {
  console.error(error);
  process.exitCode = 1;
} finally {
  cleanupNow();
}
