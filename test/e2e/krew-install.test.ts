// The linux/amd64 release archive, made from the built binary by the release's own archive
// function, installed the way `kubectl krew install --manifest … --archive …` does it
// (kubectl-plugins.md §1.4, §1.7) and run through the real kubectl.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256, writePlatformArchive, type PlatformArchive } from '../../scripts/archive.mjs';
import { buildManifest, COMPLETION_HELPER, PLUGIN_BINARY, renderManifest } from '../../scripts/krew-manifest.mjs';
import { LICENSE_NAMES, matchingPlatform, reviewProblems, validateManifestFile, type KrewPlugin } from '../../scripts/krew-validate.mjs';
import { BINARY, isolatedEnv, runCommand } from '../support/run.js';

const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
const LINUX_AMD64 = { os: 'linux', arch: 'amd64' };

// ---- a krew-style installer (internal/download, internal/installation) -------------------

/** http.DetectContentType for the two archive types krew accepts. */
function mimeType(data: Buffer): string {
  if (data.subarray(0, 3).equals(Buffer.from([0x1f, 0x8b, 0x08]))) return 'application/x-gzip';
  if (data.subarray(0, 4).equals(Buffer.from('PK\x03\x04', 'latin1'))) return 'application/zip';
  return 'application/octet-stream';
}

function suspiciousPath(name: string): void {
  if (name.includes('..')) throw new Error(`refusing to unpack archive with suspicious entry ${JSON.stringify(name)}`);
  if (name.startsWith('/') || name.startsWith('\\')) throw new Error(`refusing to unpack archive with absolute entry ${JSON.stringify(name)}`);
}

const field = (block: Buffer, start: number, length: number) => block.toString('utf8', start, start + length).replace(/\0.*$/s, '');

/** krew's extractTARGZ: directories and regular files only, names checked, modes kept. */
function extractTarGz(data: Buffer, target: string): void {
  const tar = gunzipSync(data);
  for (let offset = 0; offset + 512 <= tar.length; ) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((byte) => byte === 0)) break;
    const prefix = field(header, 345, 155);
    const name = prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100);
    const size = parseInt(field(header, 124, 12).trim() || '0', 8);
    const mode = parseInt(field(header, 100, 8).trim() || '0', 8);
    const type = String.fromCharCode(header[156] || 0x30);
    const body = tar.subarray(offset + 512, offset + 512 + size);
    offset += 512 + Math.ceil(size / 512) * 512;
    if (name === 'pax_global_header') continue;
    suspiciousPath(name);
    const file = path.join(target, name);
    if (type === '5') {
      mkdirSync(file, { recursive: true, mode });
    } else if (type === '0') {
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, body, { mode });
      chmodSync(file, mode);
    } else {
      throw new Error(`unable to handle file type ${type.charCodeAt(0)} for ${JSON.stringify(name)} in tar`);
    }
  }
}

/**
 * `kubectl krew install --manifest=<plugin> --archive=<archive>` for os/arch under `root`
 * (KREW_ROOT): pick the first matching platform, verify the checksum, unpack into
 * store/<name>/<version>/ and link bin/kubectl-<name with _>. Returns the link.
 */
function krewInstall(plugin: KrewPlugin, archive: string, root: string, target = LINUX_AMD64): string {
  const platform = matchingPlatform(plugin, target);
  if (!platform) throw new Error(`plugin ${JSON.stringify(plugin.metadata?.name)} does not offer installation for this platform`);
  const data = readFileSync(archive);
  if (sha256(data) !== platform.sha256) throw new Error(`checksum does not match, want: ${platform.sha256}, got ${sha256(data)}`);
  const type = mimeType(data);
  if (type !== 'application/x-gzip') throw new Error(`mime type ${JSON.stringify(type)} for archive file is not a supported archive format`);
  mkdirSync(root, { recursive: true });
  const staging = mkdtempSync(path.join(root, 'download-'));
  extractTarGz(data, staging);
  if (platform.files) throw new Error('this installer only moves the default files (from "*" to ".")');
  const installDir = path.join(root, 'store', plugin.metadata!.name!, plugin.spec!.version!);
  mkdirSync(installDir, { recursive: true });
  for (const entry of readdirSync(staging)) renameSync(path.join(staging, entry), path.join(installDir, entry));
  rmSync(staging, { recursive: true });
  const bin = path.join(installDir, platform.bin!);
  if (!path.resolve(bin).startsWith(`${installDir}${path.sep}`)) throw new Error(`bin ${platform.bin} is outside the install directory`);
  if (!existsSync(bin)) throw new Error(`can't create symbolic link, source binary (${JSON.stringify(bin)}) cannot be found in extracted archive`);
  const link = path.join(root, 'bin', `kubectl-${plugin.metadata!.name!.replace(/-/g, '_')}`);
  mkdirSync(path.dirname(link), { recursive: true });
  symlinkSync(bin, link);
  return link;
}

// ---- the test --------------------------------------------------------------------------

