/**
 * The price CSV a manager uploads (`sku,priceCents[,effectiveAt]`), read into campaign batches — or into the list of
 * EVERY bad row with its line number, so the manager fixes the file once rather than once per error. No I/O.
 *
 * Parsing is csv-parse's: quoting, CRLF, a BOM from Excel and the line numbers of multi-line quoted fields are what
 * hand-written splitting gets wrong. It is pure JavaScript with no dependencies.
 *
 * A file of 100,000 rows takes csv-parse seconds on a busy store box; read in one go it would hold the event loop that
 * long (no MQTT, no HTTP, no live events). So the file goes through its streaming parser a few KiB at a time and the
 * rows are checked a hundred at a time, and whenever TURN_BUDGET_MS of this work has passed the event loop gets a turn.
 * By the clock, not by a count: on a starved 2-core box the same slice takes ten times as long. The result is the same.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { CsvError, parse, type Options } from 'csv-parse';
import { asError } from '../core/as-error.js';
import { MAX_PRICE_CENTS, SKU_PATTERN } from './campaign.js';

/**
 * `line` is 1-based as an editor shows it (the header is line 1). `forceable`: a row that is most likely a mistake but
 * may be meant (a price of 0, a time already past) — sent anyway when the upload says `force`.
 */
export type CampaignCsvProblem = { line: number; reason: string; forceable?: true };

/** The rows of one effectiveAt (none: at once) — one campaign each. */
export type CampaignCsvBatch = { effectiveAt?: number; prices: Record<string, number> };

export type CampaignCsvResult = { ok: true; batches: CampaignCsvBatch[]; rows: number } | { ok: false; problems: CampaignCsvProblem[] };

export type CampaignCsvLimits = { maxRows: number };
export const DEFAULT_CAMPAIGN_CSV_LIMITS: CampaignCsvLimits = { maxRows: 100_000 };

/**
 * What the rows are checked against besides their form: the products the store knows (an unknown sku is a typo, never
 * a price to send); and, with `confirm`, rows a person must confirm — a price of 0 and an effectiveAt before `now` (a
 * stale file) — refused unless `force` (they may be meant: a giveaway, a price that should have applied this morning).
 */
export type CampaignCsvChecks = { isKnownSku?: (sku: string) => boolean; confirm?: { now: number; force: boolean } };

/** How the rows a person must confirm are named: the API says `force`, the CLI `--force`. */
const FORCE_HINT = 'send the file with force (price push --force) if that is meant';

const skuPattern = new RegExp(SKU_PATTERN);
const HEADER_HINT = 'the first line must be the header sku,priceCents or sku,priceCents,effectiveAt';

/** Work between two turns of the event loop: a timer due meanwhile runs this much late, at most (plus one slice). */
const TURN_BUDGET_MS = 10;
/** The file goes to csv-parse in slices of this many bytes: about 100 rows, parsed and checked in well under 10 ms. */
const SLICE_BYTES = 4 * 1024;

/** Says when work that started at the last turn of the event loop has used its budget, and takes the next turn. */
class TurnBudget {
  private since = performance.now();
  constructor(private readonly budgetMs: number) {}

  /** A turn of the event loop if the budget is spent (await it), else undefined: no await, no microtask. */
  turnIfDue(): Promise<void> | undefined {
    if (performance.now() - this.since < this.budgetMs) return undefined;
    return nextTurn().then(() => {
      this.since = performance.now();
    });
  }
}

