// Unit tests of the stand-in's pure parts: protobuf decoding (fixtures are bodies
// captured from kubectl 1.32), selectors, base64 checks, patches, AGE rendering, RBAC rules.
import { describe, expect, it } from 'vitest';
import { decodeKubeProtobuf, encodeKubeProtobuf } from './protobuf.js';
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from './selectors.js';
import { base64ErrorIndex, nameErrors } from './validation.js';
import { jsonPatch, mergePatch, strategicMergePatch } from './patch.js';
import { humanDuration } from './table.js';
import { ruleAllows, type Attributes } from './rbac.js';
import { ApiError } from './errors.js';

const hex = (s: string) => Buffer.from(s, 'hex');

describe('protobuf bodies captured from kubectl 1.32', () => {
  it('create secret generic s1 --from-literal=a=b', () => {
    const body = hex('6b3873000a0c0a027631120653656372657412240a120a02733112001a0022002a0032003800420012060a01611201621a064f70617175651a002200');
    expect(decodeKubeProtobuf(body)).toEqual({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's1' }, data: { a: Buffer.from('b').toString('base64') }, type: 'Opaque' });
  });

  it('create token default --audience x --duration 10m', () => {
    const body = hex('6b3873000a280a1861757468656e7469636174696f6e2e6b38732e696f2f7631120c546f6b656e5265717565737412200a100a0012001a0022002a0032003800420012060a017820d8041a040a0012001a002200');
    expect(decodeKubeProtobuf(body)).toEqual({
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      metadata: {},
      spec: { audiences: ['x'], expirationSeconds: 600 },
    });
  });

  // kubectl reads TYPE/NAME here: "token" is the resource name (--subresource sets field 6)
  it('auth can-i create serviceaccounts/token -n ns1', () => {
    const body = hex('6b3873000a320a17617574686f72697a6174696f6e2e6b38732e696f2f7631121753656c665375626a656374416363657373526576696577124b0a100a0012001a0022002a00320038004200122d0a2b0a036e733112066372656174651a0022002a0f736572766963656163636f756e747332003a05746f6b656e1a08080012001a0020001a002200');
    expect(decodeKubeProtobuf(body)).toEqual({
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      metadata: {},
      spec: { resourceAttributes: { namespace: 'ns1', verb: 'create', resource: 'serviceaccounts', name: 'token' } },
    });
  });

  it('create rolebinding rb --clusterrole=edit --serviceaccount=default:default --group=g1', () => {
    const body = hex('6b3873000a2b0a1c726261632e617574686f72697a6174696f6e2e6b38732e696f2f7631120b526f6c6542696e64696e671294010a120a02726212001a0022002a0032003800420012280a0547726f75701219726261632e617574686f72697a6174696f6e2e6b38732e696f1a026731220012240a0e536572766963654163636f756e7412001a0764656661756c74220764656661756c741a2e0a19726261632e617574686f72697a6174696f6e2e6b38732e696f120b436c7573746572526f6c651a04656469741a002200');
    expect(decodeKubeProtobuf(body)).toEqual({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'rb' },
      subjects: [
        { kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'g1' },
        { kind: 'ServiceAccount', name: 'default', namespace: 'default' },
      ],
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' },
    });
  });

  it('round-trips what the encoder writes, keeping pointer fields that are set to zero', () => {
    const obj = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'c', namespace: 'n', labels: { a: 'b' }, annotations: { x: 'y' }, creationTimestamp: '2024-01-02T03:04:05Z', finalizers: ['f'] },
      data: { k: 'v' },
      binaryData: { bin: Buffer.from([1, 2, 3]).toString('base64') },
      immutable: false,
    };
    expect(decodeKubeProtobuf(encodeKubeProtobuf(obj))).toEqual(obj);
    const sar = {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      metadata: {},
      spec: { user: 'u', groups: ['g1', 'g2'], extra: { scopes: ['a', 'b'] }, nonResourceAttributes: { path: '/x', verb: 'get' } },
    };
    expect(decodeKubeProtobuf(encodeKubeProtobuf(sar))).toEqual(sar);
  });

  it('rejects bodies without the magic prefix and unknown kinds', () => {
    expect(() => decodeKubeProtobuf(Buffer.from('{"kind":"Secret"}'))).toThrow(/expected prefix/);
    expect(() => decodeKubeProtobuf(hex('6b3873000a0a0a0276311204466f6f6f'))).toThrow(/no kind "Fooo"/);
  });
});

