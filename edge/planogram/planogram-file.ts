/**
 * The planogram file (YAML): products, and shelves with their facings. This is the planogram source of both
 * the gateway and the simulator, so it knows nothing about either: it parses, validates and returns the
 * domain `Planogram`. A bad file is refused with every problem listed by path, never just the first.
 *
 * ```yaml
 * products:
 *   - { sku: "4006381333931", name: "Sparkling water 1.5 l", unitWeightG: 1560, priceCents: 79 }
 * shelves:
 *   - id: shelf-01
 *     facings:
 *       - { facing: 1, sku: "4006381333931", capacityUnits: 12, lowStockUnits: 3, restockUnits: 6 }
 * labels:            # optional: which shelf label (device id, or OpenEPaperLink mac) shows which facing
 *   - { label: esl-0001, shelfId: shelf-01, facing: 1 }
 * layout:            # optional: aisles in walking order; each side lists its shelves from the aisle's start
 *   - { aisle: "1", name: Drinks, left: [shelf-01], right: [shelf-02] }
 * ```
 */
import { readFile } from 'node:fs/promises';
import { Ajv, type ErrorObject } from 'ajv';
import { LineCounter, parseDocument } from 'yaml';
import type { AisleSide, FacingPlan, Planogram, PlanogramLabelEntry, PlanogramLayout, Product } from './planogram.js';
import { facingKey } from './planogram.js';
import { DEVICE_ID_PATTERN } from '../device-registry/topics.js';

