// `clean` against the API: the planned deletes, a few at a time, each with the listed
// resourceVersion as its precondition and the judgement repeated after a conflict.
import { describeKubeError, type KubeClients } from '../kube/client.js';
import { deleteSecretIfUnchanged } from '../kube/cluster-secrets.js';
import type { Log } from '../cli/log.js';
import type { DryRun } from '../sync/apply.js';
import { mapConcurrently } from '../util/concurrency.js';
import { stillDead, type CleanRules, type PlannedClean } from './plan.js';
import type { CleanAction, CleanResultItem } from './result.js';

const CONCURRENCY = 8;

export interface CleanApplyOptions {
  clients: KubeClients;
  namespace: string;
  dryRun: DryRun;
  log: Log;
}

function resultItem(planned: PlannedClean, action: CleanAction, reason: string): CleanResultItem {
  const { item } = planned;
  return {
    action,
    secret: item.secret.name,
    teleportCluster: item.teleportCluster,
    kubeCluster: item.kubeCluster,
    server: item.server,
    owner: item.owner,
    reason,
    applications: item.applications,
  };
}

async function deleteOne(planned: PlannedClean, rules: CleanRules, options: CleanApplyOptions): Promise<CleanResultItem> {
  try {
    const outcome = await deleteSecretIfUnchanged(options.clients, options.namespace, planned.secret, {
      dryRun: options.dryRun === 'server',
      log: options.log,
      stillWanted: (live) => stillDead(live, rules) === null,
    });
    switch (outcome) {
      case 'deleted':
        return resultItem(planned, 'delete', planned.reason);
      case 'already-gone':
        return resultItem(planned, 'delete', `${planned.reason}; already gone`);
      case 'changed':
        return resultItem(planned, 'skip', 'refreshed meanwhile; left alone');
      case 'gave-up':
        return resultItem(planned, 'fail', 'it kept changing while being deleted; left alone');
    }
  } catch (error) {
    return resultItem(planned, 'fail', describeKubeError(error, options.clients.server));
  }
}

/** Runs the deletes of a plan (none for a client dry run); every item comes back with its final action. */
export async function applyClean(plan: readonly PlannedClean[], rules: CleanRules, options: CleanApplyOptions): Promise<CleanResultItem[]> {
  return mapConcurrently(plan, CONCURRENCY, async (planned) => {
    if (planned.action === 'skip' || options.dryRun === 'client') return resultItem(planned, planned.action, planned.reason);
    return deleteOne(planned, rules, options);
  });
}
