// Bundles src/main.ts into CommonJS for the Node SEA, in three parts:
// - the entry script (main.cjs): --version, help, completion and everything they import;
// - the `app` chunk (app.cjs, next to it): the yargs frame and the commands — everything
//   behind main.ts's `import('./cli/frame.js')` — except:
// - the `kube` chunk (kube.cjs): @kubernetes/client-node, the exports we use.
// The SEA compiles its whole main script at start-up, so a small entry keeps the fast paths
// fast; chunks are embedded as assets and compiled when first required (usage errors and
// offline commands never load `kube`), by scripts/sea-chunks.cjs, with warm code caches
// from scripts/chunk-cache.mjs.
import { build } from 'esbuild';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SRC = path.join(ROOT, 'src');
const LOADER = fileURLToPath(new URL('./sea-chunks.cjs', import.meta.url));

const KUBE_CLIENT = '@kubernetes/client-node';
const YARGS_ASSERT = fileURLToPath(new URL('./yargs-assert.mjs', import.meta.url));

/** The chunk files `bundle(main)` writes next to `main`. */
export function chunkFiles(main) {
  return ['app.cjs', 'kube.cjs'].map((file) => path.join(path.dirname(main), file));
}

const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node26',
  minify: true,
  keepNames: true,
  legalComments: 'none',
  charset: 'ascii', // the loader decodes chunks as latin1
  logLevel: 'warning',
  // ESM dependencies read import.meta.url; in the CJS bundle it is the executable's own URL.
  define: { 'import.meta.url': 'import_meta_url', __PLUGIN_VERSION__: JSON.stringify(pkg.version) },
  banner: { js: 'var import_meta_url = require("node:url").pathToFileURL(__filename).href;' },
};

/**
 * yargs lays out help and usage with string-width (Intl.Segmenter, emoji and East Asian
 * width tables: ~25 ms to load, more to run on every parse). We render help ourselves
 * (src/cli/help.ts) and yargs never prints a layout, so its copies measure plain length.
 */
const plainStringWidth = {
  name: 'plain-string-width',
  setup(context) {
    context.onResolve({ filter: /^string-width$/ }, ({ importer }) =>
      /node_modules[\\/](yargs|cliui|wrap-ansi)[\\/]/.test(importer) ? { path: 'string-width', namespace: 'plain-string-width' } : undefined,
    );
    context.onLoad({ filter: /.*/, namespace: 'plain-string-width' }, () => ({
      contents: 'export default function stringWidth(text) { return String(text).replace(/\\u001b\\[[0-9;]*m/g, "").length; }',
      loader: 'js',
    }));
  },
};

/**
 * Work yargs does on every run whose result we never use, cut from its source. If yargs
 * changes, the build stops.
 */
const YARGS_EDITS = [
  {
    // Every new yargs instance guesses its version from the nearest package.json, searching
    // the working directory and each parent; the frame turns the version option off right away.
    file: 'yargs-factory.js',
    find: '        yargs.help();\n        yargs.version();\n',
    replace: '        yargs.help();\n',
  },
  {
    // Before a command runs, yargs lays out the whole help text in case the command shows
    // it; we render help ourselves (src/cli/help.ts) and never ask yargs for it.
    file: 'command.js',
    find: '            if (!isDefaultCommand) {\n                yargs.getInternalMethods().getUsageInstance().cacheHelpMessage();\n            }\n',
    replace: '',
  },
];

const yargsEdits = {
  name: 'yargs-edits',
  setup(context) {
    for (const { file: name, find, replace } of YARGS_EDITS) {
      const filter = new RegExp(`[\\\\/]yargs[\\\\/]build[\\\\/]lib[\\\\/]${name.replace('.', '\\.')}$`);
      context.onLoad({ filter }, async ({ path: file }) => {
        const text = readFileSync(file, 'utf8');
        if (!text.includes(find)) throw new Error(`${file}: yargs changed, the bundle's edit no longer applies:\n${find}`);
        return { contents: text.replace(find, replace), loader: 'js' };
      });
    }
  },
};

/**
 * yargs checks its own invariants on every parse with `assert`'s strictEqual and
 * notStrictEqual; loading node:assert (and the diff and colour modules behind it) costs a few
 * ms. Its copies load node:assert only when a check fails, which then fails as before.
 */
const yargsLazyAssert = {
  name: 'yargs-lazy-assert',
  setup(context) {
    context.onResolve({ filter: /^assert$/ }, ({ importer }) =>
      /node_modules[\\/]yargs[\\/]/.test(importer) ? { path: YARGS_ASSERT, namespace: 'file' } : undefined,
    );
  },
};

