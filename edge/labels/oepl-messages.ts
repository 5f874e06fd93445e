/**
 * What an OpenEPaperLink access point says on its websocket `/ws`, and how we read it: every frame is JSON with one
 * top-level key (`tags`, `sys`, `errMsg`, `logMsg`, …; see `web.cpp` and `tag_db.cpp` in the OpenEPaperLink firmware).
 * The AP has no authentication and sits on a shared network, so nothing it sends is trusted: frames are size-checked,
 * parsed and validated against the schemas below, and anything else is an `OeplProtocolError` with context.
 * Only the fields the driver reads are required; the AP's other fields (alias, RSSI, modecfgjson, …) pass through.
 */
import { Ajv, type ErrorObject } from 'ajv';
import { Type, type Static } from 'typebox';

/** 16 hex digits as the AP prints them (`mac2hex`: upper case); 12-digit macs are padded with `0000` by the AP. */
export const OEPL_MAC_PATTERN = '^[0-9A-Fa-f]{12}([0-9A-Fa-f]{4})?$';
const Mac = Type.String({ pattern: OEPL_MAC_PATTERN });
const U32 = Type.Integer({ minimum: 0, maximum: 4_294_967_295 });
const U16 = Type.Integer({ minimum: 0, maximum: 65_535 });

/** One tag as `fillNode()` writes it. Times (`lastseen`, `nextcheckin`, `updatelast`) are unix seconds on the AP's clock. */
export const OeplTagRecordSchema = Type.Object({
  mac: Mac,
  /** md5 of the image the tag shows (hex); all zeros when unknown. Cannot be predicted from our content. */
  hash: Type.String({ maxLength: 64 }),
  lastseen: U32,
  nextcheckin: U32,
  /** items queued on the AP for this tag */
  pending: U16,
  /** 0 = unknown, 1337 = virtual tag */
  batteryMv: U16,
  /** images the tag has taken since the AP knew it; moves only when a transfer completes */
  updatecount: U32,
  /** when the last transfer completed */
  updatelast: U32,
  /** the tag type (resources/tagtypes/<hwType>.json): its display size */
  hwType: Type.Optional(Type.Integer({ minimum: 0, maximum: 255 })),
});
export type OeplTagRecord = Static<typeof OeplTagRecordSchema>;

/** What a record from firmware before 2.60 still tells: that the tag checked in, and its battery. */
export const OeplLegacyTagsMessageSchema = Type.Object({
  tags: Type.Array(Type.Object({ mac: Mac, lastseen: U32, batteryMv: U16 }), { maxItems: 1_000 }),
  continu: Type.Optional(U32),
});
export type OeplLegacySighting = { mac: string; lastseen: number; batteryMv: number };

export const OeplTagsMessageSchema = Type.Object({
  tags: Type.Array(OeplTagRecordSchema, { maxItems: 1_000 }),
  /** `/get_db` paging: the position to ask for next */
  continu: Type.Optional(U32),
});

export const OeplSysMessageSchema = Type.Object({
  sys: Type.Object({
    currtime: Type.Optional(U32),
    uptime: Type.Optional(Type.Number({ minimum: 0 })),
    runstate: Type.Optional(Type.Integer()),
    apstate: Type.Optional(Type.Integer()),
    lowbattcount: Type.Optional(U32),
    timeoutcount: Type.Optional(U32),
  }),
});

const Text = Type.String({ maxLength: 4_096 });
export const OeplErrMessageSchema = Type.Object({ errMsg: Text });
export const OeplLogMessageSchema = Type.Object({ logMsg: Text });

/** A frame as the driver understands it. `other` covers keys the driver does not act on (console, upload, apitem, …). */
export type OeplMessage =
  /** `continu`: a `/get_db?pos=` page says where the next starts */
  | { kind: 'tags'; tags: OeplTagRecord[]; continu?: number }
  /** tag records without `updatecount`/`updatelast`: firmware before 2.60, which the driver cannot confirm against */
  | { kind: 'legacy-tags'; sightings: OeplLegacySighting[]; continu?: number }
  | { kind: 'sys'; currentTimeS?: number; runState?: number }
  | { kind: 'rebooting' }
  /** `"< 0000021D0B5A1234 xfer timeout\r\n"`: the AP dropped every queued item for that tag */
  | { kind: 'xfer-timeout'; mac: string }
  | { kind: 'error'; text: string }
  | { kind: 'log'; text: string }
  | { kind: 'other'; key: string };

/** A frame we could not read: `reason` says why, `excerpt` shows the start of it (bounded, for the log). */
export class OeplProtocolError extends Error {
  constructor(
    readonly reason: string,
    readonly excerpt: string,
    readonly problems: readonly string[] = [],
  ) {
    super(`malformed OpenEPaperLink message: ${reason}${problems.length ? ` (${problems.slice(0, 3).join('; ')})` : ''}`);
    this.name = 'OeplProtocolError';
  }
}

/** The AP runs firmware this driver cannot confirm against (before 2.60). */
export class OeplUnsupportedFirmwareError extends Error {
  constructor(readonly detail: string) {
    super(`unsupported OpenEPaperLink firmware: ${detail}`);
    this.name = 'OeplUnsupportedFirmwareError';
  }
}

/** A frame above this is refused before parsing: a tag page from the AP is ~5 kB (`measureJson(doc) > 5000`). */
export const MAX_OEPL_FRAME_CHARS = 64 * 1024;
const EXCERPT_CHARS = 120;

