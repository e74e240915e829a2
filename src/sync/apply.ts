// Sync against the API: one paged LIST, then the planned writes, concurrently, each
// retried on 429/5xx/network failures and re-planned on conflicts.
import type { V1Secret } from '@kubernetes/client-node';
import { MANAGED_BY_LABEL, MANAGED_BY_US, type SecretObject } from '../argocd/cluster-secret.js';
import type { Log } from '../cli/log.js';
import { describeKubeError, isAlreadyExists, isConflict, withRetry, type KubeClients } from '../kube/client.js';
import { deleteSecretIfUnchanged, readSecret } from '../kube/cluster-secrets.js';
import { mapConcurrently } from '../util/concurrency.js';
import { planCluster, type DesiredCluster, type PlannedItem } from './plan.js';

const FIELD_MANAGER = 'kubectl-teleport-argocd';
const MAX_CONFLICT_RETRIES = 5;

export type DryRun = 'none' | 'client' | 'server';

export interface ApplyOptions {
  clients: KubeClients;
  namespace: string;
  dryRun: DryRun;
  concurrency: number;
  takeOver: boolean;
  log: Log;
  /** Called after each finished item (progress line). */
  onProgress?: (done: number, total: number) => void;
  /** Checked before each write starts: a signal stops new writes, in-flight ones finish. */
  stopped?: () => boolean;
}

type Desired = Extract<DesiredCluster, { secret: SecretObject }>;

function failed(item: PlannedItem, error: unknown, server: string): PlannedItem {
  return { ...item, action: 'fail', reason: describeKubeError(error, server), object: null };
}

/** Writes one create or update; on AlreadyExists or Conflict re-reads and plans again. */
async function writeCluster(item: PlannedItem, desired: Desired, options: ApplyOptions): Promise<PlannedItem> {
  const { clients, namespace, log } = options;
  const dryRun = options.dryRun === 'server' ? 'All' : undefined;
  let current = item;
  for (let attempt = 0; attempt <= MAX_CONFLICT_RETRIES; attempt += 1) {
    if (current.action !== 'create' && current.action !== 'update') return current;
    const body = current.object as unknown as V1Secret;
    try {
      if (current.action === 'create') {
        await withRetry(() => clients.core.createNamespacedSecret({ namespace, body, dryRun, fieldManager: FIELD_MANAGER }), {
          log,
          what: `create secret ${current.secretName}`,
        });
      } else {
        await withRetry(
          () => clients.core.replaceNamespacedSecret({ name: current.secretName!, namespace, body, dryRun, fieldManager: FIELD_MANAGER }),
          { log, what: `update secret ${current.secretName}` },
        );
      }
      return current;
    } catch (error) {
      if (!isConflict(error) && !isAlreadyExists(error)) return failed(current, error, clients.server);
      log.debug(`${current.secretName}: ${isConflict(error) ? 'conflict' : 'already exists'}; reading it again`);
      const replanned = planCluster(desired, await readSecret(clients, namespace, current.secretName!, log), options.takeOver);
      // Reading back exactly what we meant to write: an earlier attempt landed and its response was lost.
      if (replanned.action === 'unchanged') return { ...current, object: null };
      current = replanned;
    }
  }
  return { ...current, action: 'fail', reason: `gave up after ${MAX_CONFLICT_RETRIES} conflicting updates`, object: null };
}

/** Deletes one of our secrets, with its resourceVersion as a precondition; after a conflict only while it is still ours. */
async function pruneSecret(item: PlannedItem, options: ApplyOptions): Promise<PlannedItem> {
  const outcome = await deleteSecretIfUnchanged(options.clients, options.namespace, item.object!, {
    dryRun: options.dryRun === 'server',
    log: options.log,
    maxConflicts: MAX_CONFLICT_RETRIES,
    stillWanted: (live) => live.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY_US,
  });
  switch (outcome) {
    case 'deleted':
      return item;
    case 'already-gone':
      return { ...item, reason: 'already gone' };
    case 'changed':
      return { ...item, action: 'skip', reason: 'changed owner while pruning; left alone', object: null };
    case 'gave-up':
      return { ...item, action: 'fail', reason: `gave up after ${MAX_CONFLICT_RETRIES} conflicts`, object: null };
  }
}

/** Runs the writes of a plan; returns every item with its final action. */
export async function applyPlan(items: PlannedItem[], desired: DesiredCluster[], options: ApplyOptions): Promise<PlannedItem[]> {
  const desiredByName = new Map<string, Desired>();
  for (const cluster of desired) if ('secret' in cluster) desiredByName.set(cluster.secret.metadata.name, cluster);
  const results = [...items];
  const pending = items
    .map((item, index) => ({ item, index }))
    .filter(({ item }) => item.action === 'create' || item.action === 'update' || item.action === 'prune');
  if (options.dryRun === 'client') return results;
  let done = 0;
  await mapConcurrently(pending, options.concurrency, async ({ item, index }) => {
    // Writes a signal kept from starting are reported as such, not as done.
    if (options.stopped?.()) {
      results[index] = { ...item, action: 'skip', reason: 'interrupted before writing', object: null };
      return;
    }
    try {
      results[index] =
        item.action === 'prune' ? await pruneSecret(item, options) : await writeCluster(item, desiredByName.get(item.secretName!)!, options);
    } catch (error) {
      results[index] = failed(item, error, options.clients.server);
    }
    done += 1;
    options.onProgress?.(done, pending.length);
  });
  return results;
}
