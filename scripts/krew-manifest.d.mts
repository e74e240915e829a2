// Types for krew-manifest.mjs (imported by the TypeScript tests).
import type { KrewPlugin } from './krew-validate.mjs';

export interface Platform {
  os: string;
  arch: string;
  npmPackage: string;
  binPath: string;
  macho?: boolean;
}

export const PLUGIN_NAME: string;
export const HOMEPAGE: string;
export const PLUGIN_BINARY: string;
export const COMPLETION_HELPER: string;
export const PLATFORMS: Platform[];
export const SHORT_DESCRIPTION: string;
export const DESCRIPTION: string;
export function platformName(platform: { os: string; arch: string }): string;
export function binaryName(os: string): string;
export function archiveFormat(os: string): 'zip' | 'tar.gz';
export function archiveName(version: string, platform: { os: string; arch: string }): string;
export function releaseUri(version: string, archive: string): string;
export function caveats(missing?: string[]): string;
export function buildManifest(
  version: string,
  archives: { os: string; arch: string; archive: string; sha256: string }[],
): KrewPlugin;
export function renderManifest(manifest: KrewPlugin): string;
