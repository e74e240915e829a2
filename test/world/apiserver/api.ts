// REST semantics of the generic registry (k8s.io/apiserver/pkg/registry/generic) for the
// types served here: create/get/list/update/patch/delete/deletecollection with
// resourceVersion preconditions, dryRun, paging, selectors and validation; plus the
// special endpoints (TokenRequest, access reviews, self subject review, token review).
import { randomUUID } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import {
  ApiError,
  alreadyExists,
  badRequest,
  conflict,
  invalid,
  MODIFIED_CONFLICT,
  notFound,
  statusBody,
  type FieldError,
} from './errors.js';
import { decodeKubeProtobuf, PROTOBUF_CONTENT_TYPE } from './protobuf.js';
import { jsonPatch, mergePatch, PATCH_TYPES, strategicMergePatch } from './patch.js';
import { authorize, rulesFor, type Attributes, type UserInfo } from './rbac.js';
import { apiVersionOf, isCustomResource, RESOURCE_TYPES, type ResourceType } from './resources.js';
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from './selectors.js';
import { keyOf, lowerBound, normalizeForStorage, timestamp, type KubeObject, type ObjectStore } from './store.js';
import { toTable, wantsTable } from './table.js';
import type { TokenIssuer } from './tokens.js';
import { base64ErrorIndex, kindErrors, metadataErrors } from './validation.js';
import type { Faults, RequestRecord } from './faults.js';

export interface RequestContext {
  user: UserInfo;
  query: URLSearchParams;
  accept: string | undefined;
  userAgent: string | undefined;
  record: RequestRecord;
  /** `Warning` headers to send (299 - "…"). */
  warnings: string[];
}

export interface Body {
  contentType: string;
  raw: Buffer;
}

export type Reply =
  | { status: number; body: unknown; contentType?: string }
  | { watch: (send: (event: unknown) => void, end: () => void) => () => void; timeoutSeconds?: number };

const byResource = (resource: string): ResourceType => RESOURCE_TYPES.find((t) => t.resource === resource)!;

const GENERATE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

function generateSuffix(): string {
  let s = '';
  for (let i = 0; i < 5; i++) s += GENERATE_ALPHABET[Math.floor(Math.random() * GENERATE_ALPHABET.length)];
  return s;
}

function groupKind(t: ResourceType): string {
  return t.group ? `${t.kind}.${t.group}` : t.kind;
}

function mediaType(contentType: string): string {
  return (contentType.split(';')[0] ?? '').trim().toLowerCase();
}

/** Top-level fields each built-in kind knows, for fieldValidation (unknown fields). */
const KNOWN_FIELDS: Record<string, string[]> = {
  Secret: ['apiVersion', 'kind', 'metadata', 'data', 'stringData', 'type', 'immutable'],
  ConfigMap: ['apiVersion', 'kind', 'metadata', 'data', 'binaryData', 'immutable'],
  Namespace: ['apiVersion', 'kind', 'metadata', 'spec', 'status'],
  ServiceAccount: ['apiVersion', 'kind', 'metadata', 'secrets', 'imagePullSecrets', 'automountServiceAccountToken'],
  Role: ['apiVersion', 'kind', 'metadata', 'rules'],
  ClusterRole: ['apiVersion', 'kind', 'metadata', 'rules', 'aggregationRule'],
  RoleBinding: ['apiVersion', 'kind', 'metadata', 'subjects', 'roleRef'],
  ClusterRoleBinding: ['apiVersion', 'kind', 'metadata', 'subjects', 'roleRef'],
};
const KNOWN_META = [
  'name', 'generateName', 'namespace', 'selfLink', 'uid', 'resourceVersion', 'generation', 'creationTimestamp',
  'deletionTimestamp', 'deletionGracePeriodSeconds', 'labels', 'annotations', 'ownerReferences', 'finalizers', 'managedFields',
];

export interface ApiOptions {
  store: ObjectStore;
  issuer: TokenIssuer;
  faults: Faults;
}

interface ListPage {
  items: KubeObject[];
  continueToken?: string;
  remaining?: number;
}

export class Api {
  constructor(private readonly o: ApiOptions) {}

  private get store(): ObjectStore {
    return this.o.store;
  }

  // ---- decoding ----

