// Server-side validation with kube-apiserver's messages (pkg/apis/core/validation,
// apimachinery/pkg/util/validation): names, labels, Secret/ConfigMap data, RBAC objects.
import type { FieldError } from './errors.js';
import type { KubeObject } from './store.js';
import type { NameRule, ResourceType } from './resources.js';

const DNS1123_LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_SUBDOMAIN = `${DNS1123_LABEL}(\\.${DNS1123_LABEL})*`;
const LABEL_RE = new RegExp(`^${DNS1123_LABEL}$`);
const SUBDOMAIN_RE = new RegExp(`^${DNS1123_SUBDOMAIN}$`);
const CONFIG_KEY_RE = /^[-._a-zA-Z0-9]+$/;
const QUALIFIED_NAME_RE = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE_RE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

export const SUBDOMAIN_MESSAGE =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
export const LABEL_MESSAGE =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const CONFIG_KEY_MESSAGE =
  "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";
const QUALIFIED_NAME_MESSAGE =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const LABEL_VALUE_MESSAGE =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

export function nameErrors(rule: NameRule, name: string, field = 'metadata.name'): FieldError[] {
  const errors: FieldError[] = [];
  const invalid = (detail: string) => errors.push({ type: 'FieldValueInvalid', field, value: name, detail });
  if (rule === 'path') {
    if (name === '.' || name === '..') invalid(`may not be '${name}'`);
    for (const c of ['/', '%']) if (name.includes(c)) invalid(`may not contain '${c}'`);
    return errors;
  }
  const max = rule === 'label' ? 63 : 253;
  if (name.length > max) invalid(`must be no more than ${max} characters`);
  if (!(rule === 'label' ? LABEL_RE : SUBDOMAIN_RE).test(name)) invalid(rule === 'label' ? LABEL_MESSAGE : SUBDOMAIN_MESSAGE);
  return errors;
}

function qualifiedKeyErrors(key: string, field: string): FieldError[] {
  const parts = key.split('/');
  const errors: FieldError[] = [];
  const name = parts.length === 2 ? parts[1]! : parts[0]!;
  if (parts.length > 2) {
    errors.push({ type: 'FieldValueInvalid', field, value: key, detail: "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')" });
    return errors;
  }
  if (parts.length === 2) {
    const prefix = parts[0]!;
    if (!prefix) errors.push({ type: 'FieldValueInvalid', field, value: key, detail: 'prefix part must be non-empty' });
    else if (!SUBDOMAIN_RE.test(prefix) || prefix.length > 253) errors.push({ type: 'FieldValueInvalid', field, value: key, detail: `prefix part ${SUBDOMAIN_MESSAGE}` });
  }
  if (!name) errors.push({ type: 'FieldValueInvalid', field, value: key, detail: 'name part must be non-empty' });
  else {
    if (name.length > 63) errors.push({ type: 'FieldValueInvalid', field, value: key, detail: 'name part must be no more than 63 characters' });
    if (!QUALIFIED_NAME_RE.test(name)) errors.push({ type: 'FieldValueInvalid', field, value: key, detail: QUALIFIED_NAME_MESSAGE });
  }
  return errors;
}

export function metadataErrors(t: ResourceType, obj: KubeObject): FieldError[] {
  const errors: FieldError[] = [];
  const m = obj.metadata;
  if (!m.name) errors.push({ type: 'FieldValueRequired', field: 'metadata.name', detail: 'name or generateName is required' });
  else errors.push(...nameErrors(t.nameRule, m.name));
  if (t.namespaced && m.namespace) errors.push(...nameErrors('label', m.namespace, 'metadata.namespace'));
  for (const [k, v] of Object.entries(m.labels ?? {})) {
    errors.push(...qualifiedKeyErrors(k, 'metadata.labels'));
    if (typeof v !== 'string' || v.length > 63 || !LABEL_VALUE_RE.test(v)) {
      errors.push({
        type: 'FieldValueInvalid',
        field: 'metadata.labels',
        value: v,
        detail: typeof v === 'string' && v.length > 63 ? 'must be no more than 63 characters' : LABEL_VALUE_MESSAGE,
      });
    }
  }
  let annotationBytes = 0;
  for (const [k, v] of Object.entries(m.annotations ?? {})) {
    errors.push(...qualifiedKeyErrors(k.toLowerCase(), 'metadata.annotations'));
    annotationBytes += k.length + String(v).length;
  }
  if (annotationBytes > 256 * 1024) {
    errors.push({ type: 'FieldValueTooLong', field: 'metadata.annotations', detail: 'must have at most 262144 bytes' });
  }
  return errors;
}

/**
 * Position of the first byte Go's base64.StdEncoding rejects (`illegal base64 data at
 * input byte N`), or -1 when the string decodes. Go skips \r and \n.
 */
