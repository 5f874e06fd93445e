import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { ErrorObject } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { checkWithDefaults } from '../core/schema-defaults.js';
import { readSecretFile, SecretFileError } from '../core/secret-file.js';
import { ConfigSchema } from './config-schema.js';
import { configRuleIssues } from './config-rules.js';
import { ConfigError, type GatewayConfig } from './gateway-config.js';

/** Resolves config/ both from sources (edge/config) and from the build (dist/edge/config). */
export function configPath(name: string): string {
  const here = fileURLToPath(import.meta.url);
  const root = here.includes('/dist/edge/') ? here.slice(0, here.indexOf('/dist/edge/')) : here.slice(0, here.indexOf('/edge/'));
  return `${root}/config/${name}`;
}

/** Environment variables that override the file: ports and secrets, as store IT expects of a service. */
const ENV_OVERRIDES: ReadonlyArray<{ name: string; path: readonly string[]; type: 'string' | 'integer'; secret?: true }> = [
  { name: 'SMARTSTORE_STORE_ID', path: ['storeId'], type: 'string' },
  { name: 'SMARTSTORE_DATA_DIR', path: ['dataDir'], type: 'string' },
  { name: 'SMARTSTORE_LOG_LEVEL', path: ['log', 'level'], type: 'string' },
  { name: 'SMARTSTORE_MQTT_PORT', path: ['mqtt', 'port'], type: 'integer' },
  { name: 'SMARTSTORE_HTTP_PORT', path: ['http', 'port'], type: 'integer' },
  { name: 'SMARTSTORE_API_TOKEN', path: ['http', 'apiToken'], type: 'string', secret: true },
  { name: 'SMARTSTORE_METRICS_TOKEN', path: ['http', 'metricsToken'], type: 'string', secret: true },
  { name: 'SMARTSTORE_HQ_PASSWORD', path: ['hq', 'password'], type: 'string', secret: true },
];

type PlainObject = Record<string, unknown>;

function isPlainObject(value: unknown): value is PlainObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Objects merge key by key; anything else in `over` replaces `base`. */
export function mergeConfig(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return over === undefined ? base : over;
  const merged: PlainObject = { ...base };
  for (const [key, value] of Object.entries(over)) {
    // defineProperty, not assignment: a "__proto__" key stays an own (unknown, reported) option instead of
    // replacing the object's prototype
    const baseValue = Object.prototype.hasOwnProperty.call(base, key) ? base[key] : undefined;
    Object.defineProperty(merged, key, { value: mergeConfig(baseValue, value), enumerable: true, writable: true, configurable: true });
  }
  return merged;
}

async function readYamlFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(path, [code === 'ENOENT' ? 'file not found' : `cannot read: ${(error as Error).message}`]);
  }
  try {
    return parseYaml(text) ?? {};
  } catch (error) {
    throw new ConfigError(path, [`not valid YAML: ${(error as Error).message}`]);
  }
}

/**
 * A secret from a file (`SMARTSTORE_API_TOKEN_FILE=/etc/smartstore/api-token`, the convention of container secrets):
 * the file must not be readable by other users — a secret everyone on the machine can read is refused, not used.
 */
async function readSecretVariableFile(variable: string, path: string): Promise<string> {
  try {
    return (await readSecretFile(path)).toString('utf8').replace(/\r?\n$/, '');
  } catch (error) {
    if (!(error instanceof SecretFileError)) throw error;
    throw new ConfigError(path, [`${variable}: ${error.message.replace(` ${path}`, '')}`]);
  }
}

/** `<NAME>_FILE` variables for the secrets, read into `<NAME>` (a variable set directly wins over its file). */
async function withSecretFiles(env: NodeJS.ProcessEnv): Promise<NodeJS.ProcessEnv> {
  const resolved: NodeJS.ProcessEnv = { ...env };
  for (const override of ENV_OVERRIDES) {
    const file = env[`${override.name}_FILE`];
    if (!override.secret || !file || env[override.name]) continue;
    resolved[override.name] = await readSecretVariableFile(`${override.name}_FILE`, file);
  }
  return resolved;
}

function applyEnv(config: unknown, env: NodeJS.ProcessEnv): { config: unknown; fromEnv: Map<string, string> } {
  const fromEnv = new Map<string, string>();
  let result = config;
  for (const override of ENV_OVERRIDES) {
    const raw = env[override.name];
    if (raw === undefined || raw === '') continue;
    // A non-numeric port stays a string so that validation names it instead of silently using NaN.
    const value = override.type === 'integer' && /^\d+$/.test(raw) ? Number(raw) : raw;
    let patch: unknown = value;
    for (let i = override.path.length - 1; i >= 0; i--) patch = { [override.path[i] as string]: patch };
    result = mergeConfig(result, patch);
    fromEnv.set('/' + override.path.join('/'), override.name);
  }
  return { config: result, fromEnv };
}

