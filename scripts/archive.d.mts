// Types for archive.mjs (imported by the TypeScript tests).
import type { Platform } from './krew-manifest.mjs';

export interface ArchiveEntry {
  name: string;
  data: Buffer;
  mode: number;
}

export interface PlatformArchive {
  os: string;
  arch: string;
  archive: string;
  file: string;
  sha256: string;
}

export const ARCHIVE_MTIME: Date;
export function sha256(data: Buffer | string): string;
export function tarGz(entries: ArchiveEntry[], options?: { mtime?: Date }): Buffer;
export function zip(entries: ArchiveEntry[], options?: { mtime?: Date }): Buffer;
export function writePlatformArchive(options: {
  version: string;
  platform: Pick<Platform, 'os' | 'arch'>;
  binary: string;
  license: string;
  outDir: string;
}): PlatformArchive;
