/**
 * Benchmark 4 — cold start of a big store: `labels` electronic shelf labels provisioned, a planogram of
 * shelves × facings (one product per facing, loaded from its YAML file at start as configured in production), alert
 * history and `historyRows` rows of shelf_history. Each run is a fresh process that times buildGateway +
 * gateway.start() until HTTP listens. Baseline in the same run: an empty store (a small planogram, no devices, no
 * history), started the same way. Runs alternate big/empty. The database is in the OS page cache (a process
 * restart, not a machine reboot).
 */
import { join } from 'node:path';
import type { MeasureResult, PrepareParams, PrepareResult } from './cold-start-child.js';
import { ChildHandle, makeTempDir, removeTempDir } from './ipc.js';
import { median } from './stats.js';

export type ColdStartSettings = {
  labels: number;
  shelves: number;
  facingsPerShelf: number;
  historyRows: number;
  resolvedAlerts: number;
  activeAlerts: number;
  runs: number;
};

export type ColdStartResult = {
  prepared: PrepareResult;
  big: MeasureResult[];
  empty: MeasureResult[];
  medianBigMs: number;
  medianEmptyMs: number;
};

async function inChild<T>(method: string, params: unknown): Promise<T> {
  const child = ChildHandle.fork('cold-start-child');
  try {
    return await child.request<T>(method, params, 900_000);
  } finally {
    await child.close(30_000);
  }
}

export async function runColdStart(settings: ColdStartSettings, progress: (line: string) => void): Promise<ColdStartResult> {
  const root = await makeTempDir('cold-start');
  try {
    const big: PrepareParams = {
      dataDir: join(root, 'big'),
      planogramFile: join(root, 'big-planogram.yaml'),
      shelves: settings.shelves,
      facingsPerShelf: settings.facingsPerShelf,
      labels: settings.labels,
      historyRows: settings.historyRows,
      resolvedAlerts: settings.resolvedAlerts,
      activeAlerts: settings.activeAlerts,
    };
    const empty: PrepareParams = {
      dataDir: join(root, 'empty'),
      planogramFile: join(root, 'empty-planogram.yaml'),
      shelves: 4,
      facingsPerShelf: 6,
      labels: 0,
      historyRows: 0,
      resolvedAlerts: 0,
      activeAlerts: 0,
    };
    const prepared = await inChild<PrepareResult>('prepare', big);
    progress(
      `cold start: prepared ${prepared.devices.toLocaleString('en-US')} devices, ${prepared.facings.toLocaleString('en-US')} facings, ` +
        `${prepared.historyRows.toLocaleString('en-US')} history rows, ${prepared.alerts.toLocaleString('en-US')} alerts ` +
        `in ${(prepared.elapsedMs / 1000).toFixed(1)} s`,
    );
    await inChild<PrepareResult>('prepare', empty);

    const bigRuns: MeasureResult[] = [];
    const emptyRuns: MeasureResult[] = [];
    for (let run = 0; run < settings.runs; run++) {
      for (const [name, params, runs] of [
        ['big', big, bigRuns],
        ['empty', empty, emptyRuns],
      ] as const) {
        const result = await inChild<MeasureResult>('measure', { dataDir: params.dataDir, planogramFile: params.planogramFile });
        if (result.healthStatus !== 200) throw new Error(`cold start (${name}): /api/health answered ${result.healthStatus}`);
        runs.push(result);
        const parts = result.parts.map((p) => `${p.part} ${p.atMs.toFixed(0)}`).join(', ');
        progress(
          `cold start run ${run + 1}/${settings.runs} ${name.padEnd(5)} ${result.startMs.toFixed(0)} ms ` +
            `(parts done at: ${parts} ms; import ${result.importMs.toFixed(0)} ms; ${result.devices} devices)`,
        );
      }
    }
    return {
      prepared,
      big: bigRuns,
      empty: emptyRuns,
      medianBigMs: median(bigRuns.map((r) => r.startMs)),
      medianEmptyMs: median(emptyRuns.map((r) => r.startMs)),
    };
  } finally {
    await removeTempDir(root);
  }
}
