/**
 * Issue 23: a start-up warning store IT reads must be true. `run` used to warn "no API token configured" whenever the
 * config had no `http.apiToken`, even with named tokens in the database; the access room, which has loaded them, says it.
 * The demo's first start warned "no API tokens" and then printed a link with the token it had just made; the access
 * room now makes that token as it starts (`tokenAtStart`), before it counts them.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { newApiToken, tokenDigest } from '../../edge/access/api-token.js';
import { EXIT, type CliIo } from '../../edge/cli/io.js';
import { runCli } from '../../edge/cli/program.js';
import { loadConfig } from '../../edge/config/load-config.js';
import { createLogger } from '../../edge/core/logger.js';
import { buildGateway } from '../../edge/main.js';
import { eventually, TEST_PLANOGRAM } from '../helpers/test-gateway.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smartstore-warnings-test-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

type Captured = { io: CliIo; stdout: () => string; signal: (name: NodeJS.Signals) => void };

/** A process for the CLI: no SMARTSTORE_* from the test's environment, output captured, signals sent by the test. */
function capture(): Captured {
  let stdout = '';
  let handler: ((signal: NodeJS.Signals) => void) | undefined;
  const io: CliIo = {
    env: {},
    cwd: dir,
    stdout: { write: (text: string) => ((stdout += text), true) },
    stderr: { write: () => true },
    onSignal(h) {
      handler = h;
      return () => (handler = undefined);
    },
  };
  return { io, stdout: () => stdout, signal: (name) => handler?.(name) };
}

type LogLine = { level: number; msg: string };

/** `run` until "gateway running", then SIGTERM; its log lines. */
async function runOnce(configFile: string): Promise<LogLine[]> {
  const run = capture();
  const exit = runCli(['run', '--config', configFile], run.io);
  await eventually(() => (run.stdout().includes('"msg":"gateway running"') ? true : undefined), 15_000, 'gateway running');
  run.signal('SIGTERM');
  expect(await exit).toBe(EXIT.ok);
  return run
    .stdout()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine);
}

const warnings = (lines: LogLine[]) => lines.filter((line) => line.level === 40).map((line) => line.msg);

describe('start-up warnings', () => {
  it('"no API tokens" while there are none, and not once a named token exists (no token in the config either way)', async () => {
    const planogram = join(dir, 'planogram.yaml');
    await writeFile(planogram, stringify(TEST_PLANOGRAM));
    const configFile = join(dir, 'gateway.yaml');
    await writeFile(
      configFile,
      stringify({
        dataDir: join(dir, 'data'),
        log: { level: 'info', pretty: false },
        mqtt: { host: '127.0.0.1', port: 0 },
        http: { host: '127.0.0.1', port: 0 },
        planogram: { file: planogram },
        security: { scryptCost: 1024 },
      }),
    );

    const first = warnings(await runOnce(configFile));
    expect(first.filter((msg) => /no API token/i.test(msg))).toEqual([expect.stringMatching(/^no API tokens: every route but/)]);

    const add = capture();
    expect(await runCli(['token', 'add', 'maria', '--role', 'staff', '--config', configFile], add.io)).toBe(EXIT.ok);

    const second = warnings(await runOnce(configFile));
    expect(second.filter((msg) => /API token/i.test(msg))).toEqual([]);
  });

  it('no "no API tokens" on a first start that makes its token as the access room starts (the demo), and that token works', async () => {
    const planogram = join(dir, 'planogram.yaml');
    await writeFile(planogram, stringify(TEST_PLANOGRAM));
    const config = await loadConfig({
      overrides: {
        dataDir: join(dir, 'data'),
        mqtt: { host: '127.0.0.1', port: 0 },
        http: { host: '127.0.0.1', port: 0 },
        planogram: { file: planogram },
        security: { scryptCost: 1024 },
      },
      env: {},
    });
    /** one start of a gateway that makes "demo manager" with `token` as it starts; its warnings, and what `check` saw */
    const startWith = async (token: string, check: (url: string) => Promise<void>) => {
      const lines: string[] = [];
      const log = createLogger(
        { level: 'info', pretty: false },
        { destination: { write: (line: string) => lines.push(line) }, isTTY: false },
      );
      const built = buildGateway(config, { log, tokenAtStart: { name: 'demo manager', role: 'manager', digest: tokenDigest(token) } });
      try {
        await built.gateway.start();
        await check(`http://127.0.0.1:${built.http.port}`);
      } finally {
        await built.gateway.stop();
      }
      return warnings(lines.map((line) => JSON.parse(line) as LogLine));
    };
    const status = async (url: string, token: string) =>
      (await fetch(`${url}/api/campaigns`, { headers: { authorization: `Bearer ${token}` } })).status;

    const first = newApiToken();
    const firstWarnings = await startWith(first, async (url) => {
      expect(await status(url, first)).toBe(200); // a manager's route, at once
    });
    expect(firstWarnings.filter((msg) => /API token/i.test(msg))).toEqual([]);

    // the next start makes a new one and revokes the previous run's
    const second = newApiToken();
    await startWith(second, async (url) => {
      expect(await status(url, second)).toBe(200);
      expect(await status(url, first)).toBe(401);
    });
  });
});