export async function parseCampaignCsv(
  text: string,
  limits: CampaignCsvLimits = DEFAULT_CAMPAIGN_CSV_LIMITS,
  checks: CampaignCsvChecks = {},
): Promise<CampaignCsvResult> {
  const problems: CampaignCsvProblem[] = [];
  // the BOM is taken off here rather than by csv-parse, so byte offsets in its errors count from the first character
  const source = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const lineAt = lineOfByteOffset(source);
  const lineOfError = (error: CsvError): number =>
    typeof error.bytes === 'number' ? lineAt(error.bytes) : typeof error.lines === 'number' ? error.lines : 1;
  const budget = new TurnBudget(TURN_BUDGET_MS);
  // each row is checked as csv-parse reads it, so only the batches are kept, never the file's records
  let columns: Columns | undefined;
  let headerLine: number | undefined;
  let rowCount = 0;
  let tooMany = false;
  const batches = new Map<string, { batch: CampaignCsvBatch; firstLineOf: Map<string, number> }>();
  const onRow = (record: string[], line: number) => {
    if (headerLine === undefined) {
      headerLine = line;
      columns = headerColumns(record);
      return;
    }
    // after a bad header the rows are not read; csv-parse's own errors still are, as they come
    if (!columns) return;
    rowCount += 1;
    if (rowCount > limits.maxRows) {
      problems.push({ line, reason: `too many rows: at most ${limits.maxRows}` });
      tooMany = true;
      return;
    }
    const parsed = parseRow(record, columns, checks);
    if ('problems' in parsed) {
      for (const problem of parsed.problems) problems.push({ line, ...problem });
      return;
    }
    const batchKey = String(parsed.effectiveAt ?? '');
    let entry = batches.get(batchKey);
    if (!entry) {
      const batch: CampaignCsvBatch = { prices: {} };
      if (parsed.effectiveAt !== undefined) batch.effectiveAt = parsed.effectiveAt;
      entry = { batch, firstLineOf: new Map() };
      batches.set(batchKey, entry);
    }
    const earlierLine = entry.firstLineOf.get(parsed.sku);
    if (earlierLine !== undefined) {
      const earlierPrice = entry.batch.prices[parsed.sku];
      // the same row twice is harmless (a copy-paste); two prices for one sku at one time cannot both be right
      if (earlierPrice !== parsed.priceCents) {
        problems.push({ line, reason: `duplicate sku ${parsed.sku} with a different price (${earlierPrice} at line ${earlierLine})` });
      }
      return;
    }
    entry.firstLineOf.set(parsed.sku, line);
    entry.batch.prices[parsed.sku] = parsed.priceCents;
  };
  try {
    // the file stops being read at the first row over the limit
    await parseInSlices(Buffer.from(source, 'utf8'), budget, () => tooMany, {
      bom: true,
      trim: true,
      skip_empty_lines: true,
      skip_records_with_empty_values: true,
      relax_column_count: true, // a row with a column too many or too few is a problem to list, not a reason to stop
      skip_records_with_error: true,
      on_skip: (error) => {
        if (!error || tooMany) return;
        const line = lineOfError(error);
        // csv-parse may stumble twice over one bad record (a stray quote, then "never closed"): one problem per line
        if (problems.at(-1)?.line !== line) problems.push({ line, reason: csvErrorReason(error) });
      },
      // taken here, not pushed through the stream: nothing reads its other end
      on_record: (record: string[], info) => {
        if (!tooMany) onRow(record, firstLineOf(record, info.lines));
        return null;
      },
    });
  } catch (error) {
    const line = error instanceof CsvError ? lineOfError(error) : 1;
    return { ok: false, problems: [...problems, { line, reason: error instanceof Error ? error.message : String(error) }] };
  }

  if (!columns) return { ok: false, problems: [{ line: headerLine ?? 1, reason: HEADER_HINT }, ...problems] };
  if (problems.length > 0) return { ok: false, problems: problems.sort((a, b) => a.line - b.line) };
  if (rowCount === 0) return { ok: false, problems: [{ line: 2, reason: 'no price rows after the header' }] };
  return { ok: true, batches: [...batches.values()].map((entry) => entry.batch), rows: rowCount };
}

/**
 * Feeds the file to csv-parse's streaming parser a slice at a time, with a turn of the event loop whenever the budget is
 * spent, until the end or until `enough()`. Bytes, not characters: a slice may end inside a character, which csv-parse
 * joins up again.
 */
async function parseInSlices(bytes: Buffer, budget: TurnBudget, enough: () => boolean, options: Options): Promise<void> {
  const parser = parse(options);
  let failure: Error | undefined;
  const failed = new Promise<void>((resolve) => {
    parser.once('error', (error: unknown) => {
      failure = asError(error);
      resolve();
    });
  });
  for (let offset = 0; offset < bytes.length && failure === undefined && !enough(); offset += SLICE_BYTES) {
    parser.write(bytes.subarray(offset, offset + SLICE_BYTES));
    await budget.turnIfDue();
  }
  if (failure === undefined) {
    // the end: csv-parse reads the last record (a file without a final newline) and reports a quote never closed
    const ended = new Promise<void>((resolve) =>
      parser.end((error?: Error | null) => {
        failure ??= error ?? undefined;
        resolve();
      }),
    );
    await Promise.race([ended, failed]);
  }
  parser.destroy();
  if (failure !== undefined) throw failure;
}

type Columns = { effectiveAt: boolean };

function headerColumns(record: string[]): Columns | undefined {
  const names = record.map((name) => name.toLowerCase());
  if (names[0] !== 'sku' || names[1] !== 'pricecents') return undefined;
  if (names.length === 2) return { effectiveAt: false };
  if (names.length === 3 && names[2] === 'effectiveat') return { effectiveAt: true };
  return undefined;
}

type ParsedRow = { sku: string; priceCents: number; effectiveAt?: number };
type RowProblem = { reason: string; forceable?: true };

