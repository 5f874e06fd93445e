/**
 * The outbox loses no resolved append on SIGKILL: a child process appends as fast as it can and prints each event id
 * once its `append` resolved; the test kills it mid-burst (SIGKILL, no chance to flush), reopens the file and finds
 * every printed id. Three cycles on the same file: seq keeps increasing. The child runs the outbox's own modules,
 * from the tree tests/global-setup.ts built once for the run.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configDefaults } from '../../edge/core/schema-defaults.js';
import { OutboxConfigSchema } from '../../edge/relay/outbox-config.js';
import { SqliteOutbox } from '../../edge/relay/outbox-store.js';
import { RELAY_CLASSES, type OutboxRow } from '../../edge/relay/outbox.js';
import { builtGatewayDir, builtModuleUrl } from '../helpers/built-gateway.js';

const CHILD = () => `
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { SqliteOutbox } from '${builtModuleUrl('edge/relay/outbox-store.ts')}';
import { configDefaults } from '${builtModuleUrl('edge/core/schema-defaults.ts')}';
import { OutboxConfigSchema } from '${builtModuleUrl('edge/relay/outbox-config.ts')}';
const [dataDir, prefix] = process.argv.slice(2);
const config = { ...configDefaults(OutboxConfigSchema), flushIntervalMs: 5 };
const outbox = new SqliteOutbox(dataDir, config, { storeId: 's', newId: randomUUID, now: Date.now, log: pino({ level: 'silent' }) });
await outbox.start();
process.stdout.write('ready\\n');
const classes = ['critical', 'operational', 'telemetry'];
let n = 0;
let resolved = [];
setInterval(() => { if (resolved.length) { process.stdout.write(resolved.join('\\n') + '\\n'); resolved = []; } }, 2).unref();
for (;;) {
  const batch = [];
  for (let i = 0; i < 200; i++) {
    const id = prefix + '-' + n++;
    const time = new Date().toISOString();
    const type = 'store.kiosk.event';
    const event = { specversion: '1.0', id, source: '/stores/s', type, time, datacontenttype: 'application/json', data: { n } };
    batch.push(outbox.append(event, classes[n % 3]).then((row) => resolved.push(row.id)));
  }
  await Promise.all(batch);
}
`;

let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'smartstore-outbox-kill-'));
  // the child script imports the built outbox by URL, and pino from the node_modules linked beside it
  await writeFile(join(work, 'package.json'), JSON.stringify({ type: 'module' }));
  await writeFile(join(work, 'child.js'), CHILD());
  await symlink(join(builtGatewayDir(), 'node_modules'), join(work, 'node_modules'), 'dir');
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** Runs the child until it has printed `atLeast` resolved ids, then SIGKILLs it; returns the ids it printed. */
function appendThenKill(dataDir: string, prefix: string, atLeast: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(work, 'child.js'), dataDir, prefix], { stdio: ['ignore', 'pipe', 'pipe'] });
    let buffered = '';
    const ids: string[] = [];
    let stderr = '';
    let killed = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child printed ${ids.length} ids in 20 s; stderr: ${stderr}`));
    }, 20_000);
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      if (killed) return;
      for (const line of lines) if (line.startsWith(prefix)) ids.push(line);
      if (ids.length >= atLeast) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL' && killed) resolve(ids);
      else reject(new Error(`child exited ${code ?? signal} before the kill; stderr: ${stderr}`));
    });
  });
}

async function allRows(dataDir: string): Promise<{ rows: OutboxRow[]; maxSeq: number }> {
  const outbox = new SqliteOutbox(dataDir, configDefaults(OutboxConfigSchema), {
    storeId: 's',
    newId: randomUUID,
    now: Date.now,
    log: pino({ level: 'silent' }),
  });
  await outbox.start();
  try {
    const rows: OutboxRow[] = [];
    for (const c of RELAY_CLASSES) rows.push(...(await outbox.read(c, 0, 1_000_000)));
    return { rows, maxSeq: outbox.stats(Date.now()).maxSeq };
  } finally {
    await outbox.stop();
  }
}

describe('outbox under SIGKILL', () => {
  it('keeps every append that resolved before the kill, across three kills of the same file', async () => {
    const dataDir = join(work, 'data');
    let lastMaxSeq = 0;
    for (let cycle = 0; cycle < 3; cycle++) {
      const printed = await appendThenKill(dataDir, `c${cycle}`, 3_000);
      const { rows, maxSeq } = await allRows(dataDir);
      const stored = new Set(rows.map((r) => r.id));
      const lost = printed.filter((id) => !stored.has(id));
      expect(lost).toEqual([]);
      expect(new Set(rows.map((r) => r.seq)).size).toBe(rows.length);
      expect(maxSeq).toBeGreaterThan(lastMaxSeq);
      // rows of this cycle got seqs above every earlier cycle's
      const minThisCycle = Math.min(...rows.filter((r) => r.id.startsWith(`c${cycle}-`)).map((r) => r.seq));
      expect(minThisCycle).toBeGreaterThan(lastMaxSeq);
      lastMaxSeq = maxSeq;
    }
  }, 90_000);
});
