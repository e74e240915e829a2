// RBAC authorizer over the stored Roles/Bindings, with the rule matching of
// plugin/pkg/auth/authorizer/rbac (wildcards, `*/subresource`, resourceNames,
// nonResourceURL prefixes) and the bootstrap policy a kubeadm cluster starts with.
import type { ObjectStore, KubeObject } from './store.js';
import { RESOURCE_TYPES, type ResourceType } from './resources.js';

export interface UserInfo {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

export interface Attributes {
  user: UserInfo;
  verb: string;
  resourceRequest: boolean;
  /** Non-resource requests: the URL path. */
  path?: string;
  namespace?: string;
  apiGroup?: string;
  apiVersion?: string;
  resource?: string;
  subresource?: string;
  name?: string;
}

export interface Decision {
  allowed: boolean;
  reason: string;
  evaluationError?: string;
}

export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

interface Subject {
  kind: string;
  name: string;
  namespace?: string;
  apiGroup?: string;
}

interface RoleRef {
  kind: string;
  name: string;
  apiGroup?: string;
}

const type = (resource: string): ResourceType => RESOURCE_TYPES.find((t) => t.resource === resource)!;

function has(list: string[] | undefined, value: string): boolean {
  return !!list && (list.includes('*') || list.includes(value));
}

export function ruleAllows(rule: PolicyRule, a: Attributes): boolean {
  if (!has(rule.verbs, a.verb)) return false;
  if (!a.resourceRequest) {
    const path = a.path ?? '';
    return (rule.nonResourceURLs ?? []).some(
      (u) => u === '*' || u === path || (u.endsWith('*') && path.startsWith(u.slice(0, -1))),
    );
  }
  if (!has(rule.apiGroups, a.apiGroup ?? '')) return false;
  const resources = rule.resources ?? [];
  const resourceOk = a.subresource
    ? resources.some((r) => r === '*' || r === `${a.resource}/${a.subresource}` || r === `*/${a.subresource}`)
    : resources.some((r) => r === '*' || r === a.resource);
  if (!resourceOk) return false;
  const names = rule.resourceNames ?? [];
  return names.length === 0 || (!!a.name && names.includes(a.name));
}

export function subjectMatches(s: Subject, user: UserInfo, bindingNamespace?: string): boolean {
  switch (s.kind) {
    case 'User':
      return user.username === s.name;
    case 'Group':
      return user.groups.includes(s.name);
    case 'ServiceAccount': {
      const ns = s.namespace || bindingNamespace;
      return !!ns && user.username === `system:serviceaccount:${ns}:${s.name}`;
    }
    default:
      return false;
  }
}

interface Visit {
  source: string;
  rules: PolicyRule[];
  subject: Subject;
}

/** Walks every binding that applies to the user in the namespace, with its role's rules. */
function* applicableRules(store: ObjectStore, user: UserInfo, namespace: string | undefined, errors: string[]): Generator<Visit> {
  const clusterRoles = type('clusterroles');
  for (const crb of store.scan(type('clusterrolebindings'))) {
    const subject = ((crb.subjects as Subject[] | undefined) ?? []).find((s) => subjectMatches(s, user));
    if (!subject) continue;
    const ref = crb.roleRef as RoleRef;
    const role = store.peek(clusterRoles, undefined, ref.name);
    if (!role) {
      errors.push(`clusterrole.rbac.authorization.k8s.io "${ref.name}" not found`);
      continue;
    }
    yield {
      source: `ClusterRoleBinding "${crb.metadata.name}" of ClusterRole "${ref.name}"`,
      rules: (role.rules as PolicyRule[] | undefined) ?? [],
      subject,
    };
  }
  if (!namespace) return;
  for (const rb of store.scan(type('rolebindings'), namespace)) {
    const subject = ((rb.subjects as Subject[] | undefined) ?? []).find((s) => subjectMatches(s, user, namespace));
    if (!subject) continue;
    const ref = rb.roleRef as RoleRef;
    const role =
      ref.kind === 'ClusterRole' ? store.peek(clusterRoles, undefined, ref.name) : store.peek(type('roles'), namespace, ref.name);
    if (!role) {
      errors.push(
        ref.kind === 'ClusterRole'
          ? `clusterrole.rbac.authorization.k8s.io "${ref.name}" not found`
          : `role.rbac.authorization.k8s.io "${ref.name}" not found`,
      );
      continue;
    }
    yield {
      source: `RoleBinding "${rb.metadata.name}" of ${ref.kind} "${ref.name}"`,
      rules: (role.rules as PolicyRule[] | undefined) ?? [],
      subject,
    };
  }
}

export const PRIVILEGED_GROUP = 'system:masters';

export function authorize(store: ObjectStore, a: Attributes): Decision {
  // kube-apiserver puts a privileged-group authorizer in front of RBAC
  if (a.user.groups.includes(PRIVILEGED_GROUP)) return { allowed: true, reason: '' };
  const errors: string[] = [];
  for (const visit of applicableRules(store, a.user, a.resourceRequest ? a.namespace || undefined : undefined, errors)) {
    if (visit.rules.some((r) => ruleAllows(r, a))) {
      const s = visit.subject;
      const who = s.kind === 'ServiceAccount' ? `ServiceAccount "${s.name}/${s.namespace ?? a.namespace}"` : `${s.kind} "${s.name}"`;
      return { allowed: true, reason: `RBAC: allowed by ${visit.source} to ${who}` };
    }
  }
  const decision: Decision = { allowed: false, reason: '' };
  if (errors.length > 0) {
    decision.reason = `RBAC: ${errors.join(', ')}`;
    decision.evaluationError = errors.join(', ');
  }
  return decision;
}

/** The rules a user has in a namespace (SelfSubjectRulesReview). */
export function rulesFor(store: ObjectStore, user: UserInfo, namespace: string): { rules: PolicyRule[]; errors: string[] } {
  if (user.groups.includes(PRIVILEGED_GROUP)) {
    return { rules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }, { verbs: ['*'], nonResourceURLs: ['*'] }], errors: [] };
  }
  const errors: string[] = [];
  const rules: PolicyRule[] = [];
  for (const visit of applicableRules(store, user, namespace, errors)) rules.push(...visit.rules);
  return { rules, errors };
}

