import { describe, expect, it } from 'vitest';
import {
  CampaignError,
  DEFAULT_CAMPAIGN_LIMITS,
  campaignView,
  due,
  emptyCampaignBoard,
  stepCampaigns,
  WAITING_REASON,
  type Campaign,
} from '../../../edge/campaigns/campaign.js';
import { ACK_TIMEOUT_MS, Harness, WAITING_TIMEOUT_MS, sends, testRules } from './campaign-harness.js';

const MILK = { id: 'c1', prices: { milk: 129 }, labelsBySku: { milk: ['esl-1'] } };

function campaign(harness: Harness, id: string): Campaign {
  const found = harness.board.campaigns[id];
  if (!found) throw new Error(`no campaign ${id}`);
  return found;
}

describe('price campaign: the happy path', () => {
  it('sends each label its price, confirms on the ack of that version and is done when every label is', () => {
    const harness = new Harness();
    const effects = harness.create({
      id: 'c1',
      prices: { milk: 129, tea: 249, soap: 350 },
      labelsBySku: { milk: ['esl-1', 'esl-2'], tea: ['esl-3'] },
    });
    expect(sends(effects).map(({ labelId, version, priceCents, attempt }) => ({ labelId, version, priceCents, attempt }))).toEqual([
      { labelId: 'esl-1', version: 1, priceCents: 129, attempt: 1 },
      { labelId: 'esl-2', version: 1, priceCents: 129, attempt: 1 },
      { labelId: 'esl-3', version: 1, priceCents: 249, attempt: 1 },
    ]);
    expect(effects).toContainEqual({
      type: 'set-timer',
      key: 'label:esl-1',
      at: harness.now + ACK_TIMEOUT_MS,
      timer: { kind: 'ack', labelId: 'esl-1', version: 1, sentAt: harness.now },
    });
    expect(campaign(harness, 'c1')).toMatchObject({ state: 'running', total: 3, counts: { sent: 3 }, unmappedSkus: ['soap'] });

    harness.confirm('esl-1', 1);
    harness.confirm('esl-2', 1);
    expect(campaign(harness, 'c1').state).toBe('running');
    harness.now += 500;
    harness.confirm('esl-3', 1);
    expect(campaignView(campaign(harness, 'c1'))).toMatchObject({
      state: 'done',
      finishedAt: harness.now,
      counts: { confirmed: 3, sent: 0 },
      failed: [],
    });
    expect(harness.board.book.records['esl-3']).toMatchObject({ confirmed: { version: 1, priceCents: 249 } });
    expect(harness.board.book.records['esl-3']?.target).toBeUndefined();
  });

  it('refuses bad campaigns with a typed error and leaves the board unchanged', () => {
    const harness = new Harness(
      testRules({
        limits: {
          ...DEFAULT_CAMPAIGN_LIMITS,
          maxLabelsPerCampaign: 2,
          maxActiveCampaigns: 1,
          maxFinishedCampaignsKept: 5,
          maxTrackedLabels: 10,
        },
      }),
    );
    const before = JSON.stringify(harness.board);
    const refused = (input: Parameters<Harness['create']>[0]) => {
      try {
        harness.create(input);
      } catch (error) {
        expect(error).toBeInstanceOf(CampaignError);
        return (error as CampaignError).code;
      }
      return 'accepted';
    };
    expect(refused({ id: 'c1', prices: { milk: 12.5 }, labelsBySku: { milk: ['a'] } })).toBe('invalid-campaign');
    expect(refused({ id: 'c1', prices: { milk: -1 }, labelsBySku: { milk: ['a'] } })).toBe('invalid-campaign');
    expect(refused({ id: 'c1', prices: { 'bad sku': 1 }, labelsBySku: {} })).toBe('invalid-campaign');
    expect(refused({ id: 'c1', prices: { milk: 1 }, labelsBySku: { milk: ['a', 'b', 'c'] } })).toBe('too-many-labels');
    expect(refused({ id: 'c1', prices: { milk: 1, tea: 2 }, labelsBySku: { milk: ['a'], tea: ['a'] } })).toBe('invalid-campaign');
    expect(JSON.stringify(harness.board)).toBe(before);
    expect(refused({ id: 'c1', prices: { milk: 1 }, labelsBySku: { milk: ['a'] } })).toBe('accepted');
    expect(refused({ id: 'c1', prices: { milk: 1 }, labelsBySku: { milk: ['b'] } })).toBe('duplicate-id');
    expect(refused({ id: 'c2', prices: { milk: 1 }, labelsBySku: { milk: ['b'] } })).toBe('too-many-active');
  });
});

