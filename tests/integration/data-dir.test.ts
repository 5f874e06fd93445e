/**
 * Issue 21 §2, the data dir protects itself: a lost, emptied or swapped gateway.db next to a store that has run is
 * refused (exit 1, one message naming the file and the way out), `run --reinit` keeps the old files aside and starts a
 * new store, files deleted or replaced under a running gateway turn health to `error`, and the store's files are
 * private (0600 in a 0700 data dir). The CLI runs in-process (its commands take argv, env and streams as parameters).
 */
import { chmod, copyFile, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { EXIT, type CliIo } from '../../edge/cli/io.js';
import { runCli } from '../../edge/cli/program.js';
import type { HealthReport } from '../../edge/http/health-routes.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

let dir: string;
const cleanups: Array<() => Promise<unknown>> = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smartstore-data-dir-test-'));
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

type Captured = { io: CliIo; stdout: () => string; stderr: () => string; signal: () => void };

function capture(): Captured {
  let stdout = '';
  let stderr = '';
  let handler: ((signal: NodeJS.Signals) => void) | undefined;
  const io: CliIo = {
    env: {},
    cwd: dir,
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    onSignal(h) {
      handler = h;
      return () => (handler = undefined);
    },
  };
  return { io, stdout: () => stdout, stderr: () => stderr, signal: () => handler?.('SIGTERM') };
}

const logLines = (stdout: string) =>
  stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { level: number; msg: string } & Record<string, unknown>);

/** loopback, free ports, fast scrypt, info logs (the tests read them) */
const runConfig = (dataDir: string, extra: Record<string, unknown> = {}) => ({
  dataDir,
  log: { level: 'info', pretty: false },
  mqtt: { host: '127.0.0.1', port: 0 },
  http: { host: '127.0.0.1', port: 0 },
  security: { scryptCost: 1024 },
  ...extra,
});

async function configFile(dataDir: string): Promise<string> {
  const file = join(dir, 'config.yaml');
  await writeFile(file, stringify(runConfig(dataDir)));
  return file;
}

/** A store that has run: a gateway started on `dataDir` with a device, then stopped. Returns its store uuid. */
async function storeThatHasRun(dataDir: string): Promise<string> {
  await mkdir(dataDir, { recursive: true });
  const gw = await startTestGateway({ dataDir });
  await gw.built.devices.registry.provision('shelf-01', 'shelf');
  await gw.stop();
  return (JSON.parse(await readFile(join(dataDir, 'store.json'), 'utf8')) as { storeUuid: string }).storeUuid;
}

/** `run` in-process until it logs "gateway running" (or exits); `stop()` signals it and resolves with its exit code. */
async function startRun(args: string[]): Promise<{ captured: Captured; stop: () => Promise<number> }> {
  const captured = capture();
  const exit = runCli(args, captured.io);
  let exited: number | undefined;
  void exit.then((code) => (exited = code));
  await eventually(
    () => {
      if (exited !== undefined) throw new Error(`run exited ${exited}: ${captured.stderr()}`);
      return captured.stdout().includes('"msg":"gateway running"') ? true : undefined;
    },
    20_000,
    'gateway running',
  );
  const stop = async () => {
    captured.signal();
    return exit;
  };
  cleanups.push(stop);
  return { captured, stop };
}

const fileMode = async (file: string) => (await stat(file)).mode & 0o777;

