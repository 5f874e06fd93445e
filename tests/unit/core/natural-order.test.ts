import { describe, expect, it } from 'vitest';
import { naturalCompare } from '../../../edge/core/natural-order.js';

describe('naturalCompare', () => {
  it('compares ids as people do: numbers by value, leading zeros aside, the rest by character', () => {
    const ids = ['shelf-10', 'shelf-2', 'shelf-02b', 'shelf-1', 'ap', 'shelf-', 'shelf-2a', 'Shelf-3'];
    expect([...ids].sort(naturalCompare)).toEqual(['Shelf-3', 'ap', 'shelf-', 'shelf-1', 'shelf-2', 'shelf-2a', 'shelf-02b', 'shelf-10']);
    expect(naturalCompare('esl-007', 'esl-7')).not.toBe(0);
    expect(naturalCompare('esl-7', 'esl-7')).toBe(0);
  });
});
