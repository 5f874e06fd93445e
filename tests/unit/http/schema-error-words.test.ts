import Fastify from 'fastify';
import { Type } from 'typebox';
import { afterAll, describe, expect, it } from 'vitest';
import { schemaErrorsInWords } from '../../../edge/http/schema-error-words.js';

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

const app = Fastify({ ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } } });
app.post('/things/:id', {
  schema: { body, params },
  schemaErrorFormatter: schemaErrorsInWords(
    { body, params },
    { id: { name: 'thing id', takes: 'small letters only' }, sku: { takes: 'a-z' } },
  ),
  handler: async () => ({ ok: true }),
});
afterAll(async () => {
  await app.close();
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
