/**
 * Issue 23, "the demo survives what store IT tries first": `npm run demo` as a person starts it (npm → sh → node), on
 * free ports in a temp dir, driven with the gateway's own CLI while it runs and between runs, stopped by a signal sent
 * to npm. The demo is the built one (tests/global-setup.ts); npm runs the repository's own `demo` script, whose build
 * step is a no-op here.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { CredentialsFile } from '../../devices/credentials-file.js';
import { DataDirLock } from '../../edge/storage/data-dir-lock.js';
import { builtGatewayCli, builtGatewayDir } from '../helpers/built-gateway.js';
import { eventually } from '../helpers/test-gateway.js';

const ROOT = resolve(import.meta.dirname, '../..');
/** a loaded 2-core machine starts the demo (OPC UA nodesets, 16 devices) in 10-20 s */
const START_TIMEOUT_MS = 90_000;
/** what the demo promises for an orderly stop: a few seconds */
const STOP_TIMEOUT_MS = 10_000;
const OUTPUT_TAIL_CHARS = 20_000;

type LogLine = { level: number; msg: string; deviceId?: string; url?: string; [field: string]: unknown };
/** The parts of config/demo.yaml this test moves to its own ports and dirs. */
type DemoYaml = {
  dataDir: string;
  log: object;
  mqtt: { port: number };
  http: { port: number };
  planogram: { file: string };
  labels: { accessPoints: Array<{ url: string }> };
  opcua: { server: { port: number }; devices: Array<{ endpointUrl: string }> };
  security?: object;
};
type Ports = { mqtt: number; http: number; opcua: number; caseSimulator: number; oepl: number };

/** Distinct free ports on 127.0.0.1: all held at once, then released for the demo. */
async function freePorts(): Promise<Ports> {
  const servers = await Promise.all(
    Array.from({ length: 5 }, async () => {
      const server = createServer();
      await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
      return server;
    }),
  );
  const port = (index: number) => (servers[index]?.address() as AddressInfo).port;
  const ports = { mqtt: port(0), http: port(1), opcua: port(2), caseSimulator: port(3), oepl: port(4) };
  await Promise.all(servers.map((server) => new Promise((done) => server.close(done))));
  return ports;
}

/** Whether this process could listen on the port now (nobody holds it). */
async function portIsFree(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((done) => {
    server.once('error', () => done(false));
    server.listen(port, '127.0.0.1', () => server.close(() => done(true)));
  });
}

/** The process's children, grandchildren …, as the kernel lists them (Linux: the parent pid in each /proc/<pid>/stat). */
async function descendants(pid: number): Promise<number[]> {
  const children = new Map<number, number[]>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // "<pid> (<command>) <state> <ppid> …": the command may hold spaces and parentheses, so read after its last ')'
    const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (Number.isInteger(parent)) children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
  }
  const found: number[] = [];
  for (let queue = [pid]; queue.length > 0;) {
    const next = children.get(queue.shift() as number) ?? [];
    found.push(...next);
    queue.push(...next);
  }
  return found;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** One `npm run demo` process: its output, its log lines, its exit. */
class DemoRun {
  private output = '';
  /** npm's descendants once the demo ran: what must be gone after a stop */
  processes: number[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(readonly npm: ChildProcess) {
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString()).slice(-OUTPUT_TAIL_CHARS);
    };
    npm.stdout?.on('data', keep);
    npm.stderr?.on('data', keep);
    this.exited = new Promise((done) => npm.once('exit', (code, signal) => done({ code, signal })));
  }

  get text(): string {
    return this.output;
  }

  lines(): LogLine[] {
    return this.output.split('\n').flatMap((line) => {
      if (!line.startsWith('{')) return [];
      try {
        return [JSON.parse(line) as LogLine];
      } catch {
        return [];
      }
    });
  }

  find(match: (line: LogLine) => boolean): LogLine | undefined {
    return this.lines().find(match);
  }

  /** Once the demo says it runs: its staff page and the processes under npm (sh, node: whatever runs the script). */
  async running(): Promise<{ pageUrl: URL; processes: number[] }> {
    // an exit ends the wait at once (eventually() would retry a throw until its time is up)
    const found = await eventually(
      () => (this.npm.exitCode !== null ? 'exited' : this.find((l) => l.msg.startsWith('demo store running'))),
      START_TIMEOUT_MS,
      'the demo to run',
    );
    if (found === 'exited') throw new Error(`npm run demo exited (${this.npm.exitCode}):\n${this.output}`);
    const line = found;
    this.processes = await descendants(this.npm.pid as number);
    return { pageUrl: new URL(line.url as string), processes: this.processes };
  }
}

