// Discovery documents: legacy (/api, /apis, /api/v1, /apis/G/V), aggregated discovery
// (apidiscovery.k8s.io/v2 and v2beta1, which kubectl ≥ 1.30 asks for first and which
// saves it the per-group requests), and a minimal OpenAPI v3. kubectl apply/create use the
// OpenAPI v3 document only to learn that the server supports the `fieldValidation` query
// parameter for the kind (then they skip client-side schema validation and send
// `fieldValidation=Strict`); strategic-merge patch metadata falls back to kubectl's
// compiled-in types because the documents here do not offer strategic-merge content.
import { createHash } from 'node:crypto';
import { apiVersionOf, groupVersions, RESOURCE_TYPES, type ResourceType } from './resources.js';

// Every document below describes the types a cluster serves (`served`): all of them unless
// a test uninstalled a CRD.

export interface VersionInfo {
  major: string;
  minor: string;
  gitVersion: string;
}

export function versionDocument(v: VersionInfo): Record<string, unknown> {
  return {
    major: v.major,
    minor: v.minor,
    gitVersion: v.gitVersion,
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: '2025-04-22T16:00:00Z',
    goVersion: 'go1.23.8',
    compiler: 'gc',
    platform: 'linux/amd64',
  };
}

function storageVersionHash(t: ResourceType): string {
  return createHash('sha256').update(`${t.group}/${t.version}/${t.kind}`).digest('base64').slice(0, 11) + '=';
}

function legacyResources(t: ResourceType): Array<Record<string, unknown>> {
  const main: Record<string, unknown> = {
    name: t.resource,
    singularName: t.singular,
    namespaced: t.namespaced,
    kind: t.kind,
    verbs: t.verbs,
  };
  if (t.shortNames.length) main.shortNames = t.shortNames;
  if (t.categories.length) main.categories = t.categories;
  if (!t.virtual) main.storageVersionHash = storageVersionHash(t);
  const subs = t.subresources.map((s) => ({
    name: `${t.resource}/${s.name}`,
    singularName: '',
    namespaced: t.namespaced,
    group: s.group,
    version: s.version,
    kind: s.kind,
    verbs: s.verbs,
  }));
  return [main, ...subs];
}

export function apiVersions(serverAddress: string): Record<string, unknown> {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

export function apiGroupList(served: readonly ResourceType[] = RESOURCE_TYPES): Record<string, unknown> {
  const groups = groupVersions(served)
    .filter((gv) => gv.group !== '')
    .map((gv) => ({
      name: gv.group,
      versions: [{ groupVersion: `${gv.group}/${gv.version}`, version: gv.version }],
      preferredVersion: { groupVersion: `${gv.group}/${gv.version}`, version: gv.version },
    }));
  return { kind: 'APIGroupList', apiVersion: 'v1', groups };
}

export function apiGroup(group: string, served: readonly ResourceType[] = RESOURCE_TYPES): Record<string, unknown> | undefined {
  const gv = groupVersions(served).find((g) => g.group === group);
  if (!gv) return undefined;
  const v = { groupVersion: `${gv.group}/${gv.version}`, version: gv.version };
  return { kind: 'APIGroup', apiVersion: 'v1', name: group, versions: [v], preferredVersion: v };
}

export function apiResourceList(group: string, version: string, served: readonly ResourceType[] = RESOURCE_TYPES): Record<string, unknown> | undefined {
  const gv = groupVersions(served).find((g) => g.group === group && g.version === version);
  if (!gv) return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: apiVersionOf(gv),
    resources: gv.types.flatMap(legacyResources),
  };
}

// ---- aggregated discovery ----

export const AGGREGATED_V2 = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';
export const AGGREGATED_V2BETA1 = 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList';

/** Which aggregated discovery version the Accept header asks for first, if any. */
export function aggregatedVersion(accept: string | undefined): 'v2' | 'v2beta1' | undefined {
  for (const part of (accept ?? '').split(',')) {
    const params = part.split(';').map((p) => p.trim());
    if (!params.includes('as=APIGroupDiscoveryList') || !params.includes('g=apidiscovery.k8s.io')) continue;
    if (params.includes('v=v2')) return 'v2';
    if (params.includes('v=v2beta1')) return 'v2beta1';
  }
  return undefined;
}