describe('selectors', () => {
  const labels = { app: 'web', tier: 'front', n: '5' };
  const m = (s: string, l: Record<string, string> | undefined = labels) => matchesLabels(parseLabelSelector(s), l);

  it('matches like k8s.io/apimachinery/pkg/labels', () => {
    expect(m('')).toBe(true);
    expect(m('app=web')).toBe(true);
    expect(m('app==web,tier=front')).toBe(true);
    expect(m('app!=web')).toBe(false);
    expect(m('missing!=x')).toBe(true);
    expect(m('app in (api, web)')).toBe(true);
    expect(m('app notin (web)')).toBe(false);
    expect(m('missing notin (web)')).toBe(true);
    expect(m('missing in (web)')).toBe(false);
    expect(m('app')).toBe(true);
    expect(m('!app')).toBe(false);
    expect(m('!missing')).toBe(true);
    expect(m('n>4,n<6')).toBe(true);
    expect(m('n>5')).toBe(false);
    expect(matchesLabels(parseLabelSelector('app'), undefined)).toBe(false);
    expect(matchesLabels(parseLabelSelector('app!=x'), undefined)).toBe(true);
    expect(m('example.com/role=x', { 'example.com/role': 'x' })).toBe(true);
  });

  it('rejects malformed selectors with 400', () => {
    for (const bad of ['a=b=c', 'a in b', 'bad key=x', 'a=', ',']) {
      if (bad === 'a=') {
        expect(m(bad, { a: '' })).toBe(true); // empty value is valid
        continue;
      }
      expect(() => parseLabelSelector(bad), bad).toThrow(ApiError);
    }
  });

  it('field selectors', () => {
    const obj = { metadata: { name: 'x', namespace: 'ns' }, type: 'Opaque' };
    expect(matchesFields(parseFieldSelector('metadata.name=x', 'Secret', true), obj)).toBe(true);
    expect(matchesFields(parseFieldSelector('metadata.name!=x', 'Secret', true), obj)).toBe(false);
    expect(matchesFields(parseFieldSelector('type==Opaque,metadata.namespace=ns', 'Secret', true), obj)).toBe(true);
    expect(() => parseFieldSelector('type=Opaque', 'ConfigMap', true)).toThrow('field label not supported: type');
    expect(() => parseFieldSelector('metadata.namespace=x', 'Namespace', false)).toThrow(ApiError);
  });
});

describe('validation helpers', () => {
  it('base64 errors at the byte Go reports, valid input passes', () => {
    for (const s of ['', 'YQ==', 'YWI=', 'YWJj', 'YWJj\nZA==', Buffer.from('hello world').toString('base64')]) expect(base64ErrorIndex(s), s).toBe(-1);
    expect(base64ErrorIndex('no*base64')).toBe(2);
    expect(base64ErrorIndex('YQ')).toBe(0);
    expect(base64ErrorIndex('YWJjZA')).toBe(4);
    expect(base64ErrorIndex('Y===')).toBe(1);
    expect(base64ErrorIndex('YQ==YQ==')).toBe(2);
  });

  it('names', () => {
    expect(nameErrors('subdomain', 'a.b-c')).toEqual([]);
    expect(nameErrors('subdomain', 'A')).toHaveLength(1);
    expect(nameErrors('label', 'a.b')).toHaveLength(1);
    expect(nameErrors('subdomain', 'a'.repeat(254))[0]?.detail).toBe('must be no more than 253 characters');
    expect(nameErrors('path', 'system:auth-delegator')).toEqual([]);
    expect(nameErrors('path', 'a/b')[0]?.detail).toBe("may not contain '/'");
  });
});

