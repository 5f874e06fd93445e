import { describe, expect, it } from 'vitest';
import { admitMessage, msUntilToken, newMessageBucket, type MessageRatePolicy } from '../../../edge/broker/message-rate-limit.js';

const policy: MessageRatePolicy = { messagesPerSecond: 100, burst: 10, disconnectAfterMs: 3_000 };

describe('per-device message rate limit (token bucket)', () => {
  it('lets a burst through at once, then the rate', () => {
    const bucket = newMessageBucket(policy, 0);
    for (let i = 0; i < 10; i++) expect(admitMessage(bucket, policy, 0)).toBe('accepted');
    expect(admitMessage(bucket, policy, 0)).toBe('over-limit');
    // 100/s: one token every 10 ms
    expect(admitMessage(bucket, policy, 9)).toBe('over-limit');
    expect(admitMessage(bucket, policy, 10)).toBe('accepted');
    expect(admitMessage(bucket, policy, 10)).toBe('over-limit');
    // a long pause refills to the burst, never beyond
    let accepted = 0;
    for (let i = 0; i < 50; i++) if (admitMessage(bucket, policy, 60_000) === 'accepted') accepted++;
    expect(accepted).toBe(10);
  });

  it('a device sending at the rate is never limited', () => {
    const bucket = newMessageBucket(policy, 0);
    for (let t = 0; t < 10_000; t += 10) expect(admitMessage(bucket, policy, t)).toBe('accepted');
  });

  it('over the limit for disconnectAfterMs without a 1 s pause is flooding', () => {
    const bucket = newMessageBucket(policy, 0);
    const verdicts = new Map<string, number>();
    let floodingAt: number | undefined;
    // twice the rate: every other message dropped
    for (let t = 0; t <= 5_000 && floodingAt === undefined; t += 5) {
      const verdict = admitMessage(bucket, policy, t);
      verdicts.set(verdict, (verdicts.get(verdict) ?? 0) + 1);
      if (verdict === 'flooding') floodingAt = t;
    }
    // the first drop comes once the burst is spent (after ~100 ms), flooding 3 s after it
    expect(floodingAt).toBeGreaterThanOrEqual(3_000);
    expect(floodingAt).toBeLessThan(3_200);
    expect(verdicts.get('over-limit')).toBeGreaterThan(250);
  });

  it('bursts separated by pauses longer than 1 s never add up to a flood', () => {
    const bucket = newMessageBucket(policy, 0);
    for (let second = 0; second < 30; second++) {
      const t0 = second * 1_200;
      // 20 messages at once (10 over the burst), then quiet for 1.2 s
      for (let i = 0; i < 20; i++) expect(admitMessage(bucket, policy, t0)).not.toBe('flooding');
    }
  });
});

describe('msUntilToken', () => {
  const paced: MessageRatePolicy = { messagesPerSecond: 100, burst: 2, disconnectAfterMs: 10_000 };
  it('is 0 while the bucket has a token, then the time until the next one, and takes nothing', () => {
    const bucket = newMessageBucket(paced, 0);
    expect(msUntilToken(bucket, 0)).toBe(0);
    expect(admitMessage(bucket, paced, 0)).toBe('accepted');
    expect(admitMessage(bucket, paced, 0)).toBe('accepted');
    expect(msUntilToken(bucket, 0)).toBe(10);
    expect(msUntilToken(bucket, 4)).toBe(6);
    expect(msUntilToken(bucket, 10)).toBe(0);
    expect(bucket.tokens).toBe(0); // asking took nothing
    expect(admitMessage(bucket, paced, 10)).toBe('accepted');
  });
});
