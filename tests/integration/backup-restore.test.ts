/**
 * Issue 21 §2: `backup --out DIR` while the store is busy, `restore DIR` into a data dir, and the restored store
 * starts with everything acknowledged before the backup began, its audit trail intact. The CLI runs in-process.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { Alert } from '../../edge/alerts/alerts.js';
import { EXIT, type CliIo } from '../../edge/cli/io.js';
import { runCli } from '../../edge/cli/program.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

let dir: string;
const cleanups: Array<() => Promise<unknown>> = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smartstore-backup-test-'));
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    env: {},
    cwd: dir,
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    onSignal: () => () => undefined,
  };
  const code = await runCli(args, io);
  return { code, stdout, stderr };
}

async function configFor(dataDir: string, name: string): Promise<string> {
  const file = join(dir, name);
  const config = { storeId: 'test-store', dataDir, log: { level: 'silent', pretty: false }, security: { scryptCost: 1024 } };
  await writeFile(file, stringify(config));
  return file;
}

async function started(options: Parameters<typeof startTestGateway>[0] & { dataDir: string }): Promise<TestGateway> {
  await mkdir(options.dataDir, { recursive: true });
  const gw = await startTestGateway(options);
  cleanups.push(() => gw.stop());
  return gw;
}

type Acknowledged = { devices: string[]; resolvedAlerts: string[] };

/**
 * Store IT adds devices and staff handle kiosk alerts, as fast as the gateway answers, until `stop()`; every action
 * answered 2xx is recorded in order.
 */
function busyStore(gw: TestGateway) {
  const acknowledged: Acknowledged = { devices: [], resolvedAlerts: [] };
  let stopping = false;
  const devices = (async () => {
    for (let i = 0; !stopping && i < 10_000; i++) {
      const response = await gw.api('/api/devices', { method: 'POST', body: JSON.stringify({ id: `shelf-${i}`, kind: 'shelf' }) });
      if (response.status !== 201) throw new Error(`device add answered ${response.status}`);
      acknowledged.devices.push(`shelf-${i}`);
    }
  })();
  const alerts = (async () => {
    const kiosk = await gw.connectDevice('kiosk-1', 'kiosk');
    for (let i = 0; !stopping && i < 10_000; i++) {
      const event = JSON.stringify({ type: 'assist-requested', ts: Date.now() });
      await kiosk.publishAsync('store/test-store/kiosk/kiosk-1/event', event, { qos: 1 });
      const alert = await eventually(
        async () => {
          const { alerts: active } = (await (await gw.api('/api/alerts')).json()) as { alerts: Alert[] };
          return active.find((a) => a.deviceId === 'kiosk-1' && a.state === 'open');
        },
        5_000,
        'the kiosk alert',
      );
      for (const step of ['ack', 'resolve']) {
        const response = await gw.api(`/api/alerts/${alert.id}/${step}`, { method: 'POST', body: JSON.stringify({}) });
        if (response.status !== 200) throw new Error(`${step} answered ${response.status}`);
      }
      acknowledged.resolvedAlerts.push(alert.id);
    }
  })();
  return {
    acknowledged,
    /** a copy of what was acknowledged so far */
    snapshot: (): Acknowledged => ({ devices: [...acknowledged.devices], resolvedAlerts: [...acknowledged.resolvedAlerts] }),
    async stop(): Promise<void> {
      stopping = true;
      await Promise.all([devices, alerts]);
    },
  };
}

