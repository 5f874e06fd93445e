import { Ajv, type ValidateFunction } from 'ajv';
import type { InvalidMessageReason } from '../metrics/gateway-metrics.js';
import type { DeviceMessage } from './messages.js';
import { INBOUND_SCHEMAS, type InboundSchemaKey } from './schemas.js';
import { readShelfWeight } from './shelf-weight-fast-path.js';

export type DecodeResult = { ok: true; message: DeviceMessage } | { ok: false; reason: InvalidMessageReason; detail: string };

/**
 * Turns a PUBLISH payload into a typed DeviceMessage. The TypeBox schemas (plain JSON Schema objects, the same ones the
 * payload types are derived from) are compiled once, here; decoding is a JSON.parse and one compiled validator call,
 * and returns a result instead of throwing, because it runs for every message.
 */
/** A step that rewrites a channel's validated payload before anything else sees it (customer data protection). */
export type PayloadProtection = (payload: never) => unknown;

export class DeviceMessageDecoder {
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(private readonly protections: Partial<Record<InboundSchemaKey, PayloadProtection>> = {}) {
    // allErrors off: the first problem is enough to drop a message, and it is faster.
    // strictRequired off: kiosk events require fields conditionally (if/then), declared once under properties.
    const ajv = new Ajv({ allErrors: false, strict: true, strictRequired: false, allowUnionTypes: true });
    for (const [key, schema] of Object.entries(INBOUND_SCHEMAS)) this.validators.set(key, ajv.compile(schema));
  }

  /** `key` is `<kind>/<channel>`. */
  decode(key: string, deviceId: string, payload: Buffer, receivedAt: number): DecodeResult {
    if (key === 'shelf/weight') {
      const weight = readShelfWeight(payload);
      if (weight) return { ok: true, message: { key, deviceId, payload: weight, receivedAt } };
    }
    const validate = this.validators.get(key);
    if (!validate) return { ok: false, reason: 'unknown-channel', detail: `no channel ${key}` };
    let value: unknown;
    try {
      value = JSON.parse(payload.toString('utf8'));
    } catch (error) {
      // V8's message quotes the start of the input, which may be customer data: keep only where it broke
      const position = /position (\d+)/.exec((error as Error).message)?.[1];
      return {
        ok: false,
        reason: 'bad-json',
        detail: position === undefined ? 'not valid JSON' : `not valid JSON at position ${position}`,
      };
    }
    if (!validate(value)) {
      const first = validate.errors?.[0];
      return { ok: false, reason: 'schema', detail: first ? `${first.instancePath || '/'} ${first.message ?? first.keyword}` : 'invalid' };
    }
    const protect = this.protections[key as InboundSchemaKey];
    const kept = protect ? protect(value as never) : value;
    return { ok: true, message: { key: key as InboundSchemaKey, deviceId, payload: kept, receivedAt } as DeviceMessage };
  }
}
