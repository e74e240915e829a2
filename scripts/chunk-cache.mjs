// `node scripts/chunk-cache.mjs CHUNK CACHE`: a warm V8 code cache for a bundle chunk.
// A cache made right after compiling holds only the top level: every module body and
// function would still be compiled at run time. So this loads the chunk the way the SEA
// does (scripts/sea-chunks.cjs), lets it run what it would run at start-up (evaluating it,
// and its `warmUp` if it has one: the app chunk evaluates all its modules and parses a
// command line up to where a command would start), then saves the cache with all the code
// that ran. Run it in a child process of the same Node as the binary: V8 only accepts a
// cache made with the same version and flags.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const { chunkAssets, compileChunk, runChunk } = require('./sea-chunks.cjs');

const [chunkFile, cacheFile] = process.argv.slice(2);
const name = path.basename(chunkFile, '.cjs');
const script = compileChunk(readFileSync(chunkFile, 'latin1'), chunkAssets(name).source);
const chunk = runChunk(script, createRequire(path.resolve(chunkFile)), path.resolve(chunkFile), path.dirname(path.resolve(chunkFile)));
await chunk.warmUp?.();
writeFileSync(cacheFile, script.createCachedData());