/** In the entry: main.ts's import of the frame loads the app chunk; nothing else may load code. */
const entrySplit = {
  name: 'entry-split',
  setup(context) {
    const main = path.join(SRC, 'main.ts');
    context.onResolve({ filter: /.*/ }, ({ kind, importer, path: target }) => {
      if (kind !== 'dynamic-import') return undefined;
      if (importer === main && target === './cli/frame.js') return { path: 'app', namespace: 'chunk' };
      if (importer === main) return undefined;
      // Commands' `load()` in the registry: only the frame calls it, and the frame is in the chunk.
      return { path: `${path.relative(SRC, path.resolve(path.dirname(importer), target))} (from ${path.relative(ROOT, importer)})`, namespace: 'not-in-entry' };
    });
    context.onLoad({ filter: /.*/, namespace: 'chunk' }, ({ path: name }) => chunkModule(name));
    context.onLoad({ filter: /.*/, namespace: 'not-in-entry' }, ({ path: what }) => ({
      contents: `throw new Error(${JSON.stringify(`${what} is in the app chunk, not in the entry script`)});`,
      loader: 'js',
    }));
  },
};

/** A module that loads chunk `name` (resolved in the chunk namespace). */
function chunkModule(name) {
  return { contents: `module.exports = require(${JSON.stringify(LOADER)}).loadChunk(${JSON.stringify(name)});`, resolveDir: ROOT, loader: 'js' };
}

/** In the app chunk, the Kubernetes client is the kube chunk. */
const kubeSplit = {
  name: 'kube-split',
  setup(context) {
    context.onResolve({ filter: /^@kubernetes\/client-node$/ }, ({ importer }) =>
      importer.startsWith(SRC + path.sep) ? { path: 'kube', namespace: 'chunk' } : undefined,
    );
    context.onLoad({ filter: /.*/, namespace: 'chunk' }, ({ path: name }) => chunkModule(name));
  },
};

/**
 * client-node imports these at its top level for what a command rarely or never uses: undici
 * (its default fetch and agents; we send requests over node:http(s), src/kube/transport.ts),
 * proxy agents for a kubeconfig's `proxy-url`, the OIDC and cloud auth providers, and a YAML
 * parser (we hand it the kubeconfig as objects: src/kube/client.ts). Loading
 * them cost about a third of the kube chunk's start-up (undici alone pulls in node:http2 and
 * zlib). Each becomes a module whose exports load the real one when first read.
 */
const LAZY_DEPENDENCIES = ['undici', 'socks-proxy-agent', 'socks', 'hpagent', 'openid-client', 'jsonpath-plus', 'js-yaml'];

/** If undici is ever loaded, the client takes three names from it: load the modules behind those, not its index. */
const UNDICI_ESSENTIALS = {
  Agent: "require('undici/lib/dispatcher/agent.js')",
  ProxyAgent: "require('undici/lib/dispatcher/proxy-agent.js')",
  fetch: "require('undici/lib/web/fetch/index.js').fetch",
};

/** A CommonJS export `key` whose value is `load` (an expression), evaluated when first read. */
const lazyExport = (key, load) => `Object.defineProperty(exports, ${JSON.stringify(key)}, { enumerable: true, get: () => ${load} });`;

/** CommonJS source of the stand-in for dependency `name`: its exports load it when first read. */
async function lazyDependencySource(name) {
  const loaders =
    name === 'undici'
      ? Object.entries(UNDICI_ESSENTIALS)
      : Object.keys(await import(name))
          // Node's names for a CommonJS module as a whole: reading `__esModule` would load it.
          .filter((key) => !['default', '__esModule', 'module.exports'].includes(key))
          .map((key) => [key, `require(${JSON.stringify(name)})[${JSON.stringify(key)}]`]);
  return loaders.map(([key, load]) => lazyExport(key, load)).join('\n');
}

/**
 * client-node loads node:child_process at its top level, for the exec and cloud auth
 * providers (its exec provider keeps `spawn` from the start); most runs never start a
 * process. Its copy is a module whose functions load the real one when first called.
 */
const LAZY_BUILTINS = ['node:child_process'];

/** CommonJS source of the stand-in for built-in module `name`: its functions load it on first call. */
export async function lazyBuiltinSource(name) {
  const load = (key) => `process.getBuiltinModule(${JSON.stringify(name)})[${JSON.stringify(key)}]`;
  const exported = Object.entries(await import(name)).filter(([key]) => key !== 'default');
  return exported
    .map(([key, value]) =>
      typeof value === 'function'
        ? `exports[${JSON.stringify(key)}] = function forward(...args) { const real = ${load(key)}; return new.target ? Reflect.construct(real, args, new.target === forward ? real : new.target) : real.apply(this, args); };`
        : lazyExport(key, load(key)),
    )
    .join('\n');
}

/** What client-node imports that the kube chunk replaces with a stand-in, and how each stand-in is written. */
const STAND_INS = new Map([
  ...LAZY_DEPENDENCIES.map((name) => [name, lazyDependencySource]),
  ...LAZY_BUILTINS.map((name) => [name, lazyBuiltinSource]),
]);

