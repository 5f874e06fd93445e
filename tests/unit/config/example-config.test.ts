/**
 * config/example.yaml is where the README sends store IT for "every option explained": each option of the config
 * schema (edge/config/config-schema.ts, the live one — config/schema.json is generated from it and may lag) is set in
 * it, or named in a comment inside its own top-level section (how the file shows optional keys), and the file
 * validates. A new option without a word in the example fails here with its path.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ConfigSchema } from '../../../edge/config/config-schema.js';
import { loadConfig } from '../../../edge/config/load-config.js';

const EXAMPLE = fileURLToPath(new URL('../../../config/example.yaml', import.meta.url));

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

/**
 * The comments of each top-level section (from its `key:` line to the next top-level line), and of the lines outside
 * any section under '' — so `enabled` named in the hq section's comments does not count for insight.
 */
function commentsBySection(text: string): Map<string, string> {
  const sections = new Map<string, string>();
  let section = '';
  for (const line of text.split('\n')) {
    const top = /^([A-Za-z][\w-]*):/.exec(line);
    if (top) section = top[1] as string;
    else if (/^\S/.test(line) && !line.startsWith('#')) section = '';
    const hash = line.indexOf('#');
    if (hash !== -1) sections.set(section, `${sections.get(section) ?? ''}\n${line.slice(hash)}`);
  }
  return sections;
}

/** The options config/example.yaml neither sets nor names in a comment of their section, as `section/key` paths. */
function unexplainedOptions(schema: SchemaNode, text: string): string[] {
  const example = parseYaml(text) as unknown;
  const comments = commentsBySection(text);
  return optionPaths(schema)
    .filter((path) => {
      if (isSetIn(example, path)) return false;
      const name = path.at(-1) as string;
      const where = path.length === 1 ? [...comments.values()].join('\n') : (comments.get(path[0] as string) ?? '');
      return !new RegExp(`(?<![\\w.-])${name}(?![\\w-])`).test(where);
    })
    .map((path) => path.join('/'));
}

describe('config/example.yaml', () => {
  it('sets, or names in a comment of its section, every option of the config schema', async () => {
    const text = await readFile(EXAMPLE, 'utf8');
    const unexplained = unexplainedOptions(ConfigSchema as unknown as SchemaNode, text);
    // the walk did walk: the schema has well over a hundred options
    expect(optionPaths(ConfigSchema as unknown as SchemaNode).length).toBeGreaterThan(100);
    expect(
      unexplained,
      'options config/example.yaml neither sets nor names in a comment of their section: add each there, set or in a comment',
    ).toEqual([]);
  });

  it('names exactly the option that is missing, and a comment counts only in its own section', () => {
    const schema: SchemaNode = {
      properties: {
        store: { properties: { currency: {}, locale: {} } },
        hq: { properties: { enabled: {}, drain: { properties: { ratePerS: {} } } } },
        insight: { properties: { enabled: {} } },
        kpis: { properties: { targets: { items: { properties: { minutes: {} } } } } },
      },
    };
    const text = [
      'store:',
      '  currency: EUR',
      'hq:',
      '  enabled: true    # ratePerS: see docs/hq.md',
      'insight: {}        # nothing here says the word',
      'kpis:',
      '  targets: [{ minutes: 30 }]',
      '# enabled: a comment outside any section',
    ].join('\n');
    expect(unexplainedOptions(schema, text)).toEqual(['store/locale', 'hq/drain', 'insight/enabled']);
  });

  it('validates: merged over the defaults, as the gateway loads it', async () => {
    await expect(loadConfig({ file: EXAMPLE, env: {} })).resolves.toEqual(expect.objectContaining({ storeId: 'store-0042' }));
  });

  it('says nothing of HQ "coming in a later release": the relay is here', async () => {
    expect(await readFile(EXAMPLE, 'utf8')).not.toMatch(/later release/);
  });
});