type SchemaNode = { [keyword: string]: unknown };

/** The schema object a `schemaPath` (`#/properties/hq/if`) points at, in the gateway's config schema. */
function schemaAt(schemaPath: string): SchemaNode | undefined {
  let node: unknown = ConfigSchema;
  for (const step of schemaPath.replace(/^#\/?/, '').split('/')) {
    if (step === '' || typeof node !== 'object' || node === null) continue;
    node = (node as SchemaNode)[step.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return typeof node === 'object' && node !== null ? (node as SchemaNode) : undefined;
}

/**
 * A cross-field rule is an if/then of the schema: Ajv reports the option that breaks it ("/hq/url: must be string")
 * and, apart, that the `then` failed. This words the first with the `then` option's description and the condition,
 * and drops the second: "/hq/url: must be set (…) when /hq/enabled is true".
 */
function withConditions(errors: readonly ErrorObject[]): Array<{ error: ErrorObject; condition?: string }> {
  const conditions = new Map<string, string>();
  for (const error of errors) {
    if (error.keyword !== 'if') continue;
    const ifSchema = schemaAt(error.schemaPath);
    const properties = (ifSchema?.properties ?? {}) as Record<string, { const?: unknown }>;
    const parts = Object.entries(properties).map(([key, rule]) => `${error.instancePath}/${key} is ${JSON.stringify(rule.const)}`);
    const thenPath = `${error.schemaPath.replace(/\/if$/, '')}/then/`;
    conditions.set(thenPath, parts.join(' and '));
  }
  return errors
    .filter((error) => error.keyword !== 'if')
    .map((error) => {
      const condition = [...conditions].find(([thenPath]) => error.schemaPath.startsWith(thenPath))?.[1];
      return condition ? { error, condition } : { error };
    });
}

function describe(error: ErrorObject, fromEnv: Map<string, string>, condition?: string): string {
  const path = error.instancePath || '/';
  const envName = fromEnv.get(error.instancePath);
  const where = envName ? `${path} (from ${envName})` : path;
  if (condition) {
    const demand = schemaAt(error.schemaPath.replace(/\/[^/]+$/, ''))?.description;
    return `${where}: ${typeof demand === 'string' ? `must be ${demand}` : (error.message ?? error.keyword)} when ${condition}`;
  }
  if (error.keyword === 'additionalProperties') {
    return `${where}: unknown option "${String(error.params.additionalProperty)}"`;
  }
  if (error.keyword === 'enum') {
    return `${where}: ${error.message} (${(error.params.allowedValues as unknown[]).map(String).join(', ')})`;
  }
  return `${where}: ${error.message ?? error.keyword}`;
}

export type LoadConfigOptions = {
  /** a YAML file; what it leaves out takes the schema's defaults */
  file?: string;
  /** merged over the file: what tests and the demo set in code */
  overrides?: unknown;
  env?: NodeJS.ProcessEnv;
};

/**
 * Loads the file, merges code overrides and SMARTSTORE_* environment variables over it, and validates the result while
 * the schema's defaults fill every option left out (config-schema.ts: the only place defaults are written). Throws
 * one ConfigError that lists every problem with its path, cross-field rules ("/hq/url … when /hq/enabled is true")
 * included.
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<GatewayConfig> {
  const fileConfig = options.file ? await readYamlFile(options.file) : {};
  if (!isPlainObject(fileConfig)) throw new ConfigError(options.file ?? 'config', ['top level must be a mapping']);
  const merged = mergeConfig(fileConfig, options.overrides ?? {});
  const { config: withEnv, fromEnv } = applyEnv(merged, await withSecretFiles(options.env ?? process.env));
  // the defaults are filled into the value validated: a copy, not the caller's overrides
  const config = structuredClone(withEnv);
  // compiled on first use, once: only the commands that load a config pay for it
  const checked = checkWithDefaults(ConfigSchema, config);
  if (!checked.ok) {
    const issues = withConditions(checked.errors).map(({ error, condition }) => describe(error, fromEnv, condition));
    throw new ConfigError(options.file ?? 'defaults', [...new Set(issues)]);
  }
  // the rules JSON Schema cannot say, on a config the schema accepted (every option there and typed)
  const ruleIssues = configRuleIssues(checked.value);
  if (ruleIssues.length > 0) throw new ConfigError(options.file ?? 'defaults', ruleIssues);
  return checked.value;
}

/** Secrets never reach a log line. */
export function redactConfig(config: GatewayConfig): GatewayConfig {
  return {
    ...config,
    http: {
      ...config.http,
      apiToken: config.http.apiToken ? '[redacted]' : null,
      metricsToken: config.http.metricsToken ? '[redacted]' : null,
    },
    hq: { ...config.hq, password: config.hq.password ? '[redacted]' : null },
  };
}
