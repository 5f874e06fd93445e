/**
 * A route's schema errors in words a person acts on: `unknown field "colour" in prices, item 1 (allowed: sku,
 * priceCents)` rather than Ajv's `body/prices/0 must NOT have additional properties`. The app's one error handler
 * (app.ts) words every route's validation errors with it, from the route's own schemas: the allowed fields, the
 * allowed values, and what a field takes (its schema's `description`, or the route's `config.fieldWords`).
 */
import type { FastifySchemaValidationError } from 'fastify';

/** Per field name (the last part of its path): how people call it, and what it takes. */
export type FieldWords = Record<string, { name?: string; takes?: string }>;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** words for this route's fields in its validation errors, where the schema's own `description` does not say it */
    fieldWords?: FieldWords;
  }
}

type Schema = {
  properties?: Record<string, Schema>;
  items?: Schema;
  anyOf?: Schema[];
  const?: unknown;
  enum?: unknown[];
  type?: string | string[];
  description?: string;
  content?: Record<string, { schema?: Schema }>;
};

/** One failed validation as fastify reports it: Ajv's errors, where (body, params, querystring, headers), the schema. */
export type ValidationFailure = {
  errors: readonly FastifySchemaValidationError[];
  dataVar: string;
  /** the schema of that part of the request (for a body declared per content type: the request's type's) */
  schema: unknown;
  fields?: FieldWords;
};

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
const FORMAT_WORDS: Record<string, string> = {
  'date-time': 'a date and time with its zone, e.g. 2026-12-01T06:00:00+01:00',
  date: 'a date, e.g. 2026-12-01',
  uri: 'an address such as https://example.com/',
  uuid: 'a UUID',
};
/** A list of allowed values longer than this is not spelled out in one message. */
const MAX_VALUES_SAID = 20;

const isIndex = (part: string) => /^\d+$/.test(part);
const pathParts = (path: string) => path.split('/').filter((part) => part !== '' && part !== '#');

/** `/prices/2/sku` as `sku of prices, item 3`; the root is the place itself. */
function pathInWords(instancePath: string, place: string, fields: FieldWords): { field: string | undefined; where: string } {
  const parts = pathParts(instancePath);
  if (parts.length === 0) return { field: undefined, where: place };
  const words = parts.map((part) => (isIndex(part) ? `item ${Number(part) + 1}` : (fields[part]?.name ?? part)));
  if (isIndex(parts.at(-1) as string)) return { field: undefined, where: words.join(', ') };
  const field = words.pop() as string;
  return { field, where: words.length > 0 ? words.join(', ') : place };
}

/** The schema at an instance path (object properties and array items; the first branch of a union that has it). */
function schemaAt(root: unknown, instancePath: string): Schema | undefined {
  let schema = root as Schema | undefined;
  for (const part of pathParts(instancePath)) {
    if (!schema) return undefined;
    const branch: Schema = schema.anyOf?.find((option) => option.properties || option.items) ?? schema;
    schema = isIndex(part) ? branch.items : branch.properties?.[part];
  }
  return schema;
}

/** The schema an Ajv schemaPath (`#/properties/force/anyOf`) points at. */
function schemaAtSchemaPath(root: unknown, schemaPath: string): unknown {
  let node = root;
  for (const part of pathParts(schemaPath)) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[decodeURIComponent(part.replace(/~1/g, '/').replace(/~0/g, '~'))];
  }
  return node;
}

const valueInWords = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));

function valuesInWords(values: readonly unknown[]): string | undefined {
  if (values.length === 0 || values.length > MAX_VALUES_SAID) return undefined;
  return values.length === 1 ? valueInWords(values[0]) : `one of ${values.map(valueInWords).join(', ')}`;
}

function typesInWords(type: unknown): string {
  return [type]
    .flat()
    .map((name) => TYPE_WORDS[String(name)] ?? String(name))
    .join(' or ');
}

/** A union none of whose branches fit: its values (a union of constants), else the kinds of value it takes. */
function unionInWords(branches: readonly Schema[]): string | undefined {
  const values = branches.flatMap((branch) => ('const' in branch ? [branch.const] : (branch.enum ?? [undefined])));
  if (values.length > 0 && !values.includes(undefined)) return valuesInWords(values);
  if (branches.every((branch) => branch.type !== undefined && !branch.properties && !branch.items)) {
    return [...new Set(branches.map((branch) => typesInWords(branch.type)))].join(' or ');
  }
  return undefined;
}

