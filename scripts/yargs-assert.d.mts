// Types for yargs-assert.mjs (imported by the TypeScript tests).
export function strictEqual(actual: unknown, expected: unknown, ...message: [] | [string | Error | undefined]): void;
export function notStrictEqual(actual: unknown, expected: unknown, ...message: [] | [string | Error | undefined]): void;
