// `npm run release`: archives for every release platform in dist/release/, then plugin.yaml.
// One cross-platform SEA blob (no code cache, no snapshot: kubectl-plugins.md §4.2) made by
// the pinned Node, injected into each platform's official Node binary of EXACTLY that version,
// as shipped in the npm packages node-<os>-<arch> (fetched with `npm pack`, cached in
// build/node-cache/). macOS binaries lose Node's signature before the blob goes in and are
// signed ad-hoc after (scripts/macho-sign.mjs). A platform whose package lacks that version is
// left out with the reason; nothing is faked.
//
// Options: --out-dir DIR (archives and SHA256SUMS; default dist/release), --manifest FILE
// (default plugin.yaml), so that a test can release into a directory of its own; --platform
// os/arch (repeatable) builds only those platforms.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { writePlatformArchive } from './archive.mjs';
import { buildBlob, injectBlob, SEA_FUSE } from './build-binary.mjs';
import { bundle } from './bundle.mjs';
import { binaryName, buildManifest, PLATFORMS, platformName, renderManifest } from './krew-manifest.mjs';
import { reviewProblems, validateManifestFile } from './krew-validate.mjs';
import { removeSignature, signAdHoc } from './macho-sign.mjs';

const NODE_CACHE = 'build/node-cache';

const log = (line) => process.stderr.write(`${line}\n`);