describe('the store knows it was set up', () => {
  it.each([
    ['empty (0 bytes)', 'is empty (0 bytes)', (file: string) => truncate(file, 0)],
    ['missing', 'is missing', (file: string) => unlink(file)],
  ])('a %s gateway.db next to an existing store: run exits 1, one message naming the file and the way out', async (_, says, breakIt) => {
    const dataDir = join(dir, 'store');
    await storeThatHasRun(dataDir);
    const database = join(dataDir, 'gateway.db');
    await breakIt(database);
    const before = (await readdir(dataDir)).sort();

    const run = capture();
    expect(await runCli(['run', '--config', await configFile(dataDir)], run.io)).toBe(EXIT.failed);
    const report = run.stderr();
    expect(report).toContain(`the store database ${database} ${says}`);
    expect(report).toContain('store.json');
    expect(report).toContain('smartstore-edge restore');
    expect(report).toContain('--reinit');
    // one line for the refusal (after the line that says which config and data dir `run` used)
    const refusal = report
      .trim()
      .split('\n')
      .filter((line) => !line.startsWith('config: '));
    expect(refusal).toEqual([expect.stringMatching(/^storage: the store database /)]);
    const fatal = logLines(run.stdout()).filter((line) => line.level === 60);
    expect(fatal).toEqual([expect.objectContaining({ file: database, msg: expect.stringContaining(database) as string })]);
    // nothing was created or changed: the refusal leaves the evidence as it was
    expect((await readdir(dataDir)).sort()).toEqual(before);
  });

  it('store-IT commands do not make an emptied database into a new store either', async () => {
    const dataDir = join(dir, 'store');
    await storeThatHasRun(dataDir);
    await truncate(join(dataDir, 'gateway.db'), 0);
    const config = await configFile(dataDir);
    for (const args of [
      ['device', 'list'],
      ['device', 'add', 'shelf-02', '--kind', 'shelf', '--init'],
      ['audit', 'verify'],
    ]) {
      const run = capture();
      expect(await runCli([...args, '--config', config], run.io)).toBe(EXIT.failed);
      expect(run.stderr()).toContain(`the store database ${join(dataDir, 'gateway.db')} is empty (0 bytes)`);
    }
    expect((await stat(join(dataDir, 'gateway.db'))).size).toBe(0);
  });

  it('a store from before the marker (only its pseudonym key is left beside a lost gateway.db) is refused too', async () => {
    const dataDir = join(dir, 'store');
    await mkdir(dataDir);
    await writeFile(join(dataDir, 'pseudonym.key'), Buffer.alloc(32, 7), { mode: 0o600 });
    const run = capture();
    expect(await runCli(['run', '--config', await configFile(dataDir)], run.io)).toBe(EXIT.failed);
    expect(run.stderr()).toContain(
      `the store database ${join(dataDir, 'gateway.db')} is missing, but this data dir belongs to a store that has run (pseudonym.key)`,
    );
  });

  it("another store's gateway.db is refused, naming both store uuids", async () => {
    const mine = join(dir, 'mine');
    const other = join(dir, 'other');
    const myUuid = await storeThatHasRun(mine);
    const otherUuid = await storeThatHasRun(other);
    await copyFile(join(other, 'gateway.db'), join(mine, 'gateway.db'));
    const run = capture();
    expect(await runCli(['run', '--config', await configFile(mine)], run.io)).toBe(EXIT.failed);
    const database = join(mine, 'gateway.db');
    expect(run.stderr()).toContain(`the store database ${database} belongs to another store`);
    expect(run.stderr()).toContain(`(its store uuid is ${otherUuid}, store.json says ${myUuid})`);
  });

  it('--reinit moves the old files to <dataDir>/aside-<time>/ and starts a new store; without a problem it moves nothing', async () => {
    const dataDir = join(dir, 'store');
    const oldUuid = await storeThatHasRun(dataDir);
    await truncate(join(dataDir, 'gateway.db'), 0);
    const config = await configFile(dataDir);

    const first = await startRun(['run', '--reinit', '--config', config]);
    const asides = (await readdir(dataDir)).filter((name) => name.startsWith('aside-'));
    expect(asides).toHaveLength(1);
    const aside = join(dataDir, asides[0] as string);
    expect((await readdir(aside)).sort()).toEqual(['gateway.db', 'pseudonym.key', 'store.json']);
    expect((await stat(join(aside, 'gateway.db'))).size).toBe(0);
    expect(JSON.parse(await readFile(join(aside, 'store.json'), 'utf8'))).toMatchObject({ storeUuid: oldUuid });
    const newUuid = (JSON.parse(await readFile(join(dataDir, 'store.json'), 'utf8')) as { storeUuid: string }).storeUuid;
    expect(newUuid).not.toBe(oldUuid);
    const reinitLine = logLines(first.captured.stdout()).find((line) => line.msg.startsWith('--reinit: the old store'));
    expect(reinitLine).toMatchObject({ asideDir: aside, reason: 'empty' });
    expect(await first.stop()).toBe(EXIT.ok);

    // an intact store with --reinit (left in a service file by mistake): kept, said so
    const second = await startRun(['run', '--reinit', '--config', config]);
    const messages = logLines(second.captured.stdout()).map((line) => line.msg);
    expect(messages).toContain('--reinit given, but the store is intact: nothing was moved aside');
    expect((await readdir(dataDir)).filter((name) => name.startsWith('aside-'))).toHaveLength(1);
    expect(JSON.parse(await readFile(join(dataDir, 'store.json'), 'utf8'))).toMatchObject({ storeUuid: newUuid });
    expect(await second.stop()).toBe(EXIT.ok);
  });

  it('a store whose store.json was lost (or from before it) gets it back from its database, with the same uuid', async () => {
    const dataDir = join(dir, 'store');
    const uuid = await storeThatHasRun(dataDir);
    await unlink(join(dataDir, 'store.json'));
    const gw = await startTestGateway({ dataDir });
    cleanups.push(() => gw.stop());
    expect(JSON.parse(await readFile(join(dataDir, 'store.json'), 'utf8'))).toMatchObject({ storeUuid: uuid, storeId: 'test-store' });
    expect(gw.built.devices.registry.get('shelf-01')).toBeDefined();
  });
});

