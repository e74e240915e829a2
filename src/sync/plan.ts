// Sync planning: desired secrets vs what the namespace holds → one action per cluster.
// Pure: the same inputs give the same plan, and no request is made here.
import { createHash } from 'node:crypto';
import {
  ANNOTATION,
  ARGOCD_MANAGED_BY_ANNOTATION,
  ARGOCD_MANAGED_BY_VALUE,
  clusterSecretName,
  MANAGED_BY_LABEL,
  MANAGED_BY_US,
  decodeDataField,
  normalizeServer,
  secretOwner,
  secretRoute,
  type SecretObject,
} from '../argocd/cluster-secret.js';
import type { KubeRoute } from '../teleport/routing.js';

export type SyncAction = 'create' | 'update' | 'unchanged' | 'prune' | 'skip' | 'fail';

/** A cluster the kubeconfig says should be registered, rendered or failed. */
export type DesiredCluster =
  | { contextName: string; route: KubeRoute; server: string; secret: SecretObject; omitted?: OmittedKeys }
  | { contextName: string; route: KubeRoute | null; server: string | null; error: string };

/** `--label`/`--annotation` keys whose templates rendered empty for a cluster (§4). */
export interface OmittedKeys {
  labels: string[];
  annotations: string[];
}

export interface PlannedItem {
  action: SyncAction;
  secretName: string | null;
  contextName: string | null;
  route: KubeRoute | null;
  server: string | null;
  reason: string | null;
  changes: string[] | null;
  /** What to write: the full object for create/update; for prune, the object to delete. */
  object: SecretObject | null;
}

export interface PlanOptions {
  prefix: string;
  takeOver: boolean;
  prune: boolean;
  /** Only existing secrets whose kube cluster passes this may be pruned (the GLOB/--exclude filter). */
  prunable: (route: KubeRoute | null) => boolean;
}

const OWNER_MARK: Record<string, string> = {
  tbot: 'written by tbot (teleport.dev/tbot-version)',
  argocd: 'written by Argo CD (managed-by: argocd.argoproj.io)',
  unknown: 'not written by kubectl-teleport-argocd (no managed-by label)',
};

/** A short, one-way fingerprint for showing that a secret value changed. */
export function fingerprint(value: string): string {
  return `sha256:${createHash('sha256').update(value).digest('hex').slice(0, 12)}`;
}

function safeData(secret: SecretObject, key: string): string | null {
  try {
    return decodeDataField(secret, key);
  } catch {
    return secret.data?.[key] ?? null;
  }
}

const CONFIG_FIELDS = ['caData', 'certData', 'keyData', 'serverName'] as const;
/** Data keys that hold no credentials and may be shown as they are. */
const PLAIN_DATA_KEYS = new Set(['name', 'server', 'project', 'namespaces', 'clusterResources']);

function configFields(text: string | null): Record<string, string | undefined> {
  try {
    const tls = (JSON.parse(text ?? '{}') as { tlsClientConfig?: Record<string, string> }).tlsClientConfig ?? {};
    return Object.fromEntries(CONFIG_FIELDS.map((field) => [field, tls[field]]));
  } catch {
    return {};
  }
}

function show(value: string | undefined | null): string {
  return value === undefined || value === null ? '<none>' : JSON.stringify(value);
}

/** What differs between the live object and the one we would write; secret values as fingerprints. */
export function describeChanges(live: SecretObject, next: SecretObject): string[] {
  const changes: string[] = [];
  const keys = new Set([...Object.keys(live.data ?? {}), ...Object.keys(next.data ?? {})]);
  for (const key of [...keys].sort()) {
    const before = safeData(live, key);
    const after = safeData(next, key);
    if (before === after) continue;
    if (PLAIN_DATA_KEYS.has(key)) {
      changes.push(`data.${key}: ${show(before)} → ${show(after)}`);
    } else if (key === 'config') {
      const old = configFields(before);
      const now = configFields(after);
      const fields = CONFIG_FIELDS.filter((field) => old[field] !== now[field]);
      if (fields.length === 0) changes.push(`data.config: ${fingerprint(before ?? '')} → ${fingerprint(after ?? '')}`);
      for (const field of fields) {
        const describe = (value: string | undefined) =>
          value === undefined ? '<none>' : field === 'serverName' ? JSON.stringify(value) : fingerprint(value);
        changes.push(`data.config.tlsClientConfig.${field}: ${describe(old[field])} → ${describe(now[field])}`);
      }
    } else {
      changes.push(`data.${key}: ${before === null ? '<none>' : fingerprint(before)} → ${after === null ? '<none>' : fingerprint(after)}`);
    }
  }
  for (const part of ['labels', 'annotations'] as const) {
    const before = live.metadata[part] ?? {};
    const after = next.metadata[part] ?? {};
    for (const key of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) {
      if (key === ANNOTATION.updated || before[key] === after[key]) continue;
      changes.push(`metadata.${part}.${key}: ${show(before[key])} → ${show(after[key])}`);
    }
  }
  if ((live.type ?? 'Opaque') !== (next.type ?? 'Opaque')) changes.push(`type: ${show(live.type)} → ${show(next.type)}`);
  return changes;
}

/**
 * The object an update writes: our data and marks on top of the live object, keeping
 * labels and annotations others added. Taking over removes the previous writer's marks;
 * flag keys whose templates rendered empty are removed.
 */
