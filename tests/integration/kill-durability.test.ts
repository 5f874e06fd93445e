/**
 * Durable before acknowledged (issue 21 §1): the gateway runs as a child process (`smartstore-edge run`, built once
 * per run by tests/global-setup.ts), a mixed workload writes to it — alert ack/snooze/resolve, campaign
 * create/cancel/rollback while campaigns run on answering labels, label binding, device
 * add/disable/enable/rotate-secret/remove over HTTP, token add/revoke with the CLI, kiosk QoS 1 `assist-requested`
 * events with HQ off — and the test SIGKILLs it at a random moment, starts it again on the same data dir, and checks
 * every write whose answer (2xx, PUBACK, exit 0) arrived: its effect is in the state, its audit entry is in the trail,
 * `audit verify` is ok, and no audit entry says what the state contradicts. Writes whose answer had not arrived may or
 * may not have happened, but state and audit must agree on which.
 *
 * Random but reproducible: the seed is in the test's name; KILL_DURABILITY_SEED=<seed> runs the same kill moments and
 * the same choices of each loop again (what the loops choose from still follows the machine's timing).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomInt, seededRandom } from '../../devices/random.js';
import { runCli } from '../../edge/cli/program.js';
import {
  checkCycle,
  credentialChecks,
  describeFindings,
  DurabilityLedger,
  type Finding,
  type StateSnapshot,
} from '../helpers/durability-ledger.js';
import { DurabilityWorkload, readSnapshot, tryCredentials, type ApiCall, type CliCall } from '../helpers/durability-workload.js';
import { builtGatewayCli } from '../helpers/built-gateway.js';
import { GatewayChild } from '../helpers/gateway-child.js';
import { freePort } from '../helpers/mosquitto.js';
import { TEST_PLANOGRAM } from '../helpers/test-gateway.js';

const SEED = Number(process.env.KILL_DURABILITY_SEED ?? Math.floor(Math.random() * 2 ** 31));
const CYCLES = 20;
/** the kill comes this long after the workload started: any moment of it, in flight or between writes */
const KILL_AFTER_MS = { min: 20, max: 600 };
const STORE_ID = 'kill-store';
const API_TOKEN = 'kill-durability-admin-token-0123456789';
const KIOSKS = ['kiosk-1', 'kiosk-2', 'kiosk-3', 'kiosk-4'];
const LABELS = ['esl-1', 'esl-2', 'esl-3', 'esl-4', 'esl-5', 'esl-6'];
/** every kind of write the workload sends; each must have been answered at least once, or the test proves nothing */
const WRITE_KINDS = [
  'alert.ack',
  'alert.snooze',
  'alert.resolve',
  'campaign.create',
  'campaign.cancel',
  'campaign.rollback',
  'label.bind',
  'device.add',
  'device.disable',
  'device.enable',
  'device.rotate-secret',
  'device.remove',
  'token.add',
  'token.revoke',
];

/** The test planogram, with the six direct MQTT labels bound two per facing. */
const PLANOGRAM = {
  ...TEST_PLANOGRAM,
  labels: [
    { label: 'esl-1', shelfId: 'shelf-a', facing: 1 },
    { label: 'esl-2', shelfId: 'shelf-a', facing: 1 },
    { label: 'esl-3', shelfId: 'shelf-a', facing: 2 },
    { label: 'esl-4', shelfId: 'shelf-a', facing: 2 },
    { label: 'esl-5', shelfId: 'shelf-b', facing: 1 },
    { label: 'esl-6', shelfId: 'shelf-b', facing: 1 },
  ],
};

let work: string;
let configFile: string;
let httpUrl: string;
let mqttUrl: string;
let child: GatewayChild | undefined;
let workload: DurabilityWorkload | undefined;

const api: ApiCall = (path, init = {}) => {
  const { token = API_TOKEN, ...rest } = init;
  const headers = new Headers(rest.headers);
  headers.set('authorization', `Bearer ${token}`);
  return fetch(httpUrl + path, { ...rest, headers });
};

/** The CLI in this process, on the gateway's config: what store IT types at the gateway's console. */
const cli: CliCall = async (argv) => {
  let stdout = '';
  let stderr = '';
  const io = {
    env: {},
    cwd: work,
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    onSignal: () => () => undefined,
  };
  const code = await runCli([...argv, '--config', configFile], io);
  return { code, stdout, stderr };
};

async function addDevice(id: string, kind: 'kiosk' | 'esl'): Promise<{ id: string; secret: string }> {
  const out = await cli(['device', 'add', id, '--kind', kind, '--init']);
  if (out.code !== 0) throw new Error(`device add ${id} exited ${out.code}: ${out.stderr}`);
  return { id, secret: (JSON.parse(out.stdout) as { secret: string }).secret };
}