describe('supersede: a newer price for a label wins, versioned per label', () => {
  it('keeps one command in flight: the newer version waits for the older one, whose late ack never confirms it', () => {
    const harness = new Harness();
    harness.create(MILK);
    const second = harness.create({ id: 'c2', prices: { milk: 139 }, labelsBySku: { milk: ['esl-1'] } });
    expect(sends(second)).toEqual([]); // version 1 is still on the radio
    expect(second).toContainEqual({ type: 'drop-send', labelId: 'esl-1', version: 1 });
    expect(harness.labelOf('c1', 'esl-1')).toMatchObject({ state: 'superseded', reason: 'superseded by campaign c2' });
    expect(campaign(harness, 'c1').state).toBe('done');
    expect(harness.labelOf('c2', 'esl-1')).toMatchObject({ state: 'pending', version: 2 });

    // the late ack of version 1: the label shows 129 (recorded as such), c2 is not confirmed by it, version 2 goes now
    const afterOldAck = harness.confirm('esl-1', 1);
    expect(harness.board.book.records['esl-1']?.confirmed).toMatchObject({ version: 1, priceCents: 129 });
    expect(harness.labelOf('c2', 'esl-1').state).toBe('sent');
    expect(sends(afterOldAck)).toMatchObject([{ labelId: 'esl-1', version: 2, priceCents: 139, campaignId: 'c2' }]);

    harness.confirm('esl-1', 1); // duplicate of the old ack: nothing changes
    expect(harness.labelOf('c2', 'esl-1').state).toBe('sent');
    harness.confirm('esl-1', 2);
    expect(campaign(harness, 'c2')).toMatchObject({ state: 'done', counts: { confirmed: 1 } });
    expect(harness.board.book.records['esl-1']?.confirmed).toMatchObject({ version: 2, priceCents: 139 });
  });

  it('frees the label when the superseded version times out, then sends the newer one', () => {
    const harness = new Harness();
    harness.create(MILK);
    harness.create({ id: 'c2', prices: { milk: 139 }, labelsBySku: { milk: ['esl-1'] } });
    const afterTimeout = harness.fire('label:esl-1');
    expect(sends(afterTimeout)).toMatchObject([{ labelId: 'esl-1', version: 2, attempt: 1 }]);
    expect(harness.labelOf('c1', 'esl-1').state).toBe('superseded'); // stays what it was: not failed, not retried
  });

  it('ignores acks of versions never issued and duplicate acks of a confirmed one', () => {
    const harness = new Harness();
    harness.create(MILK);
    harness.confirm('esl-1', 7);
    harness.confirm('unknown-label', 1);
    expect(harness.labelOf('c1', 'esl-1').state).toBe('sent');
    harness.confirm('esl-1', 1);
    const duplicate = harness.confirm('esl-1', 1);
    // nothing sent, nothing changed: only the (already idle) label's timer is let go
    expect(duplicate).toEqual([{ type: 'clear-timer', key: 'label:esl-1' }]);
    expect(campaign(harness, 'c1').counts).toMatchObject({ confirmed: 1, sent: 0 });
  });

  it('treats an ack whose displayed price is not the one sent as a retryable failure', () => {
    const harness = new Harness();
    harness.create(MILK);
    harness.confirm('esl-1', 1, 99);
    expect(harness.labelOf('c1', 'esl-1')).toMatchObject({ state: 'pending', reason: 'label shows 99 cents, expected 129' });
  });
});

