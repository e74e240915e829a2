// `join --apply-rbac`: creates the ClusterRoleBinding in one context, idempotently. A
// binding of the same name that already grants the same is left alone; one that grants
// something else belongs to someone else and is never changed: that is a failure to fix
// by hand (or by choosing another --cluster-role / --kubernetes-group).
import type { V1ClusterRoleBinding } from '@kubernetes/client-node';
import type { Log } from '../cli/log.js';
import { describeKubeError, isAlreadyExists, withRetry, type KubeClients } from '../kube/client.js';
import { bindingMismatch, type ClusterRoleBinding } from '../teleport/resources.js';

export type BindingOutcome = { action: 'created' | 'unchanged' } | { action: 'failed'; reason: string };

const FIELD_MANAGER = 'kubectl-teleport-argocd';

export async function applyClusterRoleBinding(clients: KubeClients, binding: ClusterRoleBinding, log: Log): Promise<BindingOutcome> {
  const name = binding.metadata.name;
  try {
    await withRetry(() => clients.rbac.createClusterRoleBinding({ body: binding as V1ClusterRoleBinding, fieldManager: FIELD_MANAGER }), {
      log,
      what: `create clusterrolebinding ${name}`,
    });
    return { action: 'created' };
  } catch (error) {
    if (!isAlreadyExists(error)) return { action: 'failed', reason: describeKubeError(error, clients.server) };
  }
  try {
    const existing = await withRetry(() => clients.rbac.readClusterRoleBinding({ name }), { log, what: `get clusterrolebinding ${name}` });
    const mismatch = bindingMismatch(existing, binding);
    if (mismatch === null) return { action: 'unchanged' };
    return { action: 'failed', reason: `clusterrolebinding ${name} already exists and ${mismatch}; not changed (delete it, or pick another --cluster-role or --kubernetes-group)` };
  } catch (error) {
    return { action: 'failed', reason: describeKubeError(error, clients.server) };
  }
}
