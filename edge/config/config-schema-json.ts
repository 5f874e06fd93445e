/**
 * The text of config/schema.json, generated from `ConfigSchema` so editors validate and complete config files with
 * the rules the gateway applies. Pure: write-config-schema.ts writes it, a unit test compares it with the file.
 */
import { ConfigSchema } from './config-schema.js';

/** Keywords a reader looks for first come first; `properties` (the long part) and `description` come last. */
const KEY_RANK: Readonly<Record<string, number>> = {
  $schema: 0,
  $id: 1,
  title: 2,
  $comment: 3,
  type: 4,
  additionalProperties: 5,
  required: 6,
  properties: 8,
  description: 9,
};
const OTHER_KEYS_RANK = 7;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isObject(value: Json): value is { [key: string]: Json } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function orderedEntries(value: { [key: string]: Json }): Array<[string, Json]> {
  const rank = (key: string) => KEY_RANK[key] ?? OTHER_KEYS_RANK;
  return Object.entries(value).sort(([a], [b]) => rank(a) - rank(b)); // stable: other keys keep their order
}

/** One line for scalars, arrays of scalars and leaf schemas (no nested object); nested schemas one key per line. */
function render(value: Json, indent: string): string {
  if (Array.isArray(value)) {
    if (value.some((item) => typeof item === 'object' && item !== null)) {
      return `[\n${value.map((item) => `${indent}  ${render(item, `${indent}  `)}`).join(',\n')}\n${indent}]`;
    }
    return `[${value.map((item) => JSON.stringify(item)).join(', ')}]`;
  }
  if (!isObject(value)) return JSON.stringify(value);
  const entries = orderedEntries(value);
  if (entries.length === 0) return '{}';
  if (!entries.some(([, child]) => isObject(child) || (Array.isArray(child) && child.some(isObject)))) {
    return `{ ${entries.map(([key, child]) => `${JSON.stringify(key)}: ${render(child, indent)}`).join(', ')} }`;
  }
  const lines = entries.map(([key, child]) => `${indent}  ${JSON.stringify(key)}: ${render(child, `${indent}  `)}`);
  return `{\n${lines.join(',\n')}\n${indent}}`;
}

/**
 * An option with a default may be left out of a file: the gateway's schema keeps it `required` (Ajv fills defaults
 * before it checks `required`, and the static type then has it), but an editor does not fill defaults, so the file
 * for editors lists only the options without one.
 */
function withoutDefaultedRequired(value: Json): Json {
  if (Array.isArray(value)) return value.map(withoutDefaultedRequired);
  if (!isObject(value)) return value;
  const copy: { [key: string]: Json } = {};
  for (const [key, child] of Object.entries(value)) copy[key] = withoutDefaultedRequired(child);
  const { properties, required } = copy;
  if (isObject(properties ?? null) && Array.isArray(required)) {
    const props = properties as { [key: string]: Json };
    const left = required.filter(
      (name) => !(typeof name === 'string' && isObject(props[name] ?? null) && 'default' in (props[name] as object)),
    );
    if (left.length > 0) copy.required = left;
    else delete copy.required;
  }
  return copy;
}

export function configSchemaJson(): string {
  // JSON round trip: only the JSON Schema keywords, none of TypeBox's hidden markers
  return `${render(withoutDefaultedRequired(JSON.parse(JSON.stringify(ConfigSchema)) as Json), '')}\n`;
}