export function base64ErrorIndex(s: string): number {
  const chars: Array<[string, number]> = [];
  for (let i = 0; i < s.length; i++) if (s[i] !== '\r' && s[i] !== '\n') chars.push([s[i]!, i]);
  for (let q = 0; q < chars.length; q += 4) {
    const quantum = chars.slice(q, q + 4);
    for (let j = 0; j < quantum.length; j++) {
      const [c, idx] = quantum[j]!;
      if (c === '=') {
        // padding only in the last two places of the final quantum
        const last = q + 4 >= chars.length;
        if (!last || j < 2 || (j === 2 && quantum[3]?.[0] !== '=')) return idx;
        continue;
      }
      if (!/[A-Za-z0-9+/]/.test(c)) return idx;
      if (j === 3 && quantum[2]?.[0] === '=') return idx;
    }
    if (quantum.length < 4) return quantum[0]![1];
  }
  return -1;
}

function configKeyErrors(keys: string[], field: string): FieldError[] {
  const errors: FieldError[] = [];
  for (const k of keys) {
    if (!CONFIG_KEY_RE.test(k)) errors.push({ type: 'FieldValueInvalid', field: `${field}[${k}]`, value: k, detail: CONFIG_KEY_MESSAGE });
    else if (k === '.' || k === '..' || k.startsWith('..')) {
      errors.push({ type: 'FieldValueInvalid', field: `${field}[${k}]`, value: k, detail: `must not be '${k}'` });
    }
    if (k.length > 253) errors.push({ type: 'FieldValueInvalid', field: `${field}[${k}]`, value: k, detail: 'must be no more than 253 characters' });
  }
  return errors;
}

const MAX_SECRET_SIZE = 1024 * 1024;

function decodedSize(data: Record<string, string> | undefined): number {
  let size = 0;
  for (const v of Object.values(data ?? {})) size += Buffer.from(v, 'base64').length;
  return size;
}

