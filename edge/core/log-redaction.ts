/**
 * Secrets never reach a log line, at any depth: pino's redact paths name fixed positions (`*.password` is one level),
 * but a config, an error's context or a device's connect packet can carry a secret anywhere. Every logged object is
 * walked (bounded: depth and keys) and the value of any key that names a secret is replaced. Logs carry no line per
 * device message, so this costs nothing on the hot path. A password can also ride inside a URL (`hq.url:
 * mqtts://user:pass@hq`), under any key, in a message or an error's text: the logger passes each finished line
 * through redactUrlCredentials.
 */

const SECRET_KEY =
  /^(password|passwd|secret|token|apikey|authorization|cookie|set-cookie|privatekey|passphrase)$|(password|secret|token|privatekey|passphrase)$/i;
const MAX_DEPTH = 12;
const MAX_KEYS = 1_000;
export const REDACTED = '[redacted]';

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/**
 * The userinfo of a URL (`mqtt://user:pass@host`, `https://token@host`), any scheme. Like the WHATWG URL parser it
 * runs to the last '@' before the host ends (a raw '@' in a password stays inside it); it stops at whitespace and
 * quotes, which a URL cannot hold unencoded, so it never reaches into the next JSON field of a log line.
 */
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/?#"'<>`]*)@/gi;
export const REDACTED_URL_PASSWORD = '***';

/**
 * `text` with every URL's password replaced (`mqtt://user:***@host:1883`); a userinfo without a password is a token
 * and is replaced whole (`https://***@host`). Text without '://' and '@' is returned as is, unscanned: cheap enough
 * for every log line.
 */
export function redactUrlCredentials(text: string): string {
  if (!text.includes('@') || !text.includes('://')) return text;
  return text.replace(URL_USERINFO, (_match, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(':');
    return colon < 0 ? `${scheme}${REDACTED_URL_PASSWORD}@` : `${scheme}${userinfo.slice(0, colon)}:${REDACTED_URL_PASSWORD}@`;
  });
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
      if (next !== value[i]) (copy ??= [...(value as unknown[])])[i] = next;
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
      copy ??=
        value instanceof Error
          ? Object.assign(
              Object.create(Object.getPrototypeOf(value) as object) as Record<string, unknown>,
              { message: value.message, stack: value.stack },
              value,
            )
          : { ...(value as Record<string, unknown>) };
      copy[key] = next;
    }
  }
  return copy ?? value;
}
