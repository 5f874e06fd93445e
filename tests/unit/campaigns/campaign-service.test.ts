import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CampaignStore } from '../../../edge/campaigns/campaign-store.js';
import { SqliteDatabase } from '../../../edge/storage/database.js';
import { CampaignError, DEFAULT_CAMPAIGN_LIMITS } from '../../../edge/campaigns/campaign.js';
import type { CampaignService } from '../../../edge/campaigns/campaign-service.js';
import { SKU_BEANS, SKU_MILK, serviceFixture, settle, type ServiceFixture } from './campaign-service-fixture.js';

let fx: ServiceFixture;
let service: CampaignService;

beforeEach(async () => {
  fx = await serviceFixture();
  service = await fx.startService();
});
afterEach(async () => {
  await fx.dispose();
});

describe('campaign service', () => {
  it('sends every mapped label through its driver with the product name, and counts confirmations', async () => {
    const view = service.create({ id: 'spring', prices: { [SKU_MILK]: 199, [SKU_BEANS]: 849, 'no-such-sku': 5 }, createdBy: 'maria' });
    await fx.committed();
    expect(view).toMatchObject({ state: 'running', total: 3, unmappedSkus: ['no-such-sku'] });
    expect(fx.driver.sent.map((sent) => [sent.labelId, sent.priceCents, sent.productName])).toEqual([
      ['L1', 199, 'Oat milk 1 l'],
      ['L2', 199, 'Oat milk 1 l'],
      ['L3', 849, 'Espresso beans 500 g'],
    ]);
    for (const labelId of ['L1', 'L2', 'L3']) fx.driver.confirmLast(labelId);
    expect(service.get('spring')).toMatchObject({ state: 'done', counts: { confirmed: 3, sent: 0 } });
    expect(fx.audit).toEqual([{ actor: 'maria', action: 'campaign.created', subject: 'spring', details: { skus: 3, labels: 3 } }]);
    // progress: the first change at once, the end at once; the throttle held the ones in between
    expect(fx.progress[0]).toMatchObject({ campaignId: 'spring', state: 'running' });
    expect(fx.progress.at(-1)).toMatchObject({ campaignId: 'spring', state: 'done', counts: { confirmed: 3 } });
    expect(fx.progress.length).toBeLessThan(5);
  });

  it("a new campaign's labels are sent only once the campaign and its audit entry are committed", async () => {
    service.create({ id: 'spring', prices: { [SKU_MILK]: 199, [SKU_BEANS]: 849 }, createdBy: 'maria' });
    // created in memory, answered nothing yet: no label may show a price a crash would lose
    expect(fx.driver.sent).toHaveLength(0);
    expect(service.health()).toMatchObject({ heldSends: 3 });
    await fx.committed();
    expect(fx.driver.sent.map((sent) => sent.labelId).sort()).toEqual(['L1', 'L2', 'L3']);
    // committed: another connection to the file reads it
    const other = new SqliteDatabase(fx.dbFile);
    await other.open();
    try {
      expect((await new CampaignStore(other).load()).campaigns.spring?.labels).toHaveProperty('L1');
    } finally {
      await other.close();
    }
  });

  it('throttles progress per campaign and publishes the held state on a later tick', async () => {
    service.create({ id: 'spring', prices: { [SKU_MILK]: 199, [SKU_BEANS]: 849 }, createdBy: 'maria' });
    await fx.committed();
    fx.driver.confirmLast('L1');
    fx.driver.confirmLast('L2');
    const before = fx.progress.length;
    expect(fx.progress.at(-1)?.counts.confirmed).toBe(0);
    await fx.advance(300);
    expect(fx.progress.length).toBe(before + 1);
    expect(fx.progress.at(-1)?.counts.confirmed).toBe(2);
  });

  it('a newer campaign supersedes a label still in flight and sends its version once the older one is answered', async () => {
    service.create({ id: 'first', prices: { [SKU_MILK]: 199 }, createdBy: 'maria' });
    await fx.committed();
    const first = fx.driver.lastSent('L1');
    service.create({ id: 'second', prices: { [SKU_MILK]: 179 }, createdBy: 'maria' });
    await fx.committed();
    expect(service.get('first')).toMatchObject({ state: 'done', counts: { superseded: 2 } });
    expect(fx.driver.sentTo('L1')).toHaveLength(1); // at most one in flight per label
    fx.driver.emit({ type: 'failed', labelId: 'L1', version: first.version, reason: 'replaced', retryable: false });
    expect(fx.driver.lastSent('L1')).toMatchObject({ priceCents: 179, version: first.version + 1 });
    fx.driver.confirmLast('L1');
    expect(service.get('second')?.counts.confirmed).toBe(1);
  });

  it('retries a retryable failure after the backoff and fails the label with its reason after the last attempt', async () => {
    service.create({ id: 'spring', prices: { [SKU_BEANS]: 849 }, createdBy: 'maria' });
    await fx.committed();
    const fail = () =>
      fx.driver.emit({
        type: 'failed',
        labelId: 'L3',
        version: fx.driver.lastSent('L3').version,
        reason: 'come back later',
        retryable: true,
      });
    fail();
    expect(service.get('spring')?.counts.pending).toBe(1);
    await fx.advance(999);
    expect(fx.driver.sentTo('L3')).toHaveLength(1);
    await fx.advance(1);
    expect(fx.driver.sentTo('L3')).toHaveLength(2);
    fail();
    await fx.advance(2_000);
    expect(fx.driver.sentTo('L3')).toHaveLength(3);
    fail();
    expect(service.get('spring')).toMatchObject({
      state: 'done',
      counts: { failed: 1 },
      failed: [{ labelId: 'L3', attempts: 3, reason: 'come back later (after 3 attempts)' }],
    });
  });

  it('an unanswered send times out and is sent again', async () => {
    service.create({ id: 'spring', prices: { [SKU_BEANS]: 849 }, createdBy: 'maria' });
    await fx.committed();
    await fx.advance(10_000);
    expect(service.get('spring')?.counts.pending).toBe(1);
    await fx.advance(1_000);
    expect(fx.driver.sentTo('L3').map((sent) => sent.version)).toEqual([1, 1]);
  });

  it('a waiting label is delivered when it checks in', async () => {
    service.create({ id: 'spring', prices: { [SKU_BEANS]: 849 }, createdBy: 'maria' });
    await fx.committed();
    const content = fx.driver.lastSent('L3');
    fx.driver.emit({ type: 'waiting', labelId: 'L3', version: content.version });
    expect(service.get('spring')?.counts.waiting).toBe(1);
    await fx.advance(60_000); // longer than the ack timeout: waiting has its own, longer timer
    expect(service.get('spring')?.counts.waiting).toBe(1);
    fx.driver.emit({ type: 'check-in', labelId: 'L3', batteryMv: 2900, displayedPriceCents: 849 });
    expect(service.get('spring')).toMatchObject({ state: 'done', counts: { confirmed: 1 } });
  });

  it('cancels a scheduled campaign: it never sends, and the audit trail names who', async () => {
    service.create({ id: 'later', prices: { [SKU_MILK]: 199 }, effectiveAt: fx.clock.now + 60_000, createdBy: 'maria' });
    await fx.committed();
    expect(service.get('later')?.state).toBe('scheduled');
    expect(service.cancel('later', 'tom')).toMatchObject({ state: 'cancelled', cancelledBy: 'tom', counts: { cancelled: 2 } });
    await fx.advance(120_000);
    expect(fx.driver.sent).toEqual([]);
    expect(fx.audit.at(-1)).toEqual({ actor: 'tom', action: 'campaign.cancelled', subject: 'later' });
    expect(() => service.cancel('later', 'tom')).toThrow(CampaignError);
  });

  it('starts a scheduled campaign on the tick when its time comes', async () => {
    service.create({ id: 'later', prices: { [SKU_MILK]: 199 }, effectiveAt: fx.clock.now + 60_000, createdBy: 'maria' });
    await fx.committed();
    await fx.advance(59_000);
    expect(fx.driver.sent).toEqual([]);
    await fx.advance(1_000);
    expect(fx.driver.sent.map((sent) => sent.labelId)).toEqual(['L1', 'L2']);
  });

  it('rolls back to the prices confirmed before the campaign', async () => {
    service.create({ id: 'base', prices: { [SKU_MILK]: 199 }, createdBy: 'maria' });
    await fx.committed();
    fx.driver.confirmLast('L1');
    fx.driver.confirmLast('L2');
    service.create({ id: 'promo', prices: { [SKU_MILK]: 99 }, createdBy: 'maria' });
    await fx.committed();
    fx.driver.confirmLast('L1');
    fx.driver.confirmLast('L2');
    const rollback = service.rollback('promo', 'tom', 'undo-promo');
    await fx.committed();
    expect(rollback).toMatchObject({ id: 'undo-promo', rollbackOf: 'promo', total: 2, state: 'running' });
    expect(fx.driver.lastSent('L1').priceCents).toBe(199);
    fx.driver.confirmLast('L1');
    fx.driver.confirmLast('L2');
    expect(service.get('undo-promo')).toMatchObject({ state: 'done', counts: { confirmed: 2 } });
    expect(service.get('promo')).toMatchObject({ state: 'rolled-back', rolledBackBy: 'undo-promo' });
    expect(fx.audit.at(-1)).toEqual({
      actor: 'tom',
      action: 'campaign.rolled-back',
      subject: 'promo',
      details: { rollbackId: 'undo-promo', labels: 2 },
    });
  });

  it('limits sends per driver and sends the rest as the budget refills', async () => {
    await fx.stopService();
    service = await fx.startService({ options: { sendsPerSecondPerDriver: 2 } });
    service.create({ id: 'spring', prices: { [SKU_MILK]: 199, [SKU_BEANS]: 849 }, createdBy: 'maria' });
    await fx.committed();
    expect(fx.driver.sent).toHaveLength(2);
    expect(service.health()).toMatchObject({ queuedSends: 1 });
    await fx.advance(499);
    expect(fx.driver.sent).toHaveLength(2);
    await fx.advance(1);
    expect(fx.driver.sent.map((sent) => sent.labelId)).toEqual(['L1', 'L2', 'L3']);
  });

  it('drops a superseded version that is still queued for the rate limit instead of sending it', async () => {
    await fx.stopService();
    service = await fx.startService({ options: { sendsPerSecondPerDriver: 1 } });
    service.create({ id: 'first', prices: { [SKU_BEANS]: 849 }, createdBy: 'maria' });
    await fx.committed();
    service.create({ id: 'filler', prices: { [SKU_MILK]: 199 }, createdBy: 'maria' }); // queued behind the budget
    service.create({ id: 'second', prices: { [SKU_MILK]: 179 }, createdBy: 'maria' });
    await fx.committed();
    await settle();
    await fx.advance(5_000);
    expect(fx.driver.sentTo('L1').map((sent) => sent.priceCents)).toEqual([179]);
    expect(service.get('filler')?.counts.superseded).toBe(2);
  });

  it('fails labels no driver carries, with the reason', async () => {
    fx.directory.driverList.length = 0;
    service.create({ id: 'spring', prices: { [SKU_BEANS]: 849 }, createdBy: 'maria' });
    await fx.committed();
    for (let i = 0; i < 4; i += 1) await fx.advance(8_000);
    expect(service.get('spring')).toMatchObject({
      state: 'done',
      failed: [{ labelId: 'L3', reason: 'no driver carries label L3 (after 3 attempts)' }],
    });
  });
});

