// Reading Argo CD's cluster secrets: one paged LIST by the cluster label, retried on
// throttling and transient failures. Shared by sync, list and check impersonation.
import { SECRET_TYPE_CLUSTER, SECRET_TYPE_LABEL, type SecretObject } from '../argocd/cluster-secret.js';
import type { Log } from '../cli/log.js';
import { withRetry, type KubeClients } from './client.js';

const PAGE_SIZE = 500;

/** The namespace's Argo CD cluster secrets, in one paged LIST. */
export async function listClusterSecrets(clients: KubeClients, namespace: string, log: Log): Promise<SecretObject[]> {
  const secrets: SecretObject[] = [];
  let continueToken: string | undefined;
  do {
    const page = await withRetry(
      () =>
        clients.core.listNamespacedSecret({
          namespace,
          labelSelector: `${SECRET_TYPE_LABEL}=${SECRET_TYPE_CLUSTER}`,
          limit: PAGE_SIZE,
          _continue: continueToken,
        }),
      { log, what: `list secrets in ${namespace}` },
    );
    secrets.push(...(page.items as unknown as SecretObject[]));
    continueToken = page.metadata?._continue || undefined;
  } while (continueToken);
  return secrets;
}
