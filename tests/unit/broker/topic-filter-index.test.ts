import { describe, expect, it } from 'vitest';
import { TopicFilterIndex } from '../../../edge/broker/topic-filter-index.js';

describe('TopicFilterIndex', () => {
  it('matches an exact filter only by its whole text, whatever its last character', () => {
    const index = new TopicFilterIndex();
    index.add('store/s1/shelf/sh1/cmd');
    index.add('store/s1/ap/ap-1/cmd');
    index.add('a/b/é');
    index.add('a/b/');
    expect(index.mayMatch('store/s1/shelf/sh1/cmd')).toBe(true);
    expect(index.mayMatch('store/s1/ap/ap-1/cmd')).toBe(true);
    expect(index.mayMatch('store/s1/shelf/sh2/cmd')).toBe(false); // same ending, another topic
    expect(index.mayMatch('store/s1/shelf/sh1/weight')).toBe(false);
    expect(index.mayMatch('a/b/é')).toBe(true);
    expect(index.mayMatch('a/b/è')).toBe(false);
    expect(index.mayMatch('a/b/')).toBe(true);
    expect(index.mayMatch('')).toBe(false);
  });

  it('stops matching an exact filter once every holder let go, and only then', () => {
    const index = new TopicFilterIndex();
    index.add('x/cmd');
    index.add('x/cmd');
    index.add('y/cmd');
    index.remove('x/cmd');
    expect(index.mayMatch('x/cmd')).toBe(true);
    index.remove('x/cmd');
    expect(index.mayMatch('x/cmd')).toBe(false);
    expect(index.mayMatch('y/cmd')).toBe(true);
    index.remove('never/added');
    expect(index.mayMatch('y/cmd')).toBe(true);
    expect(index.size).toBe(1);
  });

  it('matches wildcard filters by first level, or every topic when that level is a wildcard', () => {
    const index = new TopicFilterIndex();
    index.add('$SYS/+/heartbeat');
    expect(index.mayMatch('$SYS/b1/heartbeat')).toBe(true);
    expect(index.mayMatch('$SYS')).toBe(true);
    expect(index.mayMatch('$SYSX/b1')).toBe(false);
    expect(index.mayMatch('store/s1/shelf/sh1/weight')).toBe(false);
    index.add('#');
    expect(index.mayMatch('store/s1/shelf/sh1/weight')).toBe(true);
    index.remove('#');
    expect(index.mayMatch('store/s1/shelf/sh1/weight')).toBe(false);
  });
});
