// The two `assert` functions yargs uses (scripts/bundle.mjs), with node:assert's meaning
// (Object.is): node:assert itself is loaded only to report a failed check, with the
// arguments as given.
export function strictEqual(actual, expected, ...message) {
  if (!Object.is(actual, expected)) process.getBuiltinModule('node:assert').strictEqual(actual, expected, ...message);
}

export function notStrictEqual(actual, expected, ...message) {
  if (Object.is(actual, expected)) process.getBuiltinModule('node:assert').notStrictEqual(actual, expected, ...message);
}
