// The assert stand-in the bundle gives yargs (scripts/yargs-assert.mjs) must pass and fail
// exactly where node:assert does, with node:assert's own error.
import assert from 'node:assert';
import { describe, expect, it } from 'vitest';
import { notStrictEqual, strictEqual } from '../../scripts/yargs-assert.mjs';

const shared = { frozen: true };
const VALUES: unknown[] = [0, -0, 1, NaN, '', '0', 'a', true, false, undefined, null, shared, { frozen: true }, [], Symbol.for('x'), 10n];

function outcome(check: () => void): string {
  try {
    check();
    return 'passed';
  } catch (error) {
    return `${(error as Error).name}: ${(error as Error).message}`;
  }
}

describe('yargs assert stand-in', () => {
  type Check = (actual: unknown, expected: unknown, ...message: [] | [string | undefined]) => void;
  const checks: Array<[string, Check, Check]> = [
    ['strictEqual', strictEqual, assert.strictEqual as Check],
    ['notStrictEqual', notStrictEqual, assert.notStrictEqual as Check],
  ];
  for (const [name, ours, node] of checks) {
    it(`${name} agrees with node:assert on every pair of values`, () => {
      const outcomes = new Set<string>();
      for (const message of [[], ['yargs invariant'], [undefined]] as Array<[] | [string | undefined]>) {
        for (const actual of VALUES) {
          for (const expected of VALUES) {
            const result = outcome(() => ours(actual, expected, ...message));
            expect(result, `${String(actual)} vs ${String(expected)}, ${message.length} message`).toBe(outcome(() => node(actual, expected, ...message)));
            outcomes.add(result === 'passed' ? 'passed' : 'failed');
          }
        }
      }
      expect([...outcomes].sort()).toEqual(['failed', 'passed']);
    });
  }

  it('fails with an AssertionError', () => {
    expect(() => strictEqual(1, 2)).toThrow(assert.AssertionError);
    expect(() => notStrictEqual(NaN, NaN)).toThrow(assert.AssertionError);
  });
});