describe('durable before acknowledged: SIGKILL at random moments of a mixed workload', () => {
  // the kill moments; the workload's loops draw from generators of their own (same seed)
  const random = seededRandom(SEED);
  const ledger = new DurabilityLedger();

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'smartstore-kill-durability-'));
    const [httpPort, mqttPort] = [await freePort(), await freePort()];
    httpUrl = `http://127.0.0.1:${httpPort}`;
    mqttUrl = `mqtt://127.0.0.1:${mqttPort}`;
    const planogramFile = join(work, 'planogram.yaml');
    await writeFile(planogramFile, stringify(PLANOGRAM));
    configFile = join(work, 'gateway.yaml');
    await writeFile(
      configFile,
      stringify({
        storeId: STORE_ID,
        dataDir: join(work, 'data'),
        log: { level: 'warn', pretty: false },
        // every client is on 127.0.0.1, and a lost secret rotation makes failed logins: the limits have their own tests
        mqtt: {
          host: '127.0.0.1',
          port: mqttPort,
          maxConnectionsPerAddress: 1_000,
          maxConnectAttemptsPerAddressPerMinute: 100_000,
          maxAuthFailuresPerMinute: 100_000,
        },
        http: { host: '127.0.0.1', port: httpPort, apiToken: API_TOKEN, maxAuthFailuresPerMinute: 100_000 },
        planogram: { file: planogramFile },
        security: { scryptCost: 1024 },
        // HQ off: a PUBACKed kiosk event is kept by the gateway's own store, not by the relay's outbox
        hq: { enabled: false },
        // a campaign of six labels runs for more than a second: the kill often finds one running, the restart resumes it
        labels: { campaigns: { sendsPerSecondPerDriver: 5, ackTimeoutMs: 2_000 } },
      }),
    );
    const kiosks = [];
    for (const id of KIOSKS) kiosks.push(await addDevice(id, 'kiosk'));
    const labels = [];
    for (const id of LABELS) labels.push(await addDevice(id, 'esl'));
    child = new GatewayChild({ cliFile: builtGatewayCli(), configFile, httpUrl, apiToken: API_TOKEN });
    workload = new DurabilityWorkload(
      {
        storeId: STORE_ID,
        mqttUrl,
        facings: TEST_PLANOGRAM.shelves.flatMap((shelf) => shelf.facings.map(({ facing }) => ({ shelfId: shelf.id, facing }))),
        skus: TEST_PLANOGRAM.products.map((p) => p.sku),
        kiosks,
        labels,
        rebindable: ['esl-5', 'esl-6'],
      },
      { api, cli, ledger, seed: SEED },
    );
  }, 120_000);

  afterAll(async () => {
    await workload?.disconnect();
    await child?.stop();
    if (work) await rm(work, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  }, 60_000);

  it(`every answered write is found after each of ${CYCLES} SIGKILLs, state and audit agree (seed ${SEED})`, async () => {
    const gateway = child as GatewayChild;
    const load = workload as DurabilityWorkload;
    const findings: Finding[] = [];
    // an audit entry the state contradicts stays so in every later cycle: reported once
    const contradictions = new Set<string>();
    const collect = (found: readonly Finding[]) => {
      for (const finding of found) {
        if (finding.problem === 'audit-contradicts-state') {
          const key = `${finding.subject}|${finding.detail}`;
          if (contradictions.has(key)) continue;
          contradictions.add(key);
        }
        findings.push(finding);
      }
    };
    const startedAt = Date.now();
    let previous: StateSnapshot | undefined;
    for (let cycle = 0; cycle <= CYCLES; cycle++) {
      await gateway.start();
      await load.connect();
      const snapshot = await readSnapshot(api, cli, ledger);
      if (previous) {
        collect(checkCycle(ledger, cycle - 1, previous, snapshot));
        for (const { check, accepted } of await tryCredentials(credentialChecks(ledger, cycle - 1, snapshot), mqttUrl, api)) {
          if (accepted === check.accepted) continue;
          const detail = check.accepted
            ? `its ${check.domain === 'device' ? 'secret' : 'token'} is refused`
            : 'the revoked token is still accepted';
          collect([{ cycle: check.cycle, problem: 'lost', kind: check.kind, subject: check.subject, detail }]);
        }
      }
      previous = snapshot;
      if (cycle === CYCLES) break; // the last start only verifies

      load.resync(snapshot);
      const running = load.run(cycle);
      await new Promise((resolve) => setTimeout(resolve, randomInt(random, KILL_AFTER_MS.min, KILL_AFTER_MS.max)));
      const killed = gateway.kill();
      load.stop();
      await killed;
      const failed = await running;
      await load.disconnect();
      if (failed) throw new Error(`cycle ${cycle}: ${failed.message}\n--- the gateway's output before the kill:\n${gateway.outputTail()}`);
    }
    await load.disconnect();
    await gateway.stop();

    const answered = new Map<string, number>();
    for (const action of ledger.actions) if (action.outcome === 'acked') answered.set(action.kind, (answered.get(action.kind) ?? 0) + 1);
    const kioskAcked = ledger.kioskEvents.filter((e) => e.ackedAt !== undefined).length;
    const answeredText = [...answered].map(([k, n]) => `${k} ${n}`).join(', ');
    const summary =
      `seed ${SEED}, ${CYCLES} cycles in ${Math.round((Date.now() - startedAt) / 1000)} s; ` +
      `answered: ${answeredText}, kiosk events ${kioskAcked}`;
    // the count, not the list: the message holds the findings one a line, a diff of objects would bury them
    expect(findings.length, `${summary}\n${describeFindings(findings)}`).toBe(0);
    expect(
      WRITE_KINDS.filter((kind) => !answered.has(kind)),
      `kinds of write never answered (${summary})`,
    ).toEqual([]);
    expect(kioskAcked, summary).toBeGreaterThan(0);
  }, 300_000);
});
