import { describe, expect, it } from 'vitest';
import { ItemWatchdog, ItemWatchdogFullError } from '../../../edge/opcua/item-watchdog.js';

describe('item staleness watchdog', () => {
  const options = { multiple: 3, minSilenceMs: 500, maxItems: 4 };

  it('reports an item silent past a multiple of its interval, once per period', () => {
    const dog = new ItemWatchdog(options);
    dog.arm('temp', 1_000, 0);
    dog.arm('door', 1_000, 0);
    dog.seen('temp', 2_500);
    expect(dog.takeStale(2_999)).toEqual([]);
    expect(dog.takeStale(3_000)).toEqual(['door']);
    // re-armed at 3 000: not reported again at once, only after another full period
    expect(dog.takeStale(3_100)).toEqual([]);
    expect(dog.takeStale(5_500)).toEqual(['temp']);
    expect(dog.takeStale(6_000)).toEqual(['door']);
  });

  it('waits at least minSilenceMs for a fast item', () => {
    const dog = new ItemWatchdog(options);
    dog.arm('fast', 10, 0);
    expect(dog.takeStale(499)).toEqual([]);
    expect(dog.takeStale(500)).toEqual(['fast']);
  });

  it('ignores notifications of items it does not watch, and out-of-order times', () => {
    const dog = new ItemWatchdog(options);
    dog.seen('gone', 10);
    expect(dog.size).toBe(0);
    dog.arm('a', 1_000, 1_000);
    dog.seen('a', 500);
    expect(dog.takeStale(4_000)).toEqual(['a']);
  });

  it('is bounded', () => {
    const dog = new ItemWatchdog(options);
    for (let i = 0; i < 4; i++) dog.arm(`i${i}`, 1_000, 0);
    dog.arm('i0', 2_000, 0); // re-arming a known item is fine
    expect(() => dog.arm('i4', 1_000, 0)).toThrow(ItemWatchdogFullError);
    dog.forget('i0');
    dog.arm('i4', 1_000, 0);
    dog.clear();
    expect(dog.takeStale(1e9)).toEqual([]);
  });
});
