import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CredentialsFileError, readCredentialsFile, writeCredentialsFile, type CredentialsFile } from '../../devices/credentials-file.js';

const GOOD: CredentialsFile = {
  storeId: 'store-0042',
  brokerUrl: 'mqtt://127.0.0.1:1883',
  devices: [
    { deviceId: 'shelf-01', kind: 'shelf', secret: 'a'.repeat(32) },
    { deviceId: 'esl-0001', kind: 'esl', secret: 'b'.repeat(32) },
    { deviceId: 'kiosk-01', kind: 'kiosk', secret: 'c'.repeat(32) },
  ],
};

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'credentials-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function problemsOf(path: string): Promise<string[]> {
  const error = await readCredentialsFile(path).catch((err: unknown) => err);
  expect(error).toBeInstanceOf(CredentialsFileError);
  expect((error as CredentialsFileError).path).toBe(path);
  return (error as CredentialsFileError).problems;
}

describe('credentials file', () => {
  it('round-trips, readable by its owner only', async () => {
    const path = join(dir, 'nested', 'credentials.json');
    await writeCredentialsFile(path, GOOD);
    expect(await readCredentialsFile(path)).toEqual(GOOD);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual(GOOD);
  });

  it('refuses to write invalid credentials', async () => {
    const path = join(dir, 'never.json');
    await expect(writeCredentialsFile(path, { ...GOOD, storeId: 'a/b' })).rejects.toBeInstanceOf(CredentialsFileError);
    await expect(stat(path)).rejects.toThrow(/ENOENT/);
  });

  it('lists every problem with its path', async () => {
    const path = join(dir, 'bad.json');
    await writeFile(
      path,
      JSON.stringify({
        storeId: '',
        brokerUrl: 'http://example.com',
        devices: [
          { deviceId: 'shelf 01', kind: 'fridge', secret: 'x' },
          { deviceId: 'esl-0001', kind: 'esl' },
          { deviceId: 'esl-0002', kind: 'esl', secret: 'y', note: 'hi' },
        ],
      }),
    );
    expect((await problemsOf(path)).sort()).toEqual(
      [
        '/storeId: must match ^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$',
        '/brokerUrl: must match ^(mqtts?|tcp|tls|ssl|wss?)://\\S+$',
        '/devices/0/deviceId: must match ^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$',
        '/devices/0/kind: must be one of shelf, esl, kiosk, case, ap',
        '/devices/1/secret: is required',
        '/devices/2/note: unknown property',
      ].sort(),
    );
  });

  it('reports duplicate device ids, bad JSON without echoing the file, and a missing file', async () => {
    const duplicate = join(dir, 'duplicate.json');
    await writeFile(duplicate, JSON.stringify({ ...GOOD, devices: [...GOOD.devices, GOOD.devices[0]] }));
    expect(await problemsOf(duplicate)).toEqual(['/devices/3/deviceId: duplicate device id "shelf-01" (first at /devices/0)']);

    const broken = join(dir, 'broken.json');
    await writeFile(broken, '{"storeId": "s", "secret": "hunter2",');
    const problems = await problemsOf(broken);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^not valid JSON/);
    expect(problems[0]).not.toContain('hunter2');

    expect(await problemsOf(join(dir, 'missing.json'))).toEqual(['file not found']);
  });
});