/** `User "x" cannot get resource "secrets" in API group "" in the namespace "ns"` */
export function forbiddenReason(a: Attributes): string {
  const who = `User "${a.user.username}"`;
  if (!a.resourceRequest) return `${who} cannot ${a.verb} path "${a.path}"`;
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const scope = a.namespace ? `in the namespace "${a.namespace}"` : 'at the cluster scope';
  return `${who} cannot ${a.verb} resource "${resource}" in API group "${a.apiGroup ?? ''}" ${scope}`;
}

// ---- bootstrap policy (a trimmed plugin/pkg/auth/authorizer/rbac/bootstrappolicy) ----

const RW = ['create', 'delete', 'deletecollection', 'patch', 'update'];
const RO = ['get', 'list', 'watch'];

function clusterRole(name: string, rules: PolicyRule[], labels: Record<string, string> = {}): KubeObject {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: {
      name,
      labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults', ...labels },
      annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'true' },
    },
    rules,
  };
}

function clusterRoleBinding(name: string, role: string, subjects: Subject[]): KubeObject {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: {
      name,
      labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' },
      annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'true' },
    },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
    subjects,
  };
}

const group = (name: string): Subject => ({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name });

export function bootstrapPolicy(): KubeObject[] {
  const viewRules: PolicyRule[] = [
    { apiGroups: [''], resources: ['configmaps', 'endpoints', 'persistentvolumeclaims', 'pods', 'replicationcontrollers', 'serviceaccounts', 'services'], verbs: RO },
    { apiGroups: [''], resources: ['pods/log', 'pods/status', 'namespaces/status', 'resourcequotas', 'limitranges', 'events'], verbs: RO },
    { apiGroups: [''], resources: ['namespaces'], verbs: RO },
    { apiGroups: ['apps', 'batch', 'autoscaling', 'policy', 'networking.k8s.io', 'discovery.k8s.io'], resources: ['*'], verbs: RO },
  ];
  const editRules: PolicyRule[] = [
    { apiGroups: [''], resources: ['pods', 'pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy'], verbs: RW },
    { apiGroups: [''], resources: ['configmaps', 'endpoints', 'persistentvolumeclaims', 'replicationcontrollers', 'secrets', 'serviceaccounts', 'services'], verbs: RW },
    { apiGroups: [''], resources: ['secrets'], verbs: RO },
    { apiGroups: [''], resources: ['serviceaccounts'], verbs: ['impersonate'] },
    { apiGroups: [''], resources: ['serviceaccounts/token'], verbs: ['create'] },
    { apiGroups: ['apps', 'batch', 'autoscaling', 'policy', 'networking.k8s.io'], resources: ['*'], verbs: RW },
    ...viewRules,
  ];
  const adminRules: PolicyRule[] = [
    { apiGroups: ['authorization.k8s.io'], resources: ['localsubjectaccessreviews'], verbs: ['create'] },
    { apiGroups: ['rbac.authorization.k8s.io'], resources: ['rolebindings', 'roles'], verbs: [...RW, ...RO] },
    ...editRules,
  ];
  const aggregate = (to: string) => ({ [`rbac.authorization.k8s.io/aggregate-to-${to}`]: 'true' });
  return [
    clusterRole('cluster-admin', [
      { apiGroups: ['*'], resources: ['*'], verbs: ['*'] },
      { nonResourceURLs: ['*'], verbs: ['*'] },
    ]),
    clusterRole('admin', adminRules),
    clusterRole('edit', editRules, aggregate('admin')),
    clusterRole('view', viewRules, aggregate('edit')),
    clusterRole('system:basic-user', [
      { apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'], verbs: ['create'] },
      { apiGroups: ['authentication.k8s.io'], resources: ['selfsubjectreviews'], verbs: ['create'] },
    ]),
    clusterRole('system:discovery', [
      {
        nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/openapi', '/openapi/*', '/readyz', '/version', '/version/'],
        verbs: ['get'],
      },
    ]),
    clusterRole('system:public-info-viewer', [
      { nonResourceURLs: ['/healthz', '/livez', '/readyz', '/version', '/version/'], verbs: ['get'] },
    ]),
    clusterRole('system:service-account-issuer-discovery', [
      {
        nonResourceURLs: ['/.well-known/openid-configuration', '/.well-known/openid-configuration/', '/openid/v1/jwks', '/openid/v1/jwks/'],
        verbs: ['get'],
      },
    ]),
    clusterRoleBinding('cluster-admin', 'cluster-admin', [group('system:masters')]),
    clusterRoleBinding('system:basic-user', 'system:basic-user', [group('system:authenticated')]),
    clusterRoleBinding('system:discovery', 'system:discovery', [group('system:authenticated')]),
    clusterRoleBinding('system:public-info-viewer', 'system:public-info-viewer', [group('system:authenticated'), group('system:unauthenticated')]),
    clusterRoleBinding('system:service-account-issuer-discovery', 'system:service-account-issuer-discovery', [group('system:serviceaccounts')]),
  ];
}
