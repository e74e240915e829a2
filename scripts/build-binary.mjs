// Builds dist/kubectl-teleport-argocd: the bundle as a Node single-executable application
// injected into the project's pinned Node (the npm `node` package), with V8 code caches
// for fast start-up. Downloads nothing.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'postject';
import { bundle, chunkFiles } from './bundle.mjs';

const CHUNK_CACHE = fileURLToPath(new URL('./chunk-cache.mjs', import.meta.url));

/**
 * V8 flags baked into the binary. A young generation big enough for a whole command: the
 * start-up allocates ~25 MB, which the default semi-space cleans up in eight scavenges and a
 * mark-compact; with 16 MB it runs no GC at all (node --trace-gc).
 */
const SEA_EXEC_ARGV = ['--min-semi-space-size=16'];

export const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

/**
 * Produces a SEA blob from the bundle (the entry `main` and its chunks as assets) with the
 * running Node, which must be the target's exact version. `codeCache` adds V8 code caches:
 * for the entry (Node's own) and warm ones for the chunks; only for the host's platform.
 */
export function buildBlob(main, blob, { codeCache }) {
  const config = `${blob}.sea-config.json`;
  const assets = {};
  const chunks = chunkFiles(main);
  for (const chunk of chunks) assets[path.basename(chunk)] = path.resolve(chunk);
  if (codeCache) {
    const cacheDir = path.dirname(blob);
    // A clean child: the cache records V8's flags, and NODE_OPTIONS could change them. It
    // runs with the binary's own V8 flags for the same reason.
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    execFileSync(process.execPath, [...SEA_EXEC_ARGV, CHUNK_CACHE, chunks[0], cacheDir], { stdio: ['ignore', 'ignore', 'pipe'], env });
    for (const chunk of chunks) {
      const name = path.basename(chunk, '.cjs');
      assets[`${name}.cache`] = path.resolve(cacheDir, `${name}.cache`);
    }
  }
  // The blob records `main` as written: relative to the work directory, it names the same file
  // in every build, so the same sources give the same blob wherever they are built.
  const dir = path.dirname(config);
  writeFileSync(
    config,
    JSON.stringify({ main: path.relative(dir, main), output: path.relative(dir, blob), disableExperimentalSEAWarning: true, useCodeCache: codeCache, useSnapshot: false, execArgv: SEA_EXEC_ARGV, execArgvExtension: 'none', assets }),
  );
  execFileSync(process.execPath, ['--experimental-sea-config', path.basename(config)], { cwd: dir, stdio: ['ignore', 'ignore', 'ignore'] });
  return readFileSync(blob);
}

export async function injectBlob(binary, blob, { macho = false } = {}) {
  await inject(binary, 'NODE_SEA_BLOB', blob, {
    sentinelFuse: SEA_FUSE,
    machoSegmentName: macho ? 'NODE_SEA' : undefined,
    overwrite: true,
  });
}

/** A rejected cache still works, only slowly; say so instead of shipping it. */
function assertChunkCachesAccepted(binary, work) {
  // `list` with a kubeconfig that does not exist loads both chunks, then fails before any request.
  const args = ['list', '--kubeconfig', path.resolve(work, 'no-such-kubeconfig')];
  const { stderr } = spawnSync(binary, args, { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NODE_DEBUG: 'sea-chunks' } });
  for (const chunk of chunkFiles('main.cjs')) {
    const name = path.basename(chunk, '.cjs');
    if (!new RegExp(`${name}: code cache accepted`).test(stderr)) throw new Error(`${binary}: the ${name} chunk's code cache was not used:\n${stderr}`);
  }
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
  assertChunkCachesAccepted(staged, work);
  renameSync(staged, output);
  rmSync(work, { recursive: true, force: true });
  process.stdout.write(`built ${output}: ${version}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await main();
}