function discoveryResource(t: ResourceType): Record<string, unknown> {
  const r: Record<string, unknown> = {
    resource: t.resource,
    responseKind: { group: t.group, version: t.version, kind: t.kind },
    scope: t.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: t.singular,
    verbs: t.verbs,
  };
  if (t.shortNames.length) r.shortNames = t.shortNames;
  if (t.categories.length) r.categories = t.categories;
  if (t.subresources.length) {
    r.subresources = t.subresources.map((s) => ({
      subresource: s.name,
      responseKind: { group: s.group, version: s.version, kind: s.kind },
      verbs: s.verbs,
    }));
  }
  return r;
}

export function aggregatedDiscovery(core: boolean, version: 'v2' | 'v2beta1', served: readonly ResourceType[] = RESOURCE_TYPES): Record<string, unknown> {
  const items = groupVersions(served)
    .filter((gv) => (gv.group === '') === core)
    .map((gv) => {
      const metadata: Record<string, unknown> = { creationTimestamp: null };
      if (gv.group) metadata.name = gv.group;
      return {
        metadata,
        versions: [{ version: gv.version, resources: gv.types.map(discoveryResource), freshness: 'Current' }],
      };
    });
  return { kind: 'APIGroupDiscoveryList', apiVersion: `apidiscovery.k8s.io/${version}`, metadata: {}, items };
}

// ---- OpenAPI v3 ----

function gvPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

const PATCH_CONTENT_BUILTIN = ['application/apply-patch+yaml', 'application/json-patch+json', 'application/merge-patch+json'];

function queryParam(name: string): Record<string, unknown> {
  return { name, in: 'query', schema: { type: 'string', uniqueItems: true } };
}

function operation(t: ResourceType, action: string, id: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    operationId: id,
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': { group: t.group, version: t.version, kind: t.kind },
    responses: { '200': { description: 'OK' } },
    ...extra,
  };
}

function writeParams(): Array<Record<string, unknown>> {
  return [queryParam('dryRun'), queryParam('fieldManager'), queryParam('fieldValidation')];
}

export function openApiGroupVersionDoc(group: string, version: string, gitVersion: string, served: readonly ResourceType[] = RESOURCE_TYPES): Record<string, unknown> | undefined {
  const gv = groupVersions(served).find((g) => g.group === group && g.version === version);
  if (!gv) return undefined;
  const paths: Record<string, unknown> = {};
  const base = `/${gvPath(group, version)}`;
  for (const t of gv.types) {
    const id = `${t.kind}`;
    const collection = t.namespaced ? `${base}/namespaces/{namespace}/${t.resource}` : `${base}/${t.resource}`;
    if (t.virtual) {
      paths[collection] = { post: operation(t, 'post', `create${id}`, { parameters: writeParams() }) };
      continue;
    }
    paths[collection] = {
      get: operation(t, 'list', `list${id}`),
      post: operation(t, 'post', `create${id}`, { parameters: writeParams() }),
      delete: operation(t, 'deletecollection', `deleteCollection${id}`),
    };
    paths[`${collection}/{name}`] = {
      get: operation(t, 'get', `read${id}`),
      put: operation(t, 'put', `replace${id}`, { parameters: writeParams() }),
      patch: operation(t, 'patch', `patch${id}`, {
        parameters: [...writeParams(), queryParam('force')],
        requestBody: { content: Object.fromEntries(PATCH_CONTENT_BUILTIN.map((c) => [c, { schema: { type: 'object' } }])) },
      }),
      delete: operation(t, 'delete', `delete${id}`, { parameters: [queryParam('dryRun')] }),
    };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: gitVersion }, paths, components: { schemas: {} } };
}

export function openApiRoot(gitVersion: string, served: readonly ResourceType[] = RESOURCE_TYPES): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (const gv of groupVersions(served)) {
    const doc = openApiGroupVersionDoc(gv.group, gv.version, gitVersion, served);
    const hash = createHash('sha512').update(JSON.stringify(doc)).digest('hex').toUpperCase();
    paths[gvPath(gv.group, gv.version)] = { serverRelativeURL: `/openapi/v3/${gvPath(gv.group, gv.version)}?hash=${hash}` };
  }
  return { paths };
}

export { RESOURCE_TYPES };