describe('krew install of the linux/amd64 archive', () => {
  let work: string;
  let archive: PlatformArchive;
  let plugin: KrewPlugin;
  let link: string;
  const env = isolatedEnv();
  const root = path.join(env.HOME!, '.krew');
  const pathWithKrew = () => `${path.join(root, 'bin')}${path.delimiter}${process.env.PATH ?? ''}`;

  beforeAll(() => {
    work = mkdtempSync(path.join(tmpdir(), 'tpa-krew-'));
    archive = writePlatformArchive({ version, platform: LINUX_AMD64, binary: BINARY, license: 'LICENSE', outDir: work });
    const manifestFile = path.join(work, 'teleport-argocd.yaml');
    writeFileSync(manifestFile, renderManifest(buildManifest(version, [archive])));
    const validated = validateManifestFile(manifestFile, readFileSync(manifestFile, 'utf8'));
    expect(validated.warnings).toEqual([]);
    expect(reviewProblems(validated.plugin)).toEqual([]);
    plugin = validated.plugin;
    link = krewInstall(plugin, archive.file, root);
  });

  afterAll(() => {
    rmSync(work, { recursive: true, force: true });
    rmSync(env.HOME!, { recursive: true, force: true });
  });

  it('holds exactly the executable (mode 0755) and LICENSE, and installs into the store with the link krew makes', () => {
    expect(archive.archive).toBe(`kubectl-teleport_argocd_v${version}_linux_amd64.tar.gz`);
    expect(archive.sha256).toBe(sha256(readFileSync(archive.file)));
    const installDir = path.join(root, 'store', 'teleport-argocd', `v${version}`);
    expect(readdirSync(installDir).sort()).toEqual(['LICENSE', PLUGIN_BINARY]);
    expect(lstatSync(path.join(installDir, PLUGIN_BINARY)).mode & 0o777).toBe(0o755);
    expect(readFileSync(path.join(installDir, PLUGIN_BINARY)).equals(readFileSync(BINARY))).toBe(true);
    expect(readdirSync(installDir).some((name) => LICENSE_NAMES.includes(name.toLowerCase()))).toBe(true);
    expect(link).toBe(path.join(root, 'bin', 'kubectl-teleport_argocd'));
    expect(readlinkSync(link)).toBe(path.join(installDir, PLUGIN_BINARY));
  });

  it('runs as `kubectl teleport-argocd` from krew’s bin directory', async () => {
    const runEnv = { ...env, PATH: pathWithKrew() };
    const versionResult = await runCommand('kubectl', ['teleport-argocd', '--version'], { env: runEnv });
    expect(versionResult).toMatchObject({ code: 0, stdout: `kubectl-teleport-argocd v${version}\n`, stderr: '' });
    const help = await runCommand('kubectl', ['teleport-argocd', '--help'], { env: runEnv });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: kubectl teleport-argocd <command>');
    const plugins = await runCommand('kubectl', ['plugin', 'list'], { env: runEnv });
    expect(plugins.stdout).toContain(path.join(root, 'bin', 'kubectl-teleport_argocd'));
  });

  it('completes `kubectl teleport-argocd <TAB>` once the helper from the caveats exists', async () => {
    const runEnv = { ...env, PATH: pathWithKrew() };
    const caveats = plugin.spec!.caveats!;
    const commands = caveats.slice(caveats.indexOf('  printf'), caveats.indexOf(`chmod +x ~/.krew/bin/${COMPLETION_HELPER}`) + `chmod +x ~/.krew/bin/${COMPLETION_HELPER}`.length);
    execFileSync('sh', ['-c', commands], { env: runEnv });
    const completion = await runCommand('kubectl', ['__complete', 'teleport-argocd', ''], { env: runEnv });
    expect(completion.code).toBe(0);
    const lines = completion.stdout.trim().split('\n');
    expect(lines).toEqual(expect.arrayContaining(['sync', 'list', 'join', 'check', 'completion']));
    expect(lines.at(-1)).toMatch(/^:\d+$/);
  });

  it('is refused, as krew refuses it, when the checksum or the entries are wrong', () => {
    const tampered = path.join(work, 'tampered.tar.gz');
    writeFileSync(tampered, Buffer.concat([readFileSync(archive.file).subarray(0, 4096), Buffer.from('x')]));
    expect(() => krewInstall(plugin, tampered, mkdtempSync(path.join(work, 'root-')))).toThrow(`checksum does not match, want: ${archive.sha256}, got `);

    const source = mkdtempSync(path.join(work, 'evil-'));
    writeFileSync(path.join(source, 'LICENSE'), 'x');
    symlinkSync('/etc/passwd', path.join(source, PLUGIN_BINARY));
    const evil = path.join(work, 'evil.tar.gz');
    execFileSync('tar', ['-czf', evil, '-C', source, 'LICENSE', PLUGIN_BINARY]);
    const evilPlugin = structuredClone(plugin);
    evilPlugin.spec!.platforms![0]!.sha256 = sha256(readFileSync(evil));
    expect(() => krewInstall(evilPlugin, evil, mkdtempSync(path.join(work, 'root-')))).toThrow(`unable to handle file type 50 for "${PLUGIN_BINARY}" in tar`);
  });
});
