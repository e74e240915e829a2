// The decisions Teleport's Kubernetes proxy makes per request, as pure functions:
// path routing (lib/kube/proxy/single_cert_handler.go), allowed principals from roles
// and impersonation header rules (lib/kube/proxy/forwarder.go), with the guide's newer
// wildcard behaviour for `kubernetes_users: ['*']` (reference/README.md).
import { isUtf8 } from 'node:buffer';
import { CorruptBase64Error, decodeRawURLBase64 } from '../fixtures/encoding.js';

/** A failure answered as a Kubernetes Status (code and reason as Teleport's trace → kube mapping). */
export class TeleportProxyError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly reason: string,
  ) {
    super(message);
  }
}

export const accessDenied = (message: string) => new TeleportProxyError(403, message, 'Forbidden');
export const notFound = (message: string) => new TeleportProxyError(404, message, 'NotFound');
export const badParameter = (message: string) => new TeleportProxyError(400, message, 'BadRequest');
export const internalError = (message: string) => new TeleportProxyError(500, message, 'InternalError');
export const connectionProblem = (message: string) => new TeleportProxyError(502, message, 'Timeout');

export const PATH_ROUTE_PREFIX = '/v1/teleport/';
export const IMPERSONATION_DENIED = 'impersonation request has been denied';
export const SEVERAL_USERS_MESSAGE =
  'please select a user to impersonate, refusing to select a user due to several kubernetes_users set up for this user';
export const NO_KUBE_ACCESS_MESSAGE =
  "Your user's Teleport role does not allow Kubernetes access. " +
  'Please ask cluster administrator to ensure your role has appropriate kubernetes_groups and kubernetes_users set.';
export const ROUTE_OVERWRITE_MESSAGE = 'existing route in identity may not be overwritten';
export const KUBE_SYSTEM_AUTHENTICATED = 'system:authenticated';

/** Go's %q for a string (close enough for the values seen here). */
export function goQuote(value: string): string {
  return JSON.stringify(value);
}

/** Go http.CanonicalMIMEHeaderKey. */
export function canonicalHeaderName(name: string): string {
  return name
    .toLowerCase()
    .split('-')
    .map((part) => (part === '' ? part : part[0]!.toUpperCase() + part.slice(1)))
    .join('-');
}

export interface PathRoute {
  teleportCluster: string;
  kubeCluster: string;
  /** Remaining path, always starting with `/` (query not included). */
  rest: string;
}

function decodeSegment(segment: string, emptyMessage: string, invalidMessage: string): string {
  if (segment === '') throw badParameter(emptyMessage);
  let bytes: Buffer;
  try {
    bytes = decodeRawURLBase64(segment);
  } catch (err) {
    // trace.Wrap of a plain Go error → 500.
    if (err instanceof CorruptBase64Error) throw internalError(err.message);
    throw err;
  }
  if (!isUtf8(bytes)) throw badParameter(invalidMessage);
  return bytes.toString('utf8');
}

/**
 * Parses `/v1/teleport/<b64url teleport>/<b64url kube>/<rest>` from a URL path (no query).
 * Returns null when the path does not start with the prefix.
 */
export function parsePathRoute(pathname: string): PathRoute | null {
  if (!pathname.startsWith(PATH_ROUTE_PREFIX)) return null;
  const parts = pathname.slice(PATH_ROUTE_PREFIX.length).split('/');
  const safeDecode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  const a = safeDecode(parts[0] ?? '');
  const b = safeDecode(parts[1] ?? '');
  const teleportCluster = decodeSegment(a, 'no Teleport cluster name found in path', 'invalid Teleport cluster name');
  const kubeCluster = decodeSegment(b, 'no Kubernetes cluster name found in path', 'invalid Kubernetes cluster name');
  const rest = '/' + parts.slice(2).join('/');
  return { teleportCluster, kubeCluster, rest };
}

/** ensureRouteNotOverwritten: a route fixed in the certificate may only be repeated, never changed. */
export function ensureRouteNotOverwritten(
  identity: { routeToCluster: string; kubernetesCluster: string },
  teleportCluster: string,
  kubeCluster: string,
): void {
  if (identity.routeToCluster !== '' && identity.routeToCluster !== teleportCluster) {
    throw accessDenied(ROUTE_OVERWRITE_MESSAGE);
  }
  if (identity.kubernetesCluster !== '' && identity.kubernetesCluster !== kubeCluster) {
    throw accessDenied(ROUTE_OVERWRITE_MESSAGE);
  }
}

/** `kubernetes_labels` values: one value or a list; `*`, globs and `^regex$` as Teleport allows. */
export type LabelSelector = Record<string, string | string[]>;

export interface TeleportRole {
  kubernetesUsers?: string[];
  kubernetesGroups?: string[];
  /** Role v7 semantics: absent or empty matches no cluster. `{'*': '*'}` matches all. */
  kubernetesLabels?: LabelSelector;
}

