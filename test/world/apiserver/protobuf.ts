// Decoder for Kubernetes protobuf request bodies (`application/vnd.kubernetes.protobuf`).
// kubectl's typed commands (`create secret`, `create token`, `auth can-i`, `create role`…)
// send them. Wire format: magic `k8s\0`, then runtime.Unknown {1 typeMeta{1 apiVersion,
// 2 kind}, 2 raw, 3 contentEncoding, 4 contentType}; `raw` is the object in the field
// numbering of k8s.io/api's generated.proto. Only the types the stand-in serves are
// described; unknown fields are skipped. Output is the object's JSON form (bytes as
// base64, Time as RFC 3339), with Go's `omitempty` applied to non-pointer zero values.

export const PROTOBUF_MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);
export const PROTOBUF_CONTENT_TYPE = 'application/vnd.kubernetes.protobuf';

type Scalar = 'string' | 'bytes' | 'bool' | 'int64' | 'int32' | 'time';

export interface Field {
  name: string;
  type: Scalar | MessageSchema;
  repeated?: boolean;
  /** map<string, type> (entries: 1 key, 2 value). */
  map?: boolean;
  /** Pointer field in Go: present means set, so zero values are kept. */
  keep?: boolean;
  /** Replace a decoded message by one of its properties (ExtraValue → its items). */
  unwrap?: string;
}

export interface MessageSchema {
  [fieldNumber: number]: Field;
}

// ---- wire reader ----

class Reader {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.buf.length) throw new Error('protobuf: truncated varint');
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 70n) throw new Error('protobuf: varint too long');
    }
  }

  bytes(): Uint8Array {
    const len = Number(this.varint());
    if (this.pos + len > this.buf.length) throw new Error('protobuf: truncated length-delimited field');
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else throw new Error(`protobuf: unsupported wire type ${wire}`);
    if (this.pos > this.buf.length) throw new Error('protobuf: truncated field');
  }
}

/** Raw view of a message: field number → values (for tests and debugging). */
export function decodeRaw(buf: Uint8Array): Array<{ field: number; wire: number; value: bigint | Uint8Array }> {
  const r = new Reader(buf);
  const out: Array<{ field: number; wire: number; value: bigint | Uint8Array }> = [];
  while (!r.done) {
    const tag = Number(r.varint());
    const field = tag >>> 3;
    const wire = tag & 7;
    if (wire === 0) out.push({ field, wire, value: r.varint() });
    else if (wire === 2) out.push({ field, wire, value: r.bytes() });
    else {
      const start = r.pos;
      r.skip(wire);
      out.push({ field, wire, value: r.buf.subarray(start, r.pos) });
    }
  }
  return out;
}

function toInt(v: bigint, bits: 32 | 64): number {
  return Number(bits === 64 ? BigInt.asIntN(64, v) : BigInt.asIntN(32, v));
}

