// `npm run release`: archives for every release platform in dist/release/, then plugin.yaml.
// One cross-platform SEA blob (no code cache, no snapshot: kubectl-plugins.md §4.2) made by
// the pinned Node, injected into each platform's official Node binary of EXACTLY that version,
// as shipped in the npm packages node-<os>-<arch> (fetched with `npm pack`, cached in
// build/node-cache/). A platform whose package lacks that version, or a macOS binary that
// cannot be ad-hoc signed here, is left out with the reason; nothing is faked.
import { execFileSync } from 'node:child_process';
import { accessSync, chmodSync, constants, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { writePlatformArchive } from './archive.mjs';
import { buildBlob, injectBlob, SEA_FUSE } from './build-binary.mjs';
import { bundle } from './bundle.mjs';
import { binaryName, buildManifest, PLATFORMS, renderManifest } from './krew-manifest.mjs';
import { reviewProblems, validateManifestFile } from './krew-validate.mjs';

const NODE_CACHE = 'build/node-cache';
const WORK = 'build/release';
const OUT = 'dist/release';

const log = (line) => process.stderr.write(`${line}\n`);

function onPath(command) {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    try {
      accessSync(path.join(dir, command), constants.X_OK);
      return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

/** An offline ad-hoc Mach-O signer, if this machine has one (§4.7). */
function findSigner() {
  const signers = [
    { command: 'codesign', args: (file) => ['--force', '--sign', '-', file] },
    { command: 'rcodesign', args: (file) => ['sign', file] },
    { command: 'ldid', args: (file) => ['-Cadhoc', '-S', file] },
  ];
  return signers.find(({ command }) => onPath(command));
}

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
 * package (fetched once into the cache). Returns { binary } or { skip: reason }.
 */
function nodeFor(platform, version) {
  const tarball = path.join(NODE_CACHE, `${platform.npmPackage}-${version}.tgz`);
  if (!existsSync(tarball)) {
    const packed = npmJson(['pack', `${platform.npmPackage}@${version}`, '--pack-destination', NODE_CACHE]);
    if (packed.error && !['E404', 'ETARGET'].includes(packed.error.code)) {
      throw new Error(`npm pack ${platform.npmPackage}@${version}: ${packed.error.summary ?? packed.error.code}`);
    }
    if (packed.error) {
      const newest = newestInMajor(platform.npmPackage, version);
      return {
        skip: `npm has no ${platform.npmPackage}@${version} (${packed.error.summary ?? packed.error.code}); newest ${version.split('.')[0]}.x: ${newest ?? 'none'}`,
      };
    }
  }
  const dir = path.join(NODE_CACHE, `${platform.npmPackage}-${version}`);
  rmSync(dir, { recursive: true, force: true });
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

async function main() {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
  const nodeVersion = pkg.devDependencies.node;
  if (process.version !== `v${nodeVersion}`) {
    throw new Error(`release with the pinned Node v${nodeVersion} (run it through npm), not ${process.version}`);
  }
  for (const dir of [WORK, OUT]) rmSync(dir, { recursive: true, force: true });
  for (const dir of [NODE_CACHE, WORK, OUT]) mkdirSync(dir, { recursive: true });

  const main = await bundle(path.join(WORK, 'main.cjs'));
  const blob = buildBlob(main, path.join(WORK, 'sea-prep.blob'), { codeCache: false });
  const signer = findSigner();
  const built = [];
  const skipped = [];
  for (const platform of PLATFORMS) {
    const name = `${platform.os}/${platform.arch}`;
    const node = nodeFor(platform, nodeVersion);
    if (node.skip) {
      skipped.push({ platform, reason: node.skip });
      log(`skip ${name}: ${node.skip}`);
      continue;
    }
    if (platform.macho && !signer) {
      const reason = 'no offline ad-hoc signer (codesign, rcodesign or ldid) on PATH; macOS kills unsigned arm64 binaries';
      skipped.push({ platform, reason });
      log(`skip ${name}: ${reason}`);
      continue;
    }
    const binary = path.join(WORK, `${platform.os}-${platform.arch}`, binaryName(platform.os));
    mkdirSync(path.dirname(binary), { recursive: true });
    copyFileSync(node.binary, binary);
    chmodSync(binary, 0o755);
    if (platform.os === 'windows') removePeSignature(binary);
    await injectBlob(binary, blob, { macho: platform.macho });
    if (platform.macho) execFileSync(signer.command, signer.args(binary), { stdio: 'inherit' });
    // Only the host's binary can be run here; for the others, check that injection flipped the fuse.
    if (!readFileSync(binary).includes(`${SEA_FUSE}:1`)) throw new Error(`${binary}: the SEA fuse was not flipped`);
    if (platform.os === HOST.os && platform.arch === HOST.arch) {
      const printed = execFileSync(binary, ['--version'], { encoding: 'utf8' });
      if (printed !== `kubectl-teleport-argocd v${pkg.version}\n`) throw new Error(`${binary} --version printed ${JSON.stringify(printed)}`);
    }
    const archive = writePlatformArchive({ version: pkg.version, platform, binary, license: 'LICENSE', outDir: OUT });
    built.push(archive);
    log(`built ${archive.file} (${name}${platform.macho ? `, signed with ${signer.command}` : ''}) sha256 ${archive.sha256}`);
  }
  if (built.length === 0) throw new Error('no platform could be built');

  writeFileSync(path.join(OUT, 'SHA256SUMS'), built.map(({ archive, sha256 }) => `${sha256}  ${archive}\n`).join(''));
  const missing = skipped.map(({ platform }) => `${platform.os}/${platform.arch}`);
  const text = renderManifest(buildManifest(pkg.version, built));
  const { plugin, warnings } = validateManifestFile('teleport-argocd.yaml', text);
  const problems = [...warnings, ...reviewProblems(plugin)];
  if (problems.length > 0) throw new Error(`generated manifest: ${problems.join('; ')}`);
  writeFileSync('plugin.yaml', text);
  log(`wrote plugin.yaml (${built.length} platforms${missing.length > 0 ? `; left out: ${missing.join(', ')}` : ''})`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await main();
}
