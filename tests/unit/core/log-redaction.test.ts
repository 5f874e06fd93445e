import { describe, expect, it } from 'vitest';
import { loadConfig, redactConfig } from '../../../edge/config/load-config.js';
import { createLogger } from '../../../edge/core/logger.js';
import { isSecretKey, redactSecrets, redactUrlCredentials } from '../../../edge/core/log-redaction.js';

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
    expect(
      ['password', 'apiToken', 'metricsToken', 'secret', 'hqPassword', 'authorization', 'privateKey', 'passphrase'].filter(
        (k) => !isSecretKey(k),
      ),
    ).toEqual([]);
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
    const config = await loadConfig({
      env: {
        SMARTSTORE_API_TOKEN: 'api-token-0123456789abcdef',
        SMARTSTORE_METRICS_TOKEN: 'metrics-token-0123456789',
        SMARTSTORE_HQ_PASSWORD: 'hq-password-value',
      },
    });
    const { log, text } = capture();
    log.info({ config: redactConfig(config), raw: config }, 'starting');
    for (const secret of ['api-token-0123456789abcdef', 'metrics-token-0123456789', 'hq-password-value'])
      expect(text()).not.toContain(secret);
  });

  describe('credentials inside URLs', () => {
    it('keep the user and host, lose the password, for any scheme; a lone userinfo is a token and goes whole', () => {
      expect(redactUrlCredentials('mqtt://user:pass@host:1883')).toBe('mqtt://user:***@host:1883');
      for (const scheme of ['mqtts', 'ws', 'wss', 'http', 'https', 'postgres']) {
        expect(redactUrlCredentials(`${scheme}://gw-store-12:hunter2@hq.example.com/path?q=1`)).toBe(
          `${scheme}://gw-store-12:***@hq.example.com/path?q=1`,
        );
      }
      expect(redactUrlCredentials('https://ghp_tokenvalue@git.example.com/x')).toBe('https://***@git.example.com/x');
      expect(redactUrlCredentials('MQTT://User:P%40ss@Host')).toBe('MQTT://User:***@Host');
    });

    it('a raw @ in the password stays inside it (the last @ before the host ends the userinfo, as in WHATWG URL)', () => {
      expect(redactUrlCredentials('mqtt://user:p@ss@w0rd@host:1883/x')).toBe('mqtt://user:***@host:1883/x');
    });

    it('every URL of a text, and nothing that is not a userinfo', () => {
      expect(redactUrlCredentials('from ws://a:b@one to mqtt://c:d@two, mail ops@example.com')).toBe(
        'from ws://a:***@one to mqtt://c:***@two, mail ops@example.com',
      );
      // a JSON line: an '@' in a later field is not taken for the URL's userinfo
      const line = '{"url":"mqtt://hq.example.com:1883","by":"ops@example.com","see":"https://example.com/a@b"}';
      expect(redactUrlCredentials(line)).toBe(line);
      const plain = 'no url here, just ops@example.com';
      expect(redactUrlCredentials(plain)).toBe(plain);
    });

    it('are redacted in every log line: message, any field, error text and stack, child bindings — JSON and pretty', () => {
      const url = 'mqtts://hq-user:url-pass-123@hq.example.com:8883';
      for (const pretty of [false, true]) {
        const { log, text } = capture(pretty);
        const error = new Error(`connect ECONNREFUSED ${url}`);
        log
          .child({ component: 'relay', upstream: url })
          .warn({ hq: { endpoint: url }, urls: [url], err: error, note: `tried ${url}` }, `HQ link down: ${url}`);
        const line = text();
        expect(line, pretty ? 'pretty' : 'json').not.toContain('url-pass-123');
        expect(line).toContain('mqtts://hq-user:***@hq.example.com:8883');
        expect(line).toContain('connect ECONNREFUSED');
      }
    });
  });
});
