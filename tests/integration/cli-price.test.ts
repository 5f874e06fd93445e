/**
 * `price push|status|cancel|rollback` against a running gateway, as store IT uses them: unknown skus and rows that may
 * be mistakes refused by line, --force, waiting labels with their reason, 100,000 rows, worded validation errors,
 * and `token add --raw > file` working with --token-file.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { CampaignView } from '../../edge/campaigns/campaign.js';
import { CAMPAIGN_UPLOAD_LIMIT_BYTES } from '../../edge/campaigns/campaign-routes.js';
import { EXIT, type CliIo } from '../../edge/cli/io.js';
import { runCli } from '../../edge/cli/program.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';
import { CAMPAIGN_PLANOGRAM, connectLabels, type FakeLabel } from './campaign-labels.js';

const MILK = '4000000000017';
const BEANS = '4000000000024';
const CHOCOLATE = '4000000000031';

let tg: TestGateway;
let configFile: string;
let managerToken: string;
let labels: FakeLabel[];

beforeAll(async () => {
  tg = await startTestGateway({ planogram: CAMPAIGN_PLANOGRAM });
  managerToken = await tg.addToken('maria', 'manager');
  // esl-m2 is registered but not connected: a price for milk waits for it
  await tg.built.devices.registry.provision('esl-m2', 'esl');
  labels = await connectLabels(tg, [], ['esl-m1', 'esl-b1', 'esl-c1']);
  configFile = join(tg.dataDir, 'price-cli.yaml');
  await writeFile(
    configFile,
    stringify({ dataDir: tg.dataDir, log: { level: 'silent', pretty: false }, http: { host: '127.0.0.1', port: tg.built.http.port } }),
  );
});
afterAll(async () => {
  await tg?.dispose();
});

async function cli(args: string[], env: NodeJS.ProcessEnv = { SMARTSTORE_API_TOKEN: managerToken }) {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    env,
    cwd: tg.dataDir,
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    onSignal: () => () => undefined,
  };
  const code = await runCli([...args, '--config', configFile], io);
  return { code, stdout, stderr };
}

async function pricePush(csv: string, extra: string[] = []) {
  const file = join(tg.dataDir, `prices-${Math.random().toString(36).slice(2)}.csv`);
  await writeFile(file, csv);
  return cli(['price', 'push', file, '--poll-ms', '50', ...extra]);
}

const campaignIdIn = (stdout: string) => /^(\S+)\t/.exec(stdout)?.[1] as string;

describe('price push', () => {
  it('lists an unknown sku as a bad row by its line, with the others, and exits 1', async () => {
    const result = await pricePush(`sku,priceCents\n${MILK},199\n4000000009999,250\n${BEANS},abc\n`);
    expect(result.code).toBe(EXIT.failed);
    expect(result.stderr).toContain('the gateway refused the prices (400): 2 bad rows in the CSV');
    expect(result.stderr).toContain('line 3: unknown sku 4000000009999: not a product in the planogram');
    expect(result.stderr).toMatch(/line 4: price "abc"/);
  });

  it('asks for --force for a price of 0 and an effectiveAt in the past, and sends them with it', async () => {
    const past = new Date(Date.now() - 3_600_000).toISOString();
    const csv = `sku,priceCents,effectiveAt\n${BEANS},0,\n${CHOCOLATE},149,${past}\n`;
    const refused = await pricePush(csv);
    expect(refused.code).toBe(EXIT.failed);
    expect(refused.stderr).toContain('2 bad rows in the CSV (each may be meant: send it with force to go ahead)');
    expect(refused.stderr).toMatch(/line 2: price 0: the labels would show 0\.00; .*--force/);
    expect(refused.stderr).toMatch(/line 3: effectiveAt .* is in the past; .*--force/);
    expect(refused.stderr).toContain('rows marked "if that is meant" are sent with --force');

    // the same file with --force: two campaigns (at once, and the past time, which also applies at once)
    const forced = await pricePush(csv, ['--force']);
    expect(forced.stderr).toMatch(/campaign \S+ \(prices-\w+\.csv\): 1 label, effective now/);
    expect(forced.code).toBe(EXIT.ok);
    expect(labels.find((label) => label.id === 'esl-b1')?.commands.at(-1)).toEqual({ sku: BEANS, priceCents: 0 });
    expect(labels.find((label) => label.id === 'esl-c1')?.commands.at(-1)).toEqual({ sku: CHOCOLATE, priceCents: 149 });
  });

  it('stops following when only labels that are not reachable are left, and lists them with the reason', async () => {
    const result = await pricePush(`sku,priceCents\n${MILK},219\n`);
    expect(result.code).toBe(EXIT.ok);
    expect(result.stdout).toMatch(/\trunning\tconfirmed 1\tfailed 0\tsuperseded 0\tcancelled 0\twaiting 1\n/);
    expect(result.stdout).toMatch(/^waiting\tesl-m2\t4000000000017\t219\tlabel not reachable now .*next checks in$/m);
    expect(result.stderr).toMatch(/1 label is not reachable now and takes the price when it checks in/);

    const status = await cli(['price', 'status', campaignIdIn(result.stdout)]);
    expect(status.code).toBe(EXIT.ok);
    expect(status.stdout).toMatch(/: running\n {2}created by maria at \S+, effective at once\n/);
    expect(status.stdout).toContain('  2 labels: 1 waiting, 1 confirmed\n');
    expect(status.stdout).toMatch(/^ {2}named prices-\w+\.csv\n {2}1 sku in its price list\n/m);
    expect(status.stdout).toMatch(/^waiting\tesl-m2\t/m);
  });

  it('accepts a 100,000-row CSV', { timeout: 60_000 }, async () => {
    // every row a known sku (the test store has three): the size is the point, duplicates at one price are harmless
    const rows = Array.from({ length: 100_000 }, (_, index) => `${[MILK, BEANS, CHOCOLATE][index % 3]},${(index % 3) + 300}`);
    const csv = `sku,priceCents\n${rows.join('\n')}\n`;
    expect(csv.length).toBeGreaterThan(1_800_000); // far over the app's 64 KiB body limit
    const response = await tg.api('/api/campaigns', {
      method: 'POST',
      token: managerToken,
      headers: { 'content-type': 'text/csv' },
      body: csv,
    });
    expect(response.status).toBe(201);
    const { campaigns } = (await response.json()) as { campaigns: CampaignView[] };
    expect(campaigns).toEqual([expect.objectContaining({ total: 4 })]);
  });

  it('answers an upload over the limit with 413 naming the limit', async () => {
    const response = await tg.api('/api/campaigns', {
      method: 'POST',
      token: managerToken,
      headers: { 'content-type': 'text/csv' },
      body: `sku,priceCents\n${`${MILK},1\n`.repeat(Math.ceil(CAMPAIGN_UPLOAD_LIMIT_BYTES / 16))}`,
    });
    expect(response.status).toBe(413);
    expect(((await response.json()) as { message: string }).message).toBe(
      `the upload is larger than the 16 MiB (${CAMPAIGN_UPLOAD_LIMIT_BYTES} bytes) a price file may have: split it into several files`,
    );
  });

  it('refuses a --poll-ms that is not a number before sending anything', async () => {
    const result = await pricePush(`sku,priceCents\n${MILK},1\n`, ['--poll-ms', 'fast']);
    expect(result.code).toBe(EXIT.failed);
    expect(result.stderr).toBe('--poll-ms "fast": a whole number of milliseconds, at least 10\n');
  });
});

describe('price status, cancel, rollback', () => {
  it('cancels a scheduled campaign', async () => {
    const later = new Date(Date.now() + 3_600_000).toISOString();
    const pushed = await pricePush(`sku,priceCents,effectiveAt\n${BEANS},899,${later}\n`, ['--title', 'Beans, week 12/2026']);
    expect(pushed.code).toBe(EXIT.ok);
    const id = /campaign (\S+) is scheduled; follow it with `price status \1`/.exec(pushed.stderr)?.[1] as string;
    expect(id).toBeDefined();
    expect(pushed.stderr).toContain(`campaign ${id} (Beans, week 12/2026): 1 label, effective ${later}`);
    const cancelled = await cli(['price', 'cancel', id]);
    expect(cancelled.code).toBe(EXIT.ok);
    expect(cancelled.stderr).toContain(`cancelled campaign ${id}: 1 label will not get its price; 0 labels already showing it`);
    expect(cancelled.stdout).toMatch(new RegExp(`^${id}\\tcancelled\\t`));
    const again = await cli(['price', 'cancel', id]);
    expect(again.code).toBe(EXIT.failed);
    expect(again.stderr).toMatch(new RegExp(`campaign ${id} not cancelled \\(409\\): `));
  });

  it('rolls a campaign back and follows the rollback to the end', async () => {
    const before = labels.find((label) => label.id === 'esl-b1')?.commands.at(-1)?.priceCents;
    const pushed = await pricePush(`sku,priceCents\n${BEANS},777\n`);
    expect(pushed.code).toBe(EXIT.ok);
    const rolledBack = await cli(['price', 'rollback', campaignIdIn(pushed.stdout), '--poll-ms', '50']);
    expect(rolledBack.code).toBe(EXIT.ok);
    expect(rolledBack.stderr).toMatch(/rolling back campaign \S+ with campaign \S+: 1 label back to their earlier prices/);
    expect(rolledBack.stdout).toMatch(/\tdone\tconfirmed 1\tfailed 0/);
    expect(labels.find((label) => label.id === 'esl-b1')?.commands.at(-1)?.priceCents).toBe(before);
  });

  it('says what is wrong with an id in words, and that a campaign is not there', async () => {
    const bad = await cli(['price', 'status', 'no_such!id']);
    expect(bad.code).toBe(EXIT.failed);
    expect(bad.stderr).toContain(
      'no status for campaign no_such!id (400): campaign id in the address is not valid: letters, digits and - only',
    );
    const missing = await cli(['price', 'status', 'nope']);
    expect(missing.stderr).toContain('no status for campaign nope (404): campaign nope not found');
  });
});

describe('validation errors in words', () => {
  it('names an unknown field and where it is, not "must NOT have additional properties"', async () => {
    const post = async (body: unknown) => {
      const response = await tg.api('/api/campaigns', { method: 'POST', token: managerToken, body: JSON.stringify(body) });
      return { status: response.status, message: ((await response.json()) as { message: string }).message };
    };
    expect(await post({ prices: [{ sku: MILK, priceCents: 1 }], colour: 'red' })).toEqual({
      status: 400,
      message: 'unknown field "colour" in the request body (allowed: id, title, prices, effectiveAt)',
    });
    expect(await post({ prices: [{ sku: MILK, priceCents: 1, name: 'milk' }] })).toEqual({
      status: 400,
      message: 'unknown field "name" in prices, item 1 (allowed: sku, priceCents)',
    });
    expect(await post({ prices: [{ sku: MILK, priceCents: 1.5 }] })).toEqual({
      status: 400,
      message: 'priceCents of prices, item 1 must be a whole number',
    });
    expect(await post({})).toEqual({ status: 400, message: 'missing field "prices" in the request body' });
  });
});

describe('token add --raw', () => {
  it('prints only the token, so `> maria.token` works with --token-file', async () => {
    const added = await cli(['token', 'add', 'maria-raw', '--role', 'manager', '--raw'], {});
    expect(added.code).toBe(EXIT.ok);
    expect(added.stdout).toMatch(/^\S+\n$/);
    expect(added.stderr).toContain('token for maria-raw (manager) shown this once');
    const tokenFile = join(tg.dataDir, 'maria.token');
    await writeFile(tokenFile, added.stdout); // what the shell's `> maria.token` writes
    expect(await readFile(tokenFile, 'utf8')).not.toContain('{');
    await eventually(async () => ((await tg.api('/api/campaigns', { token: added.stdout.trim() })).status === 200 ? true : undefined));
    const status = await cli(['price', 'status', 'nope', '--token-file', tokenFile], {});
    expect(status.stderr).toContain('(404)'); // not 401: the token from the file is accepted
  });

  it('still reads a token file holding the JSON line plain `token add` prints', async () => {
    const added = await cli(['token', 'add', 'maria-json', '--role', 'manager'], {});
    const tokenFile = join(tg.dataDir, 'maria-json.token');
    await writeFile(tokenFile, added.stdout);
    const token = (JSON.parse(added.stdout) as { token: string }).token;
    await eventually(async () => ((await tg.api('/api/campaigns', { token })).status === 200 ? true : undefined));
    const status = await cli(['price', 'status', 'nope', '--token-file', tokenFile], {});
    expect(status.stderr).toContain('(404)');
  });
});

describe('--version', () => {
  it('prints the version from package.json', async () => {
    const { version } = JSON.parse(await readFile('package.json', 'utf8')) as { version: string };
    let stdout = '';
    const io: CliIo = {
      env: {},
      cwd: tg.dataDir,
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: () => true },
      onSignal: () => () => undefined,
    };
    expect(await runCli(['--version'], io)).toBe(EXIT.ok);
    expect(stdout).toBe(`${version}\n`);
  });
});
