// PATCH bodies: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and the parts of
// strategic merge patch that kubectl apply sends for the built-in types served here
// (map merging, `$patch`, `$retainKeys`, `$setElementOrder/…`, `$deleteFromPrimitiveList/…`,
// and lists merged by their patchMergeKey).
import { badRequest, ApiError, statusBody } from './errors.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

function isObject(v: unknown): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function mergePatch(target: Json | undefined, patch: Json): Json {
  if (!isObject(patch)) return patch;
  const out: JsonObject = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

// ---- JSON patch ----

function unescape(token: string): string {
  return token.replace(/~1/g, '/').replace(/~0/g, '~');
}

function parsePointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw badRequest(`the server rejected our request due to an error in our request`);
  return path.slice(1).split('/').map(unescape);
}

function jsonPatchError(message: string): ApiError {
  return new ApiError(statusBody(422, 'Invalid', message));
}

export function jsonPatch(doc: Json, ops: unknown): Json {
  if (!Array.isArray(ops)) throw badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  let root = structuredClone(doc);
  const parentOf = (tokens: string[]): [Json, string] => {
    let cur: Json = root;
    for (const t of tokens.slice(0, -1)) {
      if (Array.isArray(cur)) cur = cur[Number(t)] as Json;
      else if (isObject(cur)) cur = cur[t] as Json;
      else cur = undefined as unknown as Json;
      if (cur === undefined) throw jsonPatchError(`doc is missing path: "/${tokens.join('/')}": missing value`);
    }
    return [cur, tokens[tokens.length - 1]!];
  };
  const get = (tokens: string[]): Json => {
    if (tokens.length === 0) return root;
    const [parent, last] = parentOf(tokens);
    const v = Array.isArray(parent) ? parent[Number(last)] : isObject(parent) ? parent[last] : undefined;
    if (v === undefined) throw jsonPatchError(`doc is missing path: "/${tokens.join('/')}": missing value`);
    return v;
  };
  const remove = (tokens: string[]): Json => {
    const value = get(tokens);
    const [parent, last] = parentOf(tokens);
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete (parent as JsonObject)[last];
    return value;
  };
  const add = (tokens: string[], value: Json): void => {
    if (tokens.length === 0) {
      root = value;
      return;
    }
    const [parent, last] = parentOf(tokens);
    if (Array.isArray(parent)) {
      const idx = last === '-' ? parent.length : Number(last);
      if (!(idx >= 0 && idx <= parent.length)) throw jsonPatchError(`add operation does not apply: index out of bounds`);
      parent.splice(idx, 0, value);
    } else if (isObject(parent)) parent[last] = value;
    else throw jsonPatchError(`doc is missing path: "/${tokens.join('/')}": missing value`);
  };
  for (const raw of ops) {
    const op = raw as { op?: string; path?: string; from?: string; value?: Json };
    const path = parsePointer(op.path ?? '');
    switch (op.op) {
      case 'add':
        add(path, structuredClone(op.value as Json));
        break;
      case 'remove':
        remove(path);
        break;
      case 'replace':
        remove(path);
        add(path, structuredClone(op.value as Json));
        break;
      case 'move':
        add(path, remove(parsePointer(op.from ?? '')));
        break;
      case 'copy':
        add(path, structuredClone(get(parsePointer(op.from ?? ''))));
        break;
      case 'test':
        if (JSON.stringify(get(path)) !== JSON.stringify(op.value)) {
          throw jsonPatchError(`testing value /${path.join('/')} failed: test failed`);
        }
        break;
      default:
        throw badRequest(`Unexpected kind: ${op.op}`);
    }
  }
  return root;
}

// ---- strategic merge patch ----

/** patchMergeKey of list fields (by field name) in the built-in types served here. */
const MERGE_KEYS: Record<string, string> = {
  ownerReferences: 'uid',
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  ports: 'containerPort',
  imagePullSecrets: 'name',
  secrets: 'name',
  conditions: 'type',
};
/** Primitive lists with patchStrategy merge (union). */
const MERGE_PRIMITIVE_LISTS = new Set(['finalizers']);

function strategicList(field: string, target: Json[] | undefined, patch: Json[]): Json[] {
  const key = MERGE_KEYS[field];
  if (MERGE_PRIMITIVE_LISTS.has(field)) {
    const out = [...(target ?? [])];
    for (const v of patch) if (!out.some((x) => JSON.stringify(x) === JSON.stringify(v))) out.push(v);
    return out;
  }
  if (!key) return patch.filter((v) => !(isObject(v) && v.$patch === 'delete'));
  if (patch.some((v) => isObject(v) && v.$patch === 'replace')) {
    return patch.filter((v) => !(isObject(v) && v.$patch === 'replace'));
  }
  const out: Json[] = [...(target ?? [])];
  for (const item of patch) {
    if (!isObject(item)) {
      out.push(item);
      continue;
    }
    const idx = out.findIndex((x) => isObject(x) && x[key] === item[key]);
    if (item.$patch === 'delete') {
      if (idx >= 0) out.splice(idx, 1);
    } else if (idx >= 0) out[idx] = strategicMergePatch(out[idx], item);
    else out.push(strategicMergePatch(undefined, item));
  }
  return out;
}

export function strategicMergePatch(target: Json | undefined, patch: Json): Json {
  if (!isObject(patch)) return patch;
  if (patch.$patch === 'delete') return null;
  if (patch.$patch === 'replace') {
    const { $patch: _ignored, ...rest } = patch;
    return rest;
  }
  const out: JsonObject = isObject(target) ? { ...target } : {};
  const retainKeys = Array.isArray(patch.$retainKeys) ? (patch.$retainKeys as string[]) : undefined;
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch' || k === '$retainKeys' || k.startsWith('$setElementOrder/')) continue;
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const field = k.slice('$deleteFromPrimitiveList/'.length);
      const current = out[field];
      if (Array.isArray(current) && Array.isArray(v)) out[field] = current.filter((x) => !v.includes(x as never));
      continue;
    }
    if (v === null) {
      delete out[k];
    } else if (Array.isArray(v)) {
      out[k] = strategicList(k, Array.isArray(out[k]) ? (out[k] as Json[]) : undefined, v);
    } else if (isObject(v)) {
      const merged = strategicMergePatch(out[k], v);
      if (merged === null) delete out[k];
      else out[k] = merged;
    } else {
      out[k] = v;
    }
  }
  if (retainKeys) for (const k of Object.keys(out)) if (!retainKeys.includes(k)) delete out[k];
  return out;
}

export const PATCH_TYPES = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
  applyCbor: 'application/apply-patch+cbor',
} as const;
