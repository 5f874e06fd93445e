import { describe, expect, it } from 'vitest';
import { countOf } from '../../../edge/core/count-words.js';

describe('countOf', () => {
  it('says 1 label, 0 labels, 2 labels, and takes an irregular plural', () => {
    expect([0, 1, 2].map((count) => countOf(count, 'label'))).toEqual(['0 labels', '1 label', '2 labels']);
    expect(countOf(1, 'entry', 'entries')).toBe('1 entry');
    expect(countOf(3, 'shelf', 'shelves')).toBe('3 shelves');
  });
});
