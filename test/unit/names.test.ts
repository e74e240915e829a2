import { describe, expect, it } from 'vitest';
import { firstNames } from '../../src/util/names.js';

describe('firstNames', () => {
  it('lists every name up to the limit, then counts the rest', () => {
    expect(firstNames([], 3)).toBe('');
    expect(firstNames(['a', 'b', 'c'], 3)).toBe('a, b, c');
    expect(firstNames(['a', 'b', 'c', 'd', 'e'], 3)).toBe('a, b, c, and 2 more');
  });
});