describe('retry with exponential backoff and jitter, then failed with the reason', () => {
  it('retries retryable failures after growing delays and fails after maxAttempts, naming the reason', () => {
    const harness = new Harness(testRules({ random: () => 0 })); // jitter 0.5 × random 0: half the backoff
    harness.create(MILK);
    const retryTimes: number[] = [];
    for (let attempt = 1; attempt <= 2; attempt += 1) {
      const effects = harness.label({ type: 'failed', labelId: 'esl-1', version: 1, reason: 'come back later', retryable: true });
      const timer = effects.find((effect) => effect.type === 'set-timer');
      expect(timer).toMatchObject({ key: 'label:esl-1', timer: { kind: 'retry', labelId: 'esl-1', version: 1 } });
      retryTimes.push((timer as { at: number }).at - harness.now);
      expect(harness.labelOf('c1', 'esl-1')).toMatchObject({ state: 'pending', attempts: attempt, reason: 'come back later' });
      expect(sends(harness.fire('label:esl-1'))).toMatchObject([{ labelId: 'esl-1', version: 1, attempt: attempt + 1 }]);
    }
    expect(retryTimes).toEqual([500, 1_000]); // 1 s then 2 s backoff, each halved by the jitter draw
    harness.label({ type: 'failed', labelId: 'esl-1', version: 1, reason: 'come back later', retryable: true });
    expect(harness.labelOf('c1', 'esl-1')).toMatchObject({ state: 'failed', attempts: 3, reason: 'come back later (after 3 attempts)' });
    expect(campaignView(campaign(harness, 'c1'))).toMatchObject({
      state: 'done',
      counts: { failed: 1 },
      failed: [{ labelId: 'esl-1', sku: 'milk', priceCents: 129, attempts: 3, reason: 'come back later (after 3 attempts)' }],
      failedNotListed: 0,
    });
    expect(harness.board.book.records['esl-1']?.target).toBeUndefined();
  });

  it('fails at once on a failure that is not retryable, and counts a missing ack as retryable', () => {
    const harness = new Harness();
    harness.create({ id: 'c1', prices: { milk: 129 }, labelsBySku: { milk: ['esl-1', 'esl-2'] } });
    harness.label({ type: 'failed', labelId: 'esl-1', version: 1, reason: 'mac not found in tagDB', retryable: false });
    expect(harness.labelOf('c1', 'esl-1')).toMatchObject({ state: 'failed', attempts: 1, reason: 'mac not found in tagDB' });
    const timeout = harness.fire('label:esl-2');
    expect(timeout).toContainEqual({ type: 'drop-send', labelId: 'esl-2', version: 1 });
    expect(harness.labelOf('c1', 'esl-2')).toMatchObject({ state: 'pending', reason: `no answer within ${ACK_TIMEOUT_MS} ms` });
  });

  it('confirms a label whose ack came after its timeout, and its retry timer is let go', () => {
    const harness = new Harness();
    harness.create(MILK);
    harness.fire('label:esl-1'); // ack timeout → retry scheduled
    expect(harness.timers.get('label:esl-1')?.timer.kind).toBe('retry');
    harness.confirm('esl-1', 1); // the label did show it: the late ack is the truth
    expect(harness.labelOf('c1', 'esl-1').state).toBe('confirmed');
    expect(harness.timers.has('label:esl-1')).toBe(false);
  });

  it('a started campaign looks at maxLabelsPumpedPerStep labels per step; pump steps send the rest, a cancel stops them', () => {
    const harness = new Harness(testRules({ limits: { ...DEFAULT_CAMPAIGN_LIMITS, maxLabelsPumpedPerStep: 2 } }));
    const five = ['a', 'b', 'c', 'd', 'e'];
    expect(sends(harness.create({ id: 'c1', prices: { milk: 129 }, labelsBySku: { milk: five } })).map((sent) => sent.labelId)).toEqual([
      'a',
      'b',
    ]);
    expect(campaign(harness, 'c1')).toMatchObject({ pumpFrom: 2, counts: { sent: 2, pending: 3 } });
    expect(sends(harness.step({ type: 'pump' })).map((sent) => sent.labelId)).toEqual(['c', 'd']);
    harness.step({ type: 'cancel', campaignId: 'c1', by: 'maria' });
    expect(sends(harness.step({ type: 'pump' }))).toEqual([]);
    expect(campaign(harness, 'c1').pumpFrom).toBeUndefined();
    expect(campaign(harness, 'c1').counts).toMatchObject({ cancelled: 1, sent: 4 });
  });

  it("lets go of a confirmed label's ack timer, keeps the timer of a label still waiting for its answer", () => {
    const harness = new Harness();
    harness.create({ id: 'c1', prices: { milk: 129 }, labelsBySku: { milk: ['esl-1', 'esl-2'] } });
    expect([...harness.timers.keys()].sort()).toEqual(['label:esl-1', 'label:esl-2']);
    harness.confirm('esl-1', 1);
    expect([...harness.timers.keys()]).toEqual(['label:esl-2']);
    harness.label({ type: 'waiting', labelId: 'esl-2', version: 1 });
    expect(harness.timers.get('label:esl-2')?.timer.kind).toBe('waiting');
  });

  it('ignores an ack timer of an earlier send of the same version', () => {
    const harness = new Harness();
    harness.create(MILK);
    const firstTimer = harness.timers.get('label:esl-1');
    harness.label({ type: 'failed', labelId: 'esl-1', version: 1, reason: 'xfer timeout', retryable: true });
    harness.fire('label:esl-1'); // retry → sent again
    expect(harness.labelOf('c1', 'esl-1')).toMatchObject({ state: 'sent', attempts: 2 });
    const effects = harness.step({ type: 'timer', timer: firstTimer!.timer });
    expect(effects).toEqual([]);
    expect(harness.labelOf('c1', 'esl-1')).toMatchObject({ state: 'sent', attempts: 2 });
  });
});

