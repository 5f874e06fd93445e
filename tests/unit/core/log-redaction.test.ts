import { describe, expect, it } from 'vitest';
import { loadConfig, redactConfig } from '../../../edge/config/load-config.js';
import { createLogger } from '../../../edge/core/logger.js';
import { isSecretKey, redactSecrets } from '../../../edge/core/log-redaction.js';

const SECRETS = ['hunter2-password', 'sst_token-value', 'device-secret-value', 'Bearer abc.def', 'hq-pass-value', 'pem-private-key'];

function capture(pretty = false) {
  const lines: string[] = [];
  const log = createLogger({ level: 'info', pretty }, { destination: { write: (line: string) => lines.push(line) }, isTTY: false });
  return { log, text: () => lines.join('') };
}

describe('secrets in logs', () => {
  it('are redacted at any depth: nested objects, arrays, errors, child bindings — in JSON and pretty lines', () => {
    for (const pretty of [false, true]) {
      const { log, text } = capture(pretty);
      const error = Object.assign(new Error('connect failed'), { context: { hq: { password: SECRETS[4] } } });
      log.child({ component: 'relay', upstream: { auth: { apiToken: SECRETS[1] } } }).info(
        {
          a: { b: { c: { d: { e: { password: SECRETS[0] } } } } },
          devices: [{ id: 'esl-1', secret: SECRETS[2] }],
          req: { headers: { authorization: SECRETS[3] } },
          tls: { privateKey: SECRETS[5] },
          err: error,
          tokens: 3,
          key: 'low-stock:shelf-a/1',
        },
        'something happened',
      );
      const line = text();
      for (const secret of SECRETS) expect(line, `${secret} (${pretty ? 'pretty' : 'json'})`).not.toContain(secret);
      expect(line).toContain('[redacted]');
      // what is not a secret stays
      expect(line).toContain('low-stock:shelf-a/1');
      expect(line).toContain('esl-1');
      expect(line).toContain('connect failed');
    }
  });

  it('the logged object itself is not changed', () => {
    const original = { nested: { password: 'x' } };
    const redacted = redactSecrets(original);
    expect(original.nested.password).toBe('x');
    expect(redacted.nested.password).toBe('[redacted]');
    const clean = { a: { b: 1 } };
    expect(redactSecrets(clean)).toBe(clean);
  });

  it('knows secret keys by name, not every key that contains a word', () => {
    expect(['password', 'apiToken', 'metricsToken', 'secret', 'hqPassword', 'authorization', 'privateKey', 'passphrase'].filter((k) => !isSecretKey(k))).toEqual([]);
    expect(['tokens', 'key', 'secretHash', 'passwordPolicy', 'deviceId'].filter(isSecretKey)).toEqual([]);
  });

  it('a cycle or a very deep object does not hang or throw', () => {
    const cyclic: Record<string, unknown> = { password: 'p' };
    cyclic.self = cyclic;
    expect((redactSecrets(cyclic) as { password: string }).password).toBe('[redacted]');
    let deep: Record<string, unknown> = { password: 'deep' };
    for (let i = 0; i < 100; i++) deep = { next: deep };
    expect(JSON.stringify(redactSecrets(deep))).not.toContain('deep"');
  });

  it("the config printed at start shows none of the config's secrets", async () => {
    const config = await loadConfig({ env: { SMARTSTORE_API_TOKEN: 'api-token-0123456789abcdef', SMARTSTORE_METRICS_TOKEN: 'metrics-token-0123456789', SMARTSTORE_HQ_PASSWORD: 'hq-password-value' } });
    const { log, text } = capture();
    log.info({ config: redactConfig(config), raw: config }, 'starting');
    for (const secret of ['api-token-0123456789abcdef', 'metrics-token-0123456789', 'hq-password-value']) expect(text()).not.toContain(secret);
  });
});
