/**
 * config/example.yaml is where the README sends store IT for "every option explained": each option of the schema is
 * set in it or named in one of its comments, so a new option without a word in the example fails here.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';

const CONFIG_DIR = fileURLToPath(new URL('../../../config/', import.meta.url));

type SchemaNode = { properties?: Record<string, SchemaNode>; items?: SchemaNode; anyOf?: SchemaNode[] };

/** Every option path of the schema, e.g. `hq/drain/ratePerS`; `[]` steps into array items. */
function optionPaths(node: SchemaNode, path: string[] = []): string[][] {
  const paths: string[][] = [];
  for (const variant of [node, ...(node.anyOf ?? [])]) {
    for (const [key, child] of Object.entries(variant.properties ?? {})) paths.push([...path, key], ...optionPaths(child, [...path, key]));
    if (variant.items) paths.push(...optionPaths(variant.items, [...path, '[]']));
  }
  return paths;
}

function isSetIn(value: unknown, path: readonly string[]): boolean {
  if (path.length === 0) return true;
  const [step, ...rest] = path as [string, ...string[]];
  if (step === '[]') return Array.isArray(value) && value.some((item) => isSetIn(item, rest));
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.hasOwn(value, step)) return false;
  return isSetIn((value as Record<string, unknown>)[step], rest);
}

describe('config/example.yaml', () => {
  it('sets or names in a comment every option of config/schema.json', async () => {
    const schema = JSON.parse(await readFile(`${CONFIG_DIR}schema.json`, 'utf8')) as SchemaNode;
    const text = await readFile(`${CONFIG_DIR}example.yaml`, 'utf8');
    const example = parseYaml(text) as unknown;
    const comments = text
      .split('\n')
      .filter((line) => line.includes('#'))
      .map((line) => line.slice(line.indexOf('#')))
      .join('\n');
    const unexplained = optionPaths(schema)
      .filter((path) => !isSetIn(example, path) && !new RegExp(`\\b${path.at(-1) as string}\\b`).test(comments))
      .map((path) => path.join('/'));
    expect(unexplained, 'options config/example.yaml neither sets nor names in a comment: add them there').toEqual([]);
  });

  it('says nothing of HQ "coming in a later release": the relay is here', async () => {
    expect(await readFile(`${CONFIG_DIR}example.yaml`, 'utf8')).not.toMatch(/later release/);
  });
});
