// `list --probe`: GET /version through each secret's own stored credentials, as Argo CD
// would connect (server URL, CA, SNI, client certificate or token). Key material stays in
// memory: the kubeconfig is built from inline data, never written to disk.
import { KubeConfig } from '@kubernetes/client-node';
import type { Log } from '../cli/log.js';
import { createKubeClients, describeKubeError } from '../kube/client.js';
import { mapConcurrently } from '../util/concurrency.js';
import type { AuditedCluster, ProbeResult, ProbeTarget } from './cluster-status.js';

export interface ProbeOptions {
  requestTimeoutMs: number;
  log: Log;
  /** Probes in flight at once. */
  concurrency?: number;
}

const DEFAULT_CONCURRENCY = 16;

const base64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');

/** A client-node KubeConfig holding the secret's credentials inline; null when we cannot act on them. */
export function probeKubeConfig(target: ProbeTarget): KubeConfig | string {
  const { config, server } = target;
  if (config.credentialType === 'exec' || config.credentialType === 'aws') {
    return `cannot probe with ${config.credentialType} credentials (they only work inside Argo CD)`;
  }
  if (config.credentialType === 'basic') return 'cannot probe with basic-auth credentials';
  const kubeconfig = new KubeConfig();
  kubeconfig.loadFromClusterAndUser(
    {
      name: 'probe',
      server,
      caData: config.caPem !== null ? base64(config.caPem) : undefined,
      tlsServerName: config.serverName ?? undefined,
      skipTLSVerify: config.insecure,
    },
    {
      name: 'probe',
      certData: config.credentialType === 'client-certificate' && config.certPem !== null ? base64(config.certPem) : undefined,
      keyData: config.credentialType === 'client-certificate' && config.keyPem !== null ? base64(config.keyPem) : undefined,
      token: config.bearerToken ?? undefined,
    },
  );
  return kubeconfig;
}

export async function probeCluster(target: ProbeTarget | null, options: ProbeOptions): Promise<ProbeResult> {
  if (target === null) return { reachable: null, serverVersion: null, error: 'not probed: the secret is invalid' };
  const kubeconfig = probeKubeConfig(target);
  if (typeof kubeconfig === 'string') return { reachable: null, serverVersion: null, error: `not probed: ${kubeconfig}` };
  let clients;
  try {
    clients = createKubeClients(kubeconfig, { requestTimeoutMs: options.requestTimeoutMs, log: options.log });
  } catch (error) {
    return { reachable: false, serverVersion: null, error: describeKubeError(error, target.server) };
  }
  try {
    const version = await clients.version.getCode();
    return { reachable: true, serverVersion: version.gitVersion ?? null, error: null };
  } catch (error) {
    return { reachable: false, serverVersion: null, error: describeKubeError(error, target.server) };
  } finally {
    await clients.close();
  }
}

/** Probes every cluster, a few at a time, and records the result on its row. */
export async function probeClusters(clusters: readonly AuditedCluster[], options: ProbeOptions): Promise<void> {
  await mapConcurrently(clusters, options.concurrency ?? DEFAULT_CONCURRENCY, async (cluster) => {
    cluster.item.probe = await probeCluster(cluster.target, options);
    options.log.debug(`probe ${cluster.item.secret.name}: ${cluster.item.probe.reachable ? 'reachable' : (cluster.item.probe.error ?? 'not reachable')}`);
  });
}
