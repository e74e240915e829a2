// What Teleport's Kubernetes access makes of a bot's kube users and groups, judged for
// Argo CD sync impersonation (teleport.md §7, the guide's "Argo CD Impersonation"; the
// wildcard follows the guide's newer behaviour, reference/README.md). Pure: role YAML
// text or certificate identities in, principals and check results out.
import { kindsOf, parseResourceDocuments } from './resource-documents.js';
import type { CheckResult } from '../audit/check-report.js';

export const SEVERAL_USERS_ERROR =
  'please select a user to impersonate, refusing to select a user due to several kubernetes_users set up for this user';
export const NO_KUBE_ACCESS_ERROR =
  "Your user's Teleport role does not allow Kubernetes access. Please ask cluster administrator to ensure your role has appropriate kubernetes_groups and kubernetes_users set.";
/** Teleport adds it to every request's groups; listing it in a role changes nothing. */
export const SYSTEM_AUTHENTICATED = 'system:authenticated';
const WILDCARD = '*';

export class RoleFileError extends Error {}

export interface TeleportKubeRole {
  name: string;
  version: string;
  allowUsers: string[];
  allowGroups: string[];
  denyUsers: string[];
  denyGroups: string[];
  /** False when the role grants no kube cluster at all (v4+ without `kubernetes_labels`). */
  grantsClusters: boolean;
}

const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : typeof value === 'string' ? [value] : [];

const record = (value: unknown): Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};

function kubeRole(object: Record<string, unknown>): TeleportKubeRole {
  const spec = record(object.spec);
  const allow = record(spec.allow);
  const deny = record(spec.deny);
  const version = typeof object.version === 'string' ? object.version : '';
  const labels = record(allow.kubernetes_labels);
  return {
    name: String(record(object.metadata).name ?? '<unnamed>'),
    version,
    allowUsers: strings(allow.kubernetes_users),
    allowGroups: strings(allow.kubernetes_groups),
    denyUsers: strings(deny.kubernetes_users),
    denyGroups: strings(deny.kubernetes_groups),
    // Role v3 defaulted unset kubernetes_labels to '*': '*'; later versions grant nothing.
    grantsClusters: Object.keys(labels).length > 0 || (version === 'v3' && allow.kubernetes_labels === undefined),
  };
}

/** Teleport roles from YAML or JSON: one document, a `---` stream (`tctl get roles`), a list, or `{items: […]}`. */
export function parseTeleportRoles(text: string): TeleportKubeRole[] {
  let objects: Array<Record<string, unknown>>;
  try {
    objects = parseResourceDocuments(text);
  } catch (error) {
    throw new RoleFileError((error as Error).message);
  }
  const roles = objects.filter((object) => object.kind === 'role').map(kubeRole);
  if (roles.length === 0) {
    const kinds = [...new Set(kindsOf(objects))];
    throw new RoleFileError(`no Teleport role in it${kinds.length > 0 ? ` (found ${kinds.join(', ')})` : ''}; expected \`tctl get roles\` output`);
  }
  return roles;
}

export interface KubePrincipals {
  users: string[];
  groups: string[];
}

export interface RolePrincipals extends KubePrincipals {
  /** Roles that contributed (named and granting clusters). */
  used: string[];
  /** Requested role names the file does not define. */
  missing: string[];
  /** Roles that grant no kube cluster, so contribute nothing. */
  ignored: string[];
}

const unique = (values: Iterable<string>): string[] => [...new Set(values)];

/**
 * CheckKubeGroupsAndUsers over `roleNames` (all roles when null): the union of allowed
 * users and groups minus the denied ones. Cluster labels are unknown here, so every role
 * that grants some cluster counts.
 */
export function principalsFromRoles(roles: readonly TeleportKubeRole[], roleNames: readonly string[] | null): RolePrincipals {
  const wanted = roleNames === null ? roles : roles.filter((role) => roleNames.includes(role.name));
  const used = wanted.filter((role) => role.grantsClusters);
  const deniedUsers = new Set(used.flatMap((role) => role.denyUsers));
  const deniedGroups = new Set(used.flatMap((role) => role.denyGroups));
  return {
    users: unique(used.flatMap((role) => role.allowUsers)).filter((user) => !deniedUsers.has(user)),
    groups: unique(used.flatMap((role) => role.allowGroups)).filter((group) => !deniedGroups.has(group)),
    used: used.map((role) => role.name),
    missing: roleNames === null ? [] : roleNames.filter((name) => !roles.some((role) => role.name === name)),
    ignored: wanted.filter((role) => !role.grantsClusters).map((role) => role.name),
  };
}

/** The Kubernetes user name of a bot: `bot-<name>` (from the bot OID, else a `bot-` CN). */
export function botUserName(identity: { user: string | null; botName: string | null }): string | null {
  if (identity.botName) return `bot-${identity.botName}`;
  return identity.user?.startsWith('bot-') ? identity.user : null;
}