describe('campaign service restart', () => {
  it('resumes a half-done campaign from the SQLite file without re-sending confirmed labels', async () => {
    service.create({ id: 'spring', prices: { [SKU_MILK]: 199, [SKU_BEANS]: 849 }, createdBy: 'maria' });
    await fx.committed();
    fx.driver.confirmLast('L1');
    fx.driver.confirmLast('L3');
    const l2 = fx.driver.lastSent('L2');
    await fx.stopService();
    fx.driver.sent.length = 0;

    service = await fx.startService();
    expect(service.get('spring')).toMatchObject({ state: 'running', counts: { confirmed: 2, sent: 1 } });
    expect(fx.driver.sent).toEqual([l2]); // only the label in flight, same version
    fx.driver.confirmLast('L2');
    expect(service.get('spring')).toMatchObject({ state: 'done', counts: { confirmed: 3 } });
  });

  it('keeps a scheduled campaign across a restart and starts it on time', async () => {
    service.create({ id: 'later', prices: { [SKU_BEANS]: 849 }, effectiveAt: fx.clock.now + 60_000, createdBy: 'maria' });
    await fx.committed();
    await fx.stopService();
    service = await fx.startService();
    expect(service.get('later')?.state).toBe('scheduled');
    await fx.advance(60_000);
    expect(fx.driver.sent.map((sent) => sent.labelId)).toEqual(['L3']);
  });

  it('writes acks batched: one transaction, one label row and one price record per ack, read back after a restart', async () => {
    service.create({ id: 'spring', prices: { [SKU_MILK]: 199, [SKU_BEANS]: 849 }, createdBy: 'maria' });
    await fx.committed();
    await service.flush();
    const save = vi.spyOn(CampaignStore, 'saveIn');
    fx.driver.confirmLast('L1');
    fx.driver.confirmLast('L3');
    await service.flush();
    expect(save).toHaveBeenCalledTimes(1); // both acks in one transaction
    const changes = save.mock.calls[0]?.[1];
    expect(changes?.labels.map((row) => row.label.labelId).sort()).toEqual(['L1', 'L3']);
    expect(changes?.records.map((row) => row.labelId).sort()).toEqual(['L1', 'L3']);
    save.mockRestore();
    await fx.stopService();
    service = await fx.startService();
    expect(service.get('spring')?.counts).toMatchObject({ confirmed: 2, sent: 1 });
  });

  it('starts a big campaign in steps of maxLabelsPumpedPerStep, other work running between two steps', async () => {
    await fx.stopService();
    service = await fx.startService({ rules: { limits: { ...DEFAULT_CAMPAIGN_LIMITS, maxLabelsPumpedPerStep: 1 } } });
    const view = service.create({ id: 'big', prices: { [SKU_MILK]: 199, [SKU_BEANS]: 849 }, createdBy: 'maria' });
    expect(view).toMatchObject({ state: 'running', total: 3, counts: { sent: 1, pending: 2 } });
    // work queued after the first pump step (a device message, say) runs before the step after it
    let sentWhenOtherWorkRan = -1;
    setImmediate(() => (sentWhenOtherWorkRan = service.get('big')?.counts.sent ?? -1));
    for (let i = 0; i < 4; i++) await settle();
    expect(sentWhenOtherWorkRan).toBe(2);
    await fx.committed();
    expect(fx.driver.sent.map((sent) => sent.labelId)).toEqual(['L1', 'L2', 'L3']);
    expect(service.get('big')).toMatchObject({ counts: { sent: 3, pending: 0 } });
  });
});

