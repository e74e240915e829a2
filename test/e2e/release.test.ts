// `npm run release` end to end, into a directory of its own: five archives, SHA256SUMS and a
// five-platform manifest; the darwin binaries' ad-hoc signatures checked page by page by a
// reader that is not the signer, with llvm-objdump for the load commands; the linux/arm64
// binary run under qemu-user; darwin/arm64 built a second time to the same sha256. Slow: it
// builds every platform (minutes), so its hook has a timeout of its own.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../scripts/archive.mjs';
import { SEA_FUSE } from '../../scripts/build-binary.mjs';
import { archiveName, binaryName, PLATFORMS } from '../../scripts/krew-manifest.mjs';
import { matchingPlatform, reviewProblems, validateManifestFile, type KrewPlugin } from '../../scripts/krew-validate.mjs';
import { checkCodeSignature, objdumpLoadCommands, segment } from '../support/macho-signature.js';
import { missingOutsideCi, runCommand } from '../support/run.js';

const { version, devDependencies } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string; devDependencies: Record<string, string> };
const RELEASE_TIMEOUT = 20 * 60_000;
const AARCH64_SYSROOT = '/usr/aarch64-linux-gnu';
const CPU_TYPE = { arm64: 0x0100000c, amd64: 0x01000007 } as const;
/** The first word of a SEA blob (`kMagic` in Node's src/node_sea.cc). */
const SEA_BLOB_MAGIC = 0x0143da20;

const work = mkdtempSync(path.join(tmpdir(), 'tpa-release-'));
const out = path.join(work, 'release');
const manifestFile = path.join(work, 'teleport-argocd.yaml');
let plugin: KrewPlugin;