function timeString(msg: Uint8Array): string | null {
  let seconds = 0;
  for (const f of decodeRaw(msg)) if (f.field === 1 && f.wire === 0) seconds = toInt(f.value as bigint, 64);
  if (seconds === 0) return null;
  return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function readScalar(type: Scalar, value: bigint | Uint8Array): unknown {
  switch (type) {
    case 'string':
      return Buffer.from(value as Uint8Array).toString('utf8');
    case 'bytes':
      return Buffer.from(value as Uint8Array).toString('base64');
    case 'bool':
      return (value as bigint) !== 0n;
    case 'int64':
      return toInt(value as bigint, 64);
    case 'int32':
      return toInt(value as bigint, 32);
    case 'time':
      return timeString(value as Uint8Array);
  }
}

function isZero(v: unknown): boolean {
  if (v === null || v === undefined || v === '' || v === 0 || v === false) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') return Object.keys(v as object).length === 0;
  return false;
}

export function decodeMessage(buf: Uint8Array, schema: MessageSchema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const present = new Set<string>();
  for (const { field, wire, value } of decodeRaw(buf)) {
    const spec = schema[field];
    if (!spec) continue;
    let decoded: unknown;
    if (spec.map) {
      let key = '';
      let val: unknown = typeof spec.type === 'object' ? {} : spec.type === 'bytes' || spec.type === 'string' ? '' : undefined;
      for (const e of decodeRaw(value as Uint8Array)) {
        if (e.field === 1) key = Buffer.from(e.value as Uint8Array).toString('utf8');
        if (e.field === 2) {
          val = typeof spec.type === 'object' ? decodeMessage(e.value as Uint8Array, spec.type) : readScalar(spec.type, e.value);
        }
      }
      if (spec.unwrap && val && typeof val === 'object') val = (val as Record<string, unknown>)[spec.unwrap] ?? [];
      const map = (out[spec.name] as Record<string, unknown> | undefined) ?? {};
      map[key] = val;
      out[spec.name] = map;
      present.add(spec.name);
      continue;
    }
    if (typeof spec.type === 'object') {
      decoded = decodeMessage(value as Uint8Array, spec.type);
      if (spec.unwrap) decoded = (decoded as Record<string, unknown>)[spec.unwrap] ?? [];
    } else if (wire === 2 && spec.type !== 'string' && spec.type !== 'bytes' && spec.type !== 'time') {
      // packed repeated scalars
      const r = new Reader(value as Uint8Array);
      const list = (out[spec.name] as unknown[] | undefined) ?? [];
      while (!r.done) list.push(readScalar(spec.type, r.varint()));
      out[spec.name] = list;
      present.add(spec.name);
      continue;
    } else {
      decoded = readScalar(spec.type, value);
    }
    if (spec.repeated) {
      const list = (out[spec.name] as unknown[] | undefined) ?? [];
      list.push(decoded);
      out[spec.name] = list;
    } else {
      out[spec.name] = decoded;
    }
    present.add(spec.name);
  }
  // Go's encoding/json omitempty: gogo-protobuf writes non-pointer fields even when zero
  for (const spec of Object.values(schema) as Field[]) {
    if (!present.has(spec.name)) continue;
    const v = out[spec.name];
    if (spec.keep) continue;
    if (isZero(v)) delete out[spec.name];
  }
  return out;
}

// ---- schemas (k8s.io/api and k8s.io/apimachinery generated.proto field numbers) ----

const S = (name: string, extra: Partial<Field> = {}): Field => ({ name, type: 'string', ...extra });
const RS = (name: string): Field => ({ name, type: 'string', repeated: true });
const M = (name: string, type: MessageSchema, extra: Partial<Field> = {}): Field => ({ name, type, ...extra });

const OwnerReference: MessageSchema = {
  1: S('kind'),
  3: S('name'),
  4: S('uid'),
  5: S('apiVersion'),
  6: { name: 'controller', type: 'bool', keep: true },
  7: { name: 'blockOwnerDeletion', type: 'bool', keep: true },
};

export const ObjectMeta: MessageSchema = {
  1: S('name'),
  2: S('generateName'),
  3: S('namespace'),
  4: S('selfLink'),
  5: S('uid'),
  6: S('resourceVersion'),
  7: { name: 'generation', type: 'int64' },
  8: { name: 'creationTimestamp', type: 'time' },
  9: { name: 'deletionTimestamp', type: 'time' },
  10: { name: 'deletionGracePeriodSeconds', type: 'int64', keep: true },
  11: { name: 'labels', type: 'string', map: true },
  12: { name: 'annotations', type: 'string', map: true },
  13: M('ownerReferences', OwnerReference, { repeated: true }),
  14: RS('finalizers'),
};

const meta = M('metadata', ObjectMeta, { keep: true });

const LabelSelector: MessageSchema = {
  1: { name: 'matchLabels', type: 'string', map: true },
  2: M('matchExpressions', { 1: S('key'), 2: S('operator'), 3: RS('values') }, { repeated: true }),
};

const ObjectReference: MessageSchema = {
  1: S('kind'), 2: S('namespace'), 3: S('name'), 4: S('uid'), 5: S('apiVersion'), 6: S('resourceVersion'), 7: S('fieldPath'),
};

const PolicyRule: MessageSchema = { 1: RS('verbs'), 2: RS('apiGroups'), 3: RS('resources'), 4: RS('resourceNames'), 5: RS('nonResourceURLs') };
const Subject: MessageSchema = { 1: S('kind'), 2: S('apiGroup'), 3: S('name'), 4: S('namespace') };
const RoleRef: MessageSchema = { 1: S('apiGroup'), 2: S('kind'), 3: S('name') };

const ResourceAttributes: MessageSchema = {
  1: S('namespace'), 2: S('verb'), 3: S('group'), 4: S('version'), 5: S('resource'), 6: S('subresource'), 7: S('name'),
  8: M('fieldSelector', { 1: S('rawSelector') }),
  9: M('labelSelector', { 1: S('rawSelector') }),
};
const NonResourceAttributes: MessageSchema = { 1: S('path'), 2: S('verb') };
const ExtraValue: MessageSchema = { 1: RS('items') };
const SubjectAccessReviewSpec: MessageSchema = {
  1: M('resourceAttributes', ResourceAttributes, { keep: true }),
  2: M('nonResourceAttributes', NonResourceAttributes, { keep: true }),
  3: S('user'),
  4: RS('groups'),
  5: { name: 'extra', type: ExtraValue, map: true, unwrap: 'items' },
  6: S('uid'),
};

const Container: MessageSchema = { 1: S('name'), 2: S('image'), 3: RS('command'), 4: RS('args'), 5: S('workingDir') };

const DeleteOptions: MessageSchema = {
  1: { name: 'gracePeriodSeconds', type: 'int64', keep: true },
  2: M('preconditions', { 1: S('uid', { keep: true }), 2: S('resourceVersion', { keep: true }) }, { keep: true }),
  3: { name: 'orphanDependents', type: 'bool', keep: true },
  4: S('propagationPolicy', { keep: true }),
  5: RS('dryRun'),
};

/** Object schemas by `apiVersion/kind`. */
export const SCHEMAS: Record<string, MessageSchema> = {
  'v1/Secret': {
    1: meta,
    2: { name: 'data', type: 'bytes', map: true },
    3: S('type'),
    4: { name: 'stringData', type: 'string', map: true },
    5: { name: 'immutable', type: 'bool', keep: true },
  },
  'v1/ConfigMap': {
    1: meta,
    2: { name: 'data', type: 'string', map: true },
    3: { name: 'binaryData', type: 'bytes', map: true },
    4: { name: 'immutable', type: 'bool', keep: true },
  },
  'v1/Namespace': {
    1: meta,
    2: M('spec', { 1: RS('finalizers') }),
    3: M('status', { 1: S('phase') }),
  },
  'v1/ServiceAccount': {
    1: meta,
    2: M('secrets', ObjectReference, { repeated: true }),
    3: M('imagePullSecrets', { 1: S('name') }, { repeated: true }),
    4: { name: 'automountServiceAccountToken', type: 'bool', keep: true },
  },
  'v1/Pod': {
    1: meta,
    2: M('spec', {
      2: M('containers', Container, { repeated: true }),
      3: S('restartPolicy'),
      8: S('serviceAccountName'),
      9: S('serviceAccount'),
      10: S('nodeName'),
    }),
    3: M('status', { 1: S('phase') }),
  },
  'rbac.authorization.k8s.io/v1/Role': { 1: meta, 2: M('rules', PolicyRule, { repeated: true }) },
  'rbac.authorization.k8s.io/v1/ClusterRole': {
    1: meta,
    2: M('rules', PolicyRule, { repeated: true }),
    3: M('aggregationRule', { 1: M('clusterRoleSelectors', LabelSelector, { repeated: true }) }),
  },
  'rbac.authorization.k8s.io/v1/RoleBinding': { 1: meta, 2: M('subjects', Subject, { repeated: true }), 3: M('roleRef', RoleRef) },
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': { 1: meta, 2: M('subjects', Subject, { repeated: true }), 3: M('roleRef', RoleRef) },
  'authentication.k8s.io/v1/TokenRequest': {
    1: meta,
    2: M('spec', {
      1: RS('audiences'),
      4: { name: 'expirationSeconds', type: 'int64', keep: true },
      3: M('boundObjectRef', { 1: S('kind'), 2: S('apiVersion'), 3: S('name'), 4: S('uid') }, { keep: true }),
    }, { keep: true }),
  },
  'authentication.k8s.io/v1/TokenReview': { 1: meta, 2: M('spec', { 1: S('token'), 2: RS('audiences') }, { keep: true }) },
  'authentication.k8s.io/v1/SelfSubjectReview': { 1: meta },
  'authorization.k8s.io/v1/SelfSubjectAccessReview': {
    1: meta,
    2: M('spec', { 1: M('resourceAttributes', ResourceAttributes, { keep: true }), 2: M('nonResourceAttributes', NonResourceAttributes, { keep: true }) }, { keep: true }),
  },
  'authorization.k8s.io/v1/SubjectAccessReview': { 1: meta, 2: M('spec', SubjectAccessReviewSpec, { keep: true }) },
  'authorization.k8s.io/v1/LocalSubjectAccessReview': { 1: meta, 2: M('spec', SubjectAccessReviewSpec, { keep: true }) },
  'authorization.k8s.io/v1/SelfSubjectRulesReview': { 1: meta, 2: M('spec', { 1: S('namespace') }, { keep: true }) },
  'meta.k8s.io/v1/DeleteOptions': DeleteOptions,
  'v1/DeleteOptions': DeleteOptions,
};

/** Decodes a `k8s\0`-framed runtime.Unknown into the object's JSON form. */
export function decodeKubeProtobuf(body: Uint8Array): Record<string, unknown> {
  if (body.length < 4 || !PROTOBUF_MAGIC.equals(body.subarray(0, 4))) {
    throw new Error('provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]');
  }
  let apiVersion = '';
  let kind = '';
  let raw: Uint8Array = new Uint8Array(0);
  for (const f of decodeRaw(body.subarray(4))) {
    if (f.field === 1 && f.wire === 2) {
      for (const t of decodeRaw(f.value as Uint8Array)) {
        if (t.field === 1) apiVersion = Buffer.from(t.value as Uint8Array).toString('utf8');
        if (t.field === 2) kind = Buffer.from(t.value as Uint8Array).toString('utf8');
      }
    }
    if (f.field === 2 && f.wire === 2) raw = f.value as Uint8Array;
  }
  const schema = SCHEMAS[`${apiVersion}/${kind}`];
  if (!schema) throw new Error(`no kind "${kind}" is registered for version "${apiVersion}" in scheme`);
  const obj = decodeMessage(raw, schema);
  return { apiVersion, kind, ...obj };
}

// ---- encoder (tests use it to send what kubectl sends) ----

function varint(n: bigint): Buffer {
  const out: number[] = [];
  let v = BigInt.asUintN(64, n);
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Buffer.from(out);
}

function lengthDelimited(field: number, bytes: Uint8Array): Buffer {
  return Buffer.concat([varint(BigInt((field << 3) | 2)), varint(BigInt(bytes.length)), bytes]);
}

function encodeScalar(type: Scalar, field: number, value: unknown): Buffer {
  switch (type) {
    case 'string':
      return lengthDelimited(field, Buffer.from(String(value), 'utf8'));
    case 'bytes':
      return lengthDelimited(field, Buffer.from(String(value), 'base64'));
    case 'bool':
      return Buffer.concat([varint(BigInt(field << 3)), Buffer.from([value ? 1 : 0])]);
    case 'int64':
    case 'int32':
      return Buffer.concat([varint(BigInt(field << 3)), varint(BigInt(value as number))]);
    case 'time': {
      const seconds = Math.floor(new Date(String(value)).getTime() / 1000);
      return lengthDelimited(field, Buffer.concat([varint(8n), varint(BigInt(seconds))]));
    }
  }
}

export function encodeMessage(obj: Record<string, unknown>, schema: MessageSchema): Buffer {
  const out: Buffer[] = [];
  for (const [num, spec] of Object.entries(schema) as Array<[string, Field]>) {
    const field = Number(num);
    const value = obj[spec.name];
    if (value === undefined || value === null) continue;
    const encodeValue = (f: number, v: unknown): Buffer =>
      typeof spec.type === 'object'
        ? lengthDelimited(f, encodeMessage(spec.unwrap ? { [spec.unwrap]: v } : (v as Record<string, unknown>), spec.type))
        : encodeScalar(spec.type, f, v);
    if (spec.map) {
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        out.push(lengthDelimited(field, Buffer.concat([encodeScalar('string', 1, k), encodeValue(2, v)])));
      }
    } else if (spec.repeated) {
      for (const v of value as unknown[]) out.push(encodeValue(field, v));
    } else {
      out.push(encodeValue(field, value));
    }
  }
  return Buffer.concat(out);
}

/** Frames an object as kubectl does: `k8s\0` + runtime.Unknown{typeMeta, raw}. */
export function encodeKubeProtobuf(obj: Record<string, unknown> & { apiVersion: string; kind: string }): Buffer {
  const schema = SCHEMAS[`${obj.apiVersion}/${obj.kind}`];
  if (!schema) throw new Error(`no protobuf schema for ${obj.apiVersion}/${obj.kind}`);
  const typeMeta = Buffer.concat([encodeScalar('string', 1, obj.apiVersion), encodeScalar('string', 2, obj.kind)]);
  return Buffer.concat([
    PROTOBUF_MAGIC,
    lengthDelimited(1, typeMeta),
    lengthDelimited(2, encodeMessage(obj, schema)),
    encodeScalar('string', 3, ''),
    encodeScalar('string', 4, ''),
  ]);
}
