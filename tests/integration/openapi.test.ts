/** The OpenAPI document at /docs (issue 23): every route of a real gateway is in it, it is OpenAPI 3, and it is guarded. */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLES } from '../../edge/http/roles.js';
import { startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

type Operation = {
  summary?: string;
  responses?: Record<string, { description?: string; content?: Record<string, { schema?: unknown }> }>;
  security?: Record<string, string[]>[];
  parameters?: { name: string; in: string }[];
  'x-required-role'?: string;
};
type OpenApiDocument = {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, { type: string; scheme?: string }> };
};

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head', 'trace'];

/** fastify's `/api/campaigns/:id` is OpenAPI's `/api/campaigns/{id}`. */
const openApiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

/** Routes the document leaves out on purpose: the staff page's files, and /docs itself. HEAD routes are fastify's copies of GETs. */
const undocumented = (route: { method: string; url: string }) =>
  route.method === 'HEAD' || route.url === '/*' || route.url === '/docs' || route.url.startsWith('/docs/');

describe('OpenAPI document at /docs', () => {
  let gw: TestGateway;
  let document: OpenApiDocument;
  let viewerToken: string;

  beforeAll(async () => {
    gw = await startTestGateway();
    viewerToken = await gw.addToken('openapi-reader', 'viewer');
    const response = await gw.api('/docs/openapi.json', { token: viewerToken });
    expect(response.status).toBe(200);
    document = (await response.json()) as OpenApiDocument;
  });
  afterAll(async () => gw?.dispose());

  it('has every route the gateway registered, under its OpenAPI path and method', () => {
    const routes = gw.built.http.registeredRoutes.filter((route) => !undocumented(route));
    // the gateway's API is larger than this; a collector that saw nothing would pass the loop below vacuously
    expect(routes.length).toBeGreaterThan(25);
    const missing = routes.filter((route) => !document.paths[openApiPath(route.url)]?.[route.method.toLowerCase()]);
    expect(missing).toEqual([]);
    // and nothing else: each documented operation is a route
    const documented = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.keys(item)
        .filter((key) => HTTP_METHODS.includes(key))
        .map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(documented.sort()).toEqual(routes.map((route) => `${route.method} ${openApiPath(route.url)}`).sort());
  });

  it('is an OpenAPI 3 document: version, info from package.json, paths, and responses on every operation', async () => {
    const manifest = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(document.openapi).toMatch(/^3\.\d+\.\d+$/);
    expect(typeof document.info.title).toBe('string');
    expect(document.info.version).toBe(manifest.version);
    expect(document).not.toHaveProperty('servers');
    expect(typeof document.paths).toBe('object');
    for (const [path, item] of Object.entries(document.paths)) {
      expect(path).toMatch(/^\//);
      for (const [method, operation] of Object.entries(item)) {
        expect(HTTP_METHODS, `${method} ${path}`).toContain(method);
        expect(operation.summary, `${method} ${path} has a summary`).toMatch(/^\S/);
        const codes = Object.keys(operation.responses ?? {});
        expect(codes.length, `${method} ${path} has responses`).toBeGreaterThan(0);
        for (const code of codes) {
          expect(code, `${method} ${path}`).toMatch(/^[1-5](\d\d|XX)$|^default$/);
          // described by the route's schema or by its status, never fastify-swagger's placeholder
          expect(operation.responses?.[code]?.description, `${method} ${path} ${code}`).toMatch(/^(?!Default Response$)./);
        }
        // each route says what it answers when it succeeds: a body with its schema, or 204 (a route without a response
        // schema gets fastify-swagger's placeholder, a 200 without content)
        const success = codes.filter((code) => code.startsWith('2'));
        expect(success.length, `${method} ${path} has a 2xx response`).toBeGreaterThan(0);
        for (const code of success) {
          const content = Object.values(operation.responses?.[code]?.content ?? {});
          if (code !== '204') expect(content.length, `${method} ${path} ${code} has content`).toBeGreaterThan(0);
          for (const media of content) expect(media.schema, `${method} ${path} ${code}`).toEqual(expect.any(Object));
        }
        // every path parameter is declared
        for (const [, name] of path.matchAll(/\{([^}]+)\}/g)) {
          expect(operation.parameters, `${method} ${path}`).toContainEqual(expect.objectContaining({ name, in: 'path' }));
        }
      }
    }
  });

  it('names the bearer scheme and the least role of each guarded operation, read off its guard', () => {
    expect(document.components.securitySchemes.bearer).toEqual(expect.objectContaining({ type: 'http', scheme: 'bearer' }));
    const operation = (path: string, method: string) => document.paths[path]?.[method];
    expect(operation('/api/devices', 'post')?.['x-required-role']).toBe('admin');
    expect(operation('/api/campaigns', 'post')?.['x-required-role']).toBe('manager');
    expect(operation('/api/alerts/{id}/ack', 'post')?.['x-required-role']).toBe('staff');
    expect(operation('/api/shelves', 'get')?.['x-required-role']).toBe('viewer');
    expect(operation('/api/events', 'get')?.parameters).toContainEqual(expect.objectContaining({ name: 'ticket', in: 'query' }));
    // open: load balancers check it without a token
    expect(operation('/api/health', 'get')).not.toHaveProperty('security');
    for (const [path, item] of Object.entries(document.paths)) {
      for (const [method, op] of Object.entries(item)) {
        if (path === '/api/health') continue;
        expect(op.security, `${method} ${path}`).toEqual([{ bearer: [] }]);
        expect(ROLES, `${method} ${path}`).toContain(op['x-required-role']);
      }
    }
  });

  it('refuses /docs and its document without a token, and serves both to a viewer', async () => {
    for (const path of ['/docs', '/docs/openapi.json']) {
      expect((await gw.api(path, { token: null })).status, path).toBe(401);
      expect((await gw.api(path, { token: 'not-a-token-of-this-store' })).status, path).toBe(401);
    }
    const page = await gw.api('/docs', { token: viewerToken });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toContain('/docs/openapi.json');
    expect(html).toContain('<code>/api/campaigns/{id}/rollback</code>');
  });
});
