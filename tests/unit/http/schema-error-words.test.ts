import { tmpdir } from 'node:os';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { pino } from 'pino';
import { Type } from 'typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHttpApp } from '../../../edge/http/app.js';

const body = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 10 }),
    items: Type.Array(
      Type.Object({ sku: Type.String({ pattern: '^[a-z]+$' }), qty: Type.Integer({ minimum: 1 }) }, { additionalProperties: false }),
      {
        minItems: 1,
      },
    ),
  },
  { additionalProperties: false },
);
const params = Type.Object({ id: Type.String({ pattern: '^[a-z]+$' }) });

// the app's own error handler words the errors: the route only names its fields
let app: FastifyInstance;
beforeAll(async () => {
  const things: FastifyPluginAsync = async (routes) => {
    routes.post('/things/:id', {
      config: { fieldWords: { id: { name: 'thing id', takes: 'small letters only' }, sku: { takes: 'a-z' } } },
      schema: { body, params },
      handler: async () => ({ ok: true }),
    });
  };
  app = await buildHttpApp({ log: pino({ level: 'silent' }), bodyLimitBytes: 65_536, staticDir: tmpdir(), routes: [things] });
});
afterAll(async () => {
  await app?.close();
});

async function message(payload: unknown, id = 'abc'): Promise<string> {
  const response = await app.inject({ method: 'POST', url: `/things/${id}`, payload: payload as object });
  expect(response.statusCode).toBe(400);
  return response.json<{ message: string }>().message;
}

describe('schema errors in words', () => {
  const good = { name: 'a', items: [{ sku: 'abc', qty: 1 }] };
  it('names an unknown field, where it is and what is allowed', async () => {
    expect(await message({ ...good, colour: 1 })).toBe('unknown field "colour" in the request body (allowed: name, items)');
    expect(await message({ ...good, items: [{ sku: 'a', qty: 1, x: 1 }] })).toBe('unknown field "x" in items, item 1 (allowed: sku, qty)');
  });
  it('names a missing field, a wrong type, a range, an empty value and a list too short', async () => {
    expect(await message({ items: good.items })).toBe('missing field "name" in the request body');
    expect(await message({ ...good, items: [{ sku: 'a', qty: 'two' }] })).toBe('qty of items, item 1 must be a whole number');
    expect(await message({ ...good, items: [{ sku: 'a', qty: 0 }] })).toBe('qty of items, item 1 must be at least 1');
    expect(await message({ ...good, name: '' })).toBe('name in the request body is empty');
    expect(await message({ ...good, name: 'x'.repeat(11) })).toBe('name in the request body takes at most 10 characters');
    expect(await message({ ...good, items: [] })).toBe('items in the request body needs at least 1 item');
  });
  it('says what a field takes, by the name people use for it', async () => {
    expect(await message({ ...good, items: [{ sku: 'A!', qty: 1 }] })).toBe('sku of items, item 1 is not valid: a-z');
    expect(await message(good, 'ABC')).toBe('thing id in the address is not valid: small letters only');
  });
});

describe("the app's error handler words every route's schema errors", () => {
  const query = Type.Object(
    {
      limit: Type.Optional(Type.String({ pattern: '^(?:[1-9][0-9]{0,2}|1000)$', description: 'a whole number from 1 to 1000' })),
      state: Type.Optional(Type.Enum(['open', 'closed'])),
      force: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')])),
      code: Type.Optional(Type.String({ pattern: '^[a-z]+$' })),
    },
    { additionalProperties: false },
  );
  const itemBody = Type.Object({ count: Type.Integer({ minimum: 1, maximum: 9 }) }, { additionalProperties: false });
  let app: FastifyInstance;

  beforeAll(async () => {
    const plain: FastifyPluginAsync = async (routes) => {
      routes.get('/items', { schema: { querystring: query }, handler: async () => ({ ok: true }) });
      routes.post('/items/:id', {
        config: { fieldWords: { id: { name: 'item id', takes: 'small letters only' } } },
        schema: {
          params: Type.Object({ id: Type.String({ pattern: '^[a-z]+$' }) }),
          body: { content: { 'application/json': { schema: itemBody }, 'text/plain': { schema: Type.String({ minLength: 1 }) } } },
        },
        handler: async () => ({ ok: true }),
      });
    };
    app = await buildHttpApp({ log: pino({ level: 'silent' }), bodyLimitBytes: 65_536, staticDir: tmpdir(), routes: [plain] });
  });
  afterAll(async () => app?.close());

  async function refusal(request: { url: string; method?: 'GET' | 'POST'; payload?: string; contentType?: string }) {
    const response = await app.inject({
      method: request.method ?? 'GET',
      url: request.url,
      ...(request.payload === undefined ? {} : { payload: request.payload }),
      headers: { 'content-type': request.contentType ?? 'application/json' },
    });
    expect(response.statusCode, request.url).toBe(400);
    const { message } = response.json<{ message: string }>();
    expect(message).not.toMatch(/must NOT|querystring\/|body\/|params\//);
    return message;
  }

  it('query strings: unknown, out of range (by its description), not one of the values, a pattern without a description', async () => {
    expect(await refusal({ url: '/items?colour=red' })).toBe(
      'unknown field "colour" in the query string (allowed: limit, state, force, code)',
    );
    expect(await refusal({ url: '/items?limit=1001' })).toBe('limit in the query string is not valid: a whole number from 1 to 1000');
    expect(await refusal({ url: '/items?state=lost' })).toBe('state in the query string must be one of open, closed');
    // a union of constants: its own error stands for its branches'
    expect(await refusal({ url: '/items?force=yes' })).toBe('force in the query string must be one of true, false');
    expect(await refusal({ url: '/items?code=A1' })).toBe('code in the query string is not valid: it takes text of the form ^[a-z]+$');
  });

  it("params by the route's field words, and a body by its content type's schema", async () => {
    const good = JSON.stringify({ count: 1 });
    expect(await refusal({ method: 'POST', url: '/items/ABC', payload: good })).toBe(
      'item id in the address is not valid: small letters only',
    );
    expect(await refusal({ method: 'POST', url: '/items/abc', payload: JSON.stringify({ count: 10 }) })).toBe(
      'count in the request body must be at most 9',
    );
    expect(await refusal({ method: 'POST', url: '/items/abc', payload: JSON.stringify({ count: 1, size: 2 }) })).toBe(
      'unknown field "size" in the request body (allowed: count)',
    );
    expect(await refusal({ method: 'POST', url: '/items/abc', payload: '[]' })).toBe('the request body must be an object with fields');
    expect(await refusal({ method: 'POST', url: '/items/abc', payload: '', contentType: 'text/plain' })).toBe('the request body is empty');
  });
});
