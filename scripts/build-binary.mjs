// Builds dist/kubectl-teleport-argocd: the bundle as a Node single-executable application
// injected into the project's pinned Node (the npm `node` package), with a V8 code cache
// for fast start-up. Downloads nothing.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { inject } from 'postject';
import { bundle } from './bundle.mjs';

export const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

/** Produces a SEA blob from the bundle with the running Node (which must be the target's exact version). */
export function buildBlob(main, blob, { codeCache }) {
  const config = `${blob}.sea-config.json`;
  writeFileSync(
    config,
    JSON.stringify({ main, output: blob, disableExperimentalSEAWarning: true, useCodeCache: codeCache, useSnapshot: false, execArgvExtension: 'none' }),
  );
  execFileSync(process.execPath, ['--experimental-sea-config', config], { stdio: ['ignore', 'ignore', 'ignore'] });
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
  // Private work files and an atomic rename: concurrent builds never see a half-made binary.
  const work = `build/host-${process.pid}`;
  mkdirSync(work, { recursive: true });
  mkdirSync('dist', { recursive: true });
  const main = await bundle(`${work}/main.cjs`);
  const blob = buildBlob(main, `${work}/sea-prep.blob`, { codeCache: true });
  const output = 'dist/kubectl-teleport-argocd';
  const staged = `${work}/kubectl-teleport-argocd`;
  copyFileSync(process.execPath, staged);
  chmodSync(staged, 0o755);
  await injectBlob(staged, blob);
  const version = execFileSync(staged, ['--version'], { encoding: 'utf8' }).trim();
  renameSync(staged, output);
  rmSync(work, { recursive: true, force: true });
  process.stdout.write(`built ${output}: ${version}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await main();
}
