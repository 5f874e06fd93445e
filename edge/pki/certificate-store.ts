import type { SqliteDatabase } from '../storage/database.js';
import type { IssuedCertificate } from './certificate-authority.js';

export type CertificateRecord = {
  serial: string;
  subject: string;
  usage: 'client' | 'server';
  notBefore: number;
  notAfter: number;
  issuedAt: number;
  revokedAt: number | null;
};

type Row = {
  serial: string;
  subject: string;
  usage: 'client' | 'server';
  not_before: number;
  not_after: number;
  issued_at: number;
  revoked_at: number | null;
};

const fromRow = (row: Row): CertificateRecord => ({
  serial: row.serial,
  subject: row.subject,
  usage: row.usage,
  notBefore: row.not_before,
  notAfter: row.not_after,
  issuedAt: row.issued_at,
  revokedAt: row.revoked_at,
});

/** Certificates the store CA issued, and which are revoked (table `certificates`). Written by the CLI. */
export class CertificateStore {
  constructor(private readonly db: SqliteDatabase) {}

  async record(certificate: IssuedCertificate, usage: 'client' | 'server', now: number): Promise<void> {
    await this.db.run('INSERT INTO certificates (serial, subject, usage, not_before, not_after, issued_at) VALUES (?, ?, ?, ?, ?, ?)', [
      certificate.serial,
      certificate.subject,
      usage,
      certificate.notBefore,
      certificate.notAfter,
      now,
    ]);
  }

  /** Revokes by serial, or every certificate whose subject is `CN=<name>`; returns the serials revoked now. */
  async revoke(serialOrName: string, now: number): Promise<string[]> {
    const serial = serialOrName.toLowerCase();
    const rows = await this.db.all<{ serial: string }>(
      'SELECT serial FROM certificates WHERE revoked_at IS NULL AND (serial = ? OR subject = ?)',
      [serial, `CN=${serialOrName}`],
    );
    for (const row of rows) await this.db.run('UPDATE certificates SET revoked_at = ? WHERE serial = ?', [now, row.serial]);
    return rows.map((row) => row.serial);
  }

  async list(): Promise<CertificateRecord[]> {
    return (await this.db.all<Row>('SELECT * FROM certificates ORDER BY issued_at, serial')).map(fromRow);
  }

  async revokedSerials(): Promise<string[]> {
    return (await this.db.all<{ serial: string }>('SELECT serial FROM certificates WHERE revoked_at IS NOT NULL')).map((row) => row.serial);
  }

  dataVersion(): Promise<number> {
    return this.db.dataVersion();
  }
}