export function mergeForUpdate(live: SecretObject, desired: SecretObject, omitted?: OmittedKeys): SecretObject {
  const labels = { ...live.metadata.labels, ...desired.metadata.labels };
  const annotations = { ...live.metadata.annotations, ...desired.metadata.annotations };
  for (const key of omitted?.labels ?? []) delete labels[key];
  for (const key of omitted?.annotations ?? []) delete annotations[key];
  // Keys we own are authoritative: absent from the desired object means remove.
  for (const key of [ANNOTATION.botName, ANNOTATION.refreshInterval, ANNOTATION.tbotVersion]) {
    if (desired.metadata.annotations?.[key] === undefined) delete annotations[key];
  }
  if (annotations[ARGOCD_MANAGED_BY_ANNOTATION] === ARGOCD_MANAGED_BY_VALUE) delete annotations[ARGOCD_MANAGED_BY_ANNOTATION];
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      ...live.metadata,
      labels,
      annotations,
      resourceVersion: live.metadata.resourceVersion,
    },
    type: desired.type,
    data: desired.data,
  };
}

function liveServer(secret: SecretObject): string | null {
  const server = safeData(secret, 'server');
  return server ? normalizeServer(server) : null;
}

/** Decides create/update/unchanged/skip for one desired secret against the live one (if any). */
export function planCluster(
  desired: Extract<DesiredCluster, { secret: SecretObject }>,
  live: SecretObject | undefined,
  takeOver: boolean,
): PlannedItem {
  const base = {
    secretName: desired.secret.metadata.name,
    contextName: desired.contextName,
    route: desired.route,
    server: desired.server,
  };
  if (!live) return { ...base, action: 'create', reason: null, changes: null, object: desired.secret };
  const owner = secretOwner(live);
  if (owner !== MANAGED_BY_US && !takeOver) {
    return { ...base, action: 'skip', reason: `secret ${OWNER_MARK[owner]}; use --take-over to replace it`, changes: null, object: null };
  }
  const next = mergeForUpdate(live, desired.secret, desired.omitted);
  const changes = describeChanges(live, next);
  if (changes.length === 0) return { ...base, action: 'unchanged', reason: null, changes: null, object: null };
  const reason = owner === MANAGED_BY_US ? null : `taking over a secret ${OWNER_MARK[owner]}`;
  return { ...base, action: 'update', reason, changes, object: next };
}

export function planSync(desired: DesiredCluster[], existing: SecretObject[], options: PlanOptions): PlannedItem[] {
  const items: PlannedItem[] = [];
  const byName = new Map(existing.map((secret) => [secret.metadata.name, secret]));
  const claimed = new Set<string>();
  const protectedNames = new Set<string>();

  for (const cluster of desired) {
    if ('error' in cluster) {
      items.push({
        action: 'fail',
        // A known cluster names its registration, so the user sees which one is not refreshed.
        secretName: cluster.route ? clusterSecretName(options.prefix, cluster.route) : null,
        contextName: cluster.contextName,
        route: cluster.route,
        server: cluster.server,
        reason: cluster.error,
        changes: null,
        object: null,
      });
      continue;
    }
    const name = cluster.secret.metadata.name;
    protectedNames.add(name);
    const base = { secretName: name, contextName: cluster.contextName, route: cluster.route, server: cluster.server, changes: null, object: null };
    if (claimed.has(name)) {
      const first = items.find((item) => item.secretName === name && item.action !== 'skip' && item.action !== 'fail');
      items.push({ ...base, action: 'skip', reason: `same cluster as context "${first?.contextName}"` });
      continue;
    }
    claimed.add(name);
    const duplicate = existing.find(
      (secret) => secret.metadata.name !== name && liveServer(secret) === normalizeServer(cluster.server),
    );
    if (duplicate) {
      items.push({
        ...base,
        action: 'skip',
        reason: `duplicate server: secret ${duplicate.metadata.name} (${secretOwner(duplicate)}) already registers it`,
      });
      continue;
    }
    items.push(planCluster(cluster, byName.get(name), options.takeOver));
  }

  // Failed contexts keep their secrets: a broken exec plugin must not unregister a cluster.
  for (const cluster of desired) {
    if ('error' in cluster && cluster.route) {
      // Every secret of that cluster: the first match may be tbot's, with ours after it.
      for (const secret of existing) {
        const route = secretRoute(safeData(secret, 'server'), secret.metadata.annotations ?? {});
        if (route?.teleportCluster === cluster.route.teleportCluster && route?.kubeCluster === cluster.route.kubeCluster) protectedNames.add(secret.metadata.name);
      }
    }
  }

  if (options.prune) {
    // A context that failed before its cluster was known could own any of our secrets.
    const unidentified = desired.find((cluster) => 'error' in cluster && !cluster.route);
    for (const secret of existing) {
      const name = secret.metadata.name;
      if (protectedNames.has(name)) continue;
      if (secret.metadata.labels?.[MANAGED_BY_LABEL] !== MANAGED_BY_US) continue;
      if (!name.startsWith(`${options.prefix}.`)) continue;
      const server = safeData(secret, 'server');
      const route = secretRoute(server, secret.metadata.annotations ?? {});
      if (!options.prunable(route)) continue;
      items.push({
        action: unidentified ? 'skip' : 'prune',
        secretName: name,
        contextName: null,
        route,
        server,
        reason: unidentified
          ? `not pruned: context "${unidentified.contextName}" failed before its cluster could be identified`
          : 'no longer in the kubeconfig',
        changes: null,
        object: unidentified ? null : secret,
      });
    }
  }
  return items;
}