describe('backup and restore', () => {
  it('a backup under load holds all acknowledged before it; restored into a new data dir, it starts and audit verify says ok', async () => {
    const hq = { enabled: true, url: 'mqtt://127.0.0.1:1', reconnectMinMs: 1_000 };
    const gw = await started({ dataDir: join(dir, 'store'), overrides: { hq } });
    const originalMarker = JSON.parse(await readFile(join(gw.dataDir, 'store.json'), 'utf8')) as { storeUuid: string };
    const config = await configFor(gw.dataDir, 'store.yaml');
    const load = busyStore(gw);
    cleanups.push(() => load.stop().catch(() => undefined));
    const underWay = () => load.acknowledged.devices.length >= 30 && load.acknowledged.resolvedAlerts.length >= 3;
    await eventually(() => (underWay() ? true : undefined), 20_000, 'writes under way');

    const beforeBackup = load.snapshot();
    const out = join(dir, 'backup-1');
    const backup = await cli(['backup', '--out', out, '--config', config]);
    expect(backup.stderr).not.toContain('failed');
    expect(backup.code).toBe(EXIT.ok);
    expect(backup.stdout).toMatch(
      new RegExp(`^backup of store test-store in ${out}: gateway\\.db, relay-outbox\\.db and \\d+ key files, `),
    );
    // the load went on while the backup ran and after it
    const afterBackup = load.acknowledged.devices.length;
    await eventually(() => (load.acknowledged.devices.length > afterBackup + 5 ? true : undefined), 10_000, 'writes after the backup');

    // restore refuses while the gateway runs on the data dir, and changes nothing
    const refused = await cli(['restore', out, '--config', config]);
    expect(refused.code).toBe(EXIT.failed);
    expect(refused.stderr).toContain(`refusing to restore while a gateway runs on ${gw.dataDir} (pid ${process.pid}): stop it first`);
    expect((await readdir(gw.dataDir)).filter((name) => name.startsWith('aside-'))).toEqual([]);

    await load.stop();
    await gw.stop();

    const restoredDir = join(dir, 'restored');
    const restoredConfig = await configFor(restoredDir, 'restored.yaml');
    const restore = await cli(['restore', out, '--config', restoredConfig]);
    expect(restore.stderr).not.toContain('failed');
    expect(restore.code).toBe(EXIT.ok);
    const uuid = originalMarker.storeUuid;
    const restoredLine = `^restored store test-store \\(${uuid}\\) from the backup of .* into ${restoredDir}: \\d+ files\\n$`;
    expect(restore.stdout).toMatch(new RegExp(restoredLine));
    for (const name of ['gateway.db', 'relay-outbox.db', 'pseudonym.key', 'store.json']) {
      expect([name, (await stat(join(restoredDir, name))).mode & 0o777]).toEqual([name, 0o600]);
    }

    // the restored store starts (same store uuid: no refusal) with everything acknowledged before the backup
    const restored = await started({ dataDir: restoredDir });
    expect(JSON.parse(await readFile(join(restoredDir, 'store.json'), 'utf8'))).toMatchObject({ storeUuid: originalMarker.storeUuid });
    const missingDevices = beforeBackup.devices.filter((id) => restored.built.devices.registry.get(id) === undefined);
    expect(missingDevices).toEqual([]);
    for (const id of beforeBackup.resolvedAlerts) {
      expect(await restored.built.alerts.service.get(id)).toMatchObject({ id, state: 'resolved' });
    }
    await restored.stop();

    const verify = await cli(['audit', 'verify', '--config', restoredConfig]);
    expect(verify.code).toBe(EXIT.ok);
    const entries = Number(/^ok: (\d+) entries/.exec(verify.stdout)?.[1] ?? 0);
    // one entry per device added and two per alert handled (ack, resolve), at least those before the backup
    expect(entries).toBeGreaterThanOrEqual(beforeBackup.devices.length + 2 * beforeBackup.resolvedAlerts.length);
  });

  it('restore over an existing store moves its files aside first; the backup folder must be new, complete and undamaged', async () => {
    const dataDir = join(dir, 'store');
    const gw = await started({ dataDir });
    await gw.built.devices.registry.provision('shelf-before', 'shelf');
    const config = await configFor(dataDir, 'store.yaml');
    const out = join(dir, 'backup');
    expect((await cli(['backup', '--out', out, '--config', config])).code).toBe(EXIT.ok);
    await gw.built.devices.registry.provision('shelf-after', 'shelf');
    await gw.stop();

    // a second backup into the same folder is refused (it would mix two stores)
    const again = await cli(['backup', '--out', out, '--config', config]);
    expect(again.code).toBe(EXIT.failed);
    expect(again.stderr).toContain(`${out} exists and is not empty: give the backup a new folder`);

    const restore = await cli(['restore', out, '--config', config]);
    expect(restore.code).toBe(EXIT.ok);
    const asides = (await readdir(dataDir)).filter((name) => name.startsWith('aside-'));
    expect(asides).toHaveLength(1);
    expect(restore.stdout).toContain(`what was there before is in ${join(dataDir, asides[0] as string)}`);
    expect((await readdir(join(dataDir, asides[0] as string))).sort()).toEqual(['gateway.db', 'pseudonym.key', 'store.json']);
    const restored = await started({ dataDir });
    expect(restored.built.devices.registry.get('shelf-before')).toBeDefined();
    expect(restored.built.devices.registry.get('shelf-after')).toBeUndefined();
    await restored.stop();

    // damaged: one byte of the database changed → refused, naming the file; nothing changed in the data dir
    const database = join(out, 'data', 'gateway.db');
    const bytes = await readFile(database);
    bytes[bytes.length - 1] = (bytes.at(-1) ?? 0) ^ 0xff;
    await writeFile(database, bytes);
    const before = (await readdir(dataDir)).sort();
    const damaged = await cli(['restore', out, '--config', config]);
    expect(damaged.code).toBe(EXIT.failed);
    expect(damaged.stderr).toContain(
      `the backup in ${out} is damaged; nothing was changed:\n` +
        "  - data/gateway.db: its SHA-256 differs from the manifest's (changed or damaged)\n",
    );
    expect((await readdir(dataDir)).sort()).toEqual(before);

    // unfinished (no manifest): refused
    await rm(join(out, 'manifest.json'));
    const unfinished = await cli(['restore', out, '--config', config]);
    expect(unfinished.code).toBe(EXIT.failed);
    expect(unfinished.stderr).toContain(`${out} is not a complete backup (no readable manifest.json`);
    expect(existsSync(join(dataDir, 'gateway.db'))).toBe(true);
  });
});
