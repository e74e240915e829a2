// Cluster secrets for end-to-end tests, pointing at a Teleport proxy stand-in: as `sync`
// writes them (rendered by src, the format under test) and as tbot writes them (fixture).
import { renderClusterSecret, type SecretObject } from '../../src/argocd/cluster-secret.js';
import { tbotClusterSecret } from '../world/fixtures/index.js';
import type { PemPair } from '../world/pki.js';
import type { TeleportProxy } from '../world/teleport-proxy/index.js';

export interface OurSecretOptions {
  refreshInterval?: string;
  updated?: Date;
  project?: string;
}

/** The secret `sync` (with `--watch` when refreshInterval is set) writes for a kube cluster. */
export function ourSecret(proxy: TeleportProxy, kubeCluster: string, pair: PemPair, options: OurSecretOptions = {}): SecretObject {
  return renderClusterSecret({
    namespace: 'argocd',
    prefix: 'teleport.argocd-cluster',
    nameTemplate: '{{.ClusterName}}-{{.KubeName}}',
    route: { teleportCluster: proxy.clusterName, kubeCluster },
    proxyBase: proxy.url,
    credentials: { caPem: proxy.hostCA.certPem, certPem: pair.certPem, keyPem: pair.keyPem, serverName: proxy.sni },
    botName: 'argocd',
    updated: options.updated ?? new Date(Date.now() - 60_000),
    refreshInterval: options.refreshInterval,
    project: options.project,
  });
}

/** The secret tbot's argo-cd service writes for a kube cluster, last refreshed at `updated`. */
export function tbotSecret(proxy: TeleportProxy, kubeCluster: string, pair: PemPair, updated: Date): SecretObject {
  return tbotClusterSecret({
    teleportCluster: proxy.clusterName,
    kubeCluster,
    proxyAddr: proxy.addr,
    caPem: proxy.hostCA.certPem,
    certPem: pair.certPem,
    keyPem: pair.keyPem,
    botName: 'argocd',
    updated,
  }) as SecretObject;
}
