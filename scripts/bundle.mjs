// Bundles src/main.ts and everything it imports into one CommonJS file for the Node SEA.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

export async function bundle(outfile = 'build/main.cjs') {
  await build({
    entryPoints: ['src/main.ts'],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node24',
    minify: true,
    keepNames: true,
    legalComments: 'none',
    logLevel: 'warning',
    // ESM dependencies read import.meta.url; in the CJS bundle it is the executable's own URL.
    define: { 'import.meta.url': 'import_meta_url', __PLUGIN_VERSION__: JSON.stringify(pkg.version) },
    banner: { js: 'var import_meta_url = require("node:url").pathToFileURL(__filename).href;' },
  });
  return outfile;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await bundle();
}