/** Every reason a row is bad, not just the first: a row with a bad sku and a bad price gets both named. */
function parseRow(record: string[], columns: Columns, checks: CampaignCsvChecks): ParsedRow | { problems: RowProblem[] } {
  const expected = columns.effectiveAt ? 3 : 2;
  // a 3-column file may leave effectiveAt off a row (that row's price applies at once)
  if (record.length > expected || record.length < 2) {
    return { problems: [{ reason: `expected ${columns.effectiveAt ? '2 or 3' : '2'} columns, got ${record.length}` }] };
  }
  const [sku = '', priceText = '', effectiveAtText = ''] = record;
  const problems: RowProblem[] = [];
  if (sku === '') problems.push({ reason: 'missing sku' });
  else if (!skuPattern.test(sku)) problems.push({ reason: `bad sku "${truncate(sku)}": letters, digits, . _ - only, at most 64` });
  else if (checks.isKnownSku && !checks.isKnownSku(sku)) problems.push({ reason: `unknown sku ${sku}: not a product in the planogram` });
  const priceCents = parsePriceCents(priceText);
  if (typeof priceCents === 'string') problems.push({ reason: priceCents });
  else if (priceCents === 0 && checks.confirm && !checks.confirm.force)
    problems.push({ reason: `price 0: the labels would show 0.00; ${FORCE_HINT}`, forceable: true });
  let effectiveAt: number | undefined;
  if (effectiveAtText !== '') {
    const parsed = parseEffectiveAt(effectiveAtText);
    if (typeof parsed === 'string') problems.push({ reason: parsed });
    else effectiveAt = parsed;
    const confirm = checks.confirm;
    if (typeof parsed === 'number' && confirm && !confirm.force && parsed < confirm.now) {
      problems.push({
        reason: `effectiveAt ${truncate(effectiveAtText)} is in the past; ${FORCE_HINT} (it applies at once)`,
        forceable: true,
      });
    }
  }
  if (problems.length > 0 || typeof priceCents === 'string') return { problems };
  return effectiveAt === undefined ? { sku, priceCents } : { sku, priceCents, effectiveAt };
}

/** Whole minor units (cents) or the reason the text is not a price. */
export function parsePriceCents(text: string): number | string {
  if (text === '') return 'missing price';
  if (/^-\s*\d/.test(text)) return `negative price "${truncate(text)}"`;
  if (!/^\d+$/.test(text)) return `price "${truncate(text)}" is not a whole number of cents`;
  const priceCents = Number(text);
  if (priceCents > MAX_PRICE_CENTS) return `price ${truncate(text)} is above ${MAX_PRICE_CENTS} cents`;
  return priceCents;
}

const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;

/**
 * An ISO 8601 date and time with its zone (`2026-12-01T06:00:00+01:00`, `…Z`) as epoch ms, or the reason it is not.
 * The zone is required: a gateway in one zone reading a file written in another would start the prices an hour off.
 * Impossible dates (Feb 30) are refused — Date.parse would quietly roll them into March.
 */
export function parseEffectiveAt(text: string): number | string {
  const match = ISO_DATE_TIME.exec(text);
  if (!match) return `bad date "${truncate(text)}": expected a date and time with zone, e.g. 2026-12-01T06:00:00+01:00`;
  const [year, month, day, hour, minute, second = 0] = match.slice(1, 7).map<number>((part) => Number(part ?? 0));
  const daysInMonth = new Date(Date.UTC(year as number, month as number, 0)).getUTCDate();
  if (month! < 1 || month! > 12 || day! < 1 || day! > daysInMonth || hour! > 23 || minute! > 59 || second > 59) {
    return `bad date "${truncate(text)}": no such date or time`;
  }
  const zone = (match[8] as string).toUpperCase();
  const normalised = `${match[1]}-${match[2]}-${match[3]}T${match[4]}:${match[5]}:${match[6] ?? '00'}${match[7] ?? ''}${
    zone === 'Z' ? 'Z' : `${zone.slice(0, 3)}:${zone.slice(-2)}`
  }`;
  const at = Date.parse(normalised);
  return Number.isNaN(at) ? `bad date "${truncate(text)}"` : at;
}

/** The line a record starts on: csv-parse counts to its end (`lines`), and a quoted field may span lines. */
function firstLineOf(record: readonly string[], lines: number): number {
  const innerNewlines = record.reduce((sum, field) => sum + (field.match(/\n/g)?.length ?? 0), 0);
  return lines - innerNewlines;
}

/**
 * The line of a byte offset of the text (UTF-8, as csv-parse counts). csv-parse's own `lines` in an error is where it
 * gave up — for a quote never closed, the end of the file — while its `bytes` is where the bad record starts.
 */
function lineOfByteOffset(text: string): (byteOffset: number) => number {
  let newlineOffsets: number[] | undefined; // built on the first error only: a good file never pays for it
  return (byteOffset) => {
    if (!newlineOffsets) {
      newlineOffsets = [];
      const bytes = Buffer.from(text, 'utf8');
      for (let index = bytes.indexOf(10); index !== -1; index = bytes.indexOf(10, index + 1)) newlineOffsets.push(index);
    }
    let low = 0;
    let high = newlineOffsets.length; // count the newlines before byteOffset: binary search
    while (low < high) {
      const middle = (low + high) >> 1;
      if ((newlineOffsets[middle] as number) < byteOffset) low = middle + 1;
      else high = middle;
    }
    return low + 1;
  };
}

function csvErrorReason(error: CsvError): string {
  switch (error.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return 'a quote is opened and never closed';
    case 'CSV_INVALID_CLOSING_QUOTE':
      return 'text after a closing quote (write "" for a quote inside a quoted field)';
    default:
      return error.message;
  }
}

/** Quoted text from a row stays short in problem lists (a manager may paste a whole paragraph into a cell). */
function truncate(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