const clientNodeStandIns = {
  name: 'client-node-stand-ins',
  setup(context) {
    const clientNode = `${path.sep}@kubernetes${path.sep}client-node${path.sep}`;
    const filter = new RegExp(`^(${[...STAND_INS.keys()].join('|')})$`);
    context.onResolve({ filter }, ({ path: name, importer }) => (importer.includes(clientNode) ? { path: name, namespace: 'stand-in' } : undefined));
    context.onLoad({ filter: /.*/, namespace: 'stand-in' }, async ({ path: name }) => ({
      contents: await STAND_INS.get(name)(name),
      resolveDir: ROOT,
      loader: 'js',
    }));
  },
};

/**
 * client-node's own modules do nothing at load but define things, though its package does
 * not say so: marked side-effect free, the ones no used export needs (watch, exec, cp, …) and
 * their dependencies (ws, tar-fs, …) drop out of the kube chunk.
 */
const clientNodeSideEffectFree = {
  name: 'client-node-side-effect-free',
  setup(context) {
    const dist = `${path.sep}@kubernetes${path.sep}client-node${path.sep}dist${path.sep}`;
    context.onResolve({ filter: /.*/ }, async ({ path: target, importer, resolveDir, kind, pluginData }) => {
      if (pluginData === 'side-effect-free' || !(importer.includes(dist) || target === KUBE_CLIENT)) return undefined;
      const resolved = await context.resolve(target, { importer, resolveDir, kind, pluginData: 'side-effect-free' });
      return resolved.path.includes(dist) ? { ...resolved, sideEffects: false } : resolved;
    });
  },
};

/**
 * The names our code imports from the Kubernetes client, read from an ESM build that keeps
 * it external, so that the kube chunk exports (and esbuild keeps) only those.
 */
function kubeClientImports(esmText) {
  const names = new Set();
  const quoted = KUBE_CLIENT.replace(/[/]/g, '\\/');
  for (const [, list] of esmText.matchAll(new RegExp(`import\\s*\\{([^}]*)\\}\\s*from\\s*"${quoted}"`, 'g'))) {
    for (const item of list.split(',')) if (item.trim()) names.add(item.trim().split(/\s+as\s+/)[0]);
  }
  if (new RegExp(`import\\s+[\\w$*][^{]*from\\s*"${quoted}"`).test(esmText)) {
    throw new Error(`import named exports from ${KUBE_CLIENT}: a namespace or default import would keep all of it in the kube chunk`);
  }
  if (names.size === 0) throw new Error(`found no imports from ${KUBE_CLIENT}: the kube chunk would be empty`);
  return [...names].sort();
}

/** The chunk's entry: the frame, and (for the build's cache warm-up only) every module in it. */
function appEntry(modules) {
  const imports = modules.map((file) => `import(${JSON.stringify(`./${path.relative(SRC, file).split(path.sep).join('/')}`)})`);
  return {
    contents: [
      "export { runCli } from './cli/frame.ts';",
      "import { runCli } from './cli/frame.ts';",
      'export async function warmUp() {',
      `  await Promise.all([${imports.join(', ')}]);`,
      '  // A usage error stops right before a command would run: all of the parsing, no I/O.',
      "  await runCli(['list', '--output', 'warm-up'], 'kubectl-teleport-argocd');",
      '}',
    ].join('\n'),
    resolveDir: SRC,
    sourcefile: 'app-chunk.ts',
    loader: 'ts',
  };
}

export async function bundle(outfile = 'build/main.cjs') {
  await build({ ...common, entryPoints: [path.join(SRC, 'main.ts')], outfile, plugins: [entrySplit, plainStringWidth] });
  const [app, kube] = chunkFiles(outfile);
  // First pass, as ESM with the client external: which of our modules the app chunk holds
  // (warmUp evaluates them all) and what they import from the client.
  const { metafile, outputFiles } = await build({
    ...common,
    format: 'esm',
    minify: false,
    stdin: appEntry([]),
    outfile: app,
    write: false,
    metafile: true,
    external: [KUBE_CLIENT],
    plugins: [plainStringWidth, yargsEdits, yargsLazyAssert],
  });
  const modules = Object.keys(metafile.inputs)
    .map((input) => path.resolve(input)) // relative to the working directory, like esbuild's
    .filter((file) => file.startsWith(SRC + path.sep) && file.endsWith('.ts') && existsSync(file)); // not the virtual entry
  await build({ ...common, stdin: appEntry(modules), outfile: app, plugins: [kubeSplit, plainStringWidth, yargsEdits, yargsLazyAssert] });
  await build({
    ...common,
    stdin: { contents: `export { ${kubeClientImports(outputFiles[0].text).join(', ')} } from '${KUBE_CLIENT}';`, resolveDir: ROOT, sourcefile: 'kube-chunk.js', loader: 'js' },
    outfile: kube,
    // ~800 generated classes whose names nothing reads: keeping them costs a call each at load.
    keepNames: false,
    plugins: [clientNodeStandIns, clientNodeSideEffectFree],
  });
  return outfile;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await bundle();
}
