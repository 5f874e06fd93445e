/**
 * HTTPS for the API, live stream and staff page (issue 17): with `http.tls` the gateway serves TLS with HSTS; without
 * it, plain HTTP on a non-loopback address is refused at start unless allowed on purpose.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../edge/config/gateway-config.js';
import { createCertificateAuthority, issueCertificate } from '../../edge/pki/certificate-authority.js';
import { TEST_TOKEN, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';
import { writeFile } from 'node:fs/promises';

let dir: string;
let ca: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smartstore-https-'));
  const authority = await createCertificateAuthority('test-store', Date.now());
  const server = await issueCertificate({
    ca: authority,
    commonName: 'localhost',
    altNames: ['127.0.0.1', 'localhost'],
    usage: 'server',
    now: Date.now(),
    validityDays: 2,
  });
  ca = authority.certPem;
  await writeFile(join(dir, 'server.crt'), server.certPem);
  await writeFile(join(dir, 'server.key'), server.keyPem, { mode: 0o600 });
  await writeFile(join(dir, 'open.key'), server.keyPem, { mode: 0o644 });
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

function httpsGet(port: number, path: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, ca, headers: { authorization: `Bearer ${TEST_TOKEN}` } }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('HTTPS', () => {
  it('serves the API and the staff page over TLS with HSTS; plain HTTP to the TLS port gets nothing', async () => {
    const gw: TestGateway = await startTestGateway({
      overrides: { http: { tls: { certFile: join(dir, 'server.crt'), keyFile: join(dir, 'server.key') } } },
    });
    try {
      const port = gw.built.http.port;
      const alerts = await httpsGet(port, '/api/alerts');
      expect(alerts.status).toBe(200);
      expect(alerts.headers['strict-transport-security']).toBe('max-age=31536000');
      expect(JSON.parse(alerts.body)).toEqual({ alerts: [] });
      expect((await httpsGet(port, '/')).status).toBe(200);
      await expect(fetch(`http://127.0.0.1:${port}/api/health`)).rejects.toThrow();
    } finally {
      await gw.dispose();
    }
  });

  it('plain HTTP on a non-loopback address is refused with the config, naming the fix; so is a world-readable key at start', async () => {
    const refused = startTestGateway({ overrides: { http: { host: '0.0.0.0' } } });
    await expect(refused).rejects.toBeInstanceOf(ConfigError);
    await expect(refused).rejects.toThrow(/\/http\/host: must be a loopback address .*or set http.tls or http.allowPlainHttp: true/);
    const openKey = startTestGateway({
      overrides: { http: { tls: { certFile: join(dir, 'server.crt'), keyFile: join(dir, 'open.key') } } },
    });
    await expect(openKey).rejects.toThrow(/accessible to other users \(mode 644\)/);
    expect(await readFile(join(dir, 'open.key'), 'utf8')).toContain('PRIVATE KEY');
  });

  it('allowPlainHttp: true lets store IT run plain HTTP on the store network on purpose', async () => {
    const gw = await startTestGateway({ overrides: { http: { host: '0.0.0.0', allowPlainHttp: true } } });
    try {
      expect((await fetch(`http://127.0.0.1:${gw.built.http.port}/api/health`)).status).toBe(200);
    } finally {
      await gw.dispose();
    }
  });
});
