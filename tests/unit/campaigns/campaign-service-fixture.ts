/** Fakes around the campaign service for tests: drivers that record sends, a directory, a real SQLite file, a clock. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { AuditInput } from '../../../edge/audit/audit-log.js';
import { GatewayBus } from '../../../edge/core/events.js';
import { CampaignService, type CampaignProgress, type CampaignServiceOptions } from '../../../edge/campaigns/campaign-service.js';
import { CampaignStore } from '../../../edge/campaigns/campaign-store.js';
import type { CampaignRules } from '../../../edge/campaigns/campaign.js';
import type { LabelBinding, LabelDirectory } from '../../../edge/labels/label-directory.js';
import type { LabelContent, LabelDriver, LabelDriverEvent } from '../../../edge/labels/label-driver.js';
import { SqliteDatabase } from '../../../edge/storage/database.js';
import { migrate } from '../../../edge/storage/migrate.js';
import { WriteBehindWriter } from '../../../edge/storage/write-behind.js';

/** A writer whose flushes only the service's commits start (no timer): the tests decide when the board is written. */
export function testWriter(db: SqliteDatabase): WriteBehindWriter {
  const metrics = { flushTimer: () => () => undefined, writeFailed: () => undefined, pending: () => undefined, dropped: () => undefined };
  return new WriteBehindWriter(db, { flushIntervalMs: 3_600_000, maxPendingWrites: 100_000 }, metrics, pino({ level: 'silent' }));
}

type UntimedDriverEvent = LabelDriverEvent extends infer Event ? (Event extends unknown ? Omit<Event, 'at'> : never) : never;

export class FakeDriver implements LabelDriver {
  readonly name: string;
  readonly sent: LabelContent[] = [];
  private readonly listeners = new Set<(event: LabelDriverEvent) => void>();