/** Kind-specific validation; `old` is set for updates. */
export function kindErrors(t: ResourceType, obj: KubeObject, old?: KubeObject): FieldError[] {
  const errors: FieldError[] = [];
  switch (t.kind) {
    case 'Secret': {
      const data = obj.data as Record<string, string> | undefined;
      errors.push(...configKeyErrors(Object.keys(data ?? {}), 'data'));
      if (decodedSize(data) > MAX_SECRET_SIZE) errors.push({ type: 'FieldValueTooLong', field: 'data', detail: `must have at most ${MAX_SECRET_SIZE} bytes` });
      if (obj.type === 'kubernetes.io/tls') {
        for (const k of ['tls.crt', 'tls.key']) if (!data?.[k]) errors.push({ type: 'FieldValueRequired', field: `data[${k}]`, detail: '' });
      }
      if (old) {
        if (old.type !== obj.type) errors.push({ type: 'FieldValueInvalid', field: 'type', value: obj.type, detail: 'field is immutable' });
        if (old.immutable === true) {
          if (JSON.stringify(old.data ?? {}) !== JSON.stringify(obj.data ?? {})) {
            errors.push({ type: 'FieldValueForbidden', field: 'data', detail: 'field is immutable when `immutable` is set' });
          }
          if (obj.immutable !== true) errors.push({ type: 'FieldValueForbidden', field: 'immutable', detail: 'field is immutable when `immutable` is set' });
        }
      }
      break;
    }
    case 'ConfigMap': {
      const data = (obj.data as Record<string, string> | undefined) ?? {};
      const binary = (obj.binaryData as Record<string, string> | undefined) ?? {};
      errors.push(...configKeyErrors(Object.keys(data), 'data'));
      errors.push(...configKeyErrors(Object.keys(binary), 'binaryData'));
      for (const k of Object.keys(binary)) {
        if (k in data) errors.push({ type: 'FieldValueInvalid', field: `data[${k}]`, value: k, detail: 'duplicate of key present in binaryData' });
      }
      for (const [k, v] of Object.entries(data)) {
        if (typeof v !== 'string') errors.push({ type: 'FieldValueInvalid', field: `data[${k}]`, value: v, detail: 'must be a string' });
      }
      if (old?.immutable === true) {
        if (JSON.stringify(old.data ?? {}) !== JSON.stringify(obj.data ?? {}) || JSON.stringify(old.binaryData ?? {}) !== JSON.stringify(obj.binaryData ?? {})) {
          errors.push({ type: 'FieldValueForbidden', field: 'data', detail: 'field is immutable when `immutable` is set' });
        }
      }
      break;
    }
    case 'Pod': {
      const spec = obj.spec as { containers?: unknown[] } | undefined;
      if (!spec?.containers?.length) errors.push({ type: 'FieldValueRequired', field: 'spec.containers', detail: '' });
      break;
    }
    case 'Application': {
      // The CRD's structural schema: spec, spec.destination and spec.project are required.
      const spec = obj.spec as { destination?: unknown; project?: unknown } | undefined;
      if (!spec) errors.push({ type: 'FieldValueRequired', field: 'spec', detail: '' });
      else {
        if (!spec.destination) errors.push({ type: 'FieldValueRequired', field: 'spec.destination', detail: '' });
        if (typeof spec.project !== 'string') errors.push({ type: 'FieldValueRequired', field: 'spec.project', detail: '' });
      }
      break;
    }
    case 'Role':
    case 'ClusterRole': {
      const rules = (obj.rules as Array<Record<string, string[] | undefined>> | undefined) ?? [];
      rules.forEach((r, i) => {
        const f = `rules[${i}]`;
        if (!r.verbs?.length) errors.push({ type: 'FieldValueRequired', field: `${f}.verbs`, detail: 'verbs must contain at least one value' });
        const nonResource = r.nonResourceURLs ?? [];
        if (nonResource.length > 0) {
          if (t.kind === 'Role') {
            errors.push({ type: 'FieldValueInvalid', field: `${f}.nonResourceURLs`, value: nonResource, detail: 'namespaced rules cannot apply to non-resource URLs' });
          }
          if ((r.apiGroups ?? []).length || (r.resources ?? []).length || (r.resourceNames ?? []).length) {
            errors.push({ type: 'FieldValueInvalid', field: `${f}.nonResourceURLs`, value: nonResource, detail: 'rules cannot apply to both regular resources and non-resource URLs' });
          }
        } else if (!(r.apiGroups ?? []).length && (t.kind === 'Role' || !obj.aggregationRule)) {
          errors.push({ type: 'FieldValueRequired', field: `${f}.apiGroups`, detail: 'resource rules must supply at least one api group' });
        } else if (!(r.resources ?? []).length) {
          errors.push({ type: 'FieldValueRequired', field: `${f}.resources`, detail: 'resource rules must supply at least one resource' });
        }
      });
      break;
    }
    case 'RoleBinding':
    case 'ClusterRoleBinding': {
      const ref = obj.roleRef as { apiGroup?: string; kind?: string; name?: string } | undefined;
      const kinds = t.kind === 'RoleBinding' ? ['Role', 'ClusterRole'] : ['ClusterRole'];
      if (!ref?.kind) errors.push({ type: 'FieldValueRequired', field: 'roleRef.kind', detail: '' });
      else if (!kinds.includes(ref.kind)) {
        errors.push({ type: 'FieldValueNotSupported', field: 'roleRef.kind', value: ref.kind, detail: `supported values: ${kinds.map((k) => JSON.stringify(k)).join(', ')}` });
      }
      if (ref?.apiGroup !== 'rbac.authorization.k8s.io') {
        errors.push({ type: 'FieldValueNotSupported', field: 'roleRef.apiGroup', value: ref?.apiGroup ?? '', detail: 'supported values: "rbac.authorization.k8s.io"' });
      }
      if (!ref?.name) errors.push({ type: 'FieldValueRequired', field: 'roleRef.name', detail: '' });
      const subjects = (obj.subjects as Array<Record<string, string | undefined>> | undefined) ?? [];
      subjects.forEach((s, i) => {
        const f = `subjects[${i}]`;
        if (!s.name) errors.push({ type: 'FieldValueRequired', field: `${f}.name`, detail: '' });
        if (s.kind === 'ServiceAccount') {
          if (s.apiGroup) errors.push({ type: 'FieldValueNotSupported', field: `${f}.apiGroup`, value: s.apiGroup, detail: 'supported values: ""' });
          if (!s.namespace && t.kind === 'ClusterRoleBinding') errors.push({ type: 'FieldValueRequired', field: `${f}.namespace`, detail: '' });
        } else if (s.kind === 'User' || s.kind === 'Group') {
          if (s.apiGroup !== 'rbac.authorization.k8s.io') {
            errors.push({ type: 'FieldValueNotSupported', field: `${f}.apiGroup`, value: s.apiGroup ?? '', detail: 'supported values: "rbac.authorization.k8s.io"' });
          }
        } else {
          errors.push({ type: 'FieldValueNotSupported', field: `${f}.kind`, value: s.kind ?? '', detail: 'supported values: "ServiceAccount", "User", "Group"' });
        }
      });
      if (old && JSON.stringify(old.roleRef) !== JSON.stringify(obj.roleRef)) {
        errors.push({ type: 'FieldValueInvalid', field: 'roleRef', value: obj.roleRef, detail: 'cannot change roleRef' });
      }
      break;
    }
  }
  return errors;
}