function valueMatches(pattern: string, value: string): boolean {
  if (pattern === '*') return true;
  if (pattern.startsWith('^') && pattern.endsWith('$')) {
    try {
      return new RegExp(pattern).test(value);
    } catch {
      return false;
    }
  }
  if (pattern.includes('*')) {
    const re = '^' + pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$';
    return new RegExp(re).test(value);
  }
  return pattern === value;
}

/** services.MatchLabels: every selector key must match; an empty selector matches nothing. */
export function matchKubernetesLabels(selector: LabelSelector | undefined, labels: Record<string, string>): boolean {
  const entries = Object.entries(selector ?? {});
  if (entries.length === 0) return false;
  for (const [key, raw] of entries) {
    const values = Array.isArray(raw) ? raw : [raw];
    if (key === '*' && values.includes('*')) continue;
    const value = labels[key];
    if (value === undefined) return false;
    if (!values.some((pattern) => valueMatches(pattern, value))) return false;
  }
  return true;
}

export interface AllowedPrincipals {
  /** Allowed kube users; may contain `*` (guide behaviour: any user). */
  users: string[];
  groups: string[];
}

/**
 * CheckKubeGroupsAndUsers over the identity's roles that match the cluster's labels, then
 * fillDefaultKubePrincipalDetails (username when no users, plus system:authenticated).
 * Unknown role names are ignored. No users and no groups at all → NotFound.
 */
export function allowedKubePrincipals(
  roleNames: string[],
  roles: Record<string, TeleportRole>,
  clusterLabels: Record<string, string>,
  username: string,
): AllowedPrincipals {
  const users: string[] = [];
  const groups: string[] = [];
  for (const name of roleNames) {
    const role = Object.hasOwn(roles, name) ? roles[name] : undefined;
    if (!role || !matchKubernetesLabels(role.kubernetesLabels, clusterLabels)) continue;
    for (const u of role.kubernetesUsers ?? []) if (!users.includes(u)) users.push(u);
    for (const g of role.kubernetesGroups ?? []) if (!groups.includes(g)) groups.push(g);
  }
  if (users.length === 0 && groups.length === 0) throw notFound(NO_KUBE_ACCESS_MESSAGE);
  if (users.length === 0) users.push(username);
  if (!groups.includes(KUBE_SYSTEM_AUTHENTICATED)) groups.push(KUBE_SYSTEM_AUTHENTICATED);
  return { users, groups };
}

export interface ImpersonationResult {
  user: string;
  groups: string[];
  /** What the client asked for (empty user header counts as not set). */
  requestedUser: string | null;
  requestedGroups: string[];
}

/**
 * computeImpersonatedPrincipals. `headers` are [name, value] pairs in arrival order.
 * `*` in the allowed users allows any Impersonate-User and, without one, falls back to the
 * Teleport username (the guide's behaviour).
 */
export function computeImpersonation(
  allowed: AllowedPrincipals,
  headers: Array<[string, string]>,
  username: string,
): ImpersonationResult {
  const grouped = new Map<string, string[]>();
  for (const [rawName, value] of headers) {
    const name = canonicalHeaderName(rawName);
    if (!name.startsWith('Impersonate-')) continue;
    const list = grouped.get(name) ?? [];
    list.push(value);
    grouped.set(name, list);
  }
  const userSet = new Set(allowed.users);
  const groupSet = new Set(allowed.groups);
  let user = '';
  let requestedUser: string | null = null;
  const requestedGroups: string[] = [];
  for (const [name, values] of grouped) {
    switch (name) {
      case 'Impersonate-User': {
        if (values.length !== 1) {
          throw accessDenied(`${IMPERSONATION_DENIED}, invalid user header [${values.map(goQuote).join(' ')}]`);
        }
        const value = values[0]!;
        if (value === '') continue;
        user = value;
        requestedUser = value;
        if (!userSet.has(value) && !userSet.has('*')) {
          throw accessDenied(`${IMPERSONATION_DENIED}, user header ${goQuote(value)} is not allowed in roles`);
        }
        break;
      }
      case 'Impersonate-Group':
        for (const value of values) {
          if (!groupSet.has(value)) {
            throw accessDenied(`${IMPERSONATION_DENIED}, group header ${goQuote(value)} value is not allowed in roles`);
          }
          if (!requestedGroups.includes(value)) requestedGroups.push(value);
        }
        break;
      default:
        throw accessDenied(`${IMPERSONATION_DENIED}, unsupported impersonation header ${goQuote(name)}`);
    }
  }
  if (user === '') {
    if (userSet.has('*')) user = username;
    else if (userSet.size === 1) user = [...userSet][0]!;
    else if (userSet.size === 0) throw accessDenied('assumed at least one user to be present');
    else throw accessDenied(SEVERAL_USERS_MESSAGE);
  }
  const groups = requestedGroups.length > 0 ? [...requestedGroups] : [...allowed.groups];
  return { user, groups, requestedUser, requestedGroups };
}