  constructor(
    readonly driverId: string,
    private readonly labels: ReadonlySet<string>,
    private readonly clock: () => number,
  ) {
    this.name = driverId;
  }

  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  handles(labelId: string): boolean {
    return this.labels.has(labelId);
  }
  send(content: LabelContent): void {
    this.sent.push(content);
  }
  flash(): void {}
  onEvent(listener: (event: LabelDriverEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  emit(event: UntimedDriverEvent): void {
    for (const listener of this.listeners) listener({ ...event, at: this.clock() });
  }
  /** confirms the last content sent to the label */
  confirmLast(labelId: string): LabelContent {
    const content = this.lastSent(labelId);
    this.emit({ type: 'confirmed', labelId, version: content.version, displayedPriceCents: content.priceCents });
    return content;
  }
  lastSent(labelId: string): LabelContent {
    const content = this.sentTo(labelId).at(-1);
    if (!content) throw new Error(`nothing sent to ${labelId}`);
    return content;
  }
  sentTo(labelId: string): LabelContent[] {
    return this.sent.filter((sent) => sent.labelId === labelId);
  }
}

export class FakeDirectory implements LabelDirectory {
  constructor(
    readonly bindings: LabelBinding[],
    readonly driverList: FakeDriver[],
  ) {}
  labelsForSku(sku: string): readonly string[] {
    return this.bindings.filter((binding) => binding.sku === sku).map((binding) => binding.labelId);
  }
  bindingOf(labelId: string): LabelBinding | undefined {
    return this.bindings.find((binding) => binding.labelId === labelId);
  }
  driverFor(labelId: string): LabelDriver | undefined {
    return this.driverList.find((driver) => driver.handles(labelId));
  }
  drivers(): readonly LabelDriver[] {
    return this.driverList;
  }
  onDriversChanged(): () => void {
    return () => undefined;
  }
}

export const SKU_MILK = '4000000000017';
export const SKU_BEANS = '4000000000024';
export const PRODUCT_NAMES: Record<string, string> = { [SKU_MILK]: 'Oat milk 1 l', [SKU_BEANS]: 'Espresso beans 500 g' };

export type ServiceFixture = {
  dir: string;
  dbFile: string;
  clock: { now: number };
  driver: FakeDriver;
  directory: FakeDirectory;
  audit: AuditInput[];
  progress: CampaignProgress[];
  /** builds and starts a service on the fixture's database (a second call after `stopService` is a restart) */
  startService(options?: { rules?: Partial<CampaignRules>; options?: Partial<CampaignServiceOptions> }): Promise<CampaignService>;
  stopService(): Promise<void>;
  /** moves the clock and runs one tick (and lets queued driver answers through) */
  advance(ms: number): Promise<void>;
  /** waits until what the service changed is committed and the sends it held for that are handed to the driver */
  committed(): Promise<void>;
  dispose(): Promise<void>;
};

export const TEST_RULES: Partial<CampaignRules> = {
  retry: { maxAttempts: 3, baseDelayMs: 1_000, maxDelayMs: 8_000, jitterRatio: 0 },
  ackTimeoutMs: 10_000,
  waitingTimeoutMs: 600_000,
  random: () => 0.5,
};

/** labels L1, L2 show milk; L3 shows beans; all behind one driver */
export async function serviceFixture(labels: LabelBinding[] = defaultBindings()): Promise<ServiceFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'smartstore-campaign-'));
  const dbFile = join(dir, 'gateway.db');
  const clock = { now: 1_800_000_000_000 };
  const driver = new FakeDriver('fake-ap', new Set(labels.map((binding) => binding.labelId)), () => clock.now);
  const directory = new FakeDirectory(labels, [driver]);
  const audit: AuditInput[] = [];
  const progress: CampaignProgress[] = [];
  let db: SqliteDatabase | undefined;
  let service: CampaignService | undefined;
  let ids = 0;
  const fixture: ServiceFixture = {
    dir,
    dbFile,
    clock,
    driver,
    directory,
    audit,
    progress,
    async startService(overrides = {}) {
      db = new SqliteDatabase(dbFile);
      await db.open();
      await migrate(db);
      const bus = new GatewayBus({
        onHandlerError: ({ error }) => {
          throw error;
        },
      });
      bus.on('campaign.progress', 'test', (event) => progress.push(event));
      service = new CampaignService({
        directory,
        store: new CampaignStore(db),
        writer: testWriter(db),
        bus,
        audit: { record: (input) => (audit.push(input), true) },
        productName: (sku) => PRODUCT_NAMES[sku],
        now: () => clock.now,
        newId: () => `c-${++ids}`,
        log: pino({ level: 'silent' }),
        rules: { ...TEST_RULES, ...overrides.rules },
        options: { tickMs: 3_600_000, flushMs: 0, sendsPerSecondPerDriver: 1_000, progressIntervalMs: 250, ...overrides.options },
      });
      await service.start();
      return service;
    },
    async stopService() {
      await service?.stop();
      await db?.close();
      service = undefined;
      db = undefined;
    },
    async advance(ms) {
      clock.now += ms;
      await settle();
      await service?.tick();
      await fixture.committed();
    },
    async committed() {
      // a release hands sends over after its commit; the sends a released step held meanwhile wait for the next one
      for (let round = 0; round < 10; round++) {
        await service?.durable();
        await settle();
        if (!service || service.health().heldSends === 0) return;
      }
    },
    async dispose() {
      await fixture.stopService();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return fixture;
}

/** lets queued microtasks (answers the service gives itself) run */
export async function settle(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
}

export function defaultBindings(): LabelBinding[] {
  return [
    { labelId: 'L1', shelfId: 'shelf-a', facing: 1, sku: SKU_MILK },
    { labelId: 'L2', shelfId: 'shelf-a', facing: 2, sku: SKU_MILK },
    { labelId: 'L3', shelfId: 'shelf-b', facing: 1, sku: SKU_BEANS },
  ];
}