function errorInWords(error: FastifySchemaValidationError, failure: ValidationFailure): string {
  const fields = failure.fields ?? {};
  const place = PLACE[failure.dataVar] ?? failure.dataVar;
  const { field, where } = pathInWords(error.instancePath, place, fields);
  const subject = field === undefined ? where : where === place ? `${field} in ${place}` : `${field} of ${where}`;
  const lastPart = error.instancePath.split('/').at(-1) ?? '';
  const takes = fields[lastPart]?.takes ?? schemaAt(failure.schema, error.instancePath)?.description;
  const params = error.params;
  switch (error.keyword) {
    case 'additionalProperties': {
      const allowed = Object.keys(schemaAt(failure.schema, error.instancePath)?.properties ?? {});
      const known = allowed.length > 0 ? `allowed: ${allowed.join(', ')}` : 'it takes none';
      return `unknown field "${String(params.additionalProperty)}" in ${subject} (${known})`;
    }
    case 'required':
      return `missing field "${String(params.missingProperty)}" in ${subject}`;
    case 'type':
      return `${subject} must be ${typesInWords(params.type)}`;
    case 'minimum':
    case 'exclusiveMinimum':
      return `${subject} must be ${error.keyword === 'minimum' ? 'at least' : 'more than'} ${String(params.limit)}`;
    case 'maximum':
    case 'exclusiveMaximum':
      return `${subject} must be ${error.keyword === 'maximum' ? 'at most' : 'less than'} ${String(params.limit)}`;
    case 'minItems':
      return `${subject} needs at least ${String(params.limit)} ${params.limit === 1 ? 'item' : 'items'}`;
    case 'maxItems':
      return `${subject} takes at most ${String(params.limit)} items`;
    case 'minLength':
      return params.limit === 1 ? `${subject} is empty` : `${subject} needs at least ${String(params.limit)} characters`;
    case 'maxLength':
      return `${subject} takes at most ${String(params.limit)} characters`;
    case 'minProperties':
      return `${subject} needs at least ${String(params.limit)} ${params.limit === 1 ? 'field' : 'fields'}`;
    case 'maxProperties':
      return `${subject} takes at most ${String(params.limit)} fields`;
    case 'uniqueItems':
      return `${subject} has items ${Number(params.j) + 1} and ${Number(params.i) + 1} the same`;
    case 'multipleOf':
      return `${subject} must be a multiple of ${String(params.multipleOf)}`;
    case 'enum':
    case 'const': {
      const values = error.keyword === 'enum' ? (params.allowedValues as unknown[]) : [params.allowedValue];
      if (takes) return `${subject} is not valid: ${takes}`;
      const said = valuesInWords(values);
      return said ? `${subject} must be ${said}` : `${subject} is not one of the values it takes`;
    }
    case 'format':
      return `${subject} is not valid: ${takes ?? FORMAT_WORDS[String(params.format)] ?? `${String(params.format)} expected`}`;
    case 'anyOf':
    case 'oneOf': {
      const branches = schemaAtSchemaPath(failure.schema, error.schemaPath);
      if (takes) return `${subject} is not valid: ${takes}`;
      const said = Array.isArray(branches) ? unionInWords(branches as Schema[]) : undefined;
      return said ? `${subject} must be ${said}` : `${subject} is not any of the forms it takes`;
    }
    case 'pattern':
      // the schema's description says what the pattern means (`a whole number from 1 to 1000`); without one, the pattern
      return `${subject} is not valid: ${takes ?? `it takes text of the form ${String(params.pattern)}`}`;
    default:
      return takes ? `${subject} is not valid: ${takes}` : `${subject} is not valid (${error.keyword})`;
  }
}

/**
 * Every error of a failed validation in words, once each. A union's own error stands for its branches' errors (each
 * branch failed in its own way; the union says what the field takes), so those are left out.
 */
export function validationInWords(failure: ValidationFailure): string {
  const unions = failure.errors.filter((error) => error.keyword === 'anyOf' || error.keyword === 'oneOf');
  const said = failure.errors.filter(
    (error) => !unions.some((union) => union !== error && error.schemaPath.startsWith(`${union.schemaPath}/`)),
  );
  return [...new Set(said.map((error) => errorInWords(error, failure)))].join('; ');
}

/** The schema a request's part was validated with: a body declared per content type is the request's type's. */
export function validatedSchema(routeSchema: unknown, dataVar: string, contentType: string | undefined): unknown {
  const schema = (routeSchema as Record<string, Schema | undefined> | undefined)?.[dataVar];
  if (dataVar !== 'body' || !schema?.content) return schema;
  const mediaType = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  return (schema.content[mediaType] ?? Object.values(schema.content)[0])?.schema;
}
