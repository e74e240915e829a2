// How Teleport addresses kube clusters: path routing and the TLS routing SNI
// (teleport.md §1.6, §4.6, §5).

const ROUTE_PREFIX = '/v1/teleport/';
const KUBE_SNI_PREFIX = 'kube-teleport-proxy-alpn.';
const API_DOMAIN = 'teleport.cluster.local';

/** Go's base64.RawURLEncoding: URL alphabet, no padding. */
export function encodePathComponent(value: string): string {
  return Buffer.from(value, 'utf8').toString('base64url');
}

function decodePathComponent(value: string): string | null {
  if (value === '' || !/^[A-Za-z0-9_-]+$/.test(value)) return null;
  const bytes = Buffer.from(value, 'base64url');
  const text = bytes.toString('utf8');
  // Reject what does not round-trip (bad length or invalid UTF-8), as Teleport does.
  if (text === '' || Buffer.from(text, 'utf8').toString('base64url') !== value) return null;
  return text;
}

export interface KubeRoute {
  teleportCluster: string;
  kubeCluster: string;
}

/** `https://proxy:443` + route → `https://proxy:443/v1/teleport/<b64>/<b64>`. */
export function routedServerUrl(proxyBase: string, route: KubeRoute): string {
  const base = proxyBase.replace(/\/+$/, '');
  return `${base}${ROUTE_PREFIX}${encodePathComponent(route.teleportCluster)}/${encodePathComponent(route.kubeCluster)}`;
}

/** The route in a server URL's path (`/v1/teleport/<b64>/<b64>`), or null. */
export function parseRoutedServer(server: string): KubeRoute | null {
  let path: string;
  try {
    path = new URL(server).pathname;
  } catch {
    return null;
  }
  const match = /^\/v1\/teleport\/([^/]+)\/([^/]+)\/?$/.exec(path);
  if (!match) return null;
  const teleportCluster = decodePathComponent(match[1]!);
  const kubeCluster = decodePathComponent(match[2]!);
  if (teleportCluster === null || kubeCluster === null) return null;
  return { teleportCluster, kubeCluster };
}

/** The proxy part of a server URL: scheme, host and port as written (URL would drop `:443`), no path. */
export function proxyBaseUrl(server: string): string {
  const match = /^(https?:\/\/[^/?#]+)/i.exec(server.trim());
  if (!match) throw new Error(`server "${server}" is not an http(s) URL`);
  return match[1]!;
}

function isIpAddress(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(':');
}

/** GetKubeTLSServerName: the SNI Teleport's TLS-routing proxy expects for kube traffic. */
export function kubeTlsServerName(host: string): string {
  const bare = host.replace(/^\[|\]$/g, '');
  if (bare === '' || bare === 'localhost' || isIpAddress(bare)) return `${KUBE_SNI_PREFIX}${API_DOMAIN}`;
  return `${KUBE_SNI_PREFIX}${bare}`;
}

export function isTeleportKubeServerName(serverName: string | undefined): boolean {
  return Boolean(serverName?.startsWith(KUBE_SNI_PREFIX));
}
