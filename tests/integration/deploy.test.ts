/**
 * deploy/: the systemd unit is what `systemd-analyze verify` accepts without a word and is hardened as the README
 * says; the Dockerfile (no engine on CI machines) is checked statically: it parses, runs as a user of its own, keeps
 * the data dir on a volume, checks /api/health and downloads nothing outside registries.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const run = promisify(execFile);
const UNIT_FILE = 'deploy/smartstore-edge.service';
const DOCKERFILE = 'deploy/Dockerfile';

/** `Key=value` lines of a unit file by section; a key given twice keeps every value in order. */
function unitEntries(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const section = /^\[(.+)\]$/.exec(line);
    if (section) {
      current = new Map();
      sections.set(section[1] as string, current);
      continue;
    }
    const at = line.indexOf('=');
    if (!current || at < 0) throw new Error(`not a unit file line: ${line}`);
    const key = line.slice(0, at);
    current.set(key, [...(current.get(key) ?? []), line.slice(at + 1)]);
  }
  return sections;
}

type Instruction = { line: number; keyword: string; args: string };

/**
 * The instructions of a Dockerfile: comments dropped, backslash continuations joined, keywords upper-cased. Throws
 * on a line that is no instruction (what `docker build` would refuse before running anything).
 */
function dockerInstructions(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const first = lines[index] as string;
    if (first.trim() === '' || first.trimStart().startsWith('#')) continue;
    let joined = first;
    const start = index + 1;
    while (joined.trimEnd().endsWith('\\')) {
      joined = `${joined.trimEnd().slice(0, -1)} `;
      index += 1;
      if (index >= lines.length) throw new Error(`Dockerfile line ${start}: continuation at the end of the file`);
      const next = lines[index] as string;
      if (!next.trimStart().startsWith('#')) joined += next.trim();
    }
    const match = /^\s*([A-Za-z]+)\s+(.*)$/.exec(joined);
    if (!match) throw new Error(`Dockerfile line ${start}: not an instruction: ${joined}`);
    const keyword = (match[1] as string).toUpperCase();
    const known = ['FROM', 'ARG', 'RUN', 'WORKDIR', 'ENV', 'COPY', 'ADD', 'VOLUME', 'EXPOSE', 'USER', 'HEALTHCHECK'];
    if (![...known, 'STOPSIGNAL', 'ENTRYPOINT', 'CMD', 'LABEL', 'SHELL', 'ONBUILD'].includes(keyword)) {
      throw new Error(`Dockerfile line ${start}: unknown instruction ${keyword}`);
    }
    instructions.push({ line: start, keyword, args: (match[2] as string).trim() });
  }
  return instructions;
}

describe('systemd unit', () => {
  let unitText: string;
  let unit: Map<string, Map<string, string[]>>;
  let scratch: string;
  beforeAll(async () => {
    unitText = await readFile(UNIT_FILE, 'utf8');
    unit = unitEntries(unitText);
    scratch = await mkdtemp(join(tmpdir(), 'smartstore-unit-'));
  });
  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });
  const service = (key: string) => unit.get('Service')?.get(key);

  it('runs the built CLI with the store config, as its own user', () => {
    expect(service('ExecStart')).toEqual(['/usr/bin/node /opt/smartstore-edge/dist/edge/cli.js run --config /etc/smartstore/gateway.yaml']);
    expect(service('User')).toEqual(['smartstore']);
    expect(service('Group')).toEqual(['smartstore']);
  });

  it('is hardened: read-only system but the data dir, private tmp, no home, no privileges or capabilities', () => {
    expect(service('ProtectSystem')).toEqual(['strict']);
    expect(service('ProtectHome')).toEqual(['yes']);
    expect(service('PrivateTmp')).toEqual(['yes']);
    expect(service('NoNewPrivileges')).toEqual(['yes']);
    expect(service('CapabilityBoundingSet')).toEqual(['']);
    expect(service('AmbientCapabilities')).toEqual(['']);
    expect(service('MemoryDenyWriteExecute')).toBeUndefined(); // V8's JIT would be killed
  });

  it('lets it write exactly the data dir of config/example.yaml, where the pseudonym key lives too', async () => {
    const example = parse(await readFile('config/example.yaml', 'utf8')) as { dataDir: string; security: { pseudonymKeyFile: string } };
    expect(service('ReadWritePaths')).toEqual([example.dataDir]);
    expect(service('StateDirectory')?.map((name) => `/var/lib/${name}`)).toEqual([example.dataDir]);
    expect(example.security.pseudonymKeyFile.startsWith(`${example.dataDir}/`)).toBe(true);
  });

  it('restarts on failure with a limit, but not for an invalid config (exit 2)', () => {
    expect(service('Restart')).toEqual(['on-failure']);
    expect(Number(unit.get('Unit')?.get('StartLimitBurst')?.[0])).toBeGreaterThan(0);
    expect(Number(unit.get('Unit')?.get('StartLimitIntervalSec')?.[0])).toBeGreaterThan(0);
    expect(service('RestartPreventExitStatus')).toEqual(['2']);
  });

  const systemdAnalyze = ['/usr/bin/systemd-analyze', '/bin/systemd-analyze'].find((path) => existsSync(path));
  /** What `systemd-analyze verify` says about a unit text: every line is a complaint (exit 0 or not). */
  async function verify(text: string): Promise<string[]> {
    const file = join(scratch, 'smartstore-edge.service');
    await writeFile(file, text);
    const result = await run(systemdAnalyze as string, ['verify', file]).catch((error: { stdout?: string; stderr?: string }) => ({
      stdout: error.stdout ?? '',
      stderr: error.stderr ?? 'failed',
    }));
    const complaints = `${result.stdout}\n${result.stderr}`.split('\n').filter((line) => line.trim() !== '');
    // a machine without Node.js at /usr/bin/node (tests run with another one) cannot judge ExecStart's binary
    return existsSync('/usr/bin/node') ? complaints : complaints.filter((line) => !line.includes('/usr/bin/node'));
  }

  it.skipIf(!systemdAnalyze)('is clean for systemd-analyze verify (skipped where systemd-analyze is not installed)', async () => {
    expect(await verify(unitText)).toEqual([]);
    // the check can fail: a misspelt key and a bad value are each reported (systemd itself only warns and goes on)
    expect((await verify(unitText.replace('RestartSec=', 'RestartSecs='))).join('\n')).toMatch(/Unknown key 'RestartSecs'/);
    expect((await verify(unitText.replace('ProtectSystem=strict', 'ProtectSystem=everything'))).join('\n')).toMatch(/everything/);
  });
});