describe('waiting: a label not seen is delivered when it checks in', () => {
  it('waits without retrying, re-sends on check-in and confirms', () => {
    const harness = new Harness();
    harness.create(MILK);
    const waiting = harness.label({ type: 'waiting', labelId: 'esl-1', version: 1 });
    expect(waiting).toEqual([
      {
        type: 'set-timer',
        key: 'label:esl-1',
        at: harness.now + WAITING_TIMEOUT_MS,
        timer: { kind: 'waiting', labelId: 'esl-1', version: 1, sentAt: harness.now },
      },
    ]);
    expect(harness.labelOf('c1', 'esl-1').state).toBe('waiting');
    harness.now += 60_000;
    const checkIn = harness.label({ type: 'check-in', labelId: 'esl-1', batteryMv: 2900 });
    expect(sends(checkIn)).toMatchObject([{ labelId: 'esl-1', version: 1, attempt: 1 }]); // delivery, not a retry
    expect(harness.labelOf('c1', 'esl-1').state).toBe('sent');
    harness.confirm('esl-1', 1);
    expect(campaign(harness, 'c1').state).toBe('done');
  });

  it('confirms at check-in when the label reports the new price in it', () => {
    const harness = new Harness();
    harness.create(MILK);
    harness.label({ type: 'waiting', labelId: 'esl-1', version: 1 });
    const effects = harness.label({ type: 'check-in', labelId: 'esl-1', batteryMv: null, displayedPriceCents: 129 });
    expect(sends(effects)).toEqual([]);
    expect(harness.labelOf('c1', 'esl-1').state).toBe('confirmed');
  });

  it('fails a label not seen within the waiting timeout', () => {
    const harness = new Harness();
    harness.create(MILK);
    harness.label({ type: 'waiting', labelId: 'esl-1', version: 1 });
    harness.fire('label:esl-1');
    expect(harness.labelOf('c1', 'esl-1')).toMatchObject({ state: 'failed', reason: `label not seen within ${WAITING_TIMEOUT_MS} ms` });
  });

  it('sends at once on check-in a label that was backing off', () => {
    const harness = new Harness();
    harness.create(MILK);
    harness.label({ type: 'failed', labelId: 'esl-1', version: 1, reason: 'label offline', retryable: true });
    const checkIn = harness.label({ type: 'check-in', labelId: 'esl-1', batteryMv: 3000 });
    expect(sends(checkIn)).toMatchObject([{ labelId: 'esl-1', attempt: 2 }]);
  });
});

describe('same content as last confirmed', () => {
  it('confirms without sending (OEPL skips identical renders)', () => {
    const harness = new Harness();
    harness.create(MILK);
    harness.confirm('esl-1', 1);
    const again = harness.create({ id: 'c2', prices: { milk: 129 }, labelsBySku: { milk: ['esl-1'] } });
    expect(sends(again)).toEqual([]);
    expect(harness.labelOf('c2', 'esl-1')).toMatchObject({ state: 'confirmed', attempts: 0, reason: 'already shown' });
    expect(campaign(harness, 'c2').state).toBe('done');
  });

  it('skips the send when the superseded version turns out to have shown the same price', () => {
    const harness = new Harness();
    harness.create(MILK);
    harness.create({ id: 'c2', prices: { milk: 129 }, labelsBySku: { milk: ['esl-1'] } });
    expect(sends(harness.confirm('esl-1', 1))).toEqual([]);
    expect(harness.labelOf('c2', 'esl-1').state).toBe('confirmed');
  });
});

