/**
 * What the demo's simulated labels show, kept across demo restarts in `<dataDir>/demo-label-displays.json`.
 *
 * A real shelf label keeps its picture through a power cut: e-paper needs power only to change, so after a restart it
 * shows, and reports (docs/device-contract.md, `esl/<id>/status`: "what the label shows"), the price it showed before.
 * An OpenEPaperLink AP saves its tag database to flash (`saveDB("/current/tagDB.json")`) and reads it back at boot
 * (`loadDB`): each tag's `hash` (the md5 of the image the tag shows), `updatecount` and `updatelast` survive, `pending`
 * starts at 0 (OpenEPaperLink `ESP32_AP-Flasher/src/tag_db.cpp`, saveDB/loadDB, commit 05a068c5); the drawing commands
 * stay in `/current/<mac>.json`. The demo imitates both, so a demo restarted after a price campaign shows the campaign's
 * prices (the ones the gateway remembers as confirmed), not the planogram's.
 *
 * ```json
 * { "labels": { "esl-0001": { "sku": "4006381333931", "priceCents": 249 },
 *               "0000021D00A00000": { "oepl": { "hash": "…", "json": "[…]", "updatecount": 3, "updatelast": 1764000000 } } } }
 * ```
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Ajv } from 'ajv';

/** An OpenEPaperLink tag as its AP's tag database keeps it. */
export type KeptOeplTag = { hash: string; json: string | null; updatecount: number; updatelast: number };
/** One label's picture: a price (MQTT labels, direct or behind the MQTT AP) or an OpenEPaperLink tag's record. */
export type KeptDisplay = { sku?: string; priceCents?: number | null; oepl?: KeptOeplTag };
export type LabelDisplays = { labels: Record<string, KeptDisplay> };

export const LABEL_DISPLAY_FILE = 'demo-label-displays.json';

export class LabelDisplayFileError extends Error {
  constructor(
    readonly path: string,
    readonly problems: string[],
  ) {
    super(`label display file ${path} is invalid: ${problems.join('; ')}`);
    this.name = 'LabelDisplayFileError';
  }
}

/** Label ids follow the AP contract's pattern; a demo has a few dozen labels, the bound keeps a broken file small. */
const MAX_LABELS = 10_000;

const labelDisplaysSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['labels'],
  properties: {
    labels: {
      type: 'object',
      maxProperties: MAX_LABELS,
      propertyNames: { pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$' },
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        properties: {
          sku: { type: 'string', maxLength: 64 },
          priceCents: { type: ['integer', 'null'], minimum: 0 },
          oepl: {
            type: 'object',
            additionalProperties: false,
            required: ['hash', 'json', 'updatecount', 'updatelast'],
            properties: {
              hash: { type: 'string', pattern: '^[0-9a-f]{32}$' },
              json: { type: ['string', 'null'], maxLength: 65_536 },
              updatecount: { type: 'integer', minimum: 0 },
              updatelast: { type: 'integer', minimum: 0 },
            },
          },
        },
      },
    },
  },
} as const;

const validate = new Ajv({ allErrors: true }).compile<LabelDisplays>(labelDisplaysSchema);

/** The kept pictures; none when there is no file yet (a first run). Throws LabelDisplayFileError for a broken one. */
export async function readLabelDisplays(path: string): Promise<LabelDisplays> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { labels: {} };
    throw new LabelDisplayFileError(path, [`cannot read: ${(error as Error).message}`]);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new LabelDisplayFileError(path, ['not valid JSON']);
  }
  if (!validate(data)) {
    throw new LabelDisplayFileError(
      path,
      (validate.errors ?? []).map((error) => `${error.instancePath || '/'}: ${error.message ?? error.keyword}`),
    );
  }
  return data;
}

/** Writes the file atomically (a temp file renamed over it): a demo killed mid-write leaves the previous pictures. */
export async function writeLabelDisplays(path: string, displays: LabelDisplays): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporaryPath = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(temporaryPath, `${JSON.stringify(displays, null, 2)}\n`);
    await rename(temporaryPath, path);
  } catch (error) {
    await rm(temporaryPath, { force: true });
    throw error;
  }
}
