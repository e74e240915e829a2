// The bundle's stand-in for a built-in module that client-node loads at start-up
// (scripts/bundle.mjs lazyBuiltinSource): the same names, each doing what the real one does,
// and the real module loaded only when first used.
import { spawnSync } from 'node:child_process';
import * as childProcess from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { lazyBuiltinSource } from '../../scripts/bundle.mjs';

/** Evaluates CommonJS `source` as a module and returns its exports. */
function evaluate(source: string): Record<string, unknown> {
  const module = { exports: {} as Record<string, unknown> };
  new Function('exports', 'module', source)(module.exports, module);
  return module.exports;
}

describe('lazy built-in stand-in (node:child_process)', async () => {
  const source = await lazyBuiltinSource('node:child_process');
  const stub = evaluate(source) as unknown as typeof childProcess;

  it('exports the names the real module does', () => {
    expect(Object.keys(stub).sort()).toEqual(Object.keys(childProcess).filter((key) => key !== 'default').sort());
  });

  it('calls through to the real functions', async () => {
    expect(stub.execFileSync(process.execPath, ['-e', 'process.stdout.write("sync")'], { encoding: 'utf8' })).toBe('sync');
    const child = stub.spawn(process.execPath, ['-e', 'process.exit(7)']);
    expect(child).toBeInstanceOf(childProcess.ChildProcess);
    await expect(new Promise((resolve) => child.on('close', resolve))).resolves.toBe(7);
    expect(new stub.ChildProcess()).toBeInstanceOf(childProcess.ChildProcess);
  });

  it('loads node:child_process only when a function is first called', () => {
    const probe = [
      `const module = { exports: {} }; new Function('exports', 'module', ${JSON.stringify(source)})(module.exports, module);`,
      "const loaded = () => process.moduleLoadList.includes('NativeModule child_process');",
      'const before = loaded(); const spawnSync = module.exports.spawnSync; const kept = loaded();',
      "spawnSync(process.execPath, ['--version']);",
      'process.stdout.write(JSON.stringify([before, kept, loaded()]));',
    ].join('\n');
    const { stdout, stderr } = spawnSync(process.execPath, ['-e', probe], { encoding: 'utf8' });
    expect(stderr).toBe('');
    expect(JSON.parse(stdout)).toEqual([false, false, true]);
  });
});
