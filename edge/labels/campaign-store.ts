/**
 * The campaign board in SQLite (migration 011), so a restarted gateway resumes its campaigns: it reads the board back
 * and steps `{ type: 'resume' }`. The store only keeps what the pure machine (campaign.ts) owns — headers, labels and
 * price records as JSON — and writes what changed in one transaction per flush, never one per label ack.
 */
import type { SqliteDatabase, SqlParams, TransactionScope } from '../storage/database.js';
import { emptyCampaignBoard, type Campaign, type CampaignBoard, type CampaignLabel } from './campaign.js';
import type { LabelPriceRecord } from './label-price-book.js';

/** What changed since the last flush, read from the board at flush time (latest wins). */
export type CampaignBoardChanges = {
  /** campaign headers to write (their `labels` are not written from here) */
  campaigns: readonly Campaign[];
  labels: readonly { campaignId: string; label: CampaignLabel }[];
  /** price records to write; `record` undefined deletes it */
  records: readonly { labelId: string; record: LabelPriceRecord | undefined }[];
  /** campaigns the board forgot (their labels go with them) */
  forgotten: readonly string[];
};

export class CampaignStoreError extends Error {
  constructor(
    message: string,
    readonly what: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CampaignStoreError';
  }
}

type HeaderRow = { id: string; doc: string };
type LabelsRow = { campaign_id: string; docs: string };

/**
 * Rows per prepared-statement batch: keeps one flush of a 50,000-label campaign start from holding one giant array of
 * params. Written row by row through one statement (measured: one JSON array unpacked by json_each made the benchmark's
 * campaign slower — its stringify is one long synchronous step); read back as one JSON array per campaign
 * (group_concat), which halves a restart's load of a 50,000-label board compared with a row object per label.
 */
const CHUNK = 5_000;

export class CampaignStore {
  constructor(private readonly db: SqliteDatabase) {}

  /** The board as last flushed: campaigns in their original order, each with its labels, and the price book. */
  async load(): Promise<CampaignBoard> {
    const board = emptyCampaignBoard();
    const headers = await this.db.all<HeaderRow>('SELECT id, doc FROM campaigns ORDER BY rowid');
    for (const row of headers) {
      const campaign = parse<Campaign>(row.doc, `campaign ${row.id}`);
      campaign.labels = {};
      board.campaigns[row.id] = campaign;
      board.order.push(row.id);
    }
    for (const row of await this.db.all<LabelsRow>("SELECT campaign_id, '[' || group_concat(doc, ',') || ']' AS docs FROM campaign_labels GROUP BY campaign_id")) {
      const campaign = board.campaigns[row.campaign_id];
      if (!campaign) continue; // cascade keeps this from happening; a hand-edited file is not a reason to crash
      const labels = await this.parseAll<CampaignLabel>(row.docs, `labels of campaign ${row.campaign_id}`, 'SELECT label_id AS id, doc FROM campaign_labels WHERE campaign_id = ?', [row.campaign_id]);
      for (const label of labels) campaign.labels[label.labelId] = label;
    }
    // a record names its label (`labelId`), as a campaign label does: no second array of ids to pair it with
    const records = await this.db.get<{ docs: string | null }>("SELECT '[' || group_concat(doc, ',') || ']' AS docs FROM label_prices");
    if (records?.docs) {
      for (const record of await this.parseAll<LabelPriceRecord>(records.docs, 'price records', 'SELECT label_id AS id, doc FROM label_prices')) board.book.records[record.labelId] = record;
    }
    return board;
  }

  /** Writes the changes in one transaction. */
  async save(changes: CampaignBoardChanges): Promise<void> {
    const { campaigns, labels, records, forgotten } = changes;
    if (campaigns.length + labels.length + records.length + forgotten.length === 0) return;
    await this.db.transaction((tx) => CampaignStore.saveIn(tx, changes));
  }

  /** Writes the changes inside a transaction someone else holds (the storage writer's flush: with their audit entries). */
  static async saveIn(tx: TransactionScope, changes: CampaignBoardChanges): Promise<void> {
    const { campaigns, labels, records, forgotten } = changes;
    for (const id of forgotten) await tx.run('DELETE FROM campaigns WHERE id = ?', [id]);
    // ON CONFLICT … DO UPDATE, not INSERT OR REPLACE: a replace deletes the row first, which would cascade to its labels
    await runChunked(
      tx,
      'INSERT INTO campaigns (id, state, doc) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET state = excluded.state, doc = excluded.doc',
      campaigns.map((campaign) => [campaign.id, campaign.state, JSON.stringify({ ...campaign, labels: {} })]),
    );
    await runChunked(
      tx,
      'INSERT INTO campaign_labels (campaign_id, label_id, state, doc) VALUES (?, ?, ?, ?) ON CONFLICT(campaign_id, label_id) DO UPDATE SET state = excluded.state, doc = excluded.doc',
      labels.map(({ campaignId, label }) => [campaignId, label.labelId, label.state, JSON.stringify(label)]),
    );
    const written = records.filter((entry) => entry.record !== undefined);
    const deleted = records.filter((entry) => entry.record === undefined);
    await runChunked(
      tx,
      'INSERT INTO label_prices (label_id, doc) VALUES (?, ?) ON CONFLICT(label_id) DO UPDATE SET doc = excluded.doc',
      written.map(({ labelId, record }) => [labelId, JSON.stringify(record)]),
    );
    await runChunked(tx, 'DELETE FROM label_prices WHERE label_id = ?', deleted.map(({ labelId }) => [labelId]));
  }

  /** One JSON array of documents; if it does not parse, the rows one by one, so the error names the broken one. */
  private async parseAll<T>(docs: string, what: string, rowsSql: string, params: SqlParams = []): Promise<T[]> {
    try {
      return JSON.parse(docs) as T[];
    } catch {
      for (const row of await this.db.all<{ id: string; doc: string }>(rowsSql, params)) parse<T>(row.doc, `${what}: ${row.id}`);
      throw new CampaignStoreError(`unreadable ${what} in the campaign tables`, what);
    }
  }
}

async function runChunked(tx: TransactionScope, sql: string, rows: SqlParams[]): Promise<void> {
  for (let start = 0; start < rows.length; start += CHUNK) await tx.runMany(sql, rows.slice(start, start + CHUNK));
}

function parse<T>(doc: string, what: string): T {
  try {
    return JSON.parse(doc) as T;
  } catch (error) {
    throw new CampaignStoreError(`unreadable ${what} in the campaign tables: ${(error as Error).message}`, what, { cause: error });
  }
}