describe('Dockerfile (static: no container engine on the test machine)', () => {
  let instructions: Instruction[];
  beforeAll(async () => {
    instructions = dockerInstructions(await readFile(DOCKERFILE, 'utf8'));
  });
  const all = (keyword: string) => instructions.filter((instruction) => instruction.keyword === keyword);
  /** the stages: instructions from each FROM to the next */
  const stages = () => {
    const result: Instruction[][] = [];
    for (const instruction of instructions) {
      if (instruction.keyword === 'FROM') result.push([]);
      result.at(-1)?.push(instruction);
    }
    return result;
  };

  it('parses, and builds in two stages from a slim Node 24 LTS image', () => {
    const defaultImage = /^NODE_IMAGE=(\S+)$/.exec(all('ARG')[0]?.args ?? '')?.[1];
    expect(defaultImage).toMatch(/^node:24(\.\d+)*-[a-z]+-slim$/);
    expect(all('FROM').map((from) => from.args)).toEqual(['${NODE_IMAGE} AS build', '${NODE_IMAGE}']);
  });

  it('installs compilers (python3, make, g++) in the build stage only', () => {
    const [build, runtime] = stages();
    const buildRuns = build?.filter((instruction) => instruction.keyword === 'RUN').map((instruction) => instruction.args) ?? [];
    expect(buildRuns.join('\n')).toMatch(/apt-get install .*python3 make g\+\+/);
    const runtimeRuns = runtime?.filter((instruction) => instruction.keyword === 'RUN').map((instruction) => instruction.args) ?? [];
    expect(runtimeRuns.join('\n')).not.toMatch(/g\+\+|python3|\bmake\b/);
  });

  it('downloads nothing outside registries: no ADD of a URL, no curl or wget, headers from the image for sqlite3', () => {
    expect(all('ADD')).toEqual([]);
    for (const instruction of all('RUN')) expect(instruction.args).not.toMatch(/\b(curl|wget)\b|https?:\/\//);
    expect(all('ENV').map((env) => env.args)).toContain('npm_config_nodedir=/usr/local');
  });

  it('runs as a user of its own, never root', () => {
    const users = all('USER');
    expect(users).toHaveLength(1);
    expect(users[0]?.args).toBe('smartstore');
    expect(['root', '0']).not.toContain(users[0]?.args);
    // USER comes after the last RUN: nothing of the runtime stage after it runs as root
    const lastRun = Math.max(...all('RUN').map((instruction) => instruction.line));
    expect(users[0]?.line).toBeGreaterThan(lastRun);
  });

  it('keeps the data dir on a volume, where its config puts the data', async () => {
    const container = parse(await readFile('deploy/container.yaml', 'utf8')) as { dataDir: string };
    expect(all('VOLUME').map((volume) => JSON.parse(volume.args) as string[])).toEqual([[container.dataDir]]);
    expect(all('COPY').map((copy) => copy.args)).toContain('deploy/container.yaml /etc/smartstore/gateway.yaml');
  });

  it('exposes MQTT, MQTTS, HTTP and OPC UA, and checks /api/health with node fetch', () => {
    expect(all('EXPOSE').flatMap((expose) => expose.args.split(/\s+/))).toEqual(['1883', '8883', '8080', '4840']);
    const [healthcheck] = all('HEALTHCHECK');
    expect(healthcheck?.args).toMatch(/^--interval=\S+ .*CMD \[/);
    const command = JSON.parse(healthcheck?.args.slice(healthcheck.args.indexOf('CMD ') + 4) ?? '') as string[];
    expect(command.slice(0, 2)).toEqual(['node', '-e']);
    expect(command[2]).toMatch(/fetch\(.*http:\/\/127\.0\.0\.1:8080\/api\/health/);
  });

  it('starts the built CLI', () => {
    expect(JSON.parse(all('ENTRYPOINT')[0]?.args ?? '')).toEqual(['node', '/opt/smartstore-edge/dist/edge/cli.js']);
    expect(JSON.parse(all('CMD')[0]?.args ?? '')).toEqual(['run']);
  });

  it('leaves data, keys, tokens and node_modules out of the build context', async () => {
    const ignored = (await readFile('.dockerignore', 'utf8')).split('\n').filter((line) => line.trim() !== '' && !line.startsWith('#'));
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', 'data', '**/*.db', '**/*.key', '**/*.token', '.git']));
  });
});
