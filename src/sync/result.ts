// The `sync` result as users see it: SyncResult documents (product.md §6.2), the table,
// the --diff listing and the summary line.
import { API_VERSION, type Column } from '../cli/output.js';
import type { DryRun } from './apply.js';
import type { PlannedItem, SyncAction } from './plan.js';

export interface SyncResultItem {
  action: SyncAction;
  secret: string | null;
  context: string | null;
  teleportCluster: string | null;
  kubeCluster: string | null;
  server: string | null;
  reason: string | null;
  changes: string[] | null;
}

export interface SyncResult {
  apiVersion: typeof API_VERSION;
  kind: 'SyncResult';
  dryRun: DryRun;
  items: SyncResultItem[];
  summary: Record<SyncAction, number>;
}

export function buildSyncResult(items: PlannedItem[], dryRun: DryRun): SyncResult {
  const summary: Record<SyncAction, number> = { create: 0, update: 0, unchanged: 0, prune: 0, skip: 0, fail: 0 };
  for (const item of items) summary[item.action] += 1;
  return {
    apiVersion: API_VERSION,
    kind: 'SyncResult',
    dryRun,
    items: items.map((item) => ({
      action: item.action,
      secret: item.secretName,
      context: item.contextName,
      teleportCluster: item.route?.teleportCluster ?? null,
      kubeCluster: item.route?.kubeCluster ?? null,
      server: item.server,
      reason: item.reason,
      changes: item.action === 'update' ? item.changes : null,
    })),
    summary,
  };
}

export const SYNC_COLUMNS: Column<SyncResultItem>[] = [
  { header: 'ACTION', value: (item) => item.action },
  { header: 'SECRET', value: (item) => item.secret },
  { header: 'CLUSTER', value: (item) => (item.teleportCluster && item.kubeCluster ? `${item.teleportCluster}/${item.kubeCluster}` : item.context) },
  { header: 'SERVER', value: (item) => item.server },
  {
    header: 'DETAIL',
    value: (item) =>
      item.reason ?? (item.changes ? `${item.changes.length} field${item.changes.length === 1 ? '' : 's'} changed` : null),
  },
];

/** `--diff`: each update's changed fields, secret values already reduced to fingerprints. */
export function renderDiff(result: SyncResult): string {
  return result.items
    .filter((item) => item.action === 'update' && item.changes)
    .map((item) => [`~ secret/${item.secret} (${item.teleportCluster}/${item.kubeCluster})`, ...item.changes!.map((change) => `    ${change}`)].join('\n'))
    .join('\n')
    .concat(result.summary.update > 0 ? '\n' : '');
}

/** How a summary line (sync's and clean's) ends: whether the run only pretended to write. */
export const DRY_RUN_SUFFIX: Record<DryRun, string> = { none: '', client: ' (dry run)', server: ' (server dry run)' };

export function summaryLine(result: SyncResult): string {
  const { create, update, unchanged, prune, skip, fail } = result.summary;
  return `sync: ${create} created, ${update} updated, ${unchanged} unchanged, ${prune} pruned, ${skip} skipped, ${fail} failed${DRY_RUN_SUFFIX[result.dryRun]}`;
}