function npmJson(args) {
  try {
    return { ok: JSON.parse(execFileSync('npm', [...args, '--json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) };
  } catch (error) {
    const output = String(error.stdout ?? '');
    try {
      return { error: JSON.parse(output).error ?? { summary: output } };
    } catch {
      return { error: { summary: output || error.message } };
    }
  }
}

/** The newest release of `npmPackage` in the pinned major, to name the fix when a version is missing. */
function newestInMajor(npmPackage, version) {
  const major = version.split('.')[0];
  const { ok } = npmJson(['view', npmPackage, 'versions']);
  const versions = (Array.isArray(ok) ? ok : []).filter((v) => v.split('.')[0] === major);
  return versions.at(-1);
}

/**
 * The official Node executable for `platform` at exactly `version`, extracted from its npm
 * package into `work` (the package is fetched once into the cache, by an atomic rename, so
 * that concurrent releases share it). Returns { binary } or { skip: reason }.
 */
function nodeFor(platform, version, work) {
  const tarball = path.join(NODE_CACHE, `${platform.npmPackage}-${version}.tgz`);
  if (!existsSync(tarball)) {
    const staging = mkdtempSync(path.join(NODE_CACHE, 'pack-'));
    const packed = npmJson(['pack', `${platform.npmPackage}@${version}`, '--pack-destination', staging]);
    if (packed.error && !['E404', 'ETARGET'].includes(packed.error.code)) {
      throw new Error(`npm pack ${platform.npmPackage}@${version}: ${packed.error.summary ?? packed.error.code}`);
    }
    if (packed.error) {
      rmSync(staging, { recursive: true, force: true });
      const newest = newestInMajor(platform.npmPackage, version);
      return {
        skip: `npm has no ${platform.npmPackage}@${version} (${packed.error.summary ?? packed.error.code}); newest ${version.split('.')[0]}.x: ${newest ?? 'none'}`,
      };
    }
    renameSync(path.join(staging, packed.ok[0].filename), tarball);
    rmSync(staging, { recursive: true, force: true });
  }
  const dir = path.join(work, platform.npmPackage);
  mkdirSync(dir, { recursive: true });
  execFileSync('tar', ['-xzf', tarball, '-C', dir, 'package/package.json', `package/${platform.binPath}`]);
  const shipped = JSON.parse(readFileSync(path.join(dir, 'package/package.json'), 'utf8')).version;
  if (shipped !== version) return { skip: `${tarball} holds Node ${shipped}, not ${version}` };
  return { binary: path.join(dir, 'package', platform.binPath) };
}

/**
 * Drops the Authenticode signature of a PE file, as `signtool remove /s` does (§4.3 step 5):
 * injecting the blob invalidates it anyway, and left in place its table would point into
 * the moved resource data. Windows runs unsigned executables.
 */
export function removePeSignature(file) {
  const data = readFileSync(file);
  const header = data.readUInt32LE(0x3c);
  if (data.toString('latin1', header, header + 4) !== 'PE\0\0') throw new Error(`${file} is not a PE executable`);
  const optional = header + 24;
  const security = optional + (data.readUInt16LE(optional) === 0x20b ? 112 : 96) + 4 * 8;
  const offset = data.readUInt32LE(security);
  const size = data.readUInt32LE(security + 4);
  if (size === 0) return;
  data.writeUInt32LE(0, security);
  data.writeUInt32LE(0, security + 4);
  data.writeUInt32LE(0, optional + 64); // the image checksum covered the signature; 0 means none
  writeFileSync(file, offset + size === data.length ? data.subarray(0, offset) : data);
}

const HOST = { os: { linux: 'linux', darwin: 'darwin', win32: 'windows' }[process.platform], arch: { x64: 'amd64', arm64: 'arm64' }[process.arch] };

/**
 * One platform's plugin binary at `binary`, from its Node executable and the blob: Windows and
 * macOS lose Node's signature first (the blob invalidates it), macOS is signed ad-hoc after.
 */
async function makeBinary(platform, node, blob, binary) {
  mkdirSync(path.dirname(binary), { recursive: true });
  const original = readFileSync(node);
  writeFileSync(binary, platform.macho ? removeSignature(original) : original);
  chmodSync(binary, 0o755);
  if (platform.os === 'windows') removePeSignature(binary);
  await injectBlob(binary, blob, { macho: platform.macho });
  let injected = readFileSync(binary);
  if (platform.macho) {
    injected = signAdHoc(injected, { identifier: binaryName(platform.os) });
    writeFileSync(binary, injected);
  }
  // Only the host's binary can be run here; for the others, check that injection flipped the fuse.
  if (!injected.includes(`${SEA_FUSE}:1`)) throw new Error(`${binary}: the SEA fuse was not flipped`);
}

async function main() {
  const { values: options } = parseArgs({
    options: { 'out-dir': { type: 'string', default: 'dist/release' }, manifest: { type: 'string', default: 'plugin.yaml' }, platform: { type: 'string', multiple: true } },
  });
  const wanted = options.platform ?? PLATFORMS.map(platformName);
  const unknown = wanted.filter((name) => !PLATFORMS.some((platform) => platformName(platform) === name));
  if (unknown.length > 0) throw new Error(`not a release platform: ${unknown.join(', ')} (choose from ${PLATFORMS.map(platformName).join(', ')})`);
  const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
  const nodeVersion = pkg.devDependencies.node;
  if (process.version !== `v${nodeVersion}`) {
    throw new Error(`release with the pinned Node v${nodeVersion} (run it through npm), not ${process.version}`);
  }
  const out = options['out-dir'];
  rmSync(out, { recursive: true, force: true });
  for (const dir of [NODE_CACHE, out]) mkdirSync(dir, { recursive: true });
  // Private work files: a release running beside another (or beside a test's) never mixes them.
  const work = `build/release-${process.pid}`;
  mkdirSync(work, { recursive: true });
  try {
    const main = await bundle(path.join(work, 'main.cjs'));
    const blob = buildBlob(main, path.join(work, 'sea-prep.blob'), { codeCache: false });
    const built = [];
    for (const platform of PLATFORMS.filter((candidate) => wanted.includes(platformName(candidate)))) {
      const name = platformName(platform);
      const node = nodeFor(platform, nodeVersion, work);
      if (node.skip) {
        log(`skip ${name}: ${node.skip}`);
        continue;
      }
      const binary = path.join(work, `${platform.os}-${platform.arch}`, binaryName(platform.os));
      await makeBinary(platform, node.binary, blob, binary);
      if (platform.os === HOST.os && platform.arch === HOST.arch) {
        const printed = execFileSync(binary, ['--version'], { encoding: 'utf8' });
        if (printed !== `kubectl-teleport-argocd v${pkg.version}\n`) throw new Error(`${binary} --version printed ${JSON.stringify(printed)}`);
      }
      const archive = writePlatformArchive({ version: pkg.version, platform, binary, license: 'LICENSE', outDir: out });
      built.push(archive);
      log(`built ${archive.file} (${name}${platform.macho ? ', signed ad-hoc' : ''}) sha256 ${archive.sha256}`);
    }
    if (built.length === 0) throw new Error('no platform could be built');

    writeFileSync(path.join(out, 'SHA256SUMS'), built.map(({ archive, sha256 }) => `${sha256}  ${archive}\n`).join(''));
    const missing = PLATFORMS.map(platformName).filter((name) => !built.some((archive) => platformName(archive) === name));
    const text = renderManifest(buildManifest(pkg.version, built));
    const { plugin, warnings } = validateManifestFile('teleport-argocd.yaml', text);
    const problems = [...warnings, ...reviewProblems(plugin)];
    if (problems.length > 0) throw new Error(`generated manifest: ${problems.join('; ')}`);
    writeFileSync(options.manifest, text);
    log(`wrote ${options.manifest} (${built.length} platforms${missing.length > 0 ? `; left out: ${missing.join(', ')}` : ''})`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await main();
}
