/**
 * A thrown value as an Error: JavaScript lets code throw anything, and a promise rejected with a non-Error loses its
 * stack and fails `instanceof Error` checks downstream (the PUBACK gates reject with what a gate threw).
 */
export function asError(thrown: unknown): Error {
  return thrown instanceof Error ? thrown : new Error(String(thrown));
}
