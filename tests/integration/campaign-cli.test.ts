import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { EXIT, type CliIo } from '../../edge/cli/io.js';
import { runCli } from '../../edge/cli/program.js';
import { startTestGateway, type TestGateway } from '../helpers/test-gateway.js';
import { CAMPAIGN_PLANOGRAM, connectLabels } from './campaign-labels.js';

let tg: TestGateway;
let configFile: string;
let managerToken: string;
let staffToken: string;

beforeAll(async () => {
  tg = await startTestGateway({ planogram: CAMPAIGN_PLANOGRAM });
  managerToken = await tg.addToken('maria', 'manager');
  staffToken = await tg.addToken('tom', 'staff');
  await connectLabels(tg, ['esl-c1']); // the chocolate label refuses every price
  configFile = join(tg.dataDir, 'price-cli.yaml');
  await writeFile(
    configFile,
    stringify({ dataDir: tg.dataDir, log: { level: 'silent', pretty: false }, http: { host: '127.0.0.1', port: tg.built.http.port } }),
  );
});
afterAll(async () => {
  await tg?.dispose();
});

function capture(env: NodeJS.ProcessEnv) {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    env,
    cwd: tg.dataDir,
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    onSignal: () => () => undefined,
  };
  return { io, stdout: () => stdout, stderr: () => stderr };
}

async function pricePush(csv: string, env: NodeJS.ProcessEnv, extra: string[] = []) {
  const file = join(tg.dataDir, `prices-${Math.random().toString(36).slice(2)}.csv`);
  await writeFile(file, csv);
  const run = capture(env);
  const code = await runCli(['price', 'push', file, '--config', configFile, '--poll-ms', '50', ...extra], run.io);
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}

describe('price push against a running gateway', () => {
  it('exits 0 when every label confirmed, and prints the counts', async () => {
    const result = await pricePush('sku,priceCents\n4000000000017,219\n4000000000024,879\n', { SMARTSTORE_API_TOKEN: managerToken });
    expect(result.stdout).toMatch(/\tdone\tconfirmed 3\tfailed 0/);
    expect(result.stderr).toMatch(/labels .* 3\/3 \| confirmed 3 \| failed 0/); // the progress bar's last state
    expect(result.code).toBe(EXIT.ok);
  });

  it('exits 1 when a label failed, and prints it with its reason', async () => {
    const tokenFile = join(tg.dataDir, 'manager.token');
    await writeFile(tokenFile, `${managerToken}\n`);
    const result = await pricePush('sku,priceCents\n4000000000017,229\n4000000000031,169\n', {}, ['--token-file', tokenFile]);
    expect(result.code).toBe(EXIT.failed);
    expect(result.stdout).toMatch(/confirmed 2\tfailed 1/);
    expect(result.stdout).toMatch(/^failed\tesl-c1\t4000000000031\t169\t.*display broken/m);
  });

  it('exits 1 with every bad row and its line when the CSV is bad', async () => {
    const result = await pricePush('sku,priceCents\n4000000000017,abc\n4000000000024,100\n,5\n', { SMARTSTORE_API_TOKEN: managerToken });
    expect(result.code).toBe(EXIT.failed);
    expect(result.stderr).toMatch(/refused the prices \(400\)/);
    expect(result.stderr).toMatch(/line 2: /);
    expect(result.stderr).toMatch(/line 4: /);
  });

  it('exits 1 for a staff token (403) and without a token', async () => {
    const staff = await pricePush('sku,priceCents\n4000000000017,1\n', { SMARTSTORE_API_TOKEN: staffToken });
    expect(staff.code).toBe(EXIT.failed);
    expect(staff.stderr).toMatch(/\(403\)/);
    const none = await pricePush('sku,priceCents\n4000000000017,1\n', {});
    expect(none.code).toBe(EXIT.failed);
    expect(none.stderr).toMatch(/needs a manager token/);
  });
});
