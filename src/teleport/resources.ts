// Renders what the guide's steps 1–4 create by hand: the Teleport role, bot and join
// token, the Kubernetes ClusterRoleBinding and the tbot Helm values (teleport.md §2, §6,
// §8). Pure functions of a JoinSetup, so every document is tested without a cluster.
import { MANAGED_BY_LABEL, MANAGED_BY_US } from '../argocd/cluster-secret.js';

export type JoinType = 'static_jwks' | 'oidc';

export interface ServiceAccountRef {
  namespace: string;
  name: string;
}

/** One entry of tbot's `argocd.clusterSelectors`: exactly one of `name` or `labels`. */
export type ClusterSelector = { name: string } | { labels: Record<string, string> };

/** Teleport label maps allow a list of values per key (any of them matches). */
export type TeleportLabels = Record<string, string | string[]>;

export interface JoinSetup {
  /** Teleport cluster name: the token audience and Helm `clusterName`. */
  clusterName: string;
  /** Teleport proxy HOST:PORT. */
  proxy: string;
  bot: string;
  role: string;
  token: string;
  serviceAccount: ServiceAccountRef;
  joinType: JoinType;
  /** The source cluster's `/openid/v1/jwks` text, for `static_jwks`. */
  jwks: string | null;
  /** The service account issuer, for `oidc`. */
  issuer: string | null;
  kubernetesGroup: string;
  clusterRole: string;
  kubeLabels: TeleportLabels;
  clusterSelectors: ClusterSelector[];
  /** Argo CD sync impersonation: `kubernetes_users: ['*']`, no groups, bind the bot user. */
  impersonation: boolean;
}

export interface TeleportRole {
  kind: 'role';
  version: 'v7';
  metadata: { name: string };
  spec: {
    allow: {
      kubernetes_labels: TeleportLabels;
      kubernetes_groups?: string[];
      kubernetes_users?: string[];
      kubernetes_resources: Array<{ kind: string; namespace: string; name: string; verbs: string[] }>;
    };
  };
}

export interface TeleportBot {
  kind: 'bot';
  version: 'v1';
  metadata: { name: string };
  spec: { roles: string[] };
}

export interface KubernetesJoinSpec {
  type: JoinType;
  static_jwks?: { jwks: string };
  oidc?: { issuer: string };
  allow: Array<{ service_account: string }>;
}

export interface TeleportJoinToken {
  kind: 'token';
  version: 'v2';
  metadata: { name: string };
  spec: {
    roles: ['Bot'];
    bot_name: string;
    join_method: 'kubernetes';
    kubernetes: KubernetesJoinSpec;
  };
}

export interface RbacSubject {
  kind: 'Group' | 'User';
  apiGroup: 'rbac.authorization.k8s.io';
  name: string;
}

export interface ClusterRoleBinding {
  apiVersion: 'rbac.authorization.k8s.io/v1';
  kind: 'ClusterRoleBinding';
  metadata: { name: string; labels: Record<string, string> };
  roleRef: { apiGroup: 'rbac.authorization.k8s.io'; kind: 'ClusterRole'; name: string };
  subjects: RbacSubject[];
}

export interface TbotHelmValues {
  clusterName: string;
  teleportProxyAddress: string;
  token: string;
  serviceAccount?: { name: string };
  defaultOutput: { enabled: false };
  argocd: { enabled: true; clusterSelectors: ClusterSelector[] };
}

/** The Helm release name our next-step command uses; the chart names its service account after it. */
export const TBOT_RELEASE = 'tbot';

/** Teleport's BotResourceName: `bot-<name>` with spaces turned into `-`. */
export function botUserName(bot: string): string {
  return `bot-${bot.replace(/ /g, '-')}`;
}

export function formatServiceAccount(account: ServiceAccountRef): string {
  return `${account.namespace}:${account.name}`;
}

export function renderRole(setup: JoinSetup): TeleportRole {
  const principals = setup.impersonation ? { kubernetes_users: ['*'] } : { kubernetes_groups: [setup.kubernetesGroup] };
  return {
    kind: 'role',
    version: 'v7',
    metadata: { name: setup.role },
    spec: {
      allow: {
        kubernetes_labels: setup.kubeLabels,
        ...principals,
        kubernetes_resources: [{ kind: '*', namespace: '*', name: '*', verbs: ['*'] }],
      },
    },
  };
}

export function renderBot(setup: JoinSetup): TeleportBot {
  return { kind: 'bot', version: 'v1', metadata: { name: setup.bot }, spec: { roles: [setup.role] } };
}

export function renderJoinToken(setup: JoinSetup): TeleportJoinToken {
  const allow = [{ service_account: formatServiceAccount(setup.serviceAccount) }];
  let kubernetes: KubernetesJoinSpec;
  if (setup.joinType === 'oidc') {
    if (!setup.issuer) throw new Error('an oidc join token needs the service account issuer');
    kubernetes = { type: 'oidc', oidc: { issuer: setup.issuer }, allow };
  } else {
    if (!setup.jwks) throw new Error('a static_jwks join token needs the JWKS');
    kubernetes = { type: 'static_jwks', static_jwks: { jwks: setup.jwks }, allow };
  }
  return {
    kind: 'token',
    version: 'v2',
    metadata: { name: setup.token },
    spec: { roles: ['Bot'], bot_name: setup.bot, join_method: 'kubernetes', kubernetes },
  };
}

/**
 * The binding that gives Teleport's impersonated identity its Kubernetes rights: the
 * role's group (guide step 1, `teleport-editor-edit`), or with impersonation the bot
 * user, which Teleport sends when Argo CD names no user (`teleport-bot-argocd-edit`).
 */
export function renderClusterRoleBinding(setup: JoinSetup): ClusterRoleBinding {
  const subject: RbacSubject = setup.impersonation
    ? { kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: botUserName(setup.bot) }
    : { kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: setup.kubernetesGroup };
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: `teleport-${subject.name}-${setup.clusterRole}`, labels: { [MANAGED_BY_LABEL]: MANAGED_BY_US } },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: setup.clusterRole },
    subjects: [subject],
  };
}

export function renderHelmValues(setup: JoinSetup): TbotHelmValues {
  return {
    clusterName: setup.clusterName,
    teleportProxyAddress: setup.proxy,
    token: setup.token,
    // The chart names its service account after the release; only a different name needs saying.
    ...(setup.serviceAccount.name === TBOT_RELEASE ? {} : { serviceAccount: { name: setup.serviceAccount.name } }),
    defaultOutput: { enabled: false },
    argocd: { enabled: true, clusterSelectors: setup.clusterSelectors },
  };
}

/**
 * Why an existing binding of the same name does not grant what `wanted` grants, or null
 * when it does (same roleRef, and every wanted subject among its subjects).
 */
export function bindingMismatch(
  existing: { roleRef?: { apiGroup?: string; kind?: string; name?: string }; subjects?: Array<{ kind?: string; name?: string; namespace?: string }> | null },
  wanted: ClusterRoleBinding,
): string | null {
  const ref = existing.roleRef ?? {};
  if (ref.kind !== wanted.roleRef.kind || ref.name !== wanted.roleRef.name) {
    return `it binds ${ref.kind ?? '<none>'} ${ref.name ?? '<none>'}, not ClusterRole ${wanted.roleRef.name}`;
  }
  const missing = wanted.subjects.filter(
    (subject) => !(existing.subjects ?? []).some((other) => other.kind === subject.kind && other.name === subject.name && !other.namespace),
  );
  if (missing.length > 0) return `its subjects lack ${missing.map((subject) => `${subject.kind} ${subject.name}`).join(', ')}`;
  return null;
}
