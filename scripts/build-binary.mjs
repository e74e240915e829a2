// Builds dist/kubectl-teleport-argocd: the bundle as a Node single-executable application
// injected into the project's pinned Node (the npm `node` package), with a V8 code cache
// for fast start-up. Downloads nothing.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { inject } from 'postject';
import { bundle } from './bundle.mjs';

export const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

/** Produces a SEA blob from the bundle with the running Node (which must be the target's exact version). */
export function buildBlob(main, blob, { codeCache }) {
  const config = 'build/sea-config.json';
  writeFileSync(
    config,
    JSON.stringify({ main, output: blob, disableExperimentalSEAWarning: true, useCodeCache: codeCache, useSnapshot: false, execArgvExtension: 'none' }),
  );
  execFileSync(process.execPath, ['--experimental-sea-config', config], { stdio: ['ignore', 'ignore', 'inherit'] });
  return readFileSync(blob);
}

export async function injectBlob(binary, blob, { macho = false } = {}) {
  await inject(binary, 'NODE_SEA_BLOB', blob, {
    sentinelFuse: SEA_FUSE,
    machoSegmentName: macho ? 'NODE_SEA' : undefined,
    overwrite: true,
  });
}

async function main() {
  const expected = JSON.parse(readFileSync('package.json', 'utf8')).devDependencies.node;
  if (process.version !== `v${expected}`) {
    throw new Error(`build with the pinned Node v${expected} (run it through npm), not ${process.version}`);
  }
  mkdirSync('build', { recursive: true });
  mkdirSync('dist', { recursive: true });
  const main = await bundle('build/main.cjs');
  const blob = buildBlob(main, 'build/sea-prep.blob', { codeCache: true });
  const output = 'dist/kubectl-teleport-argocd';
  rmSync(output, { force: true });
  copyFileSync(process.execPath, output);
  chmodSync(output, 0o755);
  await injectBlob(output, blob);
  const version = execFileSync(output, ['--version'], { encoding: 'utf8' }).trim();
  process.stdout.write(`built ${output}: ${version}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await main();
}