describe('scheduled campaigns', () => {
  it('start at effectiveAt: a timer, and due(now) for a gateway that was off at that time', () => {
    const harness = new Harness();
    const startAt = harness.now + 3_600_000;
    const effects = harness.create({ ...MILK, effectiveAt: startAt });
    expect(effects).toEqual([{ type: 'set-timer', key: 'start:c1', at: startAt, timer: { kind: 'start', campaignId: 'c1' } }]);
    expect(campaign(harness, 'c1').state).toBe('scheduled');
    expect(due(harness.board, startAt - 1)).toEqual([]);
    expect(due(harness.board, startAt)).toEqual(['c1']);
    expect(harness.step({ type: 'start-due' })).toEqual([]); // not yet
    harness.now = startAt + 5;
    expect(sends(harness.step({ type: 'start-due' }))).toMatchObject([{ labelId: 'esl-1', priceCents: 129 }]);
    expect(campaign(harness, 'c1')).toMatchObject({ state: 'running', startedAt: startAt + 5 });
    expect(sends(harness.fire('start:c1'))).toEqual([]); // the timer after start-due does nothing
  });
});

describe('cancel', () => {
  it('stops labels not yet sent and keeps tracking those already sent, without retrying them', () => {
    const harness = new Harness();
    harness.create(MILK); // esl-1 on the radio for c1
    harness.create({ id: 'c2', prices: { milk: 139, tea: 249 }, labelsBySku: { milk: ['esl-1'], tea: ['esl-2'] } });
    // c2: esl-1 pending behind c1's version, esl-2 sent
    harness.step({ type: 'cancel', campaignId: 'c2', by: 'maria' });
    expect(harness.labelOf('c2', 'esl-1')).toMatchObject({ state: 'cancelled', reason: 'cancelled by maria' });
    expect(harness.labelOf('c2', 'esl-2').state).toBe('sent');
    expect(campaign(harness, 'c2')).toMatchObject({ state: 'cancelled', cancelledBy: 'maria' });
    expect(campaign(harness, 'c2').finishedAt).toBeUndefined();

    expect(sends(harness.confirm('esl-1', 1))).toEqual([]); // the cancelled version 2 is never sent
    harness.label({ type: 'failed', labelId: 'esl-2', version: 1, reason: 'xfer timeout', retryable: true });
    expect(harness.labelOf('c2', 'esl-2')).toMatchObject({ state: 'failed', reason: 'xfer timeout (campaign cancelled: not retried)' });
    expect(campaign(harness, 'c2')).toMatchObject({ state: 'cancelled', finishedAt: harness.now });
    expect(() => harness.step({ type: 'cancel', campaignId: 'c2', by: 'maria' })).toThrow(CampaignError);
    expect(() => harness.step({ type: 'cancel', campaignId: 'nope', by: 'maria' })).toThrow(/no such campaign/);
  });

  it('cancels a scheduled campaign before it sends anything', () => {
    const harness = new Harness();
    harness.create({ ...MILK, effectiveAt: harness.now + 1_000 });
    harness.step({ type: 'cancel', campaignId: 'c1', by: 'maria' });
    expect(campaign(harness, 'c1')).toMatchObject({ state: 'cancelled', counts: { cancelled: 1 } });
    expect(sends(harness.fire('start:c1'))).toEqual([]);
  });
});