const ajv = new Ajv({ allErrors: true });
const validateTags = ajv.compile<Static<typeof OeplTagsMessageSchema>>(OeplTagsMessageSchema);
const validateLegacyTags = ajv.compile<Static<typeof OeplLegacyTagsMessageSchema>>(OeplLegacyTagsMessageSchema);
const validateSys = ajv.compile<Static<typeof OeplSysMessageSchema>>(OeplSysMessageSchema);
const validateErr = ajv.compile<Static<typeof OeplErrMessageSchema>>(OeplErrMessageSchema);
const validateLog = ajv.compile<Static<typeof OeplLogMessageSchema>>(OeplLogMessageSchema);

const XFER_TIMEOUT = /^<\s*([0-9A-Fa-f]{16}|[0-9A-Fa-f]{12})\s+xfer timeout\s*$/;

/** Upper-case, 16-digit form the AP uses, or undefined when `value` is no mac. */
const oeplMacPattern = new RegExp(OEPL_MAC_PATTERN);

export function normalizeOeplMac(value: string): string | undefined {
  // every label id passes here (labelKey) on the ack path: the length test spares the regex for the rest
  if ((value.length !== 12 && value.length !== 16) || !oeplMacPattern.test(value)) return undefined;
  const upper = value.toUpperCase();
  // hex2mac() reads a 12-digit mac into the low six bytes and zeroes the top two; mac2hex() prints the top bytes first
  return upper.length === 12 ? `0000${upper}` : upper;
}

/** Reads one websocket frame. Throws `OeplProtocolError` for anything that is not a frame we understand. */
export function parseOeplMessage(frame: string): OeplMessage {
  const excerpt = frame.slice(0, EXCERPT_CHARS);
  if (frame.length > MAX_OEPL_FRAME_CHARS) throw new OeplProtocolError(`frame of ${frame.length} characters`, excerpt);
  let value: unknown;
  try {
    value = JSON.parse(frame);
  } catch (error) {
    throw new OeplProtocolError(`not JSON: ${(error as Error).message}`, excerpt);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new OeplProtocolError('not a JSON object', excerpt);
  if ('tags' in value) {
    if (isLegacyTags(value.tags)) {
      if (!validateLegacyTags(value)) throw new OeplProtocolError('invalid tags record', excerpt, describe(validateLegacyTags.errors));
      const sightings = value.tags.map((tag) => ({
        mac: normalizeOeplMac(tag.mac) as string,
        lastseen: tag.lastseen,
        batteryMv: tag.batteryMv,
      }));
      return value.continu === undefined ? { kind: 'legacy-tags', sightings } : { kind: 'legacy-tags', sightings, continu: value.continu };
    }
    if (!validateTags(value)) throw new OeplProtocolError('invalid tags record', excerpt, describe(validateTags.errors));
    const tags = value.tags.map((tag) => ({ ...tag, mac: normalizeOeplMac(tag.mac) as string }));
    return value.continu === undefined ? { kind: 'tags', tags } : { kind: 'tags', tags, continu: value.continu };
  }
  if ('sys' in value) {
    if (!validateSys(value)) throw new OeplProtocolError('invalid sys heartbeat', excerpt, describe(validateSys.errors));
    return { kind: 'sys', currentTimeS: value.sys.currtime, runState: value.sys.runstate };
  }
  if ('errMsg' in value) {
    if (!validateErr(value)) throw new OeplProtocolError('invalid errMsg', excerpt, describe(validateErr.errors));
    const text = value.errMsg.trim();
    if (text === 'REBOOTING') return { kind: 'rebooting' };
    const timeout = XFER_TIMEOUT.exec(text);
    if (timeout?.[1]) return { kind: 'xfer-timeout', mac: normalizeOeplMac(timeout[1]) as string };
    return { kind: 'error', text };
  }
  if ('logMsg' in value) {
    if (!validateLog(value)) throw new OeplProtocolError('invalid logMsg', excerpt, describe(validateLog.errors));
    return { kind: 'log', text: value.logMsg };
  }
  const [key] = Object.keys(value);
  if (key === undefined) throw new OeplProtocolError('empty object', excerpt);
  return { kind: 'other', key: key.slice(0, 32) };
}

/** Reads a `/get_db?mac=` answer: `{"tags":[…]}`, or `{"error": …}` for a malformed mac. */
export function parseOeplTagsAnswer(body: string): OeplTagRecord[] {
  const message = parseOeplMessage(body);
  if (message.kind === 'legacy-tags') throw new OeplUnsupportedFirmwareError('tag records without updatecount (before 2.60)');
  if (message.kind !== 'tags') throw new OeplProtocolError(`expected a tags answer, got ${message.kind}`, body.slice(0, EXCERPT_CHARS));
  return message.tags;
}

/** Records that are otherwise whole but carry no transfer counters (fillNode before 2.60). */
function isLegacyTags(tags: unknown): boolean {
  if (!Array.isArray(tags) || tags.length === 0) return false;
  const first: unknown = tags[0];
  if (typeof first !== 'object' || first === null || !('mac' in first) || !('lastseen' in first)) return false;
  return !('updatecount' in first) && !('updatelast' in first);
}

function describe(errors: ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).slice(0, 10).map((error) => `${error.instancePath || '/'} ${error.message ?? 'is invalid'}`);
}
