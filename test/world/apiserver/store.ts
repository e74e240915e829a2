// In-memory object storage of one cluster: one global resourceVersion counter (like
// etcd's revision), objects kept as their JSON form, listed in key order like etcd.
// The public methods (get/put/list/delete) are for tests to seed and inspect state
// without HTTP: they count as no request and bypass authorization.
import { randomUUID } from 'node:crypto';
import { apiVersionOf, resolveType, typeKey, type ResourceType, findByKind, RESOURCE_TYPES } from './resources.js';

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string | null;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: unknown[];
  finalizers?: string[];
  managedFields?: unknown[];
  [key: string]: unknown;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  resource: ResourceType;
  object: KubeObject;
}

/** RFC 3339 at second precision, as metav1.Time marshals. */
export function timestamp(date = new Date()): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function keyOf(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

class TypeBucket {
  readonly objects = new Map<string, KubeObject>();
  private sorted: string[] | null = null;

  keys(): string[] {
    if (!this.sorted) this.sorted = [...this.objects.keys()].sort();
    return this.sorted;
  }

  set(key: string, obj: KubeObject): void {
    if (!this.objects.has(key)) this.sorted = null;
    this.objects.set(key, obj);
  }

  delete(key: string): boolean {
    this.sorted = null;
    return this.objects.delete(key);
  }
}

export class ObjectStore {
  private revision = 0;
  private readonly buckets = new Map<string, TypeBucket>();
  private readonly listeners = new Set<(event: WatchEvent) => void>();
  /** Called when a namespace is added (the cluster creates its default objects then). */
  onNamespaceAdded?: (name: string) => void;

  /** The current resourceVersion (the last one handed out). */
  get resourceVersion(): string {
    return String(this.revision);
  }

  nextResourceVersion(): string {
    return String(++this.revision);
  }

  private bucket(t: ResourceType): TypeBucket {
    const k = typeKey(t);
    let b = this.buckets.get(k);
    if (!b) this.buckets.set(k, (b = new TypeBucket()));
    return b;
  }

  // ---- internal API used by the HTTP handlers (no copies, no defaults) ----

  /** The stored object itself: callers must not mutate it. */
  peek(t: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.bucket(t).objects.get(keyOf(t.namespaced ? namespace : undefined, name));
  }

  /** Stored objects of a type in key order, optionally in one namespace; not copies. */
  scan(t: ResourceType, namespace?: string): KubeObject[] {
    const b = this.bucket(t);
    const keys = b.keys();
    const out: KubeObject[] = [];
    if (t.namespaced && namespace) {
      const prefix = `${namespace}/`;
      // keys are sorted, so the namespace is one contiguous run
      let i = lowerBound(keys, prefix);
      for (; i < keys.length && keys[i]!.startsWith(prefix); i++) out.push(b.objects.get(keys[i]!)!);
    } else {
      for (const k of keys) out.push(b.objects.get(k)!);
    }
    return out;
  }

  /** Sorted keys, for paging (`continue` resumes after a key). */
  sortedKeys(t: ResourceType): string[] {
    return this.bucket(t).keys();
  }

  objectAt(t: ResourceType, key: string): KubeObject | undefined {
    return this.bucket(t).objects.get(key);
  }

  /** Stores `obj` (already complete) under a fresh resourceVersion and tells watchers. */
  write(t: ResourceType, obj: KubeObject, type: 'ADDED' | 'MODIFIED'): KubeObject {
    obj.metadata.resourceVersion = this.nextResourceVersion();
    this.bucket(t).set(keyOf(t.namespaced ? obj.metadata.namespace : undefined, obj.metadata.name!), obj);
    this.emit({ type, resource: t, object: obj });
    if (type === 'ADDED' && t.kind === 'Namespace') this.onNamespaceAdded?.(obj.metadata.name!);
    return obj;
  }

  remove(t: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    const key = keyOf(t.namespaced ? namespace : undefined, name);
    const b = this.bucket(t);
    const obj = b.objects.get(key);
    if (!obj) return undefined;
    b.delete(key);
    const gone = { ...obj, metadata: { ...obj.metadata, resourceVersion: this.nextResourceVersion() } };
    this.emit({ type: 'DELETED', resource: t, object: gone });
    return gone;
  }

  subscribe(listener: (event: WatchEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(event: WatchEvent): void {
    for (const l of this.listeners) l(event);
  }

  // ---- public API for tests ----

  /** A copy of one object, or undefined. `type`: kind, plural, short name or resource.group. */
  get(type: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const obj = this.peek(resolveType(type), namespace, name);
    return obj ? structuredClone(obj) : undefined;
  }

  /** Copies of all objects of a type (in one namespace when given), in key order. */
  list(type: string, namespace?: string): KubeObject[] {
    return this.scan(resolveType(type), namespace).map((o) => structuredClone(o));
  }

  /**
   * Creates or replaces an object, filling in apiVersion, uid, creationTimestamp and a
   * new resourceVersion. Namespaced objects default to `default`, and their namespace is
   * created when missing, so seeding never depends on order. No validation.
   */
  put(obj: KubeObject, type?: string): KubeObject {
    const t = type ? resolveType(type) : obj.kind ? findByKind(obj.apiVersion, obj.kind) : undefined;
    if (!t) throw new Error(`put: cannot tell the resource type of ${JSON.stringify(obj.kind)}`);
    if (!obj.metadata?.name) throw new Error('put: metadata.name is required');
    const copy = structuredClone(obj);
    copy.apiVersion = apiVersionOf(t);
    copy.kind = t.kind;
    if (t.namespaced) {
      copy.metadata.namespace ??= 'default';
      this.ensureNamespace(copy.metadata.namespace);
    } else delete copy.metadata.namespace;
    const existing = this.peek(t, copy.metadata.namespace, copy.metadata.name!);
    copy.metadata.uid ??= existing?.metadata.uid ?? randomUUID();
    copy.metadata.creationTimestamp ??= existing?.metadata.creationTimestamp ?? timestamp();
    if (t.generation) copy.metadata.generation ??= (existing?.metadata.generation ?? 0) + 1;
    normalizeForStorage(t, copy);
    this.write(t, copy, existing ? 'MODIFIED' : 'ADDED');
    return structuredClone(copy);
  }

  /** Many objects at once (same as calling put for each). */
  seed(objects: KubeObject[]): void {
    for (const o of objects) this.put(o);
  }

  delete(type: string, namespace: string | undefined, name: string): boolean {
    return this.remove(resolveType(type), namespace, name) !== undefined;
  }

  ensureNamespace(name: string): void {
    const ns = RESOURCE_TYPES.find((t) => t.kind === 'Namespace')!;
    if (this.peek(ns, undefined, name)) return;
    this.write(
      ns,
      {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name, uid: randomUUID(), creationTimestamp: timestamp(), labels: { 'kubernetes.io/metadata.name': name } },
        spec: { finalizers: ['kubernetes'] },
        status: { phase: 'Active' },
      },
      'ADDED',
    );
  }
}

/** Storage-time normalisation shared by the store API and the HTTP writes. */
export function normalizeForStorage(t: ResourceType, obj: KubeObject): void {
  if (t.kind === 'Secret') {
    const stringData = obj.stringData as Record<string, string> | undefined;
    if (stringData) {
      const data = (obj.data as Record<string, string> | undefined) ?? {};
      for (const [k, v] of Object.entries(stringData)) data[k] = Buffer.from(String(v), 'utf8').toString('base64');
      obj.data = data;
      delete obj.stringData;
    }
    obj.type ??= 'Opaque';
  }
}

function lowerBound(keys: string[], target: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export { keyOf, lowerBound };
