// Reading Argo CD's cluster secrets: one paged LIST by the cluster label, retried on
// throttling and transient failures. Shared by sync, list, clean and check impersonation.
// And deleting one only while it is still the secret that was judged.
import type { V1Secret } from '@kubernetes/client-node';
import { SECRET_TYPE_CLUSTER, SECRET_TYPE_LABEL, type SecretObject } from '../argocd/cluster-secret.js';
import type { Log } from '../cli/log.js';
import { isConflict, isNotFound, LIST_PAGE_SIZE, listAllPages, withRetry, type KubeClients } from './client.js';

/** The namespace's Argo CD cluster secrets, in one paged LIST. */
export async function listClusterSecrets(clients: KubeClients, namespace: string, log: Log): Promise<SecretObject[]> {
  const secrets = await listAllPages<V1Secret>(
    (continueToken) =>
      clients.core.listNamespacedSecret({
        namespace,
        labelSelector: `${SECRET_TYPE_LABEL}=${SECRET_TYPE_CLUSTER}`,
        limit: LIST_PAGE_SIZE,
        _continue: continueToken,
      }),
    { log, what: `list secrets in ${namespace}` },
  );
  return secrets as unknown as SecretObject[];
}

/** One secret as it is now; undefined when it is gone. */
export async function readSecret(clients: KubeClients, namespace: string, name: string, log: Log): Promise<SecretObject | undefined> {
  try {
    return (await withRetry(() => clients.core.readNamespacedSecret({ name, namespace }), { log, what: `get secret ${name}` })) as unknown as SecretObject;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

export interface GuardedDeleteOptions {
  dryRun: boolean;
  log: Log;
  /** Judges the secret again after a conflict: delete it in the state it is in now? */
  stillWanted: (live: SecretObject) => boolean;
  /** Conflicts tolerated before giving up (each one means another writer got in between). */
  maxConflicts?: number;
}

export type GuardedDeleteOutcome = 'deleted' | 'already-gone' | 'changed' | 'gave-up';

/**
 * Deletes `listed` only in the version that was judged: the DELETE carries its
 * resourceVersion as a precondition. On a conflict the secret is read again and, if
 * `stillWanted` approves of it as it is now, deleted with the new resourceVersion; else
 * left alone (`changed`). NotFound counts as done. Other errors are thrown.
 */
export async function deleteSecretIfUnchanged(clients: KubeClients, namespace: string, listed: SecretObject, options: GuardedDeleteOptions): Promise<GuardedDeleteOutcome> {
  const { log } = options;
  const name = listed.metadata.name;
  let target = listed;
  for (let conflicts = 0; conflicts <= (options.maxConflicts ?? 5); conflicts += 1) {
    try {
      await withRetry(
        () =>
          clients.core.deleteNamespacedSecret({
            name,
            namespace,
            dryRun: options.dryRun ? 'All' : undefined,
            body: { preconditions: { resourceVersion: target.metadata.resourceVersion } },
          }),
        { log, what: `delete secret ${name}` },
      );
      return 'deleted';
    } catch (error) {
      if (isNotFound(error)) return 'already-gone';
      if (!isConflict(error)) throw error;
      log.debug(`${name}: changed since it was listed; reading it again`);
      const live = await readSecret(clients, namespace, name, log);
      if (live === undefined) return 'already-gone';
      if (!options.stillWanted(live)) return 'changed';
      target = live;
    }
  }
  return 'gave-up';
}
