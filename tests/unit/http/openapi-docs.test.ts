import type { RouteOptions } from 'fastify';
import { describe, expect, it } from 'vitest';
import type { RouteHook } from '../../../edge/http/auth.js';
import { docsPage, documentAccess, nameResponses, routeAccess } from '../../../edge/http/openapi-docs.js';

const guardFor = (access: RouteHook['access']): RouteHook => Object.assign(async () => undefined, { access });
const route = (onRequest: RouteOptions['onRequest']) => ({ method: 'GET', url: '/x', handler: async () => undefined, onRequest });

describe('routeAccess', () => {
  it("reads the guard's access off a single hook or a list of hooks, and nothing off an open route", () => {
    expect(routeAccess(guardFor({ role: 'staff' }))).toEqual({ role: 'staff' });
    expect(routeAccess([async () => undefined, guardFor({ role: 'admin' })])).toEqual({ role: 'admin' });
    expect(routeAccess(async () => undefined)).toBeUndefined();
    expect(routeAccess(undefined)).toBeUndefined();
  });
});

describe('documentAccess', () => {
  it('adds the bearer scheme, the least role and a sentence to a guarded route, keeping its own description', () => {
    const schema = { description: 'Lists shelves.', response: { 200: { type: 'object' } } };
    const { schema: documented } = documentAccess({ schema, url: '/x', route: route(guardFor({ role: 'viewer' })) });
    expect(documented).toMatchObject({
      security: [{ bearer: [] }],
      'x-required-role': 'viewer',
      description: 'Lists shelves.\n\nNeeds a token with role viewer or higher.',
      response: schema.response,
    });
    // documentation only: the route's own schema is not changed
    expect(schema).toEqual({ description: 'Lists shelves.', response: { 200: { type: 'object' } } });
  });

  it('names the other ways in: the stream ticket (as a query parameter) and the metrics token', () => {
    const stream = documentAccess({ schema: undefined, url: '/s', route: route(guardFor({ role: 'viewer', streamTicket: true })) });
    expect(stream.schema.description).toBe('Needs a token with role viewer or higher, or a stream ticket (`?ticket=`).');
    expect(stream.schema).toHaveProperty('querystring.properties.ticket');
    const scrape = documentAccess({ schema: {}, url: '/m', route: route(guardFor({ role: 'viewer', metricsToken: true })) });
    expect(scrape.schema.description).toBe('Needs a token with role viewer or higher, or the metrics token.');
  });

  it('leaves an open route as it is', () => {
    const schema = { response: { 200: { type: 'object' } } };
    expect(documentAccess({ schema, url: '/api/health', route: route(undefined) })).toEqual({ schema, url: '/api/health' });
  });
});

describe('nameResponses', () => {
  it("replaces fastify-swagger's placeholder with the status text and keeps descriptions the routes gave", () => {
    const document = {
      paths: {
        '/a': {
          parameters: [],
          get: {
            responses: { 200: { description: 'Default Response' }, 404: { description: 'Default Response' }, 418: { description: 'mine' } },
          },
        },
      },
    };
    expect(nameResponses(document).paths['/a'].get.responses).toEqual({
      200: { description: 'OK' },
      404: { description: 'Not Found' },
      418: { description: 'mine' },
    });
  });
});

describe('docsPage', () => {
  it('lists each operation with its least role and escapes what the document says', () => {
    const html = docsPage({
      info: { title: 'API <b>', version: '1.0' },
      paths: {
        '/api/a/{id}': { parameters: [] as never, get: { summary: 'one "a" & more', 'x-required-role': 'staff' } },
        '/api/health': { get: {} },
      },
    });
    expect(html).toContain('<title>API &lt;b&gt; 1.0</title>');
    expect(html).toContain('<tr><td>GET</td><td><code>/api/a/{id}</code></td><td>staff</td><td>one &quot;a&quot; &amp; more</td></tr>');
    expect(html).toContain('<tr><td>GET</td><td><code>/api/health</code></td><td>none</td><td></td></tr>');
    expect(html).not.toContain('<script');
    expect(html).toContain('href="/docs/openapi.json"');
  });
});
