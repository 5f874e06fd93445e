import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../edge/config/load-config.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smartstore-secret-files-'));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

async function secretFile(name: string, content: string, mode: number): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, content);
  await chmod(file, mode);
  return file;
}

describe('secrets from files (<NAME>_FILE)', () => {
  it('reads a file only its owner (and group) can read; a trailing newline is not part of the secret', async () => {
    const file = await secretFile('api-token', 'api-token-from-a-file-0123\n', 0o600);
    const grouped = await secretFile('hq-password', 'hq-password-from-a-file', 0o640);
    const config = await loadConfig({ env: { SMARTSTORE_API_TOKEN_FILE: file, SMARTSTORE_HQ_PASSWORD_FILE: grouped } });
    expect(config.http.apiToken).toBe('api-token-from-a-file-0123');
    expect(config.hq.password).toBe('hq-password-from-a-file');
  });

  it('refuses a world-readable secret file, naming the file, the variable and the fix', async () => {
    const file = await secretFile('open-token', 'api-token-from-a-file-0123', 0o644);
    await expect(loadConfig({ env: { SMARTSTORE_API_TOKEN_FILE: file } })).rejects.toThrow(
      /SMARTSTORE_API_TOKEN_FILE: the secret file is accessible to other users \(mode 644\); chmod 600/,
    );
  });

  it('a missing file is an error, not an empty secret; the variable itself wins over its file', async () => {
    await expect(loadConfig({ env: { SMARTSTORE_METRICS_TOKEN_FILE: join(dir, 'nope') } })).rejects.toThrow(
      /SMARTSTORE_METRICS_TOKEN_FILE: cannot read the secret file/,
    );
    const file = await secretFile('other-token', 'token-from-the-file-0123', 0o600);
    const config = await loadConfig({ env: { SMARTSTORE_API_TOKEN: 'token-from-the-variable', SMARTSTORE_API_TOKEN_FILE: file } });
    expect(config.http.apiToken).toBe('token-from-the-variable');
  });
});