/** Who a request without `Impersonate-User` runs as (fillDefaultKubePrincipalDetails + the guide's wildcard rule). */
export function defaultKubeUser(principals: KubePrincipals, teleportUser: string): { user: string } | { error: string } {
  if (principals.users.length === 0 && principals.groups.length === 0) return { error: NO_KUBE_ACCESS_ERROR };
  if (principals.users.includes(WILDCARD) || principals.users.length === 0) return { user: teleportUser };
  if (principals.users.length === 1) return { user: principals.users[0]! };
  return { error: SEVERAL_USERS_ERROR };
}

/** Teleport's answer to `Impersonate-User: user`: null when allowed, else its denial. */
export function teleportImpersonationDenial(principals: KubePrincipals, user: string, teleportUser: string): string | null {
  if (principals.users.length === 0 && principals.groups.length === 0) return NO_KUBE_ACCESS_ERROR;
  const allowed = principals.users.length > 0 ? principals.users : [teleportUser];
  if (allowed.includes(WILDCARD) || allowed.includes(user)) return null;
  return `impersonation request has been denied, user header "${user}" is not allowed in roles`;
}

function groupsThatMatter(principals: KubePrincipals): string[] {
  return principals.groups.filter((group) => group !== SYSTEM_AUTHENTICATED);
}

export interface IdentityUnderCheck extends KubePrincipals {
  subject: string;
  /** Where the principals come from, for messages: `certificate`, `roles a, b`. */
  source: string;
  /** The Teleport user (CN), `bot-<name>` for bots. */
  teleportUser: string;
}

const quoteList = (values: readonly string[]): string => values.map((value) => `"${value}"`).join(', ');

const bindingFix = (user: string): string => {
  const bot = user.replace(/^bot-/, '');
  return `kubectl create clusterrolebinding ${bot}-edit --clusterrole=edit --user=${user}`;
};

/** `teleport.kubernetes-users`: `*` is needed; literal users break Argo CD's unimpersonated requests. */
export function kubernetesUsersCheck(identity: IdentityUnderCheck): CheckResult {
  const { users, subject, source, teleportUser } = identity;
  const base = { id: 'teleport.kubernetes-users', subject };
  const fix = `fix: set kubernetes_users: ['*'] in the bot's role (tctl edit role/<name>) and grant the control plane its RBAC through the user ${teleportUser} (${bindingFix(teleportUser)})`;
  if (users.includes(WILDCARD)) {
    const extra = users.filter((user) => user !== WILDCARD);
    return {
      ...base,
      status: 'pass',
      message:
        `kubernetes_users (${source}) has "*": Argo CD may impersonate any service account, and requests without Impersonate-User ` +
        `(the control plane's list/watch) run as ${teleportUser}${extra.length > 0 ? `; the literal users ${quoteList(extra)} add nothing` : ''}`,
    };
  }
  if (users.length > 1) {
    return {
      ...base,
      status: 'fail',
      message:
        `kubernetes_users (${source}) lists ${quoteList(users)} without "*": Argo CD's control-plane requests carry no Impersonate-User header, ` +
        `so Teleport refuses them with "${SEVERAL_USERS_ERROR}"; ${fix}`,
    };
  }
  if (users.length === 1) {
    return {
      ...base,
      status: 'fail',
      message:
        `kubernetes_users (${source}) is only "${users[0]}": the control plane runs as that user and Teleport refuses every other ` +
        `Impersonate-User ("impersonation request has been denied, user header … is not allowed in roles"); ${fix}`,
    };
  }
  if (identity.groups.length === 0) {
    return { ...base, status: 'fail', message: `no kubernetes_users and no kubernetes_groups (${source}): Teleport refuses every request with "${NO_KUBE_ACCESS_ERROR}"; ${fix}` };
  }
  return {
    ...base,
    status: 'fail',
    message:
      `kubernetes_users (${source}) is empty: Teleport allows only ${teleportUser}, so it refuses Argo CD's Impersonate-User for every ` +
      `service account ("… is not allowed in roles"); ${fix}`,
  };
}

/** `teleport.kubernetes-groups`: any group is impersonated on every request, impersonated syncs included. */
export function kubernetesGroupsCheck(identity: IdentityUnderCheck): CheckResult {
  const groups = groupsThatMatter(identity);
  const base = { id: 'teleport.kubernetes-groups', subject: identity.subject };
  if (groups.length === 0) {
    return { ...base, status: 'pass', message: `no kubernetes_groups (${identity.source}): impersonated syncs carry only their service account's permissions` };
  }
  return {
    ...base,
    status: 'fail',
    message:
      `kubernetes_groups (${identity.source}) ${quoteList(groups)}: Teleport impersonates these groups on every request, impersonated ` +
      `syncs included, so each sync gets its service account's permissions plus the groups' and project isolation is lost; ` +
      `fix: remove kubernetes_groups from every role of the bot and bind the control plane's RBAC to the user ${identity.teleportUser} ` +
      `(${bindingFix(identity.teleportUser)})`,
  };
}
