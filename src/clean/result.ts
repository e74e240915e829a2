// The `clean` result as users see it: CleanResult documents (product.md §6.4), the table
// and the summary line.
import type { SecretOwner } from '../argocd/cluster-secret.js';
import { API_VERSION, type Column } from '../cli/output.js';
import type { DryRun } from '../sync/apply.js';
import { DRY_RUN_SUFFIX } from '../sync/result.js';

export type CleanAction = 'delete' | 'skip' | 'fail';

export interface CleanResultItem {
  action: CleanAction;
  secret: string;
  teleportCluster: string | null;
  kubeCluster: string | null;
  server: string | null;
  owner: SecretOwner;
  reason: string;
  /** Every Application that targets the cluster; null when they could not be read. */
  applications: string[] | null;
}

export interface CleanResult {
  apiVersion: typeof API_VERSION;
  kind: 'CleanResult';
  dryRun: DryRun;
  items: CleanResultItem[];
  summary: Record<CleanAction, number>;
}

export function buildCleanResult(items: CleanResultItem[], dryRun: DryRun): CleanResult {
  const summary: Record<CleanAction, number> = { delete: 0, skip: 0, fail: 0 };
  for (const item of items) summary[item.action] += 1;
  return { apiVersion: API_VERSION, kind: 'CleanResult', dryRun, items, summary };
}

export const CLEAN_COLUMNS: Column<CleanResultItem>[] = [
  { header: 'ACTION', value: (item) => item.action },
  { header: 'SECRET', value: (item) => item.secret },
  { header: 'CLUSTER', value: (item) => (item.teleportCluster && item.kubeCluster ? `${item.teleportCluster}/${item.kubeCluster}` : null) },
  { header: 'OWNER', value: (item) => item.owner },
  { header: 'DETAIL', value: (item) => item.reason },
];

export function cleanSummaryLine(result: CleanResult): string {
  const { delete: deleted, skip, fail } = result.summary;
  return `clean: ${deleted} deleted, ${skip} skipped, ${fail} failed${DRY_RUN_SUFFIX[result.dryRun]}`;
}
