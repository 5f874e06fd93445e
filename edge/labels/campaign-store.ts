/**
 * The campaign board in SQLite (migration 011), so a restarted gateway resumes its campaigns: it reads the board back
 * and steps `{ type: 'resume' }`. The store only keeps what the pure machine (campaign.ts) owns — headers, labels and
 * price records as JSON — and writes what changed in one transaction per flush, never one per label ack.
 */
import type { SqliteDatabase, SqlParams } from '../storage/database.js';
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
type LabelRow = { campaign_id: string; doc: string };
type RecordRow = { label_id: string; doc: string };

/** Rows per statement batch: keeps one flush of a 50,000-label campaign start from holding one giant array of params. */
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
    for (const row of await this.db.all<LabelRow>('SELECT campaign_id, doc FROM campaign_labels')) {
      const campaign = board.campaigns[row.campaign_id];
      if (!campaign) continue; // cascade keeps this from happening; a hand-edited file is not a reason to crash
      const label = parse<CampaignLabel>(row.doc, `label of campaign ${row.campaign_id}`);
      campaign.labels[label.labelId] = label;
    }
    for (const row of await this.db.all<RecordRow>('SELECT label_id, doc FROM label_prices')) {
      board.book.records[row.label_id] = parse<LabelPriceRecord>(row.doc, `price record ${row.label_id}`);
    }
    return board;
  }

  /** Writes the changes in one transaction. */
  async save(changes: CampaignBoardChanges): Promise<void> {
    const { campaigns, labels, records, forgotten } = changes;
    if (campaigns.length + labels.length + records.length + forgotten.length === 0) return;
    await this.db.transaction(async (tx) => {
      for (const id of forgotten) await tx.run('DELETE FROM campaigns WHERE id = ?', [id]);
      // ON CONFLICT … DO UPDATE, not INSERT OR REPLACE: a replace deletes the row first, which would cascade to its labels
      await runChunked(
        tx.runMany.bind(tx),
        'INSERT INTO campaigns (id, state, doc) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET state = excluded.state, doc = excluded.doc',
        campaigns.map((campaign) => [campaign.id, campaign.state, JSON.stringify({ ...campaign, labels: {} })]),
      );
      await runChunked(
        tx.runMany.bind(tx),
        'INSERT INTO campaign_labels (campaign_id, label_id, state, doc) VALUES (?, ?, ?, ?) ON CONFLICT(campaign_id, label_id) DO UPDATE SET state = excluded.state, doc = excluded.doc',
        labels.map(({ campaignId, label }) => [campaignId, label.labelId, label.state, JSON.stringify(label)]),
      );
      const written = records.filter((entry) => entry.record !== undefined);
      const deleted = records.filter((entry) => entry.record === undefined);
      await runChunked(
        tx.runMany.bind(tx),
        'INSERT INTO label_prices (label_id, doc) VALUES (?, ?) ON CONFLICT(label_id) DO UPDATE SET doc = excluded.doc',
        written.map(({ labelId, record }) => [labelId, JSON.stringify(record)]),
      );
      await runChunked(tx.runMany.bind(tx), 'DELETE FROM label_prices WHERE label_id = ?', deleted.map(({ labelId }) => [labelId]));
    });
  }
}

async function runChunked(runMany: (sql: string, rows: readonly SqlParams[]) => Promise<void>, sql: string, rows: SqlParams[]): Promise<void> {
  for (let start = 0; start < rows.length; start += CHUNK) await runMany(sql, rows.slice(start, start + CHUNK));
}

function parse<T>(doc: string, what: string): T {
  try {
    return JSON.parse(doc) as T;
  } catch (error) {
    throw new CampaignStoreError(`unreadable ${what} in the campaign tables: ${(error as Error).message}`, what, { cause: error });
  }
}
