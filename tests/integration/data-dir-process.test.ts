/**
 * Issue 21 §2 with the gateway as a real process (`smartstore-edge run`, built once by the global setup): the data
 * dir lock dies with the process (SIGKILL, then an immediate restart starts), an old-style lock file naming a live
 * process does not keep the store down, and a WAL deleted under the running process turns its health to `error` (and
 * after a kill, the database without its WAL is refused at the next start).
 */
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { CliIo } from '../../edge/cli/io.js';
import { runCli } from '../../edge/cli/program.js';
import type { HealthReport } from '../../edge/http/health-routes.js';
import { builtGatewayCli } from '../helpers/built-gateway.js';
import { GatewayChild } from '../helpers/gateway-child.js';
import { freePort } from '../helpers/mosquitto.js';
import { eventually } from '../helpers/test-gateway.js';

const TOKEN = 'data-dir-process-token-0123456789';

/** The CLI in this process (backup and restore need no process of their own). */
async function cli(args: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const io: CliIo = {
    env: {},
    cwd: dir,
    stdout: { write: () => true },
    stderr: { write: (text: string) => (stderr += text) },
    onSignal: () => () => undefined,
  };
  return { code: await runCli(args, io), stderr };
}

let dir: string;
let dataDir: string;
let configFile: string;
let httpUrl: string;
let gateway: GatewayChild;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smartstore-data-dir-process-'));
  dataDir = join(dir, 'data');
  await mkdir(dataDir);
  const httpPort = await freePort();
  httpUrl = `http://127.0.0.1:${httpPort}`;
  configFile = join(dir, 'gateway.yaml');
  await writeFile(
    configFile,
    stringify({
      storeId: 'process-store',
      dataDir,
      log: { level: 'warn', pretty: false },
      mqtt: { host: '127.0.0.1', port: 0 },
      http: { host: '127.0.0.1', port: httpPort, apiToken: TOKEN },
      security: { scryptCost: 1024 },
    }),
  );
  gateway = new GatewayChild({ cliFile: builtGatewayCli(), configFile, httpUrl, apiToken: TOKEN });
});

afterEach(async () => {
  await gateway.kill();
  await rm(dir, { recursive: true, force: true });
});

describe('the data dir lock and watch, with the gateway as a process', () => {
  it('SIGKILLed: the next start takes the lock at once; a second run meanwhile is refused naming the pid', async () => {
    await gateway.start();
    const first = gateway.pid;
    const second = spawnSync(process.execPath, [builtGatewayCli(), 'run', '--config', configFile], { encoding: 'utf8', timeout: 30_000 });
    expect(second.status).toBe(1);
    expect(second.stderr).toContain(`data dir is in use by another gateway (pid ${first}, lock ${join(dataDir, 'gateway.lock')})`);
    // a backup works beside the running process; a restore is refused, naming it
    const backupDir = join(dir, 'backup');
    expect(await cli(['backup', '--out', backupDir, '--config', configFile])).toMatchObject({ code: 0 });
    const restore = await cli(['restore', backupDir, '--config', configFile]);
    expect(restore.code).toBe(1);
    expect(restore.stderr).toContain(`refusing to restore while a gateway runs on ${dataDir} (pid ${first}): stop it first`);

    await gateway.kill();
    // no pause, no pid check: the kernel let go of the lock with the process
    await gateway.start();
    expect(gateway.pid).not.toBe(first);
  }, 90_000);

  it('an old-style lock file (text) naming a live process does not keep the store down', async () => {
    // this test runner is alive; before the OS lock, its pid in the file refused every start until someone deleted it
    await writeFile(join(dataDir, 'gateway.lock'), `${process.pid}\n`);
    await gateway.start();
  }, 60_000);

  it('gateway.db-wal deleted under the running process: /api/health says error within seconds', async () => {
    await gateway.start();
    await unlink(join(dataDir, 'gateway.db-wal'));
    const health = await eventually(
      async () => {
        const answer = await fetch(`${httpUrl}/api/health`);
        const body = (await answer.json()) as HealthReport;
        return answer.status === 503 && body.status === 'error' ? body : undefined;
      },
      15_000,
      'health error',
    );
    expect(health.checks.storage).toMatchObject({ ok: false, critical: true });
    expect(gateway.outputTail()).toContain('gateway.db-wal was deleted under the running gateway');

    // killed now, the database file holds what was checkpointed: for a store this young, no table at all. The next
    // start refuses it instead of starting as an empty store (whose audit verify would say "ok: 0 entries")
    await gateway.kill();
    const restart = spawnSync(process.execPath, [builtGatewayCli(), 'run', '--config', configFile], { encoding: 'utf8', timeout: 30_000 });
    expect(restart.status).toBe(1);
    expect(restart.stderr).toContain(`the store database ${join(dataDir, 'gateway.db')} holds no tables`);
    expect(restart.stderr).toContain('--reinit');
  }, 60_000);
});
