/**
 * Hostile input, issues 8 and 13: broken configuration, a broken planogram, a busy port, a data dir in use, through the
 * real CLI in a child process (`node <built>/edge/cli.js run --config <file>`, built once per run by
 * tests/global-setup.ts). Each refusal is one clear message naming the problem, without a stack trace, and the
 * documented exit code: 2 for bad configuration, 1 for a start that failed.
 * (tests/integration/cli.test.ts runs the same commands in-process, in more detail.)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtGatewayCli } from '../helpers/built-gateway.js';

const CLI = builtGatewayCli();
const RUN_TIMEOUT_MS = 10_000;

type Run = { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string };
type LogLine = { level: number; msg: string; component?: string };

function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('SMARTSTORE_') && !key.startsWith('VITEST')) env[key] = value;
  return { ...env, ...extra };
}

describe('the CLI refuses broken configuration and busy ports clearly', () => {
  let dir: string;
  const children = new Set<ChildProcess>();
  const blockers: Server[] = [];

  /**
   * Runs the CLI until it exits (or `until` matches its output, then SIGTERM); fails the test after RUN_TIMEOUT_MS.
   * `run` gets free ports (0) from the environment unless the test sets them.
   */
  function run(
    args: string[],
    env: Record<string, string> = {},
    until?: RegExp,
    whileRunning?: (child: ChildProcess) => Promise<void>,
  ): Promise<Run> {
    return new Promise((done, fail) => {
      const child = spawn(process.execPath, [CLI, ...args], {
        cwd: dir,
        env: cleanEnv({ ...(args[0] === 'run' ? { SMARTSTORE_MQTT_PORT: '0', SMARTSTORE_HTTP_PORT: '0' } : {}), ...env }),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.add(child);
      let stdout = '';
      let stderr = '';
      let signalled = false;
      child.stdout?.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (until && !signalled && until.test(stdout)) {
          signalled = true; // once: a second signal means "exit now" (130)
          void (whileRunning ?? (async () => undefined))(child).finally(() => child.kill('SIGTERM'));
        }
      });
      child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        fail(new Error(`the CLI did not exit within ${RUN_TIMEOUT_MS} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
      }, RUN_TIMEOUT_MS);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        children.delete(child);
        done({ code, signal, stdout, stderr });
      });
    });
  }

  async function configFile(name: string, yaml: string): Promise<string> {
    const file = join(dir, name);
    await writeFile(file, yaml.includes('dataDir:') ? yaml : `dataDir: ${join(dir, 'data')}\n${yaml}`);
    return file;
  }

  /** Holds a TCP port on all interfaces, as another process would. */
  async function busyPort(): Promise<number> {
    const server = createServer();
    blockers.push(server);
    await new Promise<void>((listening) => server.listen(0, '0.0.0.0', () => listening()));
    return (server.address() as AddressInfo).port;
  }

  const logLines = (stdout: string): LogLine[] =>
    stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as LogLine);

  /** A stack trace has lines like "    at loadConfig (file:///…)". */
  const expectNoStackTrace = (result: Run) => expect(`${result.stdout}\n${result.stderr}`).not.toMatch(/^\s+at /m);
  /** One paragraph: no blank line inside the message. */
  const expectOneParagraph = (message: string) => expect(message.trim()).not.toMatch(/\n\s*\n/);

  /** A bad-configuration refusal: exit 2, the message on stderr, nothing started, nothing logged. */
  function expectBadConfig(result: Run, file: string, issues: (string | RegExp)[]): void {
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(new RegExp(`^invalid configuration \\(${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\):\n`));
    for (const issue of issues) expect(result.stderr).toMatch(issue);
    expect(result.stdout).toBe('');
    expectOneParagraph(result.stderr);
    expectNoStackTrace(result);
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'smartstore-cli-'));
  });
  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    for (const server of blockers) server.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('control: a valid config starts, logs "gateway running", and stops with exit 0 on SIGTERM', async () => {
    const file = await configFile('ok.yaml', 'log: { level: info, pretty: false }\n');
    const result = await run(['run', '--config', file], {}, /"msg":"gateway running"/);
    expect(result.code).toBe(0);
    const messages = logLines(result.stdout).map((l) => l.msg);
    expect(messages).toEqual(expect.arrayContaining(['gateway running', 'stopping']));
    expect(messages.at(-1)).toMatch(/^stopped, \d+ writes flushed$/);
    // people are told which config and data dir it used
    expect(result.stderr).toBe(
      `config: defaults + ${file} (--config) + env SMARTSTORE_HTTP_PORT, SMARTSTORE_MQTT_PORT; data dir: ${join(dir, 'data')}\n`,
    );
    expectNoStackTrace(result);
  });

  it('a second gateway on the same data dir: exit 1, naming the lock file and the pid of the one running', async () => {
    const file = await configFile('lock.yaml', `dataDir: ${join(dir, 'locked-data')}\n`);
    let second: Run | undefined;
    let firstPid: number | undefined;
    const first = run(['run', '--config', file], {}, /"msg":"gateway running"/, async (child) => {
      firstPid = child.pid;
      second = await run(['run', '--config', file]);
    });
    expect((await first).code).toBe(0);
    expect(second?.code).toBe(1);
    const lockFile = join(dir, 'locked-data', 'gateway.lock');
    expect(second?.stderr).toContain(`pid ${firstPid}, lock ${lockFile}`);
    const fatal = logLines(second!.stdout).filter((l) => l.level === 60);
    expect(fatal).toHaveLength(1);
    expect(fatal[0]).toMatchObject({ lockFile, pid: firstPid });
    expectNoStackTrace(second!);
  });

  it('a broken planogram: exit 2, every problem on its own line on stderr, never an escaped line break in the log', async () => {
    const planogram = join(dir, 'broken-planogram.yaml');
    await writeFile(
      planogram,
      [
        'products: [{ sku: "1", name: Tea, unitWeightG: 100 }]',
        'shelves:',
        '  - id: shelf-a',
        '    facings:',
        '      - { facing: 1, sku: "2", capacityUnits: 10, lowStockUnits: 2 }',
        '      - { facing: 1, sku: "1", capacityUnits: 10, lowStockUnits: 4, restockUnits: 3 }',
      ].join('\n'),
    );
    const file = await configFile('broken-planogram.yaml.cfg', `planogram: { file: ${planogram} }\n`);
    const problems = [
      '/shelves/0/facings/0/sku: unknown sku "2" (not in products)',
      '/shelves/0/facings/1/facing: facing 1 of shelf-a is defined twice (first at /shelves/0/facings/0/facing)',
      '/shelves/0/facings/1/restockUnits: must be greater than lowStockUnits (4)',
    ];
    const report = `invalid planogram (${planogram}):\n${problems.map((p) => `  - ${p}\n`).join('')}`;
    const started = await run(['run', '--config', file]);
    expect(started.code).toBe(2);
    expect(started.stderr).toContain(report);
    expect(started.stdout).not.toContain('\\n');
    expect(logLines(started.stdout).filter((l) => l.level === 60)).toEqual([expect.objectContaining({ problems })]);
    const checked = await run(['check-config', file]);
    expect(checked).toMatchObject({ code: 2, stderr: report, stdout: '' });
  });

  it('device commands on a data dir without a database: exit 1 naming its absolute path, nothing created', async () => {
    const file = await configFile('no-db.yaml', `dataDir: ${join(dir, 'empty-data')}\n`);
    const result = await run(['device', 'list', '--config', file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`no gateway database at ${join(dir, 'empty-data', 'gateway.db')}`);
    expect(existsSync(join(dir, 'empty-data', 'gateway.db'))).toBe(false);
    expectNoStackTrace(result);
  });

  it('wrong-type values: exit 2, every problem listed with its path', async () => {
    const file = await configFile(
      'wrong-types.yaml',
      [
        'log: { level: loud, pretty: "yes" }',
        'mqtt: { maxPacketBytes: 16k, maxConnections: -5, drainTimeoutMs: 1500.5 }',
        'http: { apiToken: short }',
        'security: { scryptCost: 1000 }',
      ].join('\n'),
    );
    const result = await run(['run', '--config', file]);
    expectBadConfig(result, file, [
      '/log/level: must be equal to one of the allowed values',
      '/log/pretty: must be boolean',
      '/mqtt/maxPacketBytes: must be integer',
      '/mqtt/maxConnections: must be >= 1',
      '/mqtt/drainTimeoutMs: must be integer',
      '/http/apiToken: must NOT have fewer than 16 characters',
      /\/security\/scryptCost: must be equal to one of the allowed values \(1024, 2048/,
    ]);
    expect(result.stderr.trim().split('\n')).toHaveLength(1 + 7);
  });

  it('unknown options, at the top and nested: exit 2, each named', async () => {
    const file = await configFile('unknown.yaml', ['bogus: 1', 'mqtt: { maxConections: 10 }', 'http: { tlsCert: true }'].join('\n'));
    const result = await run(['run', '--config', file]);
    expectBadConfig(result, file, [
      '/: unknown option "bogus"',
      '/mqtt: unknown option "maxConections"',
      '/http: unknown option "tlsCert"',
    ]);
  });

  it('a config file that is not there: exit 2', async () => {
    const file = join(dir, 'no-such-config.yaml');
    const result = await run(['run', '--config', file]);
    expectBadConfig(result, file, ['file not found']);
  });

  it('a config file that is not YAML: exit 2, naming the line', async () => {
    const file = await configFile('broken.yaml', 'mqtt: [1, 2\n');
    const result = await run(['run', '--config', file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`invalid configuration (${file})`);
    expect(result.stderr).toMatch(/not valid YAML: .* at line \d+, column \d+/);
    expectNoStackTrace(result);
  });

  it('a port from the environment that is not a number: exit 2, naming the variable', async () => {
    const file = await configFile('ok-env.yaml', '');
    const result = await run(['run', '--config', file], { SMARTSTORE_HTTP_PORT: 'eighty' });
    expectBadConfig(result, file, ['/http/port (from SMARTSTORE_HTTP_PORT): must be integer']);
  });

  it('a missing planogram file: refused with one message naming the file, no stack trace', async () => {
    const planogram = join(dir, 'no-such-planogram.yaml');
    const file = await configFile('no-planogram.yaml', `planogram: { file: ${planogram} }\n`);
    const result = await run(['run', '--config', file]);
    expect(result.code).not.toBe(0);
    const fatal = logLines(result.stdout).filter((l) => l.level === 60);
    const message = fatal[0]?.msg ?? result.stderr;
    expect(message).toContain(planogram);
    expect(message).toMatch(/not found/);
    expectOneParagraph(message);
    expectNoStackTrace(result);
  });

  // the planogram file is part of the configuration: its absence is a configuration error (2), not a failed start (1)
  it('a missing planogram file exits 2, like any other bad configuration', async () => {
    const file = await configFile('no-planogram-2.yaml', `planogram: { file: ${join(dir, 'nope.yaml')} }\n`);
    expect((await run(['run', '--config', file])).code).toBe(2);
  });

  it.each(['mqtt', 'http'] as const)('%s port in use: exit 1 at once, one fatal line naming the port and the variable', async (which) => {
    const port = await busyPort();
    const file = await configFile(`busy-${which}.yaml`, '');
    const env: Record<string, string> = { [which === 'mqtt' ? 'SMARTSTORE_MQTT_PORT' : 'SMARTSTORE_HTTP_PORT']: String(port) };
    const startedAt = Date.now();
    const result = await run(['run', '--config', file], env);
    expect(result.code).toBe(1);
    expect(Date.now() - startedAt).toBeLessThan(5_000); // it exits by itself, nothing keeps the failed process alive
    const fatal = logLines(result.stdout).filter((l) => l.level === 60);
    expect(fatal).toHaveLength(1);
    const part = which === 'mqtt' ? 'broker' : 'http';
    const message =
      `${part}: port ${port} is already in use — ` +
      `stop the other process or choose another port (SMARTSTORE_${which.toUpperCase()}_PORT)`;
    expect(fatal[0]?.msg).toBe(message);
    expect(result.stderr.split('\n').filter(Boolean)).toEqual([expect.stringMatching(/^config: /), message]);
    expectNoStackTrace(result);
  });

  it('check-config names the same problems with exit 2, and accepts a good file with exit 0', async () => {
    const bad = await configFile('check-bad.yaml', 'mqtt: { port: 70000 }\n');
    const refused = await run(['check-config', bad]);
    expectBadConfig(refused, bad, ['/mqtt/port: must be <= 65535']);
    const good = await configFile('check-good.yaml', 'storeId: store-0042\n');
    const accepted = await run(['check-config', good]);
    expect(accepted.code).toBe(0);
    expect(accepted.stdout).toContain(`${good}: ok`);
    expectNoStackTrace(accepted);
  });
});
