/**
 * The audit trail against a real gateway: who acknowledged, snoozed and resolved an alert over HTTP, device changes
 * through the API and the CLI (once each, even though the gateway notices the CLI's change), tokens from the CLI;
 * `audit verify` passes, then finds a row edited and a row deleted through a second SQLite connection (triggers
 * dropped first), naming the seq; `audit export` writes JSON lines anyone can re-verify.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { verifyEntries, type AuditEntry } from '../../edge/audit/audit-entry.js';
import { cliActor } from '../../edge/cli/audit.js';
import type { CliIo } from '../../edge/cli/io.js';
import { runCli } from '../../edge/cli/program.js';
import { SqliteDatabase } from '../../edge/storage/database.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.dispose();
  gw = undefined;
});

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    env: {},
    cwd: gw?.dataDir ?? '.',
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    onSignal: () => () => undefined,
  };
  const code = await runCli(args, io);
  return { code, stdout, stderr };
}

async function entries(gateway: TestGateway): Promise<AuditEntry[]> {
  await gateway.built.audit.log.flush();
  const all: AuditEntry[] = [];
  for await (const entry of gateway.built.audit.store.entries()) all.push(entry);
  return all;
}

describe('audit trail', () => {
  it('records who acted on an alert over HTTP (token name), device and token changes from API and CLI; verify passes', async () => {
    gw = await startTestGateway();
    const maria = await gw.addToken('maria', 'staff');
    const tom = await gw.addToken('tom', 'staff');
    const alert = gw.built.alerts.service.raise({
      kind: 'low-stock',
      key: 'low-stock:shelf-a/1',
      severity: 'warning',
      title: 'Oat milk 1 l low',
      shelfId: 'shelf-a',
      facing: 1,
      units: 2,
    }).alert;

    expect((await gw.api(`/api/alerts/${alert.id}/ack`, { method: 'POST', body: '{}', token: maria })).status).toBe(200);
    expect(
      (await gw.api(`/api/alerts/${alert.id}/snooze`, { method: 'POST', body: JSON.stringify({ minutes: 5 }), token: tom })).status,
    ).toBe(200);
    expect(
      (await gw.api(`/api/alerts/${alert.id}/resolve`, { method: 'POST', body: JSON.stringify({ note: 'shelf filled' }), token: maria }))
        .status,
    ).toBe(200);
    // the system's own resolve of another alert is not a person's action
    gw.built.alerts.service.raise({
      kind: 'low-stock',
      key: 'low-stock:shelf-b/1',
      severity: 'warning',
      title: 'Chocolate low',
      shelfId: 'shelf-b',
      facing: 1,
      units: 3,
    });
    gw.built.alerts.service.resolveByKey('low-stock:shelf-b/1', 'system', 'restocked');

    expect((await gw.api('/api/devices', { method: 'POST', body: JSON.stringify({ id: 'esl-01', kind: 'esl' }) })).status).toBe(201);
    expect((await gw.api('/api/devices/esl-01/rotate-secret', { method: 'POST' })).status).toBe(200);

    const config = await gw.writeConfigFile();
    const actor = cliActor({ env: {} });
    expect((await cli(['device', 'disable', 'esl-01', '--config', config])).code).toBe(0);
    // the gateway notices the CLI's change (device.lifecycle) and does not audit it a second time
    await eventually(() => (gw!.built.devices.registry.get('esl-01')?.disabled ? true : undefined), 5_000, 'gateway sees esl-01 disabled');
    expect((await cli(['token', 'add', 'ana', '--role', 'viewer', '--config', config])).code).toBe(0);
    expect((await cli(['token', 'revoke', 'ana', '--config', config])).code).toBe(0);

    const trail = await entries(gw);
    expect(trail.map((e) => [e.seq, e.actor, e.action, e.subject])).toEqual([
      [1, 'maria', 'alert.acknowledged', alert.id],
      [2, 'tom', 'alert.snoozed', alert.id],
      [3, 'maria', 'alert.resolved', alert.id],
      [4, 'api-token (config)', 'device.added', 'esl-01'],
      [5, 'api-token (config)', 'device.secret-rotated', 'esl-01'],
      [6, actor, 'device.disabled', 'esl-01'],
      [7, actor, 'token.added', 'ana'],
      [8, actor, 'token.revoked', 'ana'],
    ]);
    expect(trail[2]?.details).toMatchObject({ from: 'snoozed', to: 'resolved', resolution: 'shelf filled', shelfId: 'shelf-a', facing: 1 });
    expect(trail[6]?.details).toEqual({ role: 'viewer' });

    const verified = await cli(['audit', 'verify', '--config', config]);
    expect(verified).toMatchObject({ code: 0, stdout: `ok: 8 entries, last seq 8, last hash ${trail[7]?.hash}\n` });
  });

  it('verify finds an edited row and a deleted row (second connection, triggers dropped), naming the seq; export re-verifies', async () => {
    gw = await startTestGateway();
    for (let i = 1; i <= 5; i++)
      gw.built.audit.record({ actor: `person-${i}`, action: 'alert.acknowledged', subject: `alert-${i}`, details: { n: i } });
    expect(await entries(gw)).toHaveLength(5);
    const config = await gw.writeConfigFile();
    await gw.stop();

    const out = join(gw.dataDir, 'audit.jsonl');
    expect((await cli(['audit', 'export', '--out', out, '--config', config])).code).toBe(0);
    const exported = (await readFile(out, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as AuditEntry);
    expect(exported.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(verifyEntries(exported)).toMatchObject({ ok: true, count: 5 });

    const tamper = new SqliteDatabase(join(gw.dataDir, 'gateway.db'));
    await tamper.open();
    try {
      // the trigger guards against the gateway's own mistakes …
      await expect(tamper.run("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2")).rejects.toThrow('append-only');
      // … not against someone with the file: verify is the proof
      await tamper.exec('DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;');
      await tamper.run("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2");
      const edited = await cli(['audit', 'verify', '--config', config]);
      expect(edited.code).toBe(1);
      expect(edited.stdout).toMatch(/^BROKEN at seq 2 \(hash-mismatch\): entry 2: hash mismatch/);

      await tamper.run("UPDATE audit_log SET actor = 'person-2' WHERE seq = 2");
      expect((await cli(['audit', 'verify', '--config', config])).code).toBe(0);

      await tamper.run('DELETE FROM audit_log WHERE seq = 3');
      const deleted = await cli(['audit', 'verify', '--config', config]);
      expect(deleted.code).toBe(1);
      expect(deleted.stdout).toBe('BROKEN at seq 4 (seq-gap): entry 4: seq gap, expected 3 (entry 3 missing)\n');
    } finally {
      await tamper.close();
    }
  });
});
