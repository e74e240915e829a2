import path from 'node:path';
import { expect, it } from 'vitest';
import { runCommand } from '../support/run.js';

// `npm run demo` is the README's first command: it must keep working end to end.
it('runs the demo on the sandbox with every step behaving as expected', async () => {
  const result = await runCommand(path.resolve('node_modules/.bin/tsx'), ['scripts/demo.ts'], { timeoutMs: 170_000 });
  expect(result.stdout).not.toContain('!! exit code');
  expect(result.stdout).toContain('Demo finished: every step behaved as expected.');
  expect(result.stderr).toContain('check impersonation: 15 passed, 0 warnings, 0 failed, 0 skipped');
  expect(result.code).toBe(0);
}, 180_000);
