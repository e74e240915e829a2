// The release archive writers, read back by independent readers (GNU tar, Python's zipfile).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sha256, tarGz, writePlatformArchive, zip, type ArchiveEntry } from '../../scripts/archive.mjs';
import { removePeSignature } from '../../scripts/release.mjs';

const dir = mkdtempSync(path.join(tmpdir(), 'tpa-archive-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const binary = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7919) % 251));
const license = Buffer.from('Apache License\nVersion 2.0\n');
const entries: ArchiveEntry[] = [
  { name: 'kubectl-teleport_argocd', data: binary, mode: 0o755 },
  { name: 'LICENSE', data: license, mode: 0o644 },
];

/** Runs a Python snippet with Python's own zipfile module: a reader that is not ours. */
function python(script: string, ...args: string[]): string {
  return execFileSync('python3', ['-c', `import sys, zipfile\n${script}`, ...args], { encoding: 'utf8' });
}

describe('tarGz', () => {
  it('stores regular files at the root, the executable with mode 0755', () => {
    const file = path.join(dir, 'a.tar.gz');
    writeFileSync(file, tarGz(entries));
    const listing = execFileSync('tar', ['-tvzf', file], { encoding: 'utf8' }).trim().split('\n');
    expect(listing).toHaveLength(2);
    expect(listing[0]).toMatch(/^-rwxr-xr-x root\/root +70000 2000-01-01 00:00 kubectl-teleport_argocd$/);
    expect(listing[1]).toMatch(/^-rw-r--r-- root\/root +27 2000-01-01 00:00 LICENSE$/);
    const out = mkdtempSync(path.join(dir, 'tar-'));
    execFileSync('tar', ['-xzf', file, '-C', out]);
    expect(readFileSync(path.join(out, 'kubectl-teleport_argocd')).equals(binary)).toBe(true);
    expect(statSync(path.join(out, 'kubectl-teleport_argocd')).mode & 0o777).toBe(0o755);
    expect(readFileSync(path.join(out, 'LICENSE')).equals(license)).toBe(true);
  });

  it('is reproducible', () => {
    expect(sha256(tarGz(entries))).toBe(sha256(tarGz(entries)));
  });
});

describe('zip', () => {
  it('deflates the files at the root, with their CRCs and unix modes', () => {
    const file = path.join(dir, 'a.zip');
    writeFileSync(file, zip(entries));
    const out = mkdtempSync(path.join(dir, 'zip-'));
    const listing = python(
      'z = zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\nz.extractall(sys.argv[2])\nfor i in z.infolist(): print(i.filename, oct(i.external_attr >> 16), i.compress_type)',
      file,
      out,
    );
    expect(listing.trim().split('\n')).toEqual(['kubectl-teleport_argocd 0o100755 8', 'LICENSE 0o100644 8']);
    expect(readFileSync(path.join(out, 'kubectl-teleport_argocd')).equals(binary)).toBe(true);
    expect(readFileSync(path.join(out, 'LICENSE')).equals(license)).toBe(true);
  });

  it('is reproducible', () => {
    expect(sha256(zip(entries))).toBe(sha256(zip(entries)));
  });
});

describe('archive entry names', () => {
  it.each(['../evil', 'a..b', '/abs', 'nested/file', '\\win', '', '.hidden'])('refuses %j', (name) => {
    expect(() => tarGz([{ name, data: license, mode: 0o644 }])).toThrow('is not a plain file name');
    expect(() => zip([{ name, data: license, mode: 0o644 }])).toThrow('is not a plain file name');
  });

  it('refuses a name given twice', () => {
    expect(() => tarGz([entries[1]!, entries[1]!])).toThrow('archive entry LICENSE given twice');
  });
});

describe('writePlatformArchive', () => {
  it('names the archive and the binary per platform and returns the sha256 of what it wrote', () => {
    const bin = path.join(dir, 'bin');
    writeFileSync(bin, binary);
    const licenseFile = path.join(dir, 'LICENSE.src');
    writeFileSync(licenseFile, license);
    const windows = writePlatformArchive({ version: '1.2.3', platform: { os: 'windows', arch: 'amd64' }, binary: bin, license: licenseFile, outDir: dir });
    expect(windows.archive).toBe('kubectl-teleport_argocd_v1.2.3_windows_amd64.zip');
    expect(windows.sha256).toBe(sha256(readFileSync(windows.file)));
    expect(python('print(zipfile.ZipFile(sys.argv[1]).namelist())', windows.file).trim()).toBe("['kubectl-teleport_argocd.exe', 'LICENSE']");
    const linux = writePlatformArchive({ version: '1.2.3', platform: { os: 'linux', arch: 'arm64' }, binary: bin, license: licenseFile, outDir: dir });
    expect(linux.archive).toBe('kubectl-teleport_argocd_v1.2.3_linux_arm64.tar.gz');
    expect(execFileSync('tar', ['-tzf', linux.file], { encoding: 'utf8' })).toBe('kubectl-teleport_argocd\nLICENSE\n');
  });
});

describe('removePeSignature', () => {
  /** A PE32+ skeleton: e_lfanew → "PE\0\0", COFF header, optional header with its data directories. */
  function peFile(certificateTable: { offset: number; size: number }, length: number): string {
    const data = Buffer.alloc(length, 0xcc);
    data.write('MZ', 0, 'latin1');
    data.writeUInt32LE(0x40, 0x3c);
    data.write('PE\0\0', 0x40, 'latin1');
    const optional = 0x40 + 24;
    data.writeUInt16LE(0x20b, optional);
    data.writeUInt32LE(0x1234, optional + 64);
    data.writeUInt32LE(certificateTable.offset, optional + 112 + 32);
    data.writeUInt32LE(certificateTable.size, optional + 112 + 36);
    const file = path.join(dir, `pe-${certificateTable.offset}-${length}.exe`);
    writeFileSync(file, data);
    return file;
  }
  const securityDirectory = (file: string) => {
    const data = readFileSync(file);
    return { offset: data.readUInt32LE(0x40 + 24 + 144), size: data.readUInt32LE(0x40 + 24 + 148), checksum: data.readUInt32LE(0x40 + 24 + 64), length: data.length };
  };

  it('clears the certificate table entry and cuts the table off the end of the file', () => {
    const file = peFile({ offset: 768, size: 256 }, 1024);
    removePeSignature(file);
    expect(securityDirectory(file)).toEqual({ offset: 0, size: 0, checksum: 0, length: 768 });
  });

  it('keeps the file length when the table is not at the end, and leaves unsigned files alone', () => {
    const inside = peFile({ offset: 512, size: 128 }, 1024);
    removePeSignature(inside);
    expect(securityDirectory(inside)).toEqual({ offset: 0, size: 0, checksum: 0, length: 1024 });
    const unsigned = peFile({ offset: 0, size: 0 }, 600);
    removePeSignature(unsigned);
    expect(securityDirectory(unsigned)).toEqual({ offset: 0, size: 0, checksum: 0x1234, length: 600 });
  });

  it('refuses a file that is not PE', () => {
    const file = path.join(dir, 'elf');
    writeFileSync(file, Buffer.alloc(256));
    expect(() => removePeSignature(file)).toThrow('is not a PE executable');
  });
});
