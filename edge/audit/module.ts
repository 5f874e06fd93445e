/**
 * The audit trail: an append-only, hash-chained log in SQLite of what people did — alerts acknowledged, snoozed and
 * resolved, devices, tokens and label bindings changed, price campaigns created, cancelled and rolled back. Rooms record
 * through `record()` or the bus;
 * `audit verify` and `audit export` (edge/cli/audit.ts) read the same table.
 */
import type { Logger } from 'pino';
import type { GatewayBus } from '../core/events.js';
import type { GatewayModule, HealthCheck } from '../core/module.js';
import type { DeviceLifecycleChange } from '../device-registry/device-source.js';
import type { SqliteDatabase, TransactionStep } from '../storage/database.js';
import { AuditLog, auditEntryStep, type AuditInput, type AuditWriter } from './audit-log.js';
import { deviceAuditInput, recordFromBus } from './audit-recorder.js';
import { AuditStore } from './audit-store.js';

declare module '../core/module.js' {
  interface GatewayServices {
    audit: AuditModule;
  }
}

export type AuditModuleDeps = {
  bus: GatewayBus;
  db: SqliteDatabase;
  /** the storage writer: entries commit with the changes they describe */
  writer: AuditWriter;
  now: () => number;
  log: Logger;
  /** entries waiting for the disk before new ones are dropped (counted); default 10,000 */
  maxPending?: number;
};

export class AuditModule implements GatewayModule {
  readonly name = 'audit';
  readonly store: AuditStore;
  readonly log: AuditLog;
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly deps: AuditModuleDeps) {
    this.store = new AuditStore(deps.db);
    this.log = new AuditLog(deps.writer, { now: deps.now, log: deps.log, ...(deps.maxPending ? { maxPending: deps.maxPending } : {}) });
  }

  async start(): Promise<void> {
    this.unsubscribe = recordFromBus(this.deps.bus, (input) => this.log.record(input));
    const head = await this.store.head();
    this.deps.log.info({ entries: head?.seq ?? 0 }, 'audit trail ready');
  }

  /** Writes what is still queued; the rooms that record stop before this (reverse start order). */
  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    await this.log.stop();
  }

  health(): HealthCheck {
    return this.log.health();
  }

  /** Records an entry (committed with whatever else this tick changed); false when it had to be dropped. */
  record(input: AuditInput): boolean {
    return this.log.record(input);
  }

  /**
   * The entry as a step of someone else's transaction: the change it describes and the entry commit together (a device
   * changed through the API, a label bound, a token added by the CLI).
   */
  entryStep(input: AuditInput): TransactionStep {
    return auditEntryStep(input, this.deps.now);
  }

  /** For the device routes: who changed a device through the API, committed with the change. */
  readonly deviceChanged = (change: { deviceId: string; change: DeviceLifecycleChange; actor: string }): TransactionStep =>
    this.entryStep(deviceAuditInput(change));
}