  /** Decodes a create/update body (JSON, YAML or protobuf) into an object of type `t`. */
  decode(t: ResourceType, body: Body, ctx: RequestContext): KubeObject {
    const media = mediaType(body.contentType || 'application/json');
    let obj: unknown;
    if (media === PROTOBUF_CONTENT_TYPE) {
      try {
        obj = decodeKubeProtobuf(body.raw);
      } catch (e) {
        throw badRequest((e as Error).message);
      }
    } else if (media === 'application/json' || media === 'application/yaml' || media === '*/*') {
      const text = body.raw.toString('utf8');
      try {
        obj = media === 'application/yaml' ? parseYaml(text) : JSON.parse(text);
      } catch (e) {
        throw badRequest(`the body of the request was in an unknown format: ${(e as Error).message}`);
      }
      if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
        throw badRequest(`Object 'Kind' is missing in '${text.slice(0, 200)}'`);
      }
      this.checkJsonTypes(t, obj as KubeObject);
      this.checkUnknownFields(t, obj as KubeObject, ctx);
    } else {
      throw new ApiError(
        statusBody(
          415,
          'UnsupportedMediaType',
          `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf, application/cbor`,
        ),
      );
    }
    const o = obj as KubeObject;
    const expected = apiVersionOf(t);
    if (o.apiVersion !== undefined && o.apiVersion !== expected && !(t.virtual && o.apiVersion === '')) {
      throw badRequest(`the API version in the data (${o.apiVersion}) does not match the expected API version (${expected})`);
    }
    if (o.kind !== undefined && o.kind !== '' && o.kind !== t.kind) {
      throw badRequest(`${o.kind} in version "${t.version}" cannot be handled as a ${t.kind}: no kind "${o.kind}" is registered for the ${t.kind} endpoint`);
    }
    o.apiVersion = expected;
    o.kind = t.kind;
    if (o.metadata === undefined || o.metadata === null) o.metadata = {};
    if (typeof o.metadata !== 'object') throw badRequest(`${t.kind} in version "${t.version}" cannot be handled as a ${t.kind}: json: cannot unmarshal into Go struct field ${t.kind}.metadata of type v1.ObjectMeta`);
    return o;
  }

  /** JSON type errors the real decoder reports as 400 (base64 in Secret data, strings in ConfigMap data). */
  private checkJsonTypes(t: ResourceType, o: KubeObject): void {
    const fail = (detail: string) => {
      throw badRequest(`${t.kind} in version "${t.version}" cannot be handled as a ${t.kind}: ${detail}`);
    };
    const checkStrings = (field: string, goType: string) => {
      const map = o[field];
      if (map === undefined || map === null) return;
      if (typeof map !== 'object' || Array.isArray(map)) fail(`json: cannot unmarshal ${Array.isArray(map) ? 'array' : typeof map} into Go struct field ${t.kind}.${field} of type map[string]${goType}`);
      for (const v of Object.values(map as Record<string, unknown>)) {
        if (v !== null && typeof v !== 'string') fail(`json: cannot unmarshal ${typeof v} into Go struct field ${t.kind}.${field} of type ${goType}`);
      }
    };
    if (t.kind === 'Secret') {
      checkStrings('data', '[]uint8');
      checkStrings('stringData', 'string');
      for (const v of Object.values((o.data as Record<string, string | null>) ?? {})) {
        const idx = v === null ? -1 : base64ErrorIndex(v);
        if (idx >= 0) fail(`illegal base64 data at input byte ${idx}`);
      }
    }
    if (t.kind === 'ConfigMap') {
      checkStrings('data', 'string');
      checkStrings('binaryData', '[]uint8');
      for (const v of Object.values((o.binaryData as Record<string, string | null>) ?? {})) {
        const idx = v === null ? -1 : base64ErrorIndex(v);
        if (idx >= 0) fail(`illegal base64 data at input byte ${idx}`);
      }
    }
  }

  /** fieldValidation=Strict|Warn|Ignore for unknown fields (default Warn, as the server does). */
  private checkUnknownFields(t: ResourceType, o: KubeObject, ctx: RequestContext): void {
    const directive = ctx.query.get('fieldValidation') ?? 'Warn';
    if (!['Strict', 'Warn', 'Ignore'].includes(directive)) {
      throw badRequest(`fieldValidation must be one of "Ignore", "Warn", or "Strict", got "${directive}"`);
    }
    const known = KNOWN_FIELDS[t.kind];
    if (!known || directive === 'Ignore') return;
    const unknown: string[] = Object.keys(o).filter((k) => !known.includes(k));
    if (o.metadata && typeof o.metadata === 'object') {
      unknown.push(...Object.keys(o.metadata).filter((k) => !KNOWN_META.includes(k)).map((k) => `metadata.${k}`));
    }
    if (unknown.length === 0) return;
    if (directive === 'Strict') {
      const detail = unknown.map((f) => `unknown field "${f}"`).join(', ');
      throw badRequest(`strict decoding error: ${detail}`);
    }
    for (const f of unknown) ctx.warnings.push(`unknown field "${f}"`);
  }

  private dryRun(ctx: RequestContext, fromBody?: string[]): boolean {
    const values = [...ctx.query.getAll('dryRun'), ...(fromBody ?? [])];
    for (const v of values) if (v !== 'All') throw badRequest(`Invalid dryRun value: ${v}. Valid values are: All`);
    return values.length > 0;
  }

  private fieldManager(ctx: RequestContext): string {
    const m = ctx.query.get('fieldManager');
    if (m !== null) {
      if (m.length > 128) throw invalid('CreateOptions', 'meta.k8s.io', '', [{ type: 'FieldValueTooLong', field: 'fieldManager', detail: 'may not be longer than 128 characters' }]);
      return m;
    }
    // default: the user agent up to the first '/', as the apiserver does
    return (ctx.userAgent ?? 'unknown').split('/')[0] ?? 'unknown';
  }

  private touchManagedFields(t: ResourceType, obj: KubeObject, manager: string, operation: 'Update' | 'Apply'): void {
    const entries = ((obj.metadata.managedFields as Array<Record<string, unknown>> | undefined) ?? []).filter(
      (e) => !(e.manager === manager && e.operation === operation),
    );
    entries.push({ manager, operation, apiVersion: apiVersionOf(t), time: timestamp(), fieldsType: 'FieldsV1', fieldsV1: {} });
    obj.metadata.managedFields = entries;
  }

  private namespaceMustExist(t: ResourceType, namespace: string | undefined): void {
    if (!t.namespaced || !namespace) return;
    if (!this.store.peek(byResource('namespaces'), undefined, namespace)) throw notFound({ group: '', resource: 'namespaces' }, namespace);
  }

  private validate(t: ResourceType, obj: KubeObject, old?: KubeObject): void {
    const errors: FieldError[] = [...metadataErrors(t, obj), ...kindErrors(t, obj, old)];
    if (errors.length) throw invalid(groupKind(t), t.group, obj.metadata.name ?? '', errors);
  }

  /** Defaults and admission the real control plane applies on create. */
  private admitCreate(t: ResourceType, obj: KubeObject): void {
    if (t.kind === 'Namespace') {
      obj.metadata.labels = { ...(obj.metadata.labels ?? {}), 'kubernetes.io/metadata.name': obj.metadata.name! };
      obj.spec = { finalizers: ['kubernetes'], ...((obj.spec as object) ?? {}) };
      obj.status = { phase: 'Active' };
    }
    if (t.kind === 'Pod') {
      const spec = (obj.spec ?? {}) as Record<string, unknown>;
      spec.serviceAccountName ??= spec.serviceAccount ?? 'default';
      spec.serviceAccount = spec.serviceAccountName;
      obj.spec = spec;
      obj.status = { phase: 'Pending', ...((obj.status as object) ?? {}) };
      const sa = String(spec.serviceAccountName);
      if (!this.store.peek(byResource('serviceaccounts'), obj.metadata.namespace, sa)) {
        throw new ApiError(
          statusBody(403, 'Forbidden', `pods "${obj.metadata.name}" is forbidden: error looking up service account ${obj.metadata.namespace}/${sa}: serviceaccount "${sa}" not found`, {
            name: obj.metadata.name,
            kind: 'pods',
          }),
        );
      }
    }
  }

  private strip(t: ResourceType, obj: KubeObject, withType: boolean): KubeObject {
    if (withType) return obj;
    // typed lists of built-in kinds carry no apiVersion/kind on their items
    const { apiVersion: _a, kind: _k, ...rest } = obj;
    return isCustomResource(t) ? obj : (rest as KubeObject);
  }

  // ---- verbs ----

  get(t: ResourceType, namespace: string | undefined, name: string, ctx: RequestContext): Reply {
    const obj = this.store.peek(t, namespace, name);
    if (!obj) throw notFound(t, name);
    if (wantsTable(ctx.accept)) {
      return { status: 200, body: toTable(t, [obj], { resourceVersion: obj.metadata.resourceVersion }, ctx.query.get('includeObject')) };
    }
    return { status: 200, body: obj };
  }

  private page(t: ResourceType, namespace: string | undefined, ctx: RequestContext): ListPage & { resourceVersion: string } {
    const labels = parseLabelSelector(ctx.query.get('labelSelector'));
    const fields = parseFieldSelector(ctx.query.get('fieldSelector'), t.kind, t.namespaced);
    const limitParam = ctx.query.get('limit');
    const limit = limitParam ? Number(limitParam) : 0;
    if (limitParam && !(Number.isInteger(limit) && limit >= 0)) throw badRequest(`invalid limit: ${limitParam}`);
    let start = 0;
    let resourceVersion = this.store.resourceVersion;
    const keys = this.store.sortedKeys(t);
    const prefix = t.namespaced && namespace ? `${namespace}/` : '';
    const token = ctx.query.get('continue');
    if (token) {
      let decoded: { v?: string; rv?: number; start?: string };
      try {
        decoded = JSON.parse(Buffer.from(token, 'base64').toString('utf8'));
      } catch {
        throw badRequest('continue key is not valid: illegal base64 data at input byte 0');
      }
      if (decoded.v !== 'meta.k8s.io/v1' || typeof decoded.start !== 'string') {
        throw badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
      }
      if (typeof decoded.rv === 'number') resourceVersion = String(decoded.rv);
      start = lowerBound(keys, prefix + decoded.start);
    } else if (prefix) {
      start = lowerBound(keys, prefix);
    }
    const items: KubeObject[] = [];
    let i = start;
    let continueKey: string | undefined;
    for (; i < keys.length; i++) {
      const key = keys[i]!;
      if (prefix && !key.startsWith(prefix)) break;
      const obj = this.store.objectAt(t, key)!;
      if (labels.length && !matchesLabels(labels, obj.metadata.labels)) continue;
      if (fields.length && !matchesFields(fields, obj as Record<string, unknown>)) continue;
      if (limit > 0 && items.length === limit) {
        // more matching objects exist: hand out a token that resumes at this key
        continueKey = key.slice(prefix.length);
        break;
      }
      items.push(obj);
    }
    const result: ListPage & { resourceVersion: string } = { items, resourceVersion };
    if (continueKey !== undefined) {
      result.continueToken = Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: Number(resourceVersion), start: continueKey })).toString('base64');
      if (!labels.length && !fields.length) {
        let end = keys.length;
        if (prefix) end = lowerBound(keys, prefix.slice(0, -1) + '0'); // '0' sorts right after '/'
        result.remaining = end - i;
      }
    }
    return result;
  }

  list(t: ResourceType, namespace: string | undefined, ctx: RequestContext): Reply {
    const page = this.page(t, namespace, ctx);
    const metadata: Record<string, unknown> = { resourceVersion: page.resourceVersion };
    if (page.continueToken) metadata.continue = page.continueToken;
    if (page.remaining !== undefined) metadata.remainingItemCount = page.remaining;
    if (wantsTable(ctx.accept)) {
      return { status: 200, body: toTable(t, page.items, metadata, ctx.query.get('includeObject')) };
    }
    return {
      status: 200,
      body: { kind: t.listKind, apiVersion: apiVersionOf(t), metadata, items: page.items.map((o) => this.strip(t, o, false)) },
    };
  }

  watch(t: ResourceType, namespace: string | undefined, ctx: RequestContext): Reply {
    const labels = parseLabelSelector(ctx.query.get('labelSelector'));
    const fields = parseFieldSelector(ctx.query.get('fieldSelector'), t.kind, t.namespaced);
    const rv = ctx.query.get('resourceVersion');
    const table = wantsTable(ctx.accept);
    const timeout = Number(ctx.query.get('timeoutSeconds') ?? 0) || undefined;
    const includeObject = ctx.query.get('includeObject');
    const render = (type: string, obj: KubeObject) => ({
      type,
      object: table ? toTable(t, [obj], { resourceVersion: obj.metadata.resourceVersion }, includeObject) : obj,
    });
    const matches = (obj: KubeObject) =>
      (!t.namespaced || !namespace || obj.metadata.namespace === namespace) &&
      matchesLabels(labels, obj.metadata.labels) &&
      matchesFields(fields, obj as Record<string, unknown>);
    return {
      timeoutSeconds: timeout,
      watch: (send) => {
        // "" and "0" start with the current state as synthetic ADDED events
        if (!rv || rv === '0') for (const obj of this.store.scan(t, namespace)) if (matches(obj)) send(render('ADDED', obj));
        return this.store.subscribe((event) => {
          if (event.resource !== t || !matches(event.object)) return;
          send(render(event.type, event.object));
        });
      },
    };
  }

  create(t: ResourceType, namespace: string | undefined, body: Body, ctx: RequestContext): Reply {
    const obj = this.decode(t, body, ctx);
    const dryRun = this.dryRun(ctx);
    if (t.virtual) return this.review(t, namespace, obj, ctx);
    const meta = obj.metadata;
    if (t.namespaced) {
      if (meta.namespace && namespace && meta.namespace !== namespace) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      meta.namespace = namespace;
    } else delete meta.namespace;
    if (meta.resourceVersion) throw badRequest('resourceVersion should not be set on objects to be created');
    if (!meta.name && meta.generateName) meta.name = `${meta.generateName}${generateSuffix()}`;
    for (const k of ['uid', 'creationTimestamp', 'deletionTimestamp', 'selfLink', 'generation'] as const) delete meta[k];
    normalizeForStorage(t, obj);
    this.validate(t, obj);
    this.namespaceMustExist(t, meta.namespace);
    if (this.store.peek(t, meta.namespace, meta.name!)) throw alreadyExists(t, meta.name!);
    this.admitCreate(t, obj);
    meta.uid = randomUUID();
    meta.creationTimestamp = timestamp();
    if (t.generation) meta.generation = 1;
    this.touchManagedFields(t, obj, this.fieldManager(ctx), 'Update');
    if (dryRun) return { status: 201, body: obj };
    this.store.write(t, obj, 'ADDED');
    return { status: 201, body: obj };
  }

  /** PUT semantics, shared by update and patch (`unconditional`: patch without a resourceVersion). */
  private replace(
    t: ResourceType,
    namespace: string | undefined,
    name: string,
    obj: KubeObject,
    ctx: RequestContext,
    opts: { dryRun: boolean; unconditional: boolean; operation: 'Update' | 'Apply' },
  ): Reply {
    const existing = this.store.peek(t, namespace, name);
    if (!existing) throw notFound(t, name);
    const meta = obj.metadata;
    if (meta.name !== name) throw badRequest(`the name of the object (${meta.name ?? ''}) does not match the name on the URL (${name})`);
    if (t.namespaced) {
      if (meta.namespace && meta.namespace !== namespace) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      meta.namespace = namespace;
    } else delete meta.namespace;
    if (!meta.resourceVersion) {
      if (!t.allowUnconditionalUpdate && !opts.unconditional) {
        throw invalid(groupKind(t), t.group, name, [{ type: 'FieldValueInvalid', field: 'metadata.resourceVersion', value: 0, detail: 'must be specified for an update' }]);
      }
    } else if (meta.resourceVersion !== existing.metadata.resourceVersion) {
      throw conflict(t, name, MODIFIED_CONFLICT);
    }
    if (this.o.faults.takeConflict(ctx.record)) throw conflict(t, name, MODIFIED_CONFLICT);
    if (meta.uid && meta.uid !== existing.metadata.uid) {
      throw conflict(t, name, `Precondition failed: UID in precondition: ${meta.uid}, UID in object meta: ${existing.metadata.uid}`);
    }
    meta.uid = existing.metadata.uid;
    meta.creationTimestamp = existing.metadata.creationTimestamp;
    if (existing.metadata.deletionTimestamp) meta.deletionTimestamp = existing.metadata.deletionTimestamp;
    else delete meta.deletionTimestamp;
    delete meta.selfLink;
    // status lives in a subresource for these kinds: the main resource keeps the stored one
    if (t.kind === 'Pod' || t.kind === 'Namespace') obj.status = existing.status;
    normalizeForStorage(t, obj);
    this.validate(t, obj, existing);
    if (t.generation) {
      const specChanged = JSON.stringify(withoutMetaStatus(obj)) !== JSON.stringify(withoutMetaStatus(existing));
      meta.generation = (existing.metadata.generation ?? 1) + (specChanged ? 1 : 0);
    }
    meta.managedFields = existing.metadata.managedFields;
    meta.resourceVersion = existing.metadata.resourceVersion;
    // a no-op update is not written and keeps its resourceVersion, as with etcd3 storage
    if (canonical(obj) === canonical(existing)) return { status: 200, body: existing };
    this.touchManagedFields(t, obj, this.fieldManager(ctx), opts.operation);
    if (opts.dryRun) return { status: 200, body: obj };
    this.store.write(t, obj, 'MODIFIED');
    return { status: 200, body: obj };
  }

  update(t: ResourceType, namespace: string | undefined, name: string, body: Body, ctx: RequestContext): Reply {
    const obj = this.decode(t, body, ctx);
    return this.replace(t, namespace, name, obj, ctx, { dryRun: this.dryRun(ctx), unconditional: false, operation: 'Update' });
  }

  patch(t: ResourceType, namespace: string | undefined, name: string, body: Body, ctx: RequestContext): Reply {
    const media = mediaType(body.contentType);
    const dryRun = this.dryRun(ctx);
    const text = body.raw.toString('utf8');
    const parse = (): unknown => {
      try {
        return media === PATCH_TYPES.apply ? parseYaml(text) : JSON.parse(text);
      } catch (e) {
        throw badRequest(`error decoding patch: ${(e as Error).message}`);
      }
    };
    const existing = this.store.peek(t, namespace, name);
    let patched: unknown;
    switch (media) {
      case PATCH_TYPES.merge:
        if (!existing) throw notFound(t, name);
        patched = mergePatch(structuredClone(existing) as never, parse() as never);
        break;
      case PATCH_TYPES.json:
        if (!existing) throw notFound(t, name);
        patched = jsonPatch(structuredClone(existing) as never, parse());
        break;
      case PATCH_TYPES.strategic:
        if (isCustomResource(t)) {
          throw new ApiError(
            statusBody(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`),
          );
        }
        if (!existing) throw notFound(t, name);
        patched = strategicMergePatch(structuredClone(existing) as never, parse() as never);
        break;
      case PATCH_TYPES.apply: {
        // server-side apply, simplified: create when missing, else merge the applied
        // configuration over the live object (field ownership is not tracked)
        if (!ctx.query.get('fieldManager')) {
          throw invalid('PatchOptions', 'meta.k8s.io', '', [{ type: 'FieldValueRequired', field: 'fieldManager', detail: 'is required for apply patch' }]);
        }
        const applied = parse() as KubeObject;
        if (!applied || typeof applied !== 'object') throw badRequest('error decoding YAML: not an object');
        applied.metadata = { ...(applied.metadata ?? {}), name };
        if (!existing) {
          const raw = Buffer.from(JSON.stringify(applied));
          const reply = this.create(t, namespace, { contentType: 'application/json', raw }, ctx);
          if ('status' in reply) reply.status = 201;
          return reply;
        }
        this.checkJsonTypes(t, applied);
        patched = mergePatch(structuredClone(existing) as never, applied as never);
        const obj = patched as KubeObject;
        if (!(applied.metadata as Record<string, unknown>).resourceVersion) delete obj.metadata.resourceVersion;
        return this.replace(t, namespace, name, obj, ctx, { dryRun, unconditional: true, operation: 'Apply' });
      }
      default:
        throw new ApiError(
          statusBody(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`),
        );
    }
    if (!patched || typeof patched !== 'object' || Array.isArray(patched)) throw badRequest('patched object is not an object');
    const obj = patched as KubeObject;
    obj.metadata ??= {};
    this.checkJsonTypes(t, obj);
    obj.apiVersion = apiVersionOf(t);
    obj.kind = t.kind;
    // a patch carrying metadata.resourceVersion is a precondition; otherwise unconditional
    return this.replace(t, namespace, name, obj, ctx, { dryRun, unconditional: true, operation: 'Update' });
  }

  private deleteOptions(body: Body | undefined, ctx: RequestContext): { preconditions?: { uid?: string; resourceVersion?: string }; dryRun: boolean } {
    let opts: { preconditions?: { uid?: string; resourceVersion?: string }; dryRun?: string[] } = {};
    if (body && body.raw.length > 0) {
      const media = mediaType(body.contentType || 'application/json');
      try {
        if (media === PROTOBUF_CONTENT_TYPE) opts = decodeKubeProtobuf(body.raw) as typeof opts;
        else opts = JSON.parse(body.raw.toString('utf8'));
      } catch (e) {
        throw badRequest(`the body of the request was in an unknown format: ${(e as Error).message}`);
      }
    }
    return { preconditions: opts.preconditions ?? undefined, dryRun: this.dryRun(ctx, opts.dryRun) };
  }

  private deleteOne(t: ResourceType, namespace: string | undefined, name: string, pre: { uid?: string; resourceVersion?: string } | undefined, dryRun: boolean): KubeObject {
    const existing = this.store.peek(t, namespace, name);
    if (!existing) throw notFound(t, name);
    if (pre?.uid && pre.uid !== existing.metadata.uid) {
      throw conflict(t, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${existing.metadata.uid}`);
    }
    if (pre?.resourceVersion && pre.resourceVersion !== existing.metadata.resourceVersion) {
      throw conflict(t, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${existing.metadata.resourceVersion}`);
    }
    if (dryRun) return existing;
    if (t.kind === 'Namespace') {
      // the namespace controller empties it; here at once
      for (const nt of RESOURCE_TYPES) if (nt.namespaced && !nt.virtual) for (const o of this.store.scan(nt, name)) this.store.remove(nt, name, o.metadata.name!);
    }
    return this.store.remove(t, namespace, name)!;
  }

  delete(t: ResourceType, namespace: string | undefined, name: string, body: Body | undefined, ctx: RequestContext): Reply {
    const { preconditions, dryRun } = this.deleteOptions(body, ctx);
    const gone = this.deleteOne(t, namespace, name, preconditions, dryRun);
    if (t.kind === 'Namespace') {
      const ns = structuredClone(gone);
      ns.metadata.deletionTimestamp = timestamp();
      ns.status = { phase: 'Terminating' };
      return { status: 200, body: ns };
    }
    if (t.returnDeletedObject) return { status: 200, body: gone };
    // metav1.Status of a successful delete: no code, no message
    const details: Record<string, unknown> = { name };
    if (t.group) details.group = t.group;
    details.kind = t.resource;
    details.uid = gone.metadata.uid;
    return { status: 200, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details } };
  }

  deleteCollection(t: ResourceType, namespace: string | undefined, body: Body | undefined, ctx: RequestContext): Reply {
    const { dryRun } = this.deleteOptions(body, ctx);
    const listCtx = { ...ctx, query: new URLSearchParams(ctx.query) };
    listCtx.query.delete('limit');
    listCtx.query.delete('continue');
    const { items } = this.page(t, namespace, listCtx);
    const deleted = items.map((o) => this.deleteOne(t, o.metadata.namespace, o.metadata.name!, undefined, dryRun));
    return {
      status: 200,
      body: { kind: t.listKind, apiVersion: apiVersionOf(t), metadata: { resourceVersion: this.store.resourceVersion }, items: deleted.map((o) => this.strip(t, o, false)) },
    };
  }

  // ---- special endpoints ----

  async tokenRequest(namespace: string, name: string, body: Body, ctx: RequestContext): Promise<Reply> {
    const req = this.decodeTyped(body, 'authentication.k8s.io/v1', 'TokenRequest');
    this.dryRun(ctx);
    const sa = this.store.peek(byResource('serviceaccounts'), namespace, name);
    if (!sa) throw notFound({ group: '', resource: 'serviceaccounts' }, name);
    const spec = (req.spec ?? {}) as {
      audiences?: string[];
      expirationSeconds?: number;
      boundObjectRef?: { kind?: string; apiVersion?: string; name?: string; uid?: string } | null;
    };
    const expirationSeconds = spec.expirationSeconds ?? 3600;
    const errors: FieldError[] = [];
    if (expirationSeconds < 600) errors.push({ type: 'FieldValueInvalid', field: 'spec.expirationSeconds', value: expirationSeconds, detail: 'may not specify a duration less than 10 minutes' });
    if (expirationSeconds > 2 ** 32) errors.push({ type: 'FieldValueTooLong', field: 'spec.expirationSeconds', detail: 'may not specify a duration larger than 2^32 seconds' });
    if (errors.length) throw invalid('TokenRequest.authentication.k8s.io', 'authentication.k8s.io', name, errors);
    const audiences = spec.audiences?.length ? spec.audiences : this.o.issuer.apiAudiences;
    let pod: { name: string; uid: string } | undefined;
    let secret: { name: string; uid: string } | undefined;
    const ref = spec.boundObjectRef;
    if (ref && (ref.kind || ref.name)) {
      if (ref.kind !== 'Pod' && ref.kind !== 'Secret') {
        throw badRequest(`cannot bind token to object of type ${ref.kind ?? ''}`);
      }
      if ((ref.apiVersion ?? 'v1') !== 'v1') throw badRequest(`cannot bind token to object of type ${ref.apiVersion}, ${ref.kind}`);
      const rt = byResource(ref.kind === 'Pod' ? 'pods' : 'secrets');
      const target = this.store.peek(rt, namespace, ref.name ?? '');
      if (!target) throw notFound(rt, ref.name ?? '');
      if (ref.uid && ref.uid !== target.metadata.uid) {
        throw conflict(
          { group: '', resource: ref.kind },
          ref.name ?? '',
          `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`,
        );
      }
      if (ref.kind === 'Pod') {
        const podSa = (target.spec as { serviceAccountName?: string } | undefined)?.serviceAccountName ?? 'default';
        if (podSa !== name) throw badRequest(`cannot bind token for serviceaccount "${name}" to pod running with different serviceaccount name.`);
        pod = { name: target.metadata.name!, uid: target.metadata.uid! };
      } else secret = { name: target.metadata.name!, uid: target.metadata.uid! };
    }
    const issued = await this.o.issuer.issue({
      namespace,
      name,
      serviceAccountUid: sa.metadata.uid!,
      audiences,
      expirationSeconds,
      pod,
      secret,
    });
    return {
      status: 201,
      body: {
        kind: 'TokenRequest',
        apiVersion: 'authentication.k8s.io/v1',
        metadata: { name, namespace, creationTimestamp: null },
        spec: { audiences, expirationSeconds, boundObjectRef: ref && (ref.kind || ref.name) ? { ...ref, apiVersion: ref.apiVersion ?? 'v1' } : null },
        status: { token: issued.token, expirationTimestamp: timestamp(issued.expiresAt) },
      },
    };
  }

  private decodeTyped(body: Body, apiVersion: string, kind: string): KubeObject {
    const media = mediaType(body.contentType || 'application/json');
    let obj: KubeObject;
    try {
      obj = media === PROTOBUF_CONTENT_TYPE ? (decodeKubeProtobuf(body.raw) as KubeObject) : JSON.parse(body.raw.toString('utf8'));
    } catch (e) {
      throw badRequest((e as Error).message);
    }
    if (obj.kind && obj.kind !== kind) throw badRequest(`no kind "${obj.kind}" is registered for version "${apiVersion}" in scheme`);
    return obj;
  }

  private review(t: ResourceType, namespace: string | undefined, obj: KubeObject, ctx: RequestContext): Reply {
    const base = { kind: t.kind, apiVersion: apiVersionOf(t), metadata: { ...obj.metadata, creationTimestamp: null } };
    const spec = (obj.spec ?? {}) as Record<string, unknown>;
    const reply = (extra: Record<string, unknown>) => ({ status: 201, body: { ...base, ...extra } });
    switch (t.kind) {
      case 'SelfSubjectAccessReview':
      case 'SubjectAccessReview':
      case 'LocalSubjectAccessReview': {
        let user = ctx.user;
        if (t.kind !== 'SelfSubjectAccessReview') {
          const u = spec.user as string | undefined;
          const groups = (spec.groups as string[] | undefined) ?? [];
          if (!u && groups.length === 0) {
            throw invalid(groupKind(t), t.group, obj.metadata.name ?? '', [{ type: 'FieldValueInvalid', field: 'spec.user', value: '', detail: 'at least one of user or group must be specified' }]);
          }
          user = { username: u ?? '', groups, uid: spec.uid as string | undefined, extra: spec.extra as Record<string, string[]> | undefined };
        }
        const ra = spec.resourceAttributes as Record<string, string> | undefined;
        const nra = spec.nonResourceAttributes as Record<string, string> | undefined;
        if (!!ra === !!nra) {
          throw invalid(groupKind(t), t.group, obj.metadata.name ?? '', [
            { type: 'FieldValueInvalid', field: 'spec.resourceAttributes', value: 'null', detail: 'exactly one of nonResourceAttributes or resourceAttributes must be specified' },
          ]);
        }
        if (t.kind === 'LocalSubjectAccessReview' && ra && ra.namespace !== namespace) {
          throw invalid(groupKind(t), t.group, obj.metadata.name ?? '', [{ type: 'FieldValueInvalid', field: 'spec.resourceAttributes.namespace', value: ra.namespace ?? '', detail: 'must match metadata.namespace' }]);
        }
        const attrs: Attributes = ra
          ? {
              user,
              verb: ra.verb ?? '',
              resourceRequest: true,
              namespace: ra.namespace || undefined,
              apiGroup: ra.group ?? '',
              apiVersion: ra.version,
              resource: ra.resource ?? '',
              subresource: ra.subresource || undefined,
              name: ra.name || undefined,
            }
          : { user, verb: nra!.verb ?? '', resourceRequest: false, path: nra!.path ?? '' };
        const decision = authorize(this.store, attrs);
        const status: Record<string, unknown> = { allowed: decision.allowed };
        if (decision.reason) status.reason = decision.reason;
        if (decision.evaluationError) status.evaluationError = decision.evaluationError;
        return reply({ spec, status });
      }
      case 'SelfSubjectRulesReview': {
        const ns = (spec.namespace as string | undefined) ?? '';
        const { rules, errors } = rulesFor(this.store, ctx.user, ns);
        const resourceRules = rules
          .filter((r) => !r.nonResourceURLs?.length)
          .map((r) => ({ verbs: r.verbs, apiGroups: r.apiGroups ?? [], resources: r.resources ?? [], ...(r.resourceNames?.length ? { resourceNames: r.resourceNames } : {}) }));
        const nonResourceRules = rules.filter((r) => r.nonResourceURLs?.length).map((r) => ({ verbs: r.verbs, nonResourceURLs: r.nonResourceURLs }));
        const status: Record<string, unknown> = { resourceRules, nonResourceRules, incomplete: false };
        if (errors.length) status.evaluationError = errors.join(', ');
        return reply({ spec, status });
      }
      case 'SelfSubjectReview': {
        const userInfo: Record<string, unknown> = { username: ctx.user.username };
        if (ctx.user.uid) userInfo.uid = ctx.user.uid;
        userInfo.groups = ctx.user.groups;
        if (ctx.user.extra && Object.keys(ctx.user.extra).length) userInfo.extra = ctx.user.extra;
        return reply({ status: { userInfo } });
      }
      case 'TokenReview':
        throw new Error('TokenReview is answered by the server (needs authentication)');
      default:
        throw badRequest(`${t.kind} cannot be created`);
    }
  }
}

function withoutMetaStatus(o: KubeObject): Record<string, unknown> {
  const { metadata: _m, status: _s, ...rest } = o;
  return rest;
}

/** Stable JSON for no-op detection (key order independent). */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return v;
  });
}

export { keyOf };
