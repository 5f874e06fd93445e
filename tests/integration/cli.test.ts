/**
 * Issue 13 §3, what a new store IT person hit: the CLI runs in-process here (its commands take argv, env, streams and
 * signals as parameters), against real SQLite files and, where it matters, a real gateway on the same data dir.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { describeResolved, resolveConfig } from '../../edge/cli/config.js';
import { missingDatabaseMessage } from '../../edge/cli/gateway-database.js';
import { EXIT, type CliIo } from '../../edge/cli/io.js';
import { runCli } from '../../edge/cli/program.js';
import { explainStartFailure } from '../../edge/cli/run.js';
import { loadConfig } from '../../edge/config/load-config.js';
import { createLogger, useColour } from '../../edge/core/logger.js';
import { GatewayStartError } from '../../edge/core/module.js';
import { PlanogramFileError } from '../../edge/planogram/planogram-file.js';
import { DataDirLock, DataDirLockedError } from '../../edge/storage/data-dir-lock.js';
import { eventually, startTestGateway, TEST_PLANOGRAM, type TestGateway } from '../helpers/test-gateway.js';

let dir: string;
const cleanups: Array<() => Promise<unknown>> = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smartstore-cli-test-'));
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

type Captured = { io: CliIo; stdout: () => string; stderr: () => string; signal: (name?: NodeJS.Signals) => void };

/** A process for the CLI: no SMARTSTORE_* from the test's environment, output captured, signals sent by the test. */
function capture(env: NodeJS.ProcessEnv = {}, cwd = dir, onStdout?: (text: string) => void): Captured {
  let stdout = '';
  let stderr = '';
  let handler: ((signal: NodeJS.Signals) => void) | undefined;
  const io: CliIo = {
    env,
    cwd,
    stdout: {
      write: (text: string) => {
        stdout += text;
        onStdout?.(text);
        return true;
      },
    },
    stderr: { write: (text: string) => (stderr += text) },
    onSignal(h) {
      handler = h;
      return () => (handler = undefined);
    },
  };
  return { io, stdout: () => stdout, stderr: () => stderr, signal: (name = 'SIGTERM') => handler?.(name) };
}

async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const run = capture(env);
  const code = await runCli(args, run.io);
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}

/** A config file for `run` and the device commands: loopback, free ports, fast scrypt. */
async function configFile(name: string, dataDir: string, extra: Record<string, unknown> = {}): Promise<string> {
  const file = join(dir, name);
  const config = {
    dataDir,
    log: { level: 'info', pretty: false },
    mqtt: { host: '127.0.0.1', port: 0 },
    http: { host: '127.0.0.1', port: 0 },
    security: { scryptCost: 1024 },
    storage: { flushIntervalMs: 100 },
    ...extra,
  };
  await writeFile(file, stringify(config));
  return file;
}

const logLines = (stdout: string) =>
  stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { level: number; msg: string } & Record<string, unknown>);