describe('rollback', () => {
  it('is a new campaign back to each label’s previous confirmed price, tracked the same way', () => {
    const harness = new Harness();
    harness.create({ id: 'c1', prices: { milk: 129, tea: 249 }, labelsBySku: { milk: ['esl-1'], tea: ['esl-2'] } });
    harness.confirm('esl-1', 1);
    harness.confirm('esl-2', 1);
    harness.create({
      id: 'c2',
      prices: { milk: 99, tea: 199, soap: 350 },
      labelsBySku: { milk: ['esl-1'], tea: ['esl-2'], soap: ['esl-3'] },
    });
    harness.confirm('esl-1', 2);
    harness.confirm('esl-3', 1); // esl-2 still sent

    const effects = harness.step({ type: 'rollback', campaignId: 'c2', rollbackId: 'r1', by: 'lena' });
    expect(campaign(harness, 'c2')).toMatchObject({ state: 'rolled-back', rolledBackBy: 'r1' });
    expect(harness.labelOf('c2', 'esl-2')).toMatchObject({ state: 'superseded', reason: 'superseded by campaign r1' });
    const rollback = campaign(harness, 'r1');
    expect(rollback).toMatchObject({ state: 'running', rollbackOf: 'c2', createdBy: 'lena', total: 2 });
    expect(rollback.skippedLabels).toEqual([{ labelId: 'esl-3', reason: 'no price was confirmed before the campaign' }]);
    // esl-1 goes back to 129 now; esl-2 waits for c2's version 2 to be answered
    expect(sends(effects).map(({ labelId, version, priceCents }) => ({ labelId, version, priceCents }))).toEqual([
      { labelId: 'esl-1', version: 3, priceCents: 129 },
    ]);
    // c2's version reached esl-2 after all: recorded, and the rollback version goes out
    expect(sends(harness.confirm('esl-2', 2)).map(({ labelId, version, priceCents }) => ({ labelId, version, priceCents }))).toEqual([
      { labelId: 'esl-2', version: 3, priceCents: 249 },
    ]);
    harness.confirm('esl-1', 3);
    harness.confirm('esl-2', 3);
    expect(campaign(harness, 'r1')).toMatchObject({ state: 'done', counts: { confirmed: 2 } });
    expect(harness.board.book.records['esl-2']?.confirmed?.priceCents).toBe(249);
    expect(() => harness.step({ type: 'rollback', campaignId: 'c2', rollbackId: 'r2', by: 'lena' })).toThrow(
      /cannot roll back a rolled-back campaign/,
    );
  });
});

describe('resume after a restart', () => {
  it('continues from the serialised board: in-flight labels are sent again, confirmed ones never', () => {
    const harness = new Harness();
    harness.create({ id: 'c1', prices: { milk: 129 }, labelsBySku: { milk: ['esl-1', 'esl-2', 'esl-3', 'esl-4'] } });
    harness.confirm('esl-1', 1);
    harness.label({ type: 'waiting', labelId: 'esl-2', version: 1 });
    harness.label({ type: 'failed', labelId: 'esl-3', version: 1, reason: 'come back later', retryable: true });
    const retryAt = harness.labelOf('c1', 'esl-3').retryAt as number;
    harness.create({ id: 'c2', prices: { tea: 249 }, labelsBySku: { tea: ['esl-9'] }, effectiveAt: harness.now + 60_000 });

    harness.now += 100;
    const effects = harness.restart();
    expect(sends(effects).map(({ labelId, attempt }) => ({ labelId, attempt }))).toEqual([
      { labelId: 'esl-2', attempt: 1 },
      { labelId: 'esl-4', attempt: 1 },
    ]);
    expect(effects).toContainEqual({
      type: 'set-timer',
      key: 'label:esl-3',
      at: retryAt,
      timer: { kind: 'retry', labelId: 'esl-3', version: 1 },
    });
    expect(effects).toContainEqual({
      type: 'set-timer',
      key: 'start:c2',
      at: harness.now + 59_900,
      timer: { kind: 'start', campaignId: 'c2' },
    });
    expect(harness.labelOf('c1', 'esl-1').state).toBe('confirmed');

    harness.confirm('esl-2', 1);
    harness.confirm('esl-4', 1);
    expect(sends(harness.fire('label:esl-3'))).toMatchObject([{ labelId: 'esl-3', attempt: 2 }]);
    harness.confirm('esl-3', 1);
    expect(campaign(harness, 'c1')).toMatchObject({ state: 'done', counts: { confirmed: 4 } });
    expect(sends(harness.log).filter((sent) => sent.labelId === 'esl-1')).toHaveLength(1);
  });

  it('starts, on resume, a scheduled campaign whose time passed while the gateway was off', () => {
    const harness = new Harness();
    harness.create({ ...MILK, effectiveAt: harness.now + 1_000 });
    harness.now += 5_000;
    expect(sends(harness.restart())).toMatchObject([{ labelId: 'esl-1' }]);
    expect(campaign(harness, 'c1').state).toBe('running');
  });
});