describe.runIf(process.platform === 'linux')('npm run demo, as store IT tries it', () => {
  let dir: string;
  let dataDir: string;
  let configFile: string;
  let ports: Ports;
  let current: DemoRun | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'smartstore-demo-test-'));
    dataDir = join(dir, 'data');
    ports = await freePorts();
    const demo = parse(await readFile(join(ROOT, 'config/demo.yaml'), 'utf8')) as DemoYaml;
    demo.dataDir = dataDir;
    demo.log = { level: 'info', pretty: false };
    demo.mqtt.port = ports.mqtt;
    demo.http.port = ports.http;
    demo.planogram.file = join(ROOT, 'config/planogram.demo.yaml');
    demo.labels.accessPoints[0]!.url = `http://127.0.0.1:${ports.oepl}`;
    demo.opcua.server.port = ports.opcua;
    demo.opcua.devices[0]!.endpointUrl = `opc.tcp://127.0.0.1:${ports.caseSimulator}`;
    // cheap secrets: the test provisions and re-keys devices several times on a busy machine
    demo.security = { scryptCost: 1024 };
    configFile = join(dir, 'demo.yaml');
    await writeFile(configFile, stringify(demo));
    // the repository's own demo script, beside a build step that has nothing to do (the tree is built already)
    const repository = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    const scripts = { build: 'true', demo: repository.scripts.demo };
    await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'demo-under-test', private: true, scripts }));
    await symlink(builtGatewayDir(), join(dir, 'dist'));
  });

  // a test that failed half-way leaves no demo behind for the next one
  afterEach(async () => {
    const run = current;
    current = undefined;
    if (!run) return;
    const left = run.npm.pid === undefined ? run.processes : [...run.processes, ...(await descendants(run.npm.pid))];
    if (run.npm.exitCode === null && run.npm.signalCode === null) run.npm.kill('SIGKILL');
    for (const pid of left) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    await run.exited;
    await eventually(() => (left.some(isAlive) ? undefined : true), STOP_TIMEOUT_MS, 'the demo processes gone');
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function startDemo(): DemoRun {
    const env: NodeJS.ProcessEnv = {};
    for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('SMARTSTORE_')) env[name] = value;
    const npm = spawn('npm', ['run', 'demo'], {
      cwd: dir,
      env: {
        ...env,
        // npm and the script's `node` are this Node (the machine's default may be older)
        PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
        SMARTSTORE_DEMO_CONFIG: configFile,
        DEMO_SEED: '23',
        npm_config_update_notifier: 'false',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    current = new DemoRun(npm);
    return current;
  }

  /** The gateway's CLI on the demo's data dir, as store IT runs it. */
  async function cli(...args: string[]): Promise<string> {
    const child = spawn(process.execPath, [builtGatewayCli(), ...args, '--config', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((done) => child.once('exit', done));
    if (code !== 0) throw new Error(`smartstore-edge ${args.join(' ')} exited ${code}: ${output}`);
    return output;
  }

  /** The demo's API, signed in with the manager token its page link carries. */
  async function api<T>(pageUrl: URL, path: string, body?: object): Promise<T> {
    const token = new URLSearchParams(pageUrl.hash.slice(1)).get('token');
    const answer = await fetch(new URL(path, pageUrl), {
      method: body ? 'POST' : 'GET',
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    if (!answer.ok) throw new Error(`${path}: ${answer.status} ${await answer.text()}`);
    return (await answer.json()) as T;
  }

  async function connected(pageUrl: URL, deviceId: string): Promise<boolean | undefined> {
    const { devices } = await api<{ devices: Array<{ id: string; connected: boolean }> }>(pageUrl, '/api/devices');
    return devices.find((device) => device.id === deviceId)?.connected;
  }

  async function savedSecret(deviceId: string): Promise<string | undefined> {
    const file = JSON.parse(await readFile(join(dataDir, 'demo-credentials.json'), 'utf8')) as CredentialsFile;
    return file.devices.find((device) => device.deviceId === deviceId)?.secret;
  }

  /** Sends the signal to npm (not to node) and checks that the demo is gone and left nothing held. */
  /** `likeATerminal`: Ctrl+C signals the whole process group, so npm's children get it directly as well as from npm. */
  async function stopThroughNpm(run: DemoRun, processes: number[], signal: NodeJS.Signals, likeATerminal = false): Promise<void> {
    expect(processes.length).toBeGreaterThan(0);
    run.npm.kill(signal);
    if (likeATerminal) for (const pid of processes) process.kill(pid, signal);
    await Promise.race([
      run.exited,
      new Promise((_, fail) =>
        setTimeout(() => fail(new Error(`npm still running ${STOP_TIMEOUT_MS} ms after ${signal}`)), STOP_TIMEOUT_MS),
      ),
    ]);
    await eventually(() => (processes.some(isAlive) ? undefined : true), STOP_TIMEOUT_MS, `npm's children ${processes.join(', ')} to exit`);
    expect(run.find((line) => line.msg.startsWith('demo stopped'))).toBeDefined();
    for (const [name, port] of Object.entries(ports)) expect({ name, free: await portIsFree(port) }).toEqual({ name, free: true });
    expect(await DataDirLock.runningGateway(dataDir)).toBeUndefined();
    expect(existsSync(join(dataDir, 'gateway.db-wal'))).toBe(false);
  }

  it('re-provisions a device whose secret store IT rotated, reconnects a re-enabled one, and stops on SIGTERM to npm', async () => {
    const run = startDemo();
    const { pageUrl, processes } = await run.running();
    // a first start on a new data dir has nothing wrong to warn of (it warned "no API tokens", then printed its token)
    expect(
      run
        .lines()
        .filter((line) => line.level >= 40)
        .map((line) => `${String(line.component)}: ${line.msg}`),
    ).toEqual([]);
    expect(await connected(pageUrl, 'shelf-01')).toBe(true);

    // rotate-secret while the demo runs: the gateway disconnects the shelf, which comes back with a new secret
    const before = await savedSecret('shelf-01');
    await cli('device', 'rotate-secret', 'shelf-01');
    await eventually(
      () => run.find((line) => line.deviceId === 'shelf-01' && line.msg.includes('re-provisioned')),
      20_000,
      'the demo to re-provision shelf-01',
    );
    await eventually(async () => ((await connected(pageUrl, 'shelf-01')) === true ? true : undefined), 20_000, 'shelf-01 back');
    expect(await savedSecret('shelf-01')).not.toBe(before);

    // disable, then enable: the kiosk is refused while disabled and reconnects by itself once enabled
    await cli('device', 'disable', 'kiosk-02');
    await eventually(async () => ((await connected(pageUrl, 'kiosk-02')) === false ? true : undefined), 20_000, 'kiosk-02 gone');
    await cli('device', 'enable', 'kiosk-02');
    await eventually(async () => ((await connected(pageUrl, 'kiosk-02')) === true ? true : undefined), 20_000, 'kiosk-02 back');

    await stopThroughNpm(run, processes, 'SIGTERM');
  }, 180_000);

  it('starts again after a rotated secret and a device disabled between runs; stops in order on Ctrl+C (npm and node)', async () => {
    const before = await savedSecret('shelf-02');
    await cli('device', 'rotate-secret', 'shelf-02');
    await cli('device', 'disable', 'kiosk-01');
    const run = startDemo();
    const { pageUrl, processes } = await run.running();
    expect(run.find((line) => line.deviceId === 'shelf-02' && line.msg.includes('re-provisioned'))).toBeDefined();
    expect(await connected(pageUrl, 'shelf-02')).toBe(true);
    expect(await savedSecret('shelf-02')).not.toBe(before);
    // the disabled kiosk did not stop the demo; it keeps trying and comes in once enabled
    expect(await connected(pageUrl, 'kiosk-01')).toBe(false);
    await cli('device', 'enable', 'kiosk-01');
    await eventually(async () => ((await connected(pageUrl, 'kiosk-01')) === true ? true : undefined), 20_000, 'kiosk-01 in');
    await stopThroughNpm(run, processes, 'SIGINT', true);
  }, 180_000);

  it('labels and kiosks keep the prices of a campaign across a restart (its credentials file lost meanwhile)', async () => {
    type Label = { labelId: string; driverId: string | null; lastSeenAt: number | null; displayedPriceCents: number | null; sku: string };
    type Campaign = { id: string; state: string; total: number; counts: Record<string, number> };
    type Alert = { kind: string; title: string; openedAt: number };
    const planogram = parse(await readFile(join(ROOT, 'config/planogram.demo.yaml'), 'utf8')) as {
      products: Array<{ sku: string; priceCents: number }>;
    };
    // every sku 1.00 dearer: no label may show a planogram price afterwards
    const campaignPrices = new Map(planogram.products.map((product) => [product.sku, product.priceCents + 100]));

    const first = startDemo();
    const running = await first.running();
    // a label behind an access point is carried once it has checked in (before: 'no driver carries label …')
    await eventually(
      async () => {
        const { labels: all } = await api<{ labels: Label[] }>(running.pageUrl, '/api/labels');
        return all.length === 24 && all.every((label) => label.lastSeenAt !== null) ? true : undefined;
      },
      90_000,
      'every label to check in once',
    );
    const campaign = await api<Campaign>(running.pageUrl, '/api/campaigns', {
      prices: [...campaignPrices].map(([sku, priceCents]) => ({ sku, priceCents })),
    });
    // OpenEPaperLink tags take the price at their next check-in (every 15 s in the demo)
    const done = await eventually(
      async () => {
        const now = await api<Campaign>(running.pageUrl, `/api/campaigns/${campaign.id}`);
        return now.state === 'done' ? now : undefined;
      },
      90_000,
      'the campaign to finish',
    );
    expect({ confirmed: done.counts.confirmed, failed: (done as { failed?: unknown }).failed }).toEqual({
      confirmed: done.total,
      failed: [],
    });
    await stopThroughNpm(first, running.processes, 'SIGTERM');
    // lost secrets: every device is re-keyed at the next start instead of the demo refusing to start
    const credentialsFile = join(dataDir, 'demo-credentials.json');
    const { devices } = JSON.parse(await readFile(credentialsFile, 'utf8')) as CredentialsFile;
    await rm(credentialsFile);

    const restartedAt = Date.now();
    const second = startDemo();
    const again = await second.running();
    const rekeyed = second.lines().filter((line) => line.msg.includes('demo secret is lost'));
    expect(rekeyed.map((line) => line.deviceId).sort()).toEqual(devices.map((device) => device.deviceId).sort());
    // every label that reports what it shows (direct MQTT and behind the MQTT AP) has checked in since the restart,
    // and kiosks have charged what the labels show
    const labels = await eventually(
      async () => {
        const { labels: all } = await api<{ labels: Label[] }>(again.pageUrl, '/api/labels');
        const reporting = all.filter((label) => label.driverId !== null && !label.driverId.startsWith('oepl'));
        return reporting.length > 0 && reporting.every((label) => (label.lastSeenAt ?? 0) >= restartedAt) ? reporting : undefined;
      },
      90_000,
      'every MQTT label to check in after the restart',
    );
    await eventually(
      async () => {
        const health = await api<{ checks: Record<string, { kioskChecks?: number }> }>(again.pageUrl, '/api/health');
        return (health.checks['price-integrity']?.kioskChecks ?? 0) >= 5 ? true : undefined;
      },
      60_000,
      'kiosks to charge five items after the restart',
    );
    expect(labels.filter((label) => label.displayedPriceCents !== campaignPrices.get(label.sku))).toEqual([]);
    const { alerts } = await api<{ alerts: Alert[] }>(again.pageUrl, '/api/alerts?state=active&kind=price-mismatch');
    expect(alerts.filter((alert) => alert.openedAt >= restartedAt).map((alert) => alert.title)).toEqual([]);
    await stopThroughNpm(second, again.processes, 'SIGTERM');
  }, 300_000);
});