describe('config resolution: the CLI and `run` find the same database', () => {
  it('--config wins over SMARTSTORE_CONFIG, which is used without it; SMARTSTORE_* win over both; paths are absolute', async () => {
    const flag = await configFile('flag.yaml', 'flag-data');
    const fromEnv = await configFile('env.yaml', 'env-data');
    const env = { SMARTSTORE_CONFIG: 'env.yaml' };
    const byFlag = await resolveConfig(flag, capture(env).io);
    expect(byFlag.file).toEqual({ path: flag, from: '--config' });
    expect(byFlag.config.dataDir).toBe(join(dir, 'flag-data'));
    expect(byFlag.databaseFile).toBe(join(dir, 'flag-data', 'gateway.db'));
    const byEnv = await resolveConfig(undefined, capture(env).io);
    expect(byEnv.file).toEqual({ path: fromEnv, from: 'SMARTSTORE_CONFIG' });
    expect(byEnv.config.dataDir).toBe(join(dir, 'env-data'));
    const overridden = await resolveConfig(undefined, capture({ ...env, SMARTSTORE_DATA_DIR: '/srv/store' }).io);
    expect(overridden.config.dataDir).toBe('/srv/store');
    expect(describeResolved(overridden)).toBe(
      `config: defaults + ${fromEnv} (SMARTSTORE_CONFIG) + env SMARTSTORE_DATA_DIR; data dir: /srv/store\n`,
    );
    const defaults = await resolveConfig(undefined, capture({}).io);
    expect(defaults.file).toBeUndefined();
    expect(defaults.config.dataDir).toBe(join(dir, 'data'));
  });

  it('device commands never create a database silently: exit 1 naming the absolute path; --init creates it', async () => {
    const file = await configFile('fresh.yaml', 'fresh-data');
    const database = join(dir, 'fresh-data', 'gateway.db');
    for (const args of [
      ['device', 'list'],
      ['device', 'add', 'esl-1', '--kind', 'esl'],
      ['device', 'disable', 'esl-1'],
    ]) {
      const result = await cli([...args, '--config', file]);
      expect(result.code).toBe(EXIT.failed);
      expect(result.stderr).toContain(`data dir: ${join(dir, 'fresh-data')}`);
      expect(result.stderr).toContain(missingDatabaseMessage(database));
      expect(result.stdout).toBe('');
    }
    for (const advice of ['start the gateway once', '--config FILE or SMARTSTORE_CONFIG', '`device add --init`'])
      expect(missingDatabaseMessage(database)).toContain(advice);
    expect(existsSync(database)).toBe(false);

    const created = await cli(['device', 'add', 'esl-1', '--kind', 'esl', '--init', '--config', file]);
    expect(created.code).toBe(EXIT.ok);
    expect(existsSync(database)).toBe(true);
    expect(JSON.parse(created.stdout)).toEqual({
      id: 'esl-1',
      kind: 'esl',
      secret: expect.stringMatching(/^[A-Za-z0-9_-]{32}$/) as string,
    });
  });

  it('a bad config: exit 2 with every problem, before anything is opened', async () => {
    const file = join(dir, 'bad.yaml');
    await writeFile(file, 'mqtt: { port: 70000 }\n');
    const result = await cli(['device', 'list', '--config', file]);
    expect(result.code).toBe(EXIT.badConfig);
    expect(result.stderr).toBe(`invalid configuration (${file}):\n  - /mqtt/port: must be <= 65535\n`);
  });
});