describe('campaign service metrics', () => {
  it('counts labels sent, confirmed and failed since start, and campaigns by state; a restart does not count again', async () => {
    expect(service.metricsSnapshot()).toEqual({
      campaignsByState: { scheduled: 0, running: 0, done: 0, cancelled: 0, 'rolled-back': 0 },
      labels: { sent: 0, confirmed: 0, failed: 0 },
    });
    service.create({ id: 'spring', prices: { [SKU_MILK]: 199, [SKU_BEANS]: 849 }, createdBy: 'maria' });
    service.create({ id: 'later', prices: { [SKU_BEANS]: 899 }, effectiveAt: fx.clock.now + 60_000, createdBy: 'maria' });
    await fx.committed();
    fx.driver.confirmLast('L1');
    const l2 = fx.driver.lastSent('L2');
    fx.driver.emit({ type: 'failed', labelId: 'L2', version: l2.version, reason: 'display broken', retryable: false });
    expect(service.metricsSnapshot()).toEqual({
      campaignsByState: { scheduled: 1, running: 1, done: 0, cancelled: 0, 'rolled-back': 0 },
      labels: { sent: 3, confirmed: 1, failed: 1 },
    });

    await fx.stopService();
    service = await fx.startService();
    fx.driver.confirmLast('L3');
    expect(service.metricsSnapshot()).toMatchObject({
      campaignsByState: { scheduled: 1, done: 1 },
      labels: { confirmed: 1, failed: 0 }, // L1 and L2 were counted by the gateway before the restart
    });
  });
});
