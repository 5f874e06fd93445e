/**
 * `npm run bench`: the benchmark suite of issue 8, one command, one table.
 *
 *   1 telemetry ingest (gateway vs bare aedes vs mosquitto, QoS 0 and 1)
 *   2 shelf drop → alert on the live stream, under background telemetry
 *   3 memory per connected device
 *   4 cold start of a big store
 *   5 HQ relay: durable outbox vs single-row commits, a backlog drained to Mosquitto, device → HQ latency
 *   6 OPC UA: updates delivered to an OPC UA subscriber vs MQTT, start-up with and without the OPC UA server
 *   7 labels: a price campaign to 50,000 labels behind 20 MQTT access points vs raw QoS 1 round trips, memory, resume
 *   8 durability: alert ack, kiosk QoS 1 events and campaign create, each answered after its commit, vs the same
 *     gateway's answer without one (issue 21 §1)
 *   9 insight: a seeded store day — its load cells' raw readings and kiosk sales — replayed through the stock pipeline
 *     and the InsightEngine in virtual time, each detector scored against the scenario's ground truth (issue 24), and
 *     the device messages/s through both
 *
 * Environment: BENCH_QUICK=1 for a ~1 minute smoke run; BENCH_ONLY=ingest,latency,memory,cold-start,relay,opcua,labels,durability,insight
 * for a subset.
 * A full run of every benchmark writes bench/RESULTS.md. Every process, port (127.0.0.1 only) and temp dir it opens is
 * closed or removed at the end, also on failure or Ctrl-C (ipc.ts).
 */
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runAlertLatency, type LatencySettings } from './alert-latency.js';
import { runColdStart, type ColdStartSettings } from './cold-start.js';
import { DURABILITY_BENCH_DEFAULT, DURABILITY_BENCH_SMOKE, runDurability } from './durability.js';
import { runIngest, type IngestSettings } from './ingest.js';
import { REPLAY_DEFAULT, REPLAY_SMOKE, replayStoreDay } from './insight-replay.js';
import { cleanupNow } from './ipc.js';
import { runMemory, type MemorySettings } from './memory.js';
import { LABELS_BENCH_DEFAULT, LABELS_BENCH_SMOKE, runLabelsBench } from './labels.js';
import { OPCUA_BENCH_DEFAULT, OPCUA_BENCH_SMOKE, runOpcuaBench } from './opcua.js';
import { runRelayDrainBench, type RelayDrainSettings } from './relay-drain.js';
import { runOutboxBench, type OutboxBenchSettings } from './relay-outbox.js';
import { machineInfo, openFilesLimit } from './procfs.js';
import { buildRows, renderMachine, renderNotes, renderTable, summaryLine, type BenchResults } from './report.js';

const quick = process.env.BENCH_QUICK === '1';
const SECTIONS = ['ingest', 'latency', 'memory', 'cold-start', 'relay', 'opcua', 'labels', 'durability', 'insight'] as const;
type Section = (typeof SECTIONS)[number];
const only = (process.env.BENCH_ONLY ?? '')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
for (const name of only)
  if (!(SECTIONS as readonly string[]).includes(name)) throw new Error(`BENCH_ONLY: unknown benchmark "${name}" (${SECTIONS.join(', ')})`);
const selected = (section: Section) => only.length === 0 || only.includes(section);

const ingestSettings: IngestSettings = {
  shelves: 50,
  facings: 8,
  qos1Window: 16,
  qos0WindowChunks: 2,
  maxOtherCpuPercent: 30,
  ...(quick
    ? { runs: 1, warmupMs: 1_500, measureMs: 2_000, maxRetries: 0 }
    : { runs: 5, warmupMs: 3_000, measureMs: 4_000, maxRetries: 2 }),
};
const latencySettings: LatencySettings = {
  cycles: quick ? 50 : 300,
  backgroundShelves: 40,
  probeShelves: 4,
  facings: 8,
  backgroundRate: 10_000,
};
const memorySettings: MemorySettings = quick
  ? { stages: [250, 500, 750, 1_000], reportStages: [500, 1_000], warmupDevices: 100, workers: 2, concurrencyPerWorker: 100 }
  : { stages: [2_500, 5_000, 7_500, 10_000], reportStages: [5_000, 10_000], warmupDevices: 500, workers: 2, concurrencyPerWorker: 100 };
const coldStartSettings: ColdStartSettings = quick
  ? { labels: 5_000, shelves: 100, facingsPerShelf: 20, historyRows: 50_000, resolvedAlerts: 180, activeAlerts: 20, runs: 1 }
  : { labels: 50_000, shelves: 500, facingsPerShelf: 20, historyRows: 500_000, resolvedAlerts: 1_800, activeAlerts: 200, runs: 3 };