describe('device commands', () => {
  it('add, list (gateway not running), disable, enable, rotate-secret, remove; an unknown id exits 1', async () => {
    const file = await configFile('devices.yaml', 'data');
    expect((await cli(['device', 'add', 'esl-1', '--kind', 'esl', '--init', '--config', file])).code).toBe(0);
    const kiosk = await cli(['device', 'add', 'kiosk-1', '--kind', 'kiosk', '--config', file]);
    const { secret } = JSON.parse(kiosk.stdout) as { secret: string };

    expect((await cli(['device', 'disable', 'esl-1', '--config', file])).stdout).toBe('esl-1 disabled\n');
    const listed = await cli(['device', 'list', '--config', file]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toBe('esl-1\tesl\tdisabled\tgateway not running\tnever\nkiosk-1\tkiosk\tenabled\tgateway not running\tnever\n');

    expect((await cli(['device', 'enable', 'esl-1', '--config', file])).stdout).toBe('esl-1 enabled\n');
    const rotated = await cli(['device', 'rotate-secret', 'kiosk-1', '--config', file]);
    expect(rotated.code).toBe(0);
    const answer = JSON.parse(rotated.stdout) as { id: string; kind: string; secret: string };
    expect(answer).toMatchObject({ id: 'kiosk-1', kind: 'kiosk' });
    expect(answer.secret).not.toBe(secret);
    expect((await cli(['device', 'remove', 'kiosk-1', '--config', file])).stdout).toBe('kiosk-1 removed\n');
    expect((await cli(['device', 'list', '--config', file])).stdout).toBe('esl-1\tesl\tenabled\tgateway not running\tnever\n');

    for (const command of ['disable', 'enable', 'rotate-secret', 'remove']) {
      const missing = await cli(['device', command, 'kiosk-1', '--config', file]);
      expect(missing.code).toBe(EXIT.failed);
      expect(missing.stderr).toContain(`no device kiosk-1 in ${join(dir, 'data', 'gateway.db')}`);
    }
    const duplicate = await cli(['device', 'add', 'esl-1', '--kind', 'esl', '--config', file]);
    expect(duplicate).toMatchObject({ code: EXIT.failed, stdout: '' });
    expect(duplicate.stderr).toContain('device esl-1 is already registered');
  });

  describe('while a gateway runs on the same data dir', () => {
    let gw: TestGateway;
    let file: string;

    beforeEach(async () => {
      const dataDir = join(dir, 'running');
      await mkdir(dataDir);
      gw = await startTestGateway({ dataDir });
      cleanups.push(() => gw.dispose());
      file = await configFile('running.yaml', dataDir);
    });

    it('add warns on stderr for a shelf the planogram does not list, and the gateway accepts the device within a second', async () => {
      const mapped = await cli(['device', 'add', 'shelf-a', '--kind', 'shelf', '--config', file]);
      expect(mapped.code).toBe(0);
      expect(mapped.stderr).not.toContain('warning');
      const unmapped = await cli(['device', 'add', 'shelf-q', '--kind', 'shelf', '--config', file]);
      expect(unmapped.code).toBe(0);
      expect(unmapped.stderr).toContain('warning: shelf shelf-q is not in the planogram');
      expect(unmapped.stderr).toContain(`the running gateway (pid ${process.pid})`);
      const { secret } = JSON.parse(unmapped.stdout) as { secret: string };
      const client = await eventually(
        () => mqtt.connectAsync(gw.mqttUrl, { clientId: 'shelf-q', username: 'shelf-q', password: secret, reconnectPeriod: 0 }),
        3_000,
        'the gateway to accept the device',
      );
      cleanups.push(() => client.endAsync(true));
      const listed = await eventually(
        async () => {
          const { stdout } = await cli(['device', 'list', '--config', file]);
          return stdout.includes('shelf-q\tshelf\tenabled\tconnected\t20') ? stdout : undefined;
        },
        3_000,
        'device list to show the connection',
      );
      expect(listed).toMatch(/^shelf-a\tshelf\tenabled\tdisconnected\tnever$/m);
    });

    it('disable closes the device connection within a second', async () => {
      const client = await gw.connectDevice('esl-7', 'esl');
      const closed = new Promise<number>((resolve) => client.once('close', () => resolve(Date.now())));
      const startedAt = Date.now();
      const result = await cli(['device', 'disable', 'esl-7', '--config', file]);
      expect(result.code).toBe(0);
      expect(await closed).toBeLessThan(startedAt + 1_000);
    });
  });
});

describe('run', () => {
  it('starts, says which config and data dir, and on SIGTERM stops with "stopped, N writes flushed" (exit 0)', async () => {
    const file = await configFile('run.yaml', 'run-data', { planogram: { file: join(dir, 'planogram.yaml') } });
    await writeFile(join(dir, 'planogram.yaml'), stringify(TEST_PLANOGRAM));
    const run = capture({ SMARTSTORE_CONFIG: file }); // as `run` documents: the config from the environment
    const exit = runCli(['run'], run.io);
    await eventually(() => (run.stdout().includes('"msg":"gateway running"') ? true : undefined), 10_000, 'gateway running');
    expect(run.stderr()).toBe(`config: defaults + ${file} (SMARTSTORE_CONFIG); data dir: ${join(dir, 'run-data')}\n`);
    run.signal('SIGTERM');
    expect(await exit).toBe(EXIT.ok);
    const last = logLines(run.stdout()).at(-1);
    expect(last).toMatchObject({
      level: 30,
      msg: expect.stringMatching(/^stopped, \d+ writes flushed$/) as string,
      written: expect.any(Number) as number,
      unwritten: 0,
    });
    expect(last?.msg).toBe(`stopped, ${String(last?.written)} writes flushed`);
  });

  it('SIGTERM while starting: the gateway finishes starting, then stops in order (exit 0)', async () => {
    const file = await configFile('early.yaml', 'early-data');
    // the signal arrives the moment the "starting" line is written: after the handler is installed, before any module
    // has started (polling for the line could let the whole start slip past)
    let signalledEarly = false;
    const run: Captured = capture({}, dir, (text) => {
      if (!signalledEarly && text.includes('"msg":"starting"')) {
        signalledEarly = true;
        expect(run.stdout()).not.toContain('"msg":"gateway running"');
        run.signal('SIGTERM');
      }
    });
    const exit = runCli(['run', '--config', file], run.io);
    expect(await exit).toBe(EXIT.ok);
    expect(signalledEarly).toBe(true);
    const messages = logLines(run.stdout()).map((line) => line.msg);
    expect(messages.indexOf('gateway running')).toBeGreaterThan(-1);
    expect(messages.indexOf('stopping')).toBeGreaterThan(messages.indexOf('gateway running'));
    expect(messages.at(-1)).toMatch(/^stopped, \d+ writes flushed$/);
    expect(await DataDirLock.runningGateway(join(dir, 'early-data'))).toBeUndefined();
  });

  it('a second run on the same data dir exits 1 naming the lock file and the pid holding it', async () => {
    const file = await configFile('twice.yaml', 'twice-data');
    const first = capture();
    const firstExit = runCli(['run', '--config', file], first.io);
    cleanups.push(async () => {
      first.signal();
      await firstExit;
    });
    await eventually(() => (first.stdout().includes('"msg":"gateway running"') ? true : undefined), 10_000, 'first gateway running');
    const second = await cli(['run', '--config', file]);
    expect(second.code).toBe(EXIT.failed);
    const lockFile = join(dir, 'twice-data', 'gateway.lock');
    expect(second.stderr).toContain(`lock ${lockFile}`);
    expect(second.stderr).toContain(`pid ${process.pid}`);
    const fatal = logLines(second.stdout).filter((line) => line.level === 60);
    expect(fatal).toEqual([expect.objectContaining({ lockFile, pid: process.pid, msg: expect.stringContaining(lockFile) as string })]);
    // the refused one took nothing from the running one
    expect(await DataDirLock.runningGateway(join(dir, 'twice-data'))).toBe(process.pid);
  });

  it('a broken planogram: exit 2, one problem a line with its path on stderr, one fatal line with a problems array', async () => {
    const planogram = join(dir, 'broken-planogram.yaml');
    await writeFile(planogram, stringify(brokenPlanogram()));
    const file = await configFile('broken.yaml', 'broken-data', { planogram: { file: planogram } });
    const result = await cli(['run', '--config', file]);
    expect(result.code).toBe(EXIT.badConfig);
    expect(result.stderr).toContain(`invalid planogram (${planogram}):\n${EXPECTED_PROBLEMS.map((p) => `  - ${p}\n`).join('')}`);
    const fatal = logLines(result.stdout).filter((line) => line.level === 60);
    expect(fatal).toEqual([
      expect.objectContaining({ msg: `invalid planogram (${planogram}): 3 problems`, file: planogram, problems: EXPECTED_PROBLEMS }),
    ]);
    expect(result.stdout).not.toContain('\\n');
  });
});

/** A planogram with three of the mistakes people make: an sku that is no product, restock ≤ low, a facing twice. */
function brokenPlanogram() {
  const [shelfA, shelfB] = TEST_PLANOGRAM.shelves;
  return {
    products: TEST_PLANOGRAM.products,
    shelves: [
      {
        ...shelfA,
        facings: [
          { ...shelfA!.facings[0]!, sku: '9999999999999' },
          { ...shelfA!.facings[1]!, restockUnits: 2 },
        ],
      },
      { ...shelfB, facings: [shelfB!.facings[0]!, shelfB!.facings[0]!] },
    ],
  };
}
const EXPECTED_PROBLEMS = [
  '/shelves/0/facings/0/sku: unknown sku "9999999999999" (not in products)',
  '/shelves/0/facings/1/restockUnits: must be greater than lowStockUnits (2)',
  '/shelves/1/facings/1/facing: facing 1 of shelf-b is defined twice (first at /shelves/1/facings/0/facing)',
];

describe('check-config', () => {
  it('checks the planogram the config names: exit 2 and the same lines as run', async () => {
    const planogram = join(dir, 'broken-planogram.yaml');
    await writeFile(planogram, stringify(brokenPlanogram()));
    const file = await configFile('check.yaml', 'data', { planogram: { file: planogram } });
    const result = await cli(['check-config', file]);
    expect(result.code).toBe(EXIT.badConfig);
    expect(result.stderr).toBe(`invalid planogram (${planogram}):\n${EXPECTED_PROBLEMS.map((p) => `  - ${p}\n`).join('')}`);
    expect(result.stdout).toBe('');
  });

  it('a planogram file that is not there: exit 2 naming it', async () => {
    const planogram = join(dir, 'nope.yaml');
    const result = await cli(['check-config', await configFile('nope.yaml.cfg', 'data', { planogram: { file: planogram } })]);
    expect(result).toMatchObject({ code: EXIT.badConfig, stderr: `invalid planogram (${planogram}):\n  - file not found\n` });
  });

  it('a good config and planogram: exit 0, both named', async () => {
    const planogram = join(dir, 'planogram.yaml');
    await writeFile(planogram, stringify(TEST_PLANOGRAM));
    const file = await configFile('good.yaml', 'data', { planogram: { file: planogram } });
    const result = await cli(['check-config', file]);
    expect(result.code).toBe(EXIT.ok);
    expect(result.stdout).toContain(`${file}: ok\n${planogram}: ok (2 shelves, 3 facings, 3 products)\n`);
  });

  it('a config that says something the old way: exit 0 with a note naming the new place', async () => {
    const file = await configFile('old-zone.yaml', 'data', { insight: { timeZone: 'Europe/Berlin' } });
    const result = await cli(['check-config', file]);
    expect(result.code, result.stderr).toBe(EXIT.ok);
    expect(result.stdout).toContain(
      `${file}: ok\nnote: /insight/timeZone: the store's time zone moved to /store/timeZone (read from here meanwhile): move it there\n`,
    );
    const moved = await cli(['check-config', await configFile('new-zone.yaml', 'data', { store: { timeZone: 'Europe/Berlin' } })]);
    expect(moved.stdout).not.toContain('note:');
  });

  it('cross-field rules of the schema: exit 2, each broken rule with the path of the option to fix', async () => {
    const file = await configFile('rules.yaml', 'data', { hq: { enabled: true }, http: { host: '0.0.0.0', port: 0 } });
    const result = await cli(['check-config', file]);
    expect(result.code).toBe(EXIT.badConfig);
    expect(result.stderr).toContain(`invalid configuration (${file}):\n`);
    expect(result.stderr).toContain("  - /hq/url: must be set: HQ's broker, mqtt:// or mqtts:// when /hq/enabled is true\n");
    expect(result.stderr).toContain('  - /http/host: must be a loopback address (127.0.0.1, ::1, localhost), or set http.tls or ');
    expect(result.stdout).toBe('');
  });

  it('prints no password of a URL (hq.url with user:pass), nor the HQ password', async () => {
    const file = await configFile('hq-url.yaml', 'data', {
      hq: { enabled: true, url: 'mqtt://hq-user:url-pass-123@hq.example.com:1883', password: 'hq-field-pass-456' },
    });
    const result = await cli(['check-config', file]);
    expect(result.code, result.stderr).toBe(EXIT.ok);
    expect(result.stdout).toContain('"url": "mqtt://hq-user:***@hq.example.com:1883"');
    expect(`${result.stdout}${result.stderr}`).not.toMatch(/url-pass-123|hq-field-pass-456/);
  });
});

describe('start failures people can act on (explainStartFailure)', () => {
  const configP = loadConfig({ env: {} });

  it('data dir locked: exit 1, the message names the lock file and the pid', async () => {
    const error = new GatewayStartError('storage', { cause: new DataDirLockedError('/var/lib/smartstore/gateway.lock', 4242) });
    const failure = explainStartFailure(error, await configP);
    expect(failure.exitCode).toBe(EXIT.failed);
    expect(failure.message).toContain('pid 4242');
    expect(failure.message).toContain('/var/lib/smartstore/gateway.lock');
    expect(failure.report).toBe(`${failure.message}\n`);
    expect(failure.fields).toEqual({ lockFile: '/var/lib/smartstore/gateway.lock', pid: 4242 });
  });

  it('planogram: exit 2, one line per problem for people, an array for the log, no line break in the message', async () => {
    const error = new GatewayStartError('planogram', { cause: new PlanogramFileError('/p.yaml', ['/a: x', '/b: y']) });
    const failure = explainStartFailure(error, await configP);
    expect(failure).toEqual({
      exitCode: EXIT.badConfig,
      report: 'invalid planogram (/p.yaml):\n  - /a: x\n  - /b: y\n',
      message: 'invalid planogram (/p.yaml): 2 problems',
      fields: { file: '/p.yaml', problems: ['/a: x', '/b: y'] },
    });
  });

  it('port in use: exit 1 naming the port and the variable; any other multi-line error keeps its message on one line', async () => {
    const config = await configP;
    const busy = explainStartFailure(
      new GatewayStartError('broker', { cause: Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE' }) }),
      config,
    );
    expect(busy.message).toBe(
      `broker: port ${config.mqtt.port} is already in use — stop the other process or choose another port (SMARTSTORE_MQTT_PORT)`,
    );
    const other = explainStartFailure(new GatewayStartError('alerts', { cause: new Error('two things:\n  - one\n  - two') }), config);
    expect(other).toMatchObject({ exitCode: EXIT.failed, message: 'alerts: two things:', fields: { problems: ['- one', '- two'] } });
  });

  it('two gateways on one data dir in one process: the second start fails with DataDirLockedError as the cause', async () => {
    const dataDir = join(dir, 'shared');
    await mkdir(dataDir);
    const first = await startTestGateway({ dataDir });
    cleanups.push(() => first.dispose());
    const refusal = await startTestGateway({ dataDir }).then(
      (second) => {
        cleanups.push(() => second.dispose());
        return undefined;
      },
      (error: unknown) => error,
    );
    expect(refusal).toBeInstanceOf(GatewayStartError);
    expect((refusal as GatewayStartError).component).toBe('storage');
    expect((refusal as GatewayStartError).cause).toBeInstanceOf(DataDirLockedError);
    expect((refusal as GatewayStartError).cause).toMatchObject({ lockFile: join(dataDir, 'gateway.lock'), pid: process.pid });
    // the first one still runs, and still holds its data dir
    expect((await first.api('/api/health')).status).toBe(200);
    expect(await DataDirLock.runningGateway(dataDir)).toBe(process.pid);
  });
});

describe('logs', () => {
  const line = (pretty: boolean, isTTY: boolean, env: NodeJS.ProcessEnv = {}) => {
    let text = '';
    createLogger({ level: 'info', pretty }, { destination: { write: (t: string) => (text += t) }, isTTY, env }).info(
      { component: 'gateway' },
      'gateway running',
    );
    return text;
  };
  // eslint-disable-next-line no-control-regex
  const ANSI = /\u001b\[/;

  it('log.pretty gives people one readable line, coloured only on a terminal without NO_COLOR; otherwise JSON lines', () => {
    expect(line(true, false)).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: gateway running \{"component":"gateway"\}\n$/);
    expect(line(true, false)).not.toMatch(ANSI);
    expect(line(true, true)).toMatch(ANSI);
    expect(line(true, true, { NO_COLOR: '1' })).not.toMatch(ANSI);
    expect(JSON.parse(line(false, true))).toMatchObject({ level: 30, msg: 'gateway running', component: 'gateway' });
    expect(useColour(undefined, {})).toBe(false);
    expect(useColour(true, { NO_COLOR: '' })).toBe(true);
  });
});