describe('files deleted or replaced under a running gateway', () => {
  async function runningGateway(): Promise<{ gw: TestGateway; lines: string[] }> {
    const lines: string[] = [];
    const gw = await startTestGateway({ logLines: lines });
    cleanups.push(() => gw.dispose());
    return { gw, lines };
  }

  async function healthError(gw: TestGateway): Promise<HealthReport> {
    return eventually(
      async () => {
        const response = await gw.api('/api/health');
        const body = (await response.json()) as HealthReport;
        return response.status === 503 && body.status === 'error' ? body : undefined;
      },
      15_000,
      'health to say error',
    );
  }

  const fatalLines = (lines: string[]) =>
    lines.map((line) => JSON.parse(line) as { level: number; msg: string; component?: string }).filter((line) => line.level === 60);

  it('gateway.db-wal deleted: health turns error within seconds, with one critical log line', async () => {
    const { gw, lines } = await runningGateway();
    expect((await gw.api('/api/health')).status).toBe(200);
    await unlink(join(gw.dataDir, 'gateway.db-wal'));
    const health = await healthError(gw);
    const deleted = expect.stringContaining('gateway.db-wal was deleted under the running gateway') as string;
    expect(health.checks.storage).toMatchObject({ ok: false, critical: true, error: deleted });
    expect(fatalLines(lines)).toEqual([expect.objectContaining({ component: 'storage', msg: deleted })]);
  });

  it('gateway.db replaced (and its WAL deleted): health turns error within seconds, with one critical log line', async () => {
    const { gw, lines } = await runningGateway();
    const database = join(gw.dataDir, 'gateway.db');
    await copyFile(database, `${database}.copy`);
    await unlink(`${database}-wal`);
    await rename(`${database}.copy`, database);
    const health = await healthError(gw);
    expect(health.checks.storage?.error).toMatch(/gateway\.db(-wal)? was (replaced|deleted) under the running gateway/);
    expect(fatalLines(lines)).toHaveLength(1);
  });
});

describe('database and key files are private', () => {
  it('a fresh start: gateway.db, its WAL and shm, the relay outbox, the key and store.json are 0600 in a 0700 data dir', async () => {
    const dataDir = join(dir, 'new', 'store');
    const config = join(dir, 'hq.yaml');
    await writeFile(config, stringify(runConfig(dataDir, { hq: { enabled: true, url: 'mqtt://127.0.0.1:1' } })));
    const run = await startRun(['run', '--config', config]);
    expect(await fileMode(dataDir)).toBe(0o700);
    const files = ['gateway.db', 'gateway.db-wal', 'gateway.db-shm', 'relay-outbox.db', 'relay-outbox.db-wal', 'pseudonym.key'];
    files.push('store.json');
    for (const name of files) {
      expect([name, await fileMode(join(dataDir, name))]).toEqual([name, 0o600]);
    }
    const warnings = logLines(run.captured.stdout())
      .filter((line) => line.level >= 40)
      .map((line) => line.msg);
    expect(warnings).not.toContainEqual(expect.stringContaining('data dir is open'));
    expect(await run.stop()).toBe(EXIT.ok);
  });

  it('an existing store with 0644 database files gets them 0600 at start; its open data dir is named in a warning', async () => {
    const dataDir = join(dir, 'store');
    await storeThatHasRun(dataDir);
    await chmod(join(dataDir, 'gateway.db'), 0o644);
    await chmod(dataDir, 0o755);
    const lines: string[] = [];
    const gw = await startTestGateway({ dataDir, logLines: lines });
    cleanups.push(() => gw.stop());
    expect(await fileMode(join(dataDir, 'gateway.db'))).toBe(0o600);
    expect(await fileMode(dataDir)).toBe(0o755);
    const warnings = lines.map((line) => JSON.parse(line) as { level: number; msg: string }).filter((line) => line.level === 40);
    expect(warnings.map((line) => line.msg)).toContain(`the data dir is open to other users (mode 755): chmod 700 ${dataDir}`);
  });
});
