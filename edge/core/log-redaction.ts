/**
 * Secrets never reach a log line, at any depth: pino's redact paths name fixed positions (`*.password` is one level),
 * but a config, an error's context or a device's connect packet can carry a secret anywhere. Every logged object is
 * walked (bounded: depth and keys) and the value of any key that names a secret is replaced. Logs carry no line per
 * device message, so this costs nothing on the hot path.
 */

const SECRET_KEY = /^(password|passwd|secret|token|apikey|authorization|cookie|set-cookie|privatekey|passphrase)$|(password|secret|token|privatekey|passphrase)$/i;
const MAX_DEPTH = 12;
const MAX_KEYS = 1_000;
export const REDACTED = '[redacted]';

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/** A copy of `value` with every secret-named key's value redacted; the same object when there is none. */
export function redactSecrets<T>(value: T): T {
  return redact(value, 0, new WeakSet()) as T;
}

function redact(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return value;
  if (depth >= MAX_DEPTH) return '[too deep to log]';
  seen.add(value);
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length && i < MAX_KEYS; i++) {
      const next = redact(value[i], depth + 1, seen);
      if (next !== value[i]) (copy ??= [...value])[i] = next;
    }
    return copy ?? value;
  }
  if (Buffer.isBuffer(value) || ArrayBuffer.isView(value)) return value;
  let copy: Record<string, unknown> | undefined;
  let keys = 0;
  // errors: their own enumerable fields (a wrapped error's context) are walked; message and stack are not fields
  for (const key of Object.keys(value)) {
    if (++keys > MAX_KEYS) break;
    const current = (value as Record<string, unknown>)[key];
    const next = isSecretKey(key) && current !== undefined && current !== null ? REDACTED : redact(current, depth + 1, seen);
    if (next !== current) {
      copy ??= value instanceof Error ? Object.assign(Object.create(Object.getPrototypeOf(value) as object) as Record<string, unknown>, { message: value.message, stack: value.stack }, value) : { ...(value as Record<string, unknown>) };
      copy[key] = next;
    }
  }
  return copy ?? value;
}
