// Opens clients for kubeconfig contexts: the source context (where Argo CD runs) and any
// other context a command names. Loads the Kubernetes client, so import it lazily.
import type { Runtime } from '../cli/globals.js';
import { loadKubeconfig, resolveContext, type Kubeconfig } from '../kubeconfig/load.js';
import { createKubeClients, inClusterKubeConfig, kubeConfigForContext, type KubeClients } from './client.js';

export interface ConnectedContext {
  /** Context name, or `in-cluster` for a pod's service account. */
  contextName: string;
  clients: KubeClients;
}

export function loadUserKubeconfig(runtime: Runtime): Kubeconfig {
  return loadKubeconfig({ explicitPath: runtime.globals.kubeconfig });
}

/** Clients for `contextName` (default: the current context), or the pod's service account. */
export function connectContext(
  kubeconfig: Kubeconfig,
  runtime: Runtime,
  contextName?: string,
  headers?: Record<string, string>,
): ConnectedContext {
  const options = { requestTimeoutMs: runtime.globals.requestTimeoutMs, log: runtime.log, headers };
  if (kubeconfig.inCluster && !contextName) {
    runtime.log.debug('no kubeconfig found; using the pod service account (in-cluster)');
    return { contextName: 'in-cluster', clients: createKubeClients(inClusterKubeConfig(), options) };
  }
  const resolved = resolveContext(kubeconfig, contextName);
  runtime.log.debug(`context ${resolved.name} (from ${resolved.source}) → ${resolved.cluster.server ?? '<no server>'}`);
  return { contextName: resolved.name, clients: createKubeClients(kubeConfigForContext(resolved), options) };
}

/** The source context: `--context`, else the current context. */
export function connectSource(runtime: Runtime, kubeconfig = loadUserKubeconfig(runtime)): ConnectedContext {
  return connectContext(kubeconfig, runtime, runtime.globals.context);
}
