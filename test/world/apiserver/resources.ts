// The resource types the stand-in serves: what discovery advertises, how objects are
// stored (namespaced or not) and which validation applies. Kept as data so discovery,
// routing, the store and the OpenAPI document cannot disagree.

export type NameRule = 'subdomain' | 'label' | 'path';

export interface SubresourceType {
  name: string;
  group: string;
  version: string;
  kind: string;
  verbs: string[];
}

export interface ResourceType {
  group: string;
  version: string;
  /** Plural resource name, as in the URL. */
  resource: string;
  kind: string;
  listKind: string;
  singular: string;
  namespaced: boolean;
  verbs: string[];
  shortNames: string[];
  categories: string[];
  nameRule: NameRule;
  /** PUT without metadata.resourceVersion is allowed (false for custom resources). */
  allowUnconditionalUpdate: boolean;
  /** metadata.generation is maintained (custom resources). */
  generation: boolean;
  /** DELETE answers with the deleted object instead of a Status (custom resources). */
  returnDeletedObject: boolean;
  /** Create-only review types (SubjectAccessReview …): answered, never stored. */
  virtual: boolean;
  subresources: SubresourceType[];
}

const CRUD = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

function type(t: Partial<ResourceType> & Pick<ResourceType, 'group' | 'version' | 'resource' | 'kind' | 'namespaced'>): ResourceType {
  return {
    listKind: `${t.kind}List`,
    singular: t.kind.toLowerCase(),
    verbs: CRUD,
    shortNames: [],
    categories: [],
    nameRule: 'subdomain',
    allowUnconditionalUpdate: true,
    generation: false,
    returnDeletedObject: false,
    virtual: false,
    subresources: [],
    ...t,
  };
}

export const RESOURCE_TYPES: readonly ResourceType[] = [
  type({ group: '', version: 'v1', resource: 'namespaces', kind: 'Namespace', namespaced: false, nameRule: 'label', shortNames: ['ns'], verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] }),
  type({ group: '', version: 'v1', resource: 'secrets', kind: 'Secret', namespaced: true }),
  type({ group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', namespaced: true, shortNames: ['cm'] }),
  type({
    group: '', version: 'v1', resource: 'serviceaccounts', kind: 'ServiceAccount', namespaced: true, shortNames: ['sa'],
    subresources: [{ name: 'token', group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest', verbs: ['create'] }],
  }),
  type({ group: '', version: 'v1', resource: 'pods', kind: 'Pod', namespaced: true, shortNames: ['po'], categories: ['all'] }),
  type({ group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'roles', kind: 'Role', namespaced: true, nameRule: 'path' }),
  type({ group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'rolebindings', kind: 'RoleBinding', namespaced: true, nameRule: 'path' }),
  type({ group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'clusterroles', kind: 'ClusterRole', namespaced: false, nameRule: 'path' }),
  type({ group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'clusterrolebindings', kind: 'ClusterRoleBinding', namespaced: false, nameRule: 'path' }),
  type({ group: 'authorization.k8s.io', version: 'v1', resource: 'selfsubjectaccessreviews', kind: 'SelfSubjectAccessReview', namespaced: false, verbs: ['create'], virtual: true }),
  type({ group: 'authorization.k8s.io', version: 'v1', resource: 'selfsubjectrulesreviews', kind: 'SelfSubjectRulesReview', namespaced: false, verbs: ['create'], virtual: true }),
  type({ group: 'authorization.k8s.io', version: 'v1', resource: 'subjectaccessreviews', kind: 'SubjectAccessReview', namespaced: false, verbs: ['create'], virtual: true }),
  type({ group: 'authorization.k8s.io', version: 'v1', resource: 'localsubjectaccessreviews', kind: 'LocalSubjectAccessReview', namespaced: true, verbs: ['create'], virtual: true }),
  type({ group: 'authentication.k8s.io', version: 'v1', resource: 'selfsubjectreviews', kind: 'SelfSubjectReview', namespaced: false, verbs: ['create'], virtual: true }),
  type({ group: 'authentication.k8s.io', version: 'v1', resource: 'tokenreviews', kind: 'TokenReview', namespaced: false, verbs: ['create'], virtual: true }),
  type({
    group: 'argoproj.io', version: 'v1alpha1', resource: 'appprojects', kind: 'AppProject', namespaced: true,
    shortNames: ['appproj', 'appprojs'], allowUnconditionalUpdate: false, generation: true, returnDeletedObject: true,
  }),
  type({
    group: 'argoproj.io', version: 'v1alpha1', resource: 'applications', kind: 'Application', namespaced: true,
    shortNames: ['app', 'apps'], allowUnconditionalUpdate: false, generation: true, returnDeletedObject: true,
  }),
];

/** Custom resource types: a test may uninstall their CRD (404 everywhere, gone from discovery). */
export function isCustomResource(t: ResourceType): boolean {
  return t.group === 'argoproj.io';
}

export function apiVersionOf(t: { group: string; version: string }): string {
  return t.group ? `${t.group}/${t.version}` : t.version;
}

export function typeKey(t: { group: string; resource: string }): string {
  return `${t.group}/${t.resource}`;
}

/** Group versions in discovery order, core first. */
export function groupVersions(served: readonly ResourceType[] = RESOURCE_TYPES): Array<{ group: string; version: string; types: ResourceType[] }> {
  const out: Array<{ group: string; version: string; types: ResourceType[] }> = [];
  for (const t of served) {
    let gv = out.find((g) => g.group === t.group && g.version === t.version);
    if (!gv) out.push((gv = { group: t.group, version: t.version, types: [] }));
    gv.types.push(t);
  }
  return out;
}

export function findByPath(group: string, version: string, resource: string): ResourceType | undefined {
  return RESOURCE_TYPES.find((t) => t.group === group && t.version === version && t.resource === resource);
}

/**
 * Resolves what a test names: a kind (`Secret`), a plural (`secrets`), a short name (`cm`)
 * or `resource.group` (`appprojects.argoproj.io`).
 */
export function resolveType(name: string): ResourceType {
  const lower = name.toLowerCase();
  const found = RESOURCE_TYPES.find(
    (t) =>
      t.kind === name ||
      t.resource === lower ||
      t.singular === lower ||
      t.shortNames.includes(lower) ||
      (t.group && `${t.resource}.${t.group}` === lower) ||
      (t.group && `${t.kind.toLowerCase()}.${t.group}` === lower),
  );
  if (!found) throw new Error(`unknown resource type ${JSON.stringify(name)}`);
  return found;
}

export function findByKind(apiVersion: string | undefined, kind: string): ResourceType | undefined {
  return RESOURCE_TYPES.find((t) => t.kind === kind && (apiVersion === undefined || apiVersionOf(t) === apiVersion));
}
