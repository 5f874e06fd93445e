/**
 * A route's schema errors in words a person acts on: `unknown field "colour" in prices, item 1 (allowed: sku,
 * priceCents)` rather than Ajv's `body/prices/0 must NOT have additional properties`. Used as a route's
 * `schemaErrorFormatter`; the route's own schemas name the allowed fields, `fields` says what a field takes.
 */
import type { FastifySchemaValidationError } from 'fastify';

/** Per field name (the last part of its path): how people call it, and what it takes. */
export type FieldWords = Record<string, { name?: string; takes?: string }>;

type Schema = { properties?: Record<string, Schema>; items?: Schema; anyOf?: Schema[] };
type RouteSchemas = Partial<Record<'body' | 'params' | 'querystring' | 'headers', unknown>>;

const PLACE: Record<string, string> = {
  body: 'the request body',
  params: 'the address',
  querystring: 'the query string',
  headers: 'the headers',
};
const TYPE_WORDS: Record<string, string> = {
  integer: 'a whole number',
  number: 'a number',
  string: 'text',
  boolean: 'true or false',
  array: 'a list',
  object: 'an object with fields',
  null: 'empty',
};

/** `/prices/2/sku` as `sku of prices, item 3`; the root is the place itself. */
function pathInWords(instancePath: string, place: string, fields: FieldWords): { field: string | undefined; where: string } {
  const parts = instancePath.split('/').filter((part) => part !== '');
  if (parts.length === 0) return { field: undefined, where: place };
  const words = parts.map((part) => (/^\d+$/.test(part) ? `item ${Number(part) + 1}` : (fields[part]?.name ?? part)));
  const last = parts.at(-1) as string;
  if (/^\d+$/.test(last)) return { field: undefined, where: words.join(', ') };
  const field = words.pop() as string;
  return { field, where: words.length > 0 ? words.join(', ') : place };
}

/** The schema at an instance path (object properties and array items; the first branch of a union that has it). */
function schemaAt(root: unknown, instancePath: string): Schema | undefined {
  let schema = root as Schema | undefined;
  for (const part of instancePath.split('/').filter((segment) => segment !== '')) {
    if (!schema) return undefined;
    const branch: Schema = schema.anyOf?.find((option) => option.properties || option.items) ?? schema;
    schema = /^\d+$/.test(part) ? branch.items : branch.properties?.[part];
  }
  return schema;
}

function errorInWords(error: FastifySchemaValidationError, dataVar: string, schemas: RouteSchemas, fields: FieldWords): string {
  const place = PLACE[dataVar] ?? dataVar;
  const { field, where } = pathInWords(error.instancePath, place, fields);
  const subject = field === undefined ? where : where === place ? `${field} in ${place}` : `${field} of ${where}`;
  const lastPart = error.instancePath.split('/').at(-1) ?? '';
  const takes = fields[lastPart]?.takes;
  const params = error.params;
  switch (error.keyword) {
    case 'additionalProperties': {
      const allowed = Object.keys(schemaAt(schemas[dataVar as keyof RouteSchemas], error.instancePath)?.properties ?? {});
      const known = allowed.length > 0 ? `allowed: ${allowed.join(', ')}` : 'it takes none';
      return `unknown field "${String(params.additionalProperty)}" in ${subject} (${known})`;
    }
    case 'required':
      return `missing field "${String(params.missingProperty)}" in ${subject}`;
    case 'type':
      return `${subject} must be ${TYPE_WORDS[String(params.type)] ?? String(params.type)}`;
    case 'minimum':
    case 'exclusiveMinimum':
      return `${subject} must be at least ${String(params.limit)}`;
    case 'maximum':
    case 'exclusiveMaximum':
      return `${subject} must be at most ${String(params.limit)}`;
    case 'minItems':
      return `${subject} needs at least ${String(params.limit)} ${params.limit === 1 ? 'item' : 'items'}`;
    case 'maxItems':
      return `${subject} takes at most ${String(params.limit)} items`;
    case 'minLength':
      return params.limit === 1 ? `${subject} is empty` : `${subject} needs at least ${String(params.limit)} characters`;
    case 'maxLength':
      return `${subject} takes at most ${String(params.limit)} characters`;
    default:
      // pattern, format, enum, const, a union none of whose branches fit: what the field takes, said by the route
      return takes ? `${subject} is not valid: ${takes}` : `${subject} is not valid (${error.message ?? error.keyword})`;
  }
}

/** A `schemaErrorFormatter` for a route with these schemas; a union's branches that say the same are said once. */
export function schemaErrorsInWords(schemas: RouteSchemas, fields: FieldWords = {}) {
  return (errors: FastifySchemaValidationError[], dataVar: string): Error =>
    new Error([...new Set(errors.map((error) => errorInWords(error, dataVar, schemas, fields)))].join('; '));
}
