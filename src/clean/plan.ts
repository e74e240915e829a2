// `clean`: which cluster secrets are dead registrations, and what to do with each
// (product.md §5.6). Pure: the listed secrets, the Applications and a clock in, the plan
// out. The same judgement runs again at delete time on a secret that changed meanwhile.
import type { ApplicationsRead } from '../argocd/applications.js';
import { MANAGED_BY_US, type SecretObject, type SecretOwner } from '../argocd/cluster-secret.js';
import { auditClusterSecrets, type AuditedCluster, type ClusterListItem } from '../audit/cluster-status.js';
import { parseRoutedServer } from '../teleport/routing.js';

/** The writers whose abandoned secrets `clean` may remove: tbot never deletes its own. */
export const CLEAN_OWNERS = ['tbot', MANAGED_BY_US] as const satisfies readonly SecretOwner[];
export type CleanOwner = (typeof CLEAN_OWNERS)[number];

export interface CleanRules {
  now: Date;
  staleAfterMs: number;
  /** `--owner`: both by default. */
  owners: ReadonlySet<CleanOwner>;
  /** GLOB over the kube cluster name and the Argo CD cluster name (true when no GLOB). */
  selects: (names: Array<string | null>) => boolean;
  includeTargeted: boolean;
  applications: ApplicationsRead;
}

export interface PlannedClean {
  action: 'delete' | 'skip';
  /** As listed: its resourceVersion is the delete's precondition. */
  secret: SecretObject;
  item: ClusterListItem;
  reason: string;
}

export interface CleanPlan {
  items: PlannedClean[];
  /** Secrets the GLOB selected that are not dead registrations, and why (for -v). */
  kept: Array<{ secret: string; reason: string }>;
  /** Set when nothing may be deleted: candidates exist but their dependents are unknown. */
  refusal: string | null;
}

/** Names shown in a reason before the rest is only counted. */
const NAMED_APPLICATIONS = 3;
const LIST_EXPIRING_WITHIN_MS = 10 * 60_000;

function audit(secrets: readonly SecretObject[], rules: CleanRules): AuditedCluster[] {
  return auditClusterSecrets(secrets, {
    now: rules.now,
    staleAfterMs: rules.staleAfterMs,
    // Only names the status in reasons (candidates are expired): `list`'s default, so both agree.
    expiringWithinMs: LIST_EXPIRING_WITHIN_MS,
    applications: rules.applications.applications,
  });
}

function isCleanOwner(owner: SecretOwner): owner is CleanOwner {
  return (CLEAN_OWNERS as readonly SecretOwner[]).includes(owner);
}

/** Why a secret is not a dead registration; null when it is one. */
function keepReason(cluster: AuditedCluster, owners: ReadonlySet<CleanOwner>): string | null {
  const { item, conditions } = cluster;
  if (!isCleanOwner(item.owner)) return `owned by ${item.owner}: clean removes only what tbot or ${MANAGED_BY_US} wrote`;
  if (!owners.has(item.owner)) return `owned by ${item.owner} (--owner ${[...owners].join(',')})`;
  if (item.server === null || parseRoutedServer(item.server) === null) return 'server is not a Teleport path-routed URL';
  if (conditions.includes('invalid')) return 'Invalid: a broken secret is left for a person to look at';
  if (!conditions.includes('expired')) return `${item.status}: its certificate has not expired`;
  if (cluster.refreshOverdue === null) {
    return item.updated === null
      ? 'Expired, but when it was last refreshed is unknown (teleport.dev/updated), so abandonment is not proven'
      : 'Expired, but not stale: something may still refresh it';
  }
  return null;
}

/** The first few Applications by name, then a count of the rest. */
function namedApplications(applications: readonly string[]): string {
  const named = applications.slice(0, NAMED_APPLICATIONS).join(', ');
  const rest = applications.length - NAMED_APPLICATIONS;
  return rest > 0 ? `${named} and ${rest} more` : named;
}

/** Why it is dead: its certificate's expiry, and how long nothing has refreshed it. */
function deadReason({ item, refreshOverdue }: AuditedCluster): string {
  const expired = item.problems.filter((problem) => problem.startsWith('expired: ')).map((problem) => problem.slice('expired: '.length));
  return [...expired, refreshOverdue].join('; ');
}

function plannedItem(secret: SecretObject, cluster: AuditedCluster, rules: CleanRules): PlannedClean {
  const { item } = cluster;
  const targeting = item.applications ?? [];
  if (targeting.length > 0 && !rules.includeTargeted) {
    return { action: 'skip', secret, item, reason: `still targeted by ${targeting.length} Application(s): ${namedApplications(targeting)}` };
  }
  const note = targeting.length > 0 ? `; deleted although ${targeting.length} Application(s) target it (--include-targeted)` : '';
  return { action: 'delete', secret, item, reason: `${deadReason(cluster)}${note}` };
}

export function planClean(secrets: readonly SecretObject[], rules: CleanRules): CleanPlan {
  const byName = new Map(secrets.map((secret) => [secret.metadata.name, secret]));
  const items: PlannedClean[] = [];
  const kept: CleanPlan['kept'] = [];
  for (const cluster of audit(secrets, rules)) {
    if (!rules.selects([cluster.item.kubeCluster, cluster.item.name])) continue;
    const reason = keepReason(cluster, rules.owners);
    if (reason !== null) kept.push({ secret: cluster.item.secret.name, reason });
    else items.push(plannedItem(byName.get(cluster.item.secret.name)!, cluster, rules));
  }
  const { applications } = rules;
  const refusal =
    applications.applications === null && !rules.includeTargeted && items.length > 0
      ? `refusing to clean: Argo CD Applications cannot be read, so whether any still targets the ${items.length} dead registration(s) is unknown (${applications.reason}); allow listing applications.argoproj.io, or pass --include-targeted`
      : null;
  return { items, kept, refusal };
}

/**
 * The judgement again, for a secret that changed after it was listed: may it still be
 * deleted as it is now? Null when yes, else why not.
 */
export function stillDead(live: SecretObject, rules: CleanRules): string | null {
  const [cluster] = audit([live], rules);
  if (!rules.selects([cluster!.item.kubeCluster, cluster!.item.name])) return 'no longer matches the GLOB';
  const reason = keepReason(cluster!, rules.owners);
  if (reason !== null) return reason;
  return plannedItem(live, cluster!, rules).action === 'delete' ? null : 'now targeted by Applications';
}
