// Types for krew-validate.mjs (imported by the TypeScript tests). Fields are loose on
// purpose: the validator is fed hand-broken manifests.
export interface LabelSelectorRequirement {
  key?: string;
  operator?: string;
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string> | null;
  matchExpressions?: LabelSelectorRequirement[] | null;
}

export interface KrewPlatform {
  selector?: LabelSelector | null;
  uri?: string;
  sha256?: string;
  bin?: string;
  files?: { from?: string; to?: string }[] | null;
}

export interface KrewPlugin {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string };
  spec?: {
    version?: string;
    homepage?: string;
    shortDescription?: string;
    description?: string;
    caveats?: string;
    platforms?: KrewPlatform[];
  };
}

export interface OsArch {
  os: string;
  arch: string;
}

export const API_VERSION: string;
export const SUPPORTED_PLATFORMS: OsArch[];
export const LICENSE_NAMES: string[];
export function isSafePluginName(name: string): boolean;
export function parseVersion(version: string): { major: number; minor: number; patch: number; preRelease: string[]; build: string };
export function validatePlugin(name: string, plugin: KrewPlugin): void;
export function selectorMatches(selector: LabelSelector | null | undefined, target: OsArch): boolean;
export function matchingPlatform(plugin: KrewPlugin, target: OsArch): KrewPlatform | undefined;
export function validateManifestFile(file: string, text: string): { plugin: KrewPlugin; warnings: string[] };
export function reviewProblems(plugin: KrewPlugin): string[];