describe('progress', () => {
  it('names the campaigns each step changed, for the live stream', () => {
    const rules = testRules();
    let step = stepCampaigns(
      emptyCampaignBoard(),
      { type: 'create', campaign: { ...MILK, createdBy: 'x', labelsBySku: { milk: ['esl-1', 'esl-2'] } } },
      0,
      rules,
    );
    expect(step.changed).toEqual(['c1']);
    step = stepCampaigns(
      step.board,
      { type: 'create', campaign: { id: 'c2', createdBy: 'x', prices: { milk: 139 }, labelsBySku: { milk: ['esl-2'] } } },
      1,
      rules,
    );
    expect(step.changed.sort()).toEqual(['c1', 'c2']); // c2 took esl-2 from c1
    step = stepCampaigns(step.board, { type: 'label', event: { type: 'confirmed', labelId: 'esl-1', version: 1, at: 2 } }, 2, rules);
    expect(step.changed).toEqual(['c1']);
    step = stepCampaigns(step.board, { type: 'label', event: { type: 'confirmed', labelId: 'esl-1', version: 1, at: 3 } }, 3, rules);
    expect(step.changed).toEqual([]); // a duplicate ack changes nothing
  });
});

describe('bounds', () => {
  it('forgets the oldest finished campaigns beyond the limit, never an active one', () => {
    const rules = testRules({
      limits: {
        ...DEFAULT_CAMPAIGN_LIMITS,
        maxLabelsPerCampaign: 10,
        maxActiveCampaigns: 5,
        maxFinishedCampaignsKept: 2,
        maxTrackedLabels: 100,
      },
    });
    let board = emptyCampaignBoard();
    board = stepCampaigns(
      board,
      { type: 'create', campaign: { id: 'active', createdBy: 'x', prices: { a: 1 }, labelsBySku: { a: ['l-a'] } } },
      0,
      rules,
    ).board;
    for (let index = 0; index < 4; index += 1) {
      // no labels for the sku: each is done at once
      board = stepCampaigns(
        board,
        { type: 'create', campaign: { id: `c${index}`, createdBy: 'x', prices: { b: 1 }, labelsBySku: {} } },
        index,
        rules,
      ).board;
    }
    expect(board.order).toEqual(['active', 'c2', 'c3']);
    expect(Object.keys(board.campaigns).sort()).toEqual(['active', 'c2', 'c3']);
  });

  it('lists at most maxFailedListed failed labels and counts the rest', () => {
    const harness = new Harness();
    const labels = Array.from({ length: 5 }, (_, index) => `esl-${index}`);
    harness.create({ id: 'c1', prices: { milk: 129 }, labelsBySku: { milk: labels } });
    for (const labelId of labels)
      harness.label({ type: 'failed', labelId, version: 1, reason: 'mac not found in tagDB', retryable: false });
    expect(campaignView(campaign(harness, 'c1'), 2)).toMatchObject({ counts: { failed: 5 }, failedNotListed: 3 });
    expect(campaignView(campaign(harness, 'c1'), 2).failed).toHaveLength(2);
  });
});

describe('the view lists the labels a person may wait for, with why', () => {
  it('a waiting label with the reason and since when, a retrying one with its last failure and next try', () => {
    const harness = new Harness(testRules({ random: () => 0 }));
    harness.create({ id: 'c1', prices: { milk: 129 }, labelsBySku: { milk: ['esl-1', 'esl-2', 'esl-3'] } });
    const waitingSince = harness.now;
    harness.label({ type: 'waiting', labelId: 'esl-1', version: 1 });
    harness.now += 1_000;
    harness.label({ type: 'failed', labelId: 'esl-2', version: 1, reason: 'radio busy', retryable: true });
    expect(campaignView(campaign(harness, 'c1'))).toMatchObject({
      counts: { waiting: 1, pending: 1, sent: 1 },
      waiting: [
        { labelId: 'esl-1', sku: 'milk', priceCents: 129, state: 'waiting', since: waitingSince, reason: WAITING_REASON },
        { labelId: 'esl-2', state: 'retrying', reason: 'radio busy', retryAt: harness.now + 500 },
      ],
      waitingNotListed: 0,
    });
    // the list has the failed list's bound; the rest are counted
    expect(campaignView(campaign(harness, 'c1'), 1)).toMatchObject({ waiting: [{ labelId: 'esl-1' }], waitingNotListed: 1 });
  });
});