describe('patches', () => {
  it('JSON merge patch', () => {
    expect(mergePatch({ a: 1, b: { c: 2, d: 3 } }, { b: { c: null, e: 4 }, f: [1] })).toEqual({ a: 1, b: { d: 3, e: 4 }, f: [1] });
  });

  it('JSON patch operations', () => {
    const doc = { a: [1, 2], b: { c: 'x' } };
    expect(jsonPatch(doc, [{ op: 'add', path: '/a/-', value: 3 }, { op: 'replace', path: '/b/c', value: 'y' }, { op: 'copy', from: '/b/c', path: '/d' }, { op: 'move', from: '/a/0', path: '/e' }])).toEqual({ a: [2, 3], b: { c: 'y' }, d: 'y', e: 1 });
    expect(doc).toEqual({ a: [1, 2], b: { c: 'x' } });
    expect(() => jsonPatch(doc, [{ op: 'test', path: '/b/c', value: 'z' }])).toThrow(ApiError);
    expect(() => jsonPatch(doc, [{ op: 'remove', path: '/nope' }])).toThrow(ApiError);
  });

  it('strategic merge patch: merge keys, directives, replaced lists', () => {
    const pod = { spec: { containers: [{ name: 'a', image: 'x' }, { name: 'b', image: 'y' }], tolerations: [{ key: 'k' }] }, metadata: { finalizers: ['f1'] } };
    const patched = strategicMergePatch(pod, {
      spec: { containers: [{ name: 'b', image: 'z' }, { name: 'a', $patch: 'delete' }], tolerations: [{ key: 'j' }] },
      metadata: { finalizers: ['f2'], '$setElementOrder/finalizers': ['f1', 'f2'] },
    });
    expect(patched).toEqual({ spec: { containers: [{ name: 'b', image: 'z' }], tolerations: [{ key: 'j' }] }, metadata: { finalizers: ['f1', 'f2'] } });
    expect(strategicMergePatch({ a: { b: 1, c: 2 } }, { a: { $retainKeys: ['b'], b: 5 } })).toEqual({ a: { b: 5 } });
    expect(strategicMergePatch({ a: { b: 1 }, z: 1 }, { a: { $patch: 'delete' } })).toEqual({ z: 1 });
  });
});

describe('AGE column', () => {
  it('renders like duration.HumanDuration', () => {
    const s = 1000;
    const min = 60 * s;
    const h = 60 * min;
    const d = 24 * h;
    expect(humanDuration(5 * s)).toBe('5s');
    expect(humanDuration(119 * s)).toBe('119s');
    expect(humanDuration(2 * min)).toBe('2m');
    expect(humanDuration(9 * min + 5 * s)).toBe('9m5s');
    expect(humanDuration(90 * min)).toBe('90m');
    expect(humanDuration(3 * h + 10 * min)).toBe('3h10m');
    expect(humanDuration(20 * h)).toBe('20h');
    expect(humanDuration(3 * d + 4 * h)).toBe('3d4h');
    expect(humanDuration(30 * d)).toBe('30d');
    expect(humanDuration(3 * 365 * d)).toBe('3y');
    expect(humanDuration(-500)).toBe('0s');
  });
});

describe('RBAC rule matching', () => {
  const base: Attributes = { user: { username: 'u', groups: [] }, verb: 'get', resourceRequest: true, apiGroup: '', resource: 'secrets', namespace: 'n' };
  it('verbs, groups, resources, subresources, names and URLs', () => {
    expect(ruleAllows({ verbs: ['*'], apiGroups: [''], resources: ['secrets'] }, base)).toBe(true);
    expect(ruleAllows({ verbs: ['get'], apiGroups: ['apps'], resources: ['secrets'] }, base)).toBe(false);
    expect(ruleAllows({ verbs: ['get'], apiGroups: [''], resources: ['secrets'] }, { ...base, subresource: 'status' })).toBe(false);
    expect(ruleAllows({ verbs: ['get'], apiGroups: [''], resources: ['secrets/status'] }, { ...base, subresource: 'status' })).toBe(true);
    expect(ruleAllows({ verbs: ['get'], apiGroups: [''], resources: ['*/status'] }, { ...base, subresource: 'status' })).toBe(true);
    expect(ruleAllows({ verbs: ['get'], apiGroups: [''], resources: ['secrets'], resourceNames: ['a'] }, { ...base, name: 'a' })).toBe(true);
    expect(ruleAllows({ verbs: ['get'], apiGroups: [''], resources: ['secrets'], resourceNames: ['a'] }, base)).toBe(false);
    const url: Attributes = { user: base.user, verb: 'get', resourceRequest: false, path: '/apis/x' };
    expect(ruleAllows({ verbs: ['get'], nonResourceURLs: ['/apis/*'] }, url)).toBe(true);
    expect(ruleAllows({ verbs: ['get'], nonResourceURLs: ['/apis'] }, url)).toBe(false);
    expect(ruleAllows({ verbs: ['get'], apiGroups: ['*'], resources: ['*'] }, url)).toBe(false);
  });
});