const outboxSettings: OutboxBenchSettings = quick ? { events: 20_000, singleRowEvents: 300 } : { events: 200_000, singleRowEvents: 2_000 };
const drainSettings: RelayDrainSettings = quick
  ? { backlogEvents: 50_000, capRatePerS: 5_000, latencySamples: 50, latencyIntervalMs: 10 }
  : { backlogEvents: 1_000_000, capRatePerS: 5_000, latencySamples: 200, latencyIntervalMs: 10 };
const opcuaSettings = quick ? OPCUA_BENCH_SMOKE : OPCUA_BENCH_DEFAULT;
const labelsSettings = quick ? LABELS_BENCH_SMOKE : LABELS_BENCH_DEFAULT;
const durabilitySettings = quick ? DURABILITY_BENCH_SMOKE : DURABILITY_BENCH_DEFAULT;

const began = performance.now();
const progress = (line: string) => console.log(`[${((performance.now() - began) / 1000).toFixed(0).padStart(4)} s] ${line}`);

/** The installed aedes (its package.json is not exported, so read from the folder the package resolves to). */
function aedesVersion(): string {
  const entry = createRequire(import.meta.url).resolve('aedes');
  const packageJson = join(entry.slice(0, entry.lastIndexOf('/node_modules/aedes/') + '/node_modules/aedes/'.length), 'package.json');
  return (JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string }).version;
}

/** Each worker holds half the devices; the broker holds all of them, plus files of its own. */
function checkOpenFiles(settings: MemorySettings): MemorySettings {
  const limit = openFilesLimit();
  const needed = Math.max(...settings.stages) + settings.warmupDevices + 1_000;
  if (limit >= needed) return settings;
  const fits = settings.stages
    .map((s) => Math.min(s, limit - settings.warmupDevices - 1_000))
    .filter((s, i, all) => s > 0 && all.indexOf(s) === i);
  progress(`ulimit -n is ${limit}: memory stages reduced to ${fits.join(', ')} (raise it with ulimit -n ${needed} for the full run)`);
  return { ...settings, stages: fits, reportStages: fits.filter((s) => settings.reportStages.includes(s)).concat(fits.slice(-1)) };
}

async function main(): Promise<void> {
  const machine = machineInfo(aedesVersion());
  const results: BenchResults = { quick, machine, totalSeconds: 0 };
  progress(renderMachine(machine, results));

  if (selected('ingest')) results.ingest = { settings: ingestSettings, ...(await runIngest(ingestSettings, progress)) };
  if (selected('latency')) results.latency = { settings: latencySettings, result: await runAlertLatency(latencySettings, progress) };
  if (selected('memory')) {
    const settings = checkOpenFiles(memorySettings);
    results.memory = { settings, result: await runMemory(settings, progress) };
  }
  if (selected('cold-start')) results.coldStart = { settings: coldStartSettings, result: await runColdStart(coldStartSettings, progress) };
  if (selected('relay')) {
    const outbox = await runOutboxBench(outboxSettings, progress);
    results.relay = { outboxSettings, outbox, drainSettings, drain: await runRelayDrainBench(drainSettings, progress) };
  }
  if (selected('opcua')) results.opcua = { settings: opcuaSettings, result: await runOpcuaBench(opcuaSettings, progress) };
  if (selected('labels')) results.labels = { settings: labelsSettings, result: await runLabelsBench(labelsSettings, progress) };
  if (selected('durability'))
    results.durability = { settings: durabilitySettings, result: await runDurability(durabilitySettings, progress) };
  if (selected('insight')) {
    const settings = quick ? REPLAY_SMOKE : REPLAY_DEFAULT;
    progress(
      `insight: replaying ${settings.scenario.days} days of ${settings.scenario.facings} facings ` +
        `(raw readings every ${settings.scenario.readingIntervalMs / 1000} s through the stock pipeline)`,
    );
    results.insight = { settings, result: replayStoreDay(settings) };
  }
  results.totalSeconds = (performance.now() - began) / 1000;

  const table = renderTable(buildRows(results));
  const machineLine = renderMachine(machine, results);
  const notes = renderNotes(results);
  console.log(`\n${machineLine}\n\n${table}\n\n${summaryLine(results)}\n\n${notes}\n`);

  if (!quick && only.length === 0) {
    const file = fileURLToPath(new URL('../../bench/RESULTS.md', import.meta.url));
    await writeFile(
      file,
      '# Benchmark results\n\n' +
        'Produced by `npm run bench` (bench/run.ts). Each figure is printed next to its baseline measured in the same run.\n\n' +
        `${machineLine}\n\n${table}\n\n${summaryLine(results)}\n\n## How each figure was measured\n\n${notes}\n`,
    );
    console.log(`written to ${file}`);
  } else {
    console.log('(quick or partial run: bench/RESULTS.md not written)');
  }
}

try {
  await main();
} catch (error) {
  console.error(error);
  process.exitCode = 1;
} finally {
  cleanupNow();
}
