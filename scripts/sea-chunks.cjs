// Runtime loader for the bundle's lazily loaded chunk (scripts/bundle.mjs), bundled into
// the entry script. Inside the SEA a chunk is an asset, compiled with the V8 code cache that
// scripts/chunk-cache.mjs made at build time when there is one (host builds only: a cache
// only loads on the platform and V8 that made it; V8 rejects a mismatched one and compiles).
// Outside a SEA (`node build/main.cjs`) the chunk is the file next to the entry script.
// `NODE_DEBUG=sea-chunks` reports whether V8 took the cache.
'use strict';

const WRAPPER_HEAD = '(function (exports, require, module, __filename, __dirname) {';
const WRAPPER_TAIL = '\n})';

/**
 * Every chunk compiled in this process, by name, for the build's cache warm-up
 * (scripts/chunk-cache.mjs). Global, because the app chunk bundles its own copy of this loader.
 */
const COMPILED_CHUNKS = (globalThis[Symbol.for('kubectl-teleport-argocd.compiled-chunks')] ??= new Map());

/** Asset keys of a chunk: its source and its code cache. */
function chunkAssets(name) {
  return { source: `${name}.cjs`, cache: `${name}.cache` };
}

/** The chunk as a vm.Script; the build compiles exactly the same text to make the cache. */
function compileChunk(source, filename, cachedData) {
  const vm = require('node:vm');
  return new vm.Script(WRAPPER_HEAD + source + WRAPPER_TAIL, { filename, cachedData });
}

/** Runs a compiled chunk as a CommonJS module and returns its exports. */
function runChunk(script, chunkRequire, filename, dirname) {
  const chunkModule = { exports: {} };
  script.runInThisContext()(chunkModule.exports, chunkRequire, chunkModule, filename, dirname);
  return chunkModule.exports;
}

function loadChunk(name) {
  const sea = require('node:sea');
  const assets = chunkAssets(name);
  let source;
  let cachedData;
  if (sea.isSea()) {
    // Zero-copy views of the executable's data; esbuild writes ASCII, so latin1 decodes it.
    source = Buffer.from(sea.getRawAsset(assets.source)).toString('latin1');
    if (sea.getAssetKeys().includes(assets.cache)) cachedData = Buffer.from(sea.getRawAsset(assets.cache));
  } else {
    source = require('node:fs').readFileSync(require('node:path').join(__dirname, assets.source), 'latin1');
  }
  const script = compileChunk(source, assets.source, cachedData);
  COMPILED_CHUNKS.set(name, script);
  require('node:util').debuglog('sea-chunks')(
    `${name}: ${cachedData ? `code cache ${script.cachedDataRejected ? 'rejected' : 'accepted'}` : 'no code cache'}`,
  );
  return runChunk(script, require, __filename, __dirname);
}

module.exports = { chunkAssets, compileChunk, runChunk, loadChunk, COMPILED_CHUNKS };
