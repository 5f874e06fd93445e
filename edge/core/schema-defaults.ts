/**
 * Defaults live in the TypeBox schemas only (`default:` on each property): Ajv's `useDefaults` fills what a config
 * leaves out while it validates, for the gateway config (edge/config/load-config.ts) and for the limits of parts that
 * tests build directly (`configDefaults(OeplDriverLimitsSchema)`), so no default is written twice.
 *
 * A defaulted property stays in its object's `required`: Ajv assigns defaults before it checks `required`, so a config
 * may leave it out, and the schema's static type (what code reads) has it. config/schema.json drops such properties
 * from `required` for editors (config-schema-json.ts).
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { Static, TSchema } from 'typebox';

/**
 * allErrors: a bad file lists every problem at once; allowUnionTypes: `type: ['string', 'null']` (Nullable); strict:
 * a default Ajv would ignore (in anyOf/oneOf branches, at the root) is a schema error, not a silent no-op.
 */
function newAjv(): Ajv {
  return new Ajv({ allErrors: true, strict: true, allowUnionTypes: true, useDefaults: true });
}

/** Compiled once per schema object; bounded by the schemas declared in the code (module constants). */
const compiled = new WeakMap<TSchema, ValidateFunction>();

/** A validator that fills the schema's defaults into the value it checks (it mutates the value: pass a copy). */
export function defaultingValidator<T extends TSchema>(schema: T): ValidateFunction<Static<T>> {
  let validate = compiled.get(schema);
  if (!validate) {
    // a section's own `default: {}` serves the schema that includes it; Ajv (strict) refuses one at the root
    const { default: _includedDefault, ...root } = schema as TSchema & { default?: unknown };
    validate = newAjv().compile(root);
    compiled.set(schema, validate);
  }
  return validate as ValidateFunction<Static<T>>;
}

/**
 * Fills the schema's defaults into `value` (mutated: pass a copy) and checks it. Twice: Ajv checks an object's if/then
 * (the cross-field rules, "hq.enabled needs hq.url") before it fills that object's defaults, so the first pass fills
 * and the second checks the rules against every value, given or default. The second pass's errors are all of them.
 */
export function checkWithDefaults<T extends TSchema>(
  schema: T,
  value: unknown,
): { ok: true; value: Static<T> } | { ok: false; errors: ErrorObject[] } {
  const validate = defaultingValidator(schema);
  validate(value);
  return validate(value) ? { ok: true, value } : { ok: false, errors: [...(validate.errors ?? [])] };
}

export class SchemaDefaultsError extends Error {
  constructor(readonly issues: string[]) {
    super(`the schema's defaults do not make a valid value: ${issues.join('; ')}`);
    this.name = 'SchemaDefaultsError';
  }
}

/** `path: message` lines, the format config problems are reported in. */
export function describeSchemaError(error: ErrorObject): string {
  return `${error.instancePath || '/'}: ${error.message ?? error.keyword}`;
}

/**
 * The value a schema describes when nothing is given: every default filled in. Throws when a required property has
 * no default (the schema cannot stand alone). A fresh object on each call: callers may change it.
 */
export function configDefaults<T extends TSchema>(schema: T): Static<T> {
  const checked = checkWithDefaults(schema, {});
  if (!checked.ok) throw new SchemaDefaultsError(checked.errors.map(describeSchemaError));
  return checked.value;
}
