// Release archives in the shape krew unpacks (kubectl-plugins.md §1.4, §1.6): flat, regular
// files only, the executable stored with mode 0755, no `..`, no absolute or nested names.
// Written by hand so that nothing but Node is needed and every byte is under our control.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { crc32, deflateRawSync, gzipSync } from 'node:zlib';
import { archiveFormat, archiveName, binaryName } from './krew-manifest.mjs';

/** A fixed timestamp for every entry, so the same inputs give the same archive (and sha256). */
export const ARCHIVE_MTIME = new Date('2000-01-01T00:00:00Z');

const SAFE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

export function sha256(data) {
  return createHash('sha256').update(data).digest('hex');
}

function checkEntries(entries) {
  const seen = new Set();
  for (const { name } of entries) {
    if (!SAFE_NAME.test(name) || name.includes('..')) throw new Error(`archive entry name ${JSON.stringify(name)} is not a plain file name`);
    if (seen.has(name)) throw new Error(`archive entry ${name} given twice`);
    seen.add(name);
  }
}

function octal(value, width) {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

/** One ustar header block for a regular file (typeflag '0'). */
function tarHeader({ name, data, mode }, mtime) {
  const header = Buffer.alloc(512);
  header.write(name, 0, 100, 'utf8');
  header.write(octal(mode, 8), 100, 8, 'ascii');
  header.write(octal(0, 8), 108, 8, 'ascii');
  header.write(octal(0, 8), 116, 8, 'ascii');
  header.write(octal(data.length, 12), 124, 12, 'ascii');
  header.write(octal(Math.floor(mtime.getTime() / 1000), 12), 136, 12, 'ascii');
  header.write('        ', 148, 8, 'ascii');
  header.write('0', 156, 1, 'ascii');
  header.write('ustar\0', 257, 6, 'ascii');
  header.write('00', 263, 2, 'ascii');
  header.write('root', 265, 32, 'ascii');
  header.write('root', 297, 32, 'ascii');
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'ascii');
  return header;
}

/** entries: [{ name, data: Buffer, mode }] → gzip-compressed ustar archive. */
export function tarGz(entries, { mtime = ARCHIVE_MTIME } = {}) {
  checkEntries(entries);
  const blocks = [];
  for (const entry of entries) {
    blocks.push(tarHeader(entry, mtime), entry.data, Buffer.alloc((512 - (entry.data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}

function dosDateTime(date) {
  const time = (date.getUTCHours() << 11) | (date.getUTCMinutes() << 5) | Math.floor(date.getUTCSeconds() / 2);
  const day = ((date.getUTCFullYear() - 1980) << 9) | ((date.getUTCMonth() + 1) << 5) | date.getUTCDate();
  return { time, day };
}

const ZIP_VERSION = 20;
const ZIP_MADE_BY_UNIX = (3 << 8) | ZIP_VERSION;
const ZIP_DEFLATE = 8;

/** entries: [{ name, data: Buffer, mode }] → zip archive, deflated, with unix modes recorded. */
export function zip(entries, { mtime = ARCHIVE_MTIME } = {}) {
  checkEntries(entries);
  const { time, day } = dosDateTime(mtime);
  const parts = [];
  const directory = [];
  let offset = 0;
  for (const { name, data, mode } of entries) {
    const nameBytes = Buffer.from(name, 'utf8');
    const compressed = deflateRawSync(data);
    const checksum = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(ZIP_VERSION, 4);
    local.writeUInt16LE(0, 6);
    local.writeUInt16LE(ZIP_DEFLATE, 8);
    local.writeUInt16LE(time, 10);
    local.writeUInt16LE(day, 12);
    local.writeUInt32LE(checksum, 14);
    local.writeUInt32LE(compressed.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(ZIP_MADE_BY_UNIX, 4);
    central.writeUInt16LE(ZIP_VERSION, 6);
    central.writeUInt16LE(0, 8);
    central.writeUInt16LE(ZIP_DEFLATE, 10);
    central.writeUInt16LE(time, 12);
    central.writeUInt16LE(day, 14);
    central.writeUInt32LE(checksum, 16);
    central.writeUInt32LE(compressed.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(((0o100000 | mode) << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    parts.push(local, nameBytes, compressed);
    directory.push(central, nameBytes);
    offset += local.length + nameBytes.length + compressed.length;
  }
  const directorySize = directory.reduce((size, part) => size + part.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directorySize, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, ...directory, end]);
}

/**
 * Packs one platform's plugin binary and the licence into `<outDir>/<archive name>`, as the
 * release publishes it. Returns { os, arch, archive, file, sha256 } for the manifest.
 */
export function writePlatformArchive({ version, platform, binary, license, outDir }) {
  const entries = [
    { name: binaryName(platform.os), data: readFileSync(binary), mode: 0o755 },
    { name: 'LICENSE', data: readFileSync(license), mode: 0o644 },
  ];
  const data = archiveFormat(platform.os) === 'zip' ? zip(entries) : tarGz(entries);
  const archive = archiveName(version, platform);
  const file = path.join(outDir, archive);
  mkdirSync(outDir, { recursive: true });
  writeFileSync(file, data);
  return { os: platform.os, arch: platform.arch, archive, file, sha256: sha256(data) };
}