export class PlanogramFileError extends Error {
  constructor(
    readonly path: string,
    /** one line per problem, each starting with its JSON pointer (or YAML line) */
    readonly problems: string[],
  ) {
    super(`planogram ${path} is invalid:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'PlanogramFileError';
  }
}

type FacingEntry = {
  facing: number;
  sku: string;
  capacityUnits: number;
  lowStockUnits: number;
  restockUnits?: number;
  tareG?: number;
};
type ShelfEntry = { id: string; facings: FacingEntry[] };
export type { PlanogramLabelEntry };
/** An aisle as the file writes it: a store fills this in by hand, so places are lists, not coordinates. */
type AisleEntry = { aisle: string | number; name?: string; left?: string[]; right?: string[] };
type PlanogramDocument = { products: Product[]; shelves: ShelfEntry[]; labels?: PlanogramLabelEntry[]; layout?: AisleEntry[] };

const AISLE_SIDES: readonly AisleSide[] = ['left', 'right'];
/** shelves along one side of one aisle: a long aisle of a hypermarket has a few dozen */
const MAX_SHELVES_PER_SIDE = 500;

const sku = { type: 'string', minLength: 1, maxLength: 64 } as const;
const units = { type: 'integer', minimum: 0, maximum: 100_000 } as const;

export const planogramFileSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['products', 'shelves'],
  properties: {
    products: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['sku', 'name', 'unitWeightG'],
        properties: {
          sku,
          name: { type: 'string', minLength: 1, maxLength: 200 },
          unitWeightG: { type: 'number', exclusiveMinimum: 0, maximum: 1_000_000 },
          priceCents: { type: 'integer', minimum: 0, maximum: 100_000_000 },
        },
      },
    },
    shelves: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'facings'],
        properties: {
          // A shelf id is also the shelf's device id on MQTT.
          id: { type: 'string', pattern: DEVICE_ID_PATTERN },
          facings: {
            type: 'array',
            minItems: 1,
            maxItems: 64,
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['facing', 'sku', 'capacityUnits', 'lowStockUnits'],
              properties: {
                facing: { type: 'integer', minimum: 1, maximum: 64 },
                sku,
                capacityUnits: { ...units, minimum: 1 },
                lowStockUnits: units,
                restockUnits: { ...units, minimum: 1 },
                tareG: { type: 'number', minimum: 0, maximum: 1_000_000 },
              },
            },
          },
        },
      },
    },
    labels: {
      type: 'array',
      maxItems: 100_000,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['label', 'shelfId', 'facing'],
        properties: {
          // a device id (direct MQTT label, label behind an MQTT access point) or a 12/16-digit OpenEPaperLink mac
          label: { type: 'string', pattern: DEVICE_ID_PATTERN },
          shelfId: { type: 'string', pattern: DEVICE_ID_PATTERN },
          facing: { type: 'integer', minimum: 1, maximum: 64 },
        },
      },
    },
    layout: {
      type: 'array',
      maxItems: 1_000,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['aisle'],
        properties: {
          // "3", "3a" or 3: what the sign over the aisle says
          aisle: { type: ['string', 'integer'], minLength: 1, maxLength: 32, minimum: 0, maximum: 100_000 },
          name: { type: 'string', minLength: 1, maxLength: 100 },
          left: { type: 'array', maxItems: MAX_SHELVES_PER_SIDE, items: { type: 'string', pattern: DEVICE_ID_PATTERN } },
          right: { type: 'array', maxItems: MAX_SHELVES_PER_SIDE, items: { type: 'string', pattern: DEVICE_ID_PATTERN } },
        },
      },
    },
  },
} as const;

// Compiled once per process; the gateway may reload the planogram many times.
// allowUnionTypes: an aisle may be written 3 or "3a"
const ajv = new Ajv({ allErrors: true, allowUnionTypes: true });
const validateDocument = ajv.compile<PlanogramDocument>(planogramFileSchema);

/** restockUnits when the file leaves it out: a little above the low mark, never above capacity. */
const DEFAULT_RESTOCK_MARGIN_UNITS = 2;

/** Reads, validates and flattens a planogram YAML file; rejects with PlanogramFileError listing every problem. */
export async function loadPlanogramFile(path: string): Promise<Planogram> {
  return parsePlanogram(await readPlanogramText(path), path);
}

/** The file's text, or a PlanogramFileError saying why it cannot be read. */
export async function readPlanogramText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new PlanogramFileError(path, [code === 'ENOENT' ? 'file not found' : `cannot read file: ${(err as Error).message}`]);
  }
}

/** Same as loadPlanogramFile for text already in memory; `source` names it in errors. */
export function parsePlanogram(text: string, source: string): Planogram {
  return toPlanogram(parseCheckedDocument(text, source));
}

/** The file's `labels` section (empty without one), after the whole file is checked as parsePlanogram checks it. */
export function parsePlanogramLabels(text: string, source: string): PlanogramLabelEntry[] {
  return parsePlanogram(text, source).labels ?? [];
}

function parseCheckedDocument(text: string, source: string): PlanogramDocument {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false });
  if (document.errors.length > 0) {
    throw new PlanogramFileError(
      source,
      document.errors.map((err) => {
        const { line, col } = lineCounter.linePos(err.pos[0]);
        return `line ${line}, column ${col}: ${err.message}`;
      }),
    );
  }
  const data: unknown = document.toJS();
  const problems = validateDocument(data) ? [] : (validateDocument.errors ?? []).map(describeSchemaError);
  // The cross checks read defensively, so a file with schema errors still gets its sku/duplicate problems listed.
  problems.push(...crossCheck(data));
  if (problems.length > 0) throw new PlanogramFileError(source, problems);
  return data as PlanogramDocument;
}

function describeSchemaError(error: ErrorObject): string {
  const at = error.instancePath || '/';
  switch (error.keyword) {
    case 'required':
      return `${joinPointer(error.instancePath, String(error.params.missingProperty))}: is required`;
    case 'additionalProperties':
      return `${joinPointer(error.instancePath, String(error.params.additionalProperty))}: unknown property`;
    case 'pattern':
      return `${at}: must match ${String(error.params.pattern)}`;
    default:
      return `${at}: ${error.message ?? error.keyword}`;
  }
}

function joinPointer(parent: string, property: string): string {
  return `${parent}/${property.replaceAll('~', '~0').replaceAll('/', '~1')}`;
}

function crossCheck(data: unknown): string[] {
  const problems: string[] = [];
  const root = asRecord(data);
  const products = Array.isArray(root?.products) ? root.products : [];
  const shelves = Array.isArray(root?.shelves) ? root.shelves : [];

  const productAt = new Map<string, string>();
  products.forEach((product: unknown, index) => {
    const productSku = asRecord(product)?.sku;
    if (typeof productSku !== 'string') return;
    const pointer = `/products/${index}/sku`;
    const first = productAt.get(productSku);
    if (first) problems.push(`${pointer}: duplicate sku "${productSku}" (first at ${first})`);
    else productAt.set(productSku, pointer);
  });

  const facingAt = new Map<string, string>();
  shelves.forEach((shelf: unknown, shelfIndex) => {
    const shelfRecord = asRecord(shelf);
    const shelfId = shelfRecord?.id;
    const facings = Array.isArray(shelfRecord?.facings) ? shelfRecord.facings : [];
    facings.forEach((entry: unknown, facingIndex) => {
      const facing = asRecord(entry);
      if (!facing) return;
      const pointer = `/shelves/${shelfIndex}/facings/${facingIndex}`;
      if (typeof facing.sku === 'string' && !productAt.has(facing.sku)) {
        problems.push(`${pointer}/sku: unknown sku "${facing.sku}" (not in products)`);
      }
      if (typeof shelfId === 'string' && typeof facing.facing === 'number') {
        const key = facingKey(shelfId, facing.facing);
        const first = facingAt.get(key);
        if (first) problems.push(`${pointer}/facing: facing ${facing.facing} of ${shelfId} is defined twice (first at ${first})`);
        else facingAt.set(key, `${pointer}/facing`);
      }
      problems.push(...checkStockLevels(pointer, facing));
    });
  });
  problems.push(...checkLabels(root?.labels, facingAt));
  const shelfIds = new Set(shelves.map((shelf: unknown) => asRecord(shelf)?.id).filter((id) => typeof id === 'string'));
  problems.push(...checkLayout(root?.layout, shelfIds));
  return problems;
}

/** Every placed shelf is in `shelves`, each shelf has one place, each aisle is listed once and places a shelf. */
function checkLayout(layout: unknown, shelfIds: ReadonlySet<unknown>): string[] {
  if (!Array.isArray(layout)) return [];
  const problems: string[] = [];
  const aisleAt = new Map<string, string>();
  const shelfAt = new Map<string, string>();
  layout.forEach((entry: unknown, index) => {
    const aisle = asRecord(entry);
    if (!aisle) return;
    const pointer = `/layout/${index}`;
    if (typeof aisle.aisle === 'string' || typeof aisle.aisle === 'number') {
      const id = String(aisle.aisle);
      const first = aisleAt.get(id);
      if (first) problems.push(`${pointer}/aisle: aisle "${id}" is listed twice (first at ${first})`);
      else aisleAt.set(id, `${pointer}/aisle`);
    }
    let placed = 0;
    for (const side of AISLE_SIDES) {
      const list: unknown = aisle[side];
      if (!Array.isArray(list)) continue;
      list.forEach((shelfId: unknown, order) => {
        if (typeof shelfId !== 'string') return;
        placed += 1;
        const at = `${pointer}/${side}/${order}`;
        if (!shelfIds.has(shelfId)) problems.push(`${at}: unknown shelf "${shelfId}" (not in shelves)`);
        const first = shelfAt.get(shelfId);
        if (first) problems.push(`${at}: shelf "${shelfId}" is placed twice (first at ${first}); a shelf stands in one place`);
        else shelfAt.set(shelfId, at);
      });
    }
    if (placed === 0) problems.push(`${pointer}: places no shelf (list its shelves under left or right)`);
  });
  return problems;
}

/** Every label names a facing the file defines, and a label shows one facing only. */
function checkLabels(labels: unknown, facingAt: ReadonlyMap<string, string>): string[] {
  if (!Array.isArray(labels)) return [];
  const problems: string[] = [];
  const labelAt = new Map<string, string>();
  labels.forEach((entry: unknown, index) => {
    const label = asRecord(entry);
    if (!label) return;
    const pointer = `/labels/${index}`;
    if (typeof label.shelfId === 'string' && typeof label.facing === 'number' && !facingAt.has(facingKey(label.shelfId, label.facing))) {
      problems.push(`${pointer}/facing: facing ${label.facing} of ${label.shelfId} is not in shelves`);
    }
    if (typeof label.label === 'string') {
      // a mac may be written in either case
      const id = label.label.toUpperCase();
      const first = labelAt.get(id);
      if (first) problems.push(`${pointer}/label: label "${label.label}" is bound twice (first at ${first})`);
      else labelAt.set(id, `${pointer}/label`);
    }
  });
  return problems;
}

function checkStockLevels(pointer: string, facing: Record<string, unknown>): string[] {
  const { capacityUnits, lowStockUnits, restockUnits } = facing;
  if (typeof capacityUnits !== 'number' || typeof lowStockUnits !== 'number') return [];
  if (lowStockUnits >= capacityUnits) {
    return [`${pointer}/lowStockUnits: must be less than capacityUnits (${capacityUnits})`];
  }
  if (typeof restockUnits !== 'number') return [];
  const problems: string[] = [];
  if (restockUnits <= lowStockUnits) problems.push(`${pointer}/restockUnits: must be greater than lowStockUnits (${lowStockUnits})`);
  if (restockUnits > capacityUnits) problems.push(`${pointer}/restockUnits: must be at most capacityUnits (${capacityUnits})`);
  return problems;
}

function toPlanogram(document: PlanogramDocument): Planogram {
  const products: Product[] = document.products.map(({ sku: productSku, name, unitWeightG, priceCents }) =>
    priceCents === undefined ? { sku: productSku, name, unitWeightG } : { sku: productSku, name, unitWeightG, priceCents },
  );
  const facings: FacingPlan[] = document.shelves.flatMap((shelf) =>
    shelf.facings.map((entry) => ({
      shelfId: shelf.id,
      facing: entry.facing,
      sku: entry.sku,
      capacityUnits: entry.capacityUnits,
      lowStockUnits: entry.lowStockUnits,
      restockUnits: entry.restockUnits ?? Math.min(entry.lowStockUnits + DEFAULT_RESTOCK_MARGIN_UNITS, entry.capacityUnits),
      tareG: entry.tareG ?? 0,
    })),
  );
  const planogram: Planogram = { products, facings };
  if (document.labels && document.labels.length > 0)
    planogram.labels = document.labels.map(({ label, shelfId, facing }) => ({ label, shelfId, facing }));
  if (document.layout && document.layout.length > 0) planogram.layout = toLayout(document.layout);
  return planogram;
}

function toLayout(entries: readonly AisleEntry[]): PlanogramLayout {
  const layout: PlanogramLayout = { aisles: [], shelves: [] };
  for (const entry of entries) {
    const aisle = String(entry.aisle);
    layout.aisles.push(entry.name === undefined ? { aisle } : { aisle, name: entry.name });
    for (const side of AISLE_SIDES)
      (entry[side] ?? []).forEach((shelfId, index) => layout.shelves.push({ shelfId, aisle, side, order: index + 1 }));
  }
  return layout;
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
