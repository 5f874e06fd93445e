/** TypeBox helpers the rooms share; TypeBox itself has no compact "T or null". */
import { Type, type Static, type TSchema, type TUnsafe } from 'typebox';

/**
 * `T | null` written as `type: [T's type, 'null']`, not as `anyOf`: validators then name one problem ("must NOT have
 * fewer than 16 characters") instead of one per branch, and fast-json-stringify serialises it without trying
 * branches. Only for schemas with a single `type` (string, number, integer, boolean).
 */
export function Nullable<T extends TSchema & { type: 'string' | 'number' | 'integer' | 'boolean' }>(schema: T): TUnsafe<Static<T> | null> {
  // the spread copies only the enumerable JSON Schema keywords, not TypeBox's hidden `~kind`
  return Type.Unsafe<Static<T> | null>({ ...schema, type: [schema.type, 'null'] });
}