function release(outDir: string, manifest: string, ...args: string[]): void {
  execFileSync(process.execPath, ['scripts/release.mjs', '--out-dir', outDir, '--manifest', manifest, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** The platform's binary, unpacked from its archive by GNU tar or Python's zipfile (readers that are not ours). */
function unpacked(os: string, arch: string): string {
  const dir = path.join(work, `${os}-${arch}`);
  const binary = path.join(dir, binaryName(os));
  if (existsSync(binary)) return binary;
  mkdirSync(dir);
  const archive = path.join(out, archiveName(version, { os, arch }));
  if (os === 'windows') execFileSync('python3', ['-c', 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])', archive, dir]);
  else execFileSync('tar', ['-xzf', archive, '-C', dir]);
  return binary;
}

beforeAll(() => {
  release(out, manifestFile);
  const validated = validateManifestFile(manifestFile, readFileSync(manifestFile, 'utf8'));
  expect(validated.warnings).toEqual([]);
  expect(reviewProblems(validated.plugin)).toEqual([]);
  plugin = validated.plugin;
}, RELEASE_TIMEOUT);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('npm run release', () => {
  it('writes an archive per platform and SHA256SUMS, and a manifest offering all five with their sha256', () => {
    const archives = PLATFORMS.map((platform) => archiveName(version, platform));
    expect(readdirSync(out).sort()).toEqual([...archives, 'SHA256SUMS'].sort());
    const sums = archives.map((archive) => `${sha256(readFileSync(path.join(out, archive)))}  ${archive}\n`).join('');
    expect(readFileSync(path.join(out, 'SHA256SUMS'), 'utf8')).toBe(sums);
    for (const platform of PLATFORMS) {
      const offered = matchingPlatform(plugin, platform);
      expect(offered?.uri, `${platform.os}/${platform.arch}`).toMatch(new RegExp(`/${archiveName(version, platform).replace(/\./g, '\\.')}$`));
      expect(offered?.sha256).toBe(sha256(readFileSync(path.join(out, archiveName(version, platform)))));
    }
    expect(plugin.spec!.caveats).not.toContain('does not include');
  });

  it('gives the same archive, byte for byte, when darwin/arm64 is built again', () => {
    const again = path.join(work, 'again');
    release(again, path.join(work, 'again.yaml'), '--platform', 'darwin/arm64');
    const archive = archiveName(version, { os: 'darwin', arch: 'arm64' });
    expect(sha256(readFileSync(path.join(again, archive)))).toBe(sha256(readFileSync(path.join(out, archive))));
  }, RELEASE_TIMEOUT);

  it('runs the linux/amd64 binary here', async () => {
    const result = await runCommand(unpacked('linux', 'amd64'), ['--version']);
    expect(result).toMatchObject({ code: 0, stdout: `kubectl-teleport-argocd v${version}\n` });
  });

  it('ships windows/amd64 without Node’s Authenticode signature, with the blob injected', () => {
    const exe = readFileSync(unpacked('windows', 'amd64'));
    const header = exe.readUInt32LE(0x3c);
    expect(exe.toString('latin1', header, header + 4)).toBe('PE\0\0');
    expect(exe.readUInt16LE(header + 4)).toBe(0x8664);
    const securityDirectory = header + 24 + 112 + 4 * 8;
    expect([exe.readUInt32LE(securityDirectory), exe.readUInt32LE(securityDirectory + 4)]).toEqual([0, 0]);
    expect(exe.includes(`${SEA_FUSE}:1`)).toBe(true);
  });
});

describe.skipIf(missingOutsideCi('qemu-aarch64') || (!process.env.CI && !existsSync(AARCH64_SYSROOT)))('the linux/arm64 binary under qemu-user', () => {
  const qemu = (args: string[]) => runCommand('qemu-aarch64', ['-L', AARCH64_SYSROOT, unpacked('linux', 'arm64'), ...args], { timeoutMs: 120_000 });

  it('prints its version and help', async () => {
    expect(await qemu(['--version'])).toMatchObject({ code: 0, stdout: `kubectl-teleport-argocd v${version}\n`, stderr: '' });
    const help = await qemu(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: kubectl teleport-argocd <command>');
  });

  it('loads the command chunks: list fails on a missing kubeconfig as on the host', async () => {
    const args = ['list', '--kubeconfig', path.join(work, 'no-such-kubeconfig')];
    const native = await runCommand(unpacked('linux', 'amd64'), args);
    expect(native.code).not.toBe(0);
    expect(await qemu(args)).toEqual(native);
  });
});

describe.skipIf(missingOutsideCi('llvm-objdump')).each([['arm64'], ['amd64']] as const)('the darwin/%s binary', (arch) => {
  it('is a Mach-O for its CPU, 0755, with the blob the linux/amd64 binary runs in section __NODE_SEA_BLOB of segment NODE_SEA', () => {
    const binary = unpacked('darwin', arch);
    expect(statSync(binary).mode & 0o777).toBe(0o755);
    const data = readFileSync(binary);
    expect([data.readUInt32LE(0), data.readUInt32LE(4)]).toEqual([0xfeedfacf, CPU_TYPE[arch]]);
    const sea = segment(objdumpLoadCommands(binary), 'NODE_SEA');
    expect(sea?.sections.map((section) => section.sectname)).toEqual(['__NODE_SEA_BLOB']);
    const blobStart = Number(sea!.sections[0]!.offset);
    const blob = data.subarray(blobStart, blobStart + Number(sea!.sections[0]!.size));
    expect(blob.readUInt32LE(0)).toBe(SEA_BLOB_MAGIC);
    expect(readFileSync(unpacked('linux', 'amd64')).includes(blob)).toBe(true);
    expect(data.includes(`${SEA_FUSE}:1`)).toBe(true);
  });

  it('carries an intact ad-hoc signature over every page, and no hardened runtime', () => {
    const check = checkCodeSignature(unpacked('darwin', arch));
    expect(check).toMatchObject({ identifier: 'kubectl-teleport_argocd', flags: 0x20002, execSegFlags: 1, problems: [], badPages: [] });
    expect(check.pages).toBe(Math.ceil(check.codeLimit / 4096));
    expect(objdumpLoadCommands(unpacked('darwin', arch)).filter((command) => command.cmd === 'LC_CODE_SIGNATURE')).toHaveLength(1);
  });

  it('has a changed byte in the blob detected, on its page', () => {
    const binary = unpacked('darwin', arch);
    const tampered = path.join(work, `tampered-${arch}`);
    copyFileSync(binary, tampered);
    const data = readFileSync(tampered);
    const offset = Number(segment(objdumpLoadCommands(binary), 'NODE_SEA')!.fields.fileoff) + 12_345;
    data[offset]! ^= 0x20;
    writeFileSync(tampered, data);
    expect(checkCodeSignature(tampered)).toMatchObject({ problems: [], badPages: [Math.floor(offset / 4096)] });
  });

  it('replaced Node’s own signature, which the same checker accepts as Apple wrote it', () => {
    const npmPackage = PLATFORMS.find((platform) => platform.os === 'darwin' && platform.arch === arch)!.npmPackage;
    const dir = mkdtempSync(path.join(work, 'node-'));
    execFileSync('tar', ['-xzf', path.join('build/node-cache', `${npmPackage}-${devDependencies.node}.tgz`), '-C', dir, 'package/bin/node']);
    const apple = checkCodeSignature(path.join(dir, 'package/bin/node'));
    expect(apple).toMatchObject({ identifier: 'node', problems: [], badPages: [] });
    expect(apple.flags & 0x10000).toBe(0x10000); // Node's: hardened runtime, Developer ID
  });
});
