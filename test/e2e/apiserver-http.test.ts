// API machinery semantics of the stand-in through plain HTTPS requests: conflicts,
// preconditions, dryRun, selectors, paging, validation, authentication, impersonation,
// access reviews, discovery, faults and test controls.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { encodeKubeProtobuf, FakeKubeCluster, PROTOBUF_CONTENT_TYPE } from '../world/apiserver/index.js';

let cluster: FakeKubeCluster;
const b64 = (s: string) => Buffer.from(s).toString('base64');
const SECRETS = '/api/v1/namespaces/default/secrets';

function secret(name: string, extra: Record<string, unknown> = {}) {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name }, data: { k: b64('v') }, ...extra };
}

beforeAll(async () => {
  cluster = await FakeKubeCluster.start({ name: 'http', tokens: { 'static-token': { user: 'tokyo', groups: ['ops'] } } });
});

afterAll(async () => {
  await cluster?.close();
});

beforeEach(() => {
  cluster.faults.clear();
});

describe('create / get / update / delete', () => {
  it('create answers 201 with server-set fields; get returns the object; AlreadyExists and NotFound carry details', async () => {
    const created = await cluster.request('POST', SECRETS, { body: secret('crud-1', { stringData: { extra: 'plain' } }) });
    expect(created.status).toBe(201);
    expect(created.headers['content-type']).toBe('application/json');
    expect(created.body).toMatchObject({
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'Opaque',
      metadata: { name: 'crud-1', namespace: 'default', uid: expect.stringMatching(/^[0-9a-f-]{36}$/), resourceVersion: expect.stringMatching(/^\d+$/) },
      data: { k: b64('v'), extra: b64('plain') },
    });
    expect(created.body.stringData).toBeUndefined();
    expect(created.body.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

    const got = await cluster.request('GET', `${SECRETS}/crud-1`);
    expect(got.body).toEqual(created.body);

    const dup = await cluster.request('POST', SECRETS, { body: secret('crud-1') });
    expect(dup.status).toBe(409);
    expect(dup.body).toEqual({
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure',
      message: 'secrets "crud-1" already exists', reason: 'AlreadyExists', details: { name: 'crud-1', kind: 'secrets' }, code: 409,
    });
    const missing = await cluster.request('GET', '/apis/rbac.authorization.k8s.io/v1/clusterroles/nope');
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure',
      message: 'clusterroles.rbac.authorization.k8s.io "nope" not found', reason: 'NotFound',
      details: { name: 'nope', group: 'rbac.authorization.k8s.io', kind: 'clusterroles' }, code: 404,
    });
  });

  it('PUT with a stale resourceVersion is a 409 Conflict; without one it is unconditional for secrets', async () => {
    const v1 = (await cluster.request('POST', SECRETS, { body: secret('conflict-1') })).body;
    const v2 = await cluster.request('PUT', `${SECRETS}/conflict-1`, { body: { ...v1, data: { k: b64('two') } } });
    expect(v2.status).toBe(200);
    expect(Number(v2.body.metadata.resourceVersion)).toBeGreaterThan(Number(v1.metadata.resourceVersion));
    const stale = await cluster.request('PUT', `${SECRETS}/conflict-1`, { body: { ...v1, data: { k: b64('three') } } });
    expect(stale.status).toBe(409);
    expect(stale.body).toMatchObject({
      reason: 'Conflict',
      message: 'Operation cannot be fulfilled on secrets "conflict-1": the object has been modified; please apply your changes to the latest version and try again',
      details: { name: 'conflict-1', kind: 'secrets' },
    });
    const { resourceVersion: _rv, ...metaWithoutRv } = v1.metadata;
    const blind = await cluster.request('PUT', `${SECRETS}/conflict-1`, { body: { ...v1, metadata: metaWithoutRv, data: { k: b64('four') } } });
    expect(blind.status).toBe(200);
    expect(cluster.store.get('secrets', 'default', 'conflict-1')?.data).toEqual({ k: b64('four') });
    // uid and creationTimestamp survive an update
    expect(blind.body.metadata.uid).toBe(v1.metadata.uid);
    expect(blind.body.metadata.creationTimestamp).toBe(v1.metadata.creationTimestamp);
  });

  it('a no-op update keeps the resourceVersion', async () => {
    const v1 = (await cluster.request('POST', SECRETS, { body: secret('noop-1') })).body;
    const same = await cluster.request('PUT', `${SECRETS}/noop-1`, { body: v1 });
    expect(same.status).toBe(200);
    expect(same.body.metadata.resourceVersion).toBe(v1.metadata.resourceVersion);
  });

  it('custom resources need a resourceVersion on PUT and bump generation on spec changes', async () => {
    const path = '/apis/argoproj.io/v1alpha1/namespaces/default/appprojects';
    const p = (await cluster.request('POST', path, { body: { apiVersion: 'argoproj.io/v1alpha1', kind: 'AppProject', metadata: { name: 'proj' }, spec: { sourceRepos: ['*'] } } })).body;
    expect(p.metadata.generation).toBe(1);
    const { resourceVersion: _rv, ...meta } = p.metadata;
    const blind = await cluster.request('PUT', `${path}/proj`, { body: { ...p, metadata: meta } });
    expect(blind.status).toBe(422);
    expect(blind.body.message).toBe('AppProject.argoproj.io "proj" is invalid: metadata.resourceVersion: Invalid value: 0: must be specified for an update');
    const updated = await cluster.request('PUT', `${path}/proj`, { body: { ...p, spec: { sourceRepos: ['https://x'] } } });
    expect(updated.body.metadata.generation).toBe(2);
    const labelled = await cluster.request('PUT', `${path}/proj`, { body: { ...updated.body, metadata: { ...updated.body.metadata, labels: { a: 'b' } } } });
    expect(labelled.body.metadata.generation).toBe(2);
    const del = await cluster.request('DELETE', `${path}/proj`);
    expect(del.body).toMatchObject({ kind: 'AppProject', metadata: { name: 'proj' } });
  });

  it('DELETE honours preconditions in DeleteOptions and answers a Success Status', async () => {
    const s = (await cluster.request('POST', SECRETS, { body: secret('pre-1') })).body;
    const wrongRv = await cluster.request('DELETE', `${SECRETS}/pre-1`, { body: { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { resourceVersion: '1' } } });
    expect(wrongRv.status).toBe(409);
    expect(wrongRv.body.message).toBe(
      `Operation cannot be fulfilled on secrets "pre-1": Precondition failed: ResourceVersion in precondition: 1, ResourceVersion in object meta: ${s.metadata.resourceVersion}`,
    );
    const wrongUid = await cluster.request('DELETE', `${SECRETS}/pre-1`, { body: { preconditions: { uid: 'other' } } });
    expect(wrongUid.status).toBe(409);
    expect(wrongUid.body.message).toContain('Precondition failed: UID in precondition: other, UID in object meta: ');
    expect(cluster.store.get('Secret', 'default', 'pre-1')).toBeDefined();
    const ok = await cluster.request('DELETE', `${SECRETS}/pre-1`, { body: { preconditions: { uid: s.metadata.uid, resourceVersion: s.metadata.resourceVersion } } });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name: 'pre-1', kind: 'secrets', uid: s.metadata.uid } });
    expect(cluster.store.get('Secret', 'default', 'pre-1')).toBeUndefined();
    expect((await cluster.request('DELETE', `${SECRETS}/pre-1`)).status).toBe(404);
  });

  it('dryRun=All validates and answers but stores nothing', async () => {
    const rvBefore = cluster.store.resourceVersion;
    const created = await cluster.request('POST', `${SECRETS}?dryRun=All`, { body: secret('dry-1') });
    expect(created.status).toBe(201);
    expect(created.body.metadata.name).toBe('dry-1');
    expect(cluster.store.get('Secret', 'default', 'dry-1')).toBeUndefined();
    expect((await cluster.request('POST', `${SECRETS}?dryRun=All`, { body: secret('Invalid!') })).status).toBe(422);
    expect((await cluster.request('POST', `${SECRETS}?dryRun=Bogus`, { body: secret('dry-x') })).status).toBe(400);

    cluster.store.put(secret('dry-2') as never, 'secrets');
    const before = cluster.store.get('Secret', 'default', 'dry-2')!;
    const patched = await cluster.request('PATCH', `${SECRETS}/dry-2?dryRun=All`, { body: { data: { k: b64('new') } }, contentType: 'application/merge-patch+json' });
    expect(patched.body.data).toEqual({ k: b64('new') });
    const put = await cluster.request('PUT', `${SECRETS}/dry-2?dryRun=All`, { body: { ...before, data: { z: b64('z') } } });
    expect(put.status).toBe(200);
    const del = await cluster.request('DELETE', `${SECRETS}/dry-2?dryRun=All`);
    expect(del.status).toBe(200);
    expect(cluster.store.get('Secret', 'default', 'dry-2')).toEqual(before);
    expect(Number(cluster.store.resourceVersion)).toBe(Number(rvBefore) + 1); // only the store.put
  });

  it('validates names, labels, data keys and base64', async () => {
    const bad = await cluster.request('POST', SECRETS, { body: secret('Bad_Name', { metadata: { name: 'Bad_Name', labels: { 'ok': 'bad value' } } }) });
    expect(bad.status).toBe(422);
    expect(bad.body.reason).toBe('Invalid');
    expect(bad.body.details.causes.map((c: { field: string }) => c.field)).toEqual(['metadata.name', 'metadata.labels']);
    expect(bad.body.message).toMatch(/^Secret "Bad_Name" is invalid: \[metadata\.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/);
    const noName = await cluster.request('POST', SECRETS, { body: { apiVersion: 'v1', kind: 'Secret', metadata: {} } });
    expect(noName.body.message).toBe('Secret "" is invalid: metadata.name: Required value: name or generateName is required');
    const generated = await cluster.request('POST', SECRETS, { body: { metadata: { generateName: 'gen-' } } });
    expect(generated.body.metadata.name).toMatch(/^gen-[a-z0-9]{5}$/);
    const key = await cluster.request('POST', SECRETS, { body: secret('badkey', { data: { 'a b': b64('x') } }) });
    expect(key.status).toBe(422);
    expect(key.body.details.causes[0].field).toBe('data[a b]');
    const notB64 = await cluster.request('POST', SECRETS, { body: secret('notb64', { data: { k: 'abc' } }) });
    expect(notB64.status).toBe(400);
    expect(notB64.body.message).toMatch(/^Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte \d+$/);
    const ns = await cluster.request('POST', '/api/v1/namespaces/missing/secrets', { body: secret('x') });
    expect(ns.status).toBe(404);
    expect(ns.body.message).toBe('namespaces "missing" not found');
    const mismatch = await cluster.request('POST', SECRETS, { body: secret('x', { metadata: { name: 'x', namespace: 'other' } }) });
    expect(mismatch.body.message).toBe('the namespace of the provided object does not match the namespace sent on the request');
    const strict = await cluster.request('POST', `${SECRETS}?fieldValidation=Strict`, { body: secret('strict', { bogus: 1 }) });
    expect(strict.body.message).toBe('strict decoding error: unknown field "bogus"');
    const warn = await cluster.request('POST', SECRETS, { body: secret('warned', { bogus: 1 }) });
    expect(warn.status).toBe(201);
    expect(warn.headers.warning).toBe('299 - "unknown field \\"bogus\\""');
  });

  it('pods need their service account (admission) and default to "default"', async () => {
    const pods = '/api/v1/namespaces/default/pods';
    const noSa = await cluster.request('POST', pods, { body: { metadata: { name: 'p1' }, spec: { serviceAccountName: 'ghost', containers: [{ name: 'c', image: 'i' }] } } });
    expect(noSa.status).toBe(403);
    expect(noSa.body.message).toBe('pods "p1" is forbidden: error looking up service account default/ghost: serviceaccount "ghost" not found');
    const ok = await cluster.request('POST', pods, { body: { metadata: { name: 'p1' }, spec: { containers: [{ name: 'c', image: 'i' }] } } });
    expect(ok.body.spec.serviceAccountName).toBe('default');
    expect(ok.body.status.phase).toBe('Pending');
  });
});

describe('patch', () => {
  it('merge, JSON, strategic-merge and apply patches', async () => {
    cluster.store.put({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'pt', namespace: 'default', labels: { a: '1', b: '2' }, finalizers: ['x'] }, data: { k1: 'v1', k2: 'v2' } });
    const path = '/api/v1/namespaces/default/configmaps/pt';
    let r = await cluster.request('PATCH', path, { body: { metadata: { labels: { a: null, c: '3' } }, data: { k2: null } }, contentType: 'application/merge-patch+json' });
    expect(r.body.metadata.labels).toEqual({ b: '2', c: '3' });
    expect(r.body.data).toEqual({ k1: 'v1' });
    r = await cluster.request('PATCH', path, { body: [{ op: 'add', path: '/data/k3', value: 'v3' }, { op: 'remove', path: '/metadata/labels/b' }], contentType: 'application/json-patch+json' });
    expect(r.body.data).toEqual({ k1: 'v1', k3: 'v3' });
    expect(r.body.metadata.labels).toEqual({ c: '3' });
    r = await cluster.request('PATCH', path, {
      body: { metadata: { finalizers: ['y'] }, data: { $patch: 'replace', only: 'this' } },
      contentType: 'application/strategic-merge-patch+json',
    });
    expect(r.body.metadata.finalizers).toEqual(['x', 'y']);
    expect(r.body.data).toEqual({ only: 'this' });
    r = await cluster.request('PATCH', path, { body: { metadata: { $deleteFromPrimitiveList: undefined, ['$deleteFromPrimitiveList/finalizers']: ['x'] } }, contentType: 'application/strategic-merge-patch+json' });
    expect(r.body.metadata.finalizers).toEqual(['y']);
    // a patch carrying a stale resourceVersion is a conflict
    r = await cluster.request('PATCH', path, { body: { metadata: { resourceVersion: '1' }, data: { z: 'z' } }, contentType: 'application/merge-patch+json' });
    expect(r.status).toBe(409);
    // server-side apply: needs a field manager; creates when missing
    r = await cluster.request('PATCH', '/api/v1/namespaces/default/configmaps/ssa', { body: 'apiVersion: v1\nkind: ConfigMap\ndata: {a: b}\n', contentType: 'application/apply-patch+yaml' });
    expect(r.status).toBe(422);
    r = await cluster.request('PATCH', '/api/v1/namespaces/default/configmaps/ssa?fieldManager=me', { body: 'apiVersion: v1\nkind: ConfigMap\ndata: {a: b}\n', contentType: 'application/apply-patch+yaml' });
    expect(r.status).toBe(201);
    expect(r.body.metadata.managedFields[0]).toMatchObject({ manager: 'me' });
    r = await cluster.request('PATCH', '/api/v1/namespaces/default/configmaps/missing', { body: {}, contentType: 'application/merge-patch+json' });
    expect(r.status).toBe(404);
    r = await cluster.request('PATCH', '/apis/argoproj.io/v1alpha1/namespaces/default/appprojects/x', { body: {}, contentType: 'application/strategic-merge-patch+json' });
    expect(r.status).toBe(415);
  });
});

describe('list', () => {
  beforeAll(() => {
    for (let i = 0; i < 10; i++) {
      cluster.store.put({ apiVersion: 'v1', kind: 'Secret', metadata: { name: `item-${String(i).padStart(2, '0')}`, namespace: 'listing', labels: { idx: String(i), parity: i % 2 ? 'odd' : 'even' } }, type: i < 3 ? 'kubernetes.io/tls' : 'Opaque' });
    }
  });

  const names = (body: { items: Array<{ metadata: { name: string } }> }) => body.items.map((i) => i.metadata.name);

  it('returns a typed list without kind on items, with the list resourceVersion', async () => {
    const r = await cluster.request('GET', '/api/v1/namespaces/listing/secrets');
    expect(r.body).toMatchObject({ kind: 'SecretList', apiVersion: 'v1', metadata: { resourceVersion: cluster.store.resourceVersion } });
    expect(r.body.items).toHaveLength(10);
    expect(r.body.items[0].kind).toBeUndefined();
    expect(r.body.metadata.continue).toBeUndefined();
  });

  it('label and field selectors', async () => {
    const sel = async (q: string) => names((await cluster.request('GET', `/api/v1/namespaces/listing/secrets?${q}`)).body);
    expect(await sel('labelSelector=parity%3Dodd,idx+in+(1,2,3)')).toEqual(['item-01', 'item-03']);
    expect(await sel('labelSelector=idx%21%3D0,parity%3D%3Deven')).toEqual(['item-02', 'item-04', 'item-06', 'item-08']);
    expect(await sel('labelSelector=idx+notin+(0,1,2,3,4,5,6,7)')).toEqual(['item-08', 'item-09']);
    expect(await sel('labelSelector=!parity')).toEqual([]);
    expect(await sel('labelSelector=idx>7')).toEqual(['item-08', 'item-09']);
    expect(await sel('fieldSelector=metadata.name%3Ditem-05')).toEqual(['item-05']);
    expect(await sel('fieldSelector=type%3Dkubernetes.io/tls,metadata.name!%3Ditem-00')).toEqual(['item-01', 'item-02']);
    const bad = await cluster.request('GET', '/api/v1/namespaces/listing/secrets?fieldSelector=spec.foo%3Dx');
    expect(bad.status).toBe(400);
    expect(bad.body.message).toBe('field label not supported: spec.foo');
    expect((await cluster.request('GET', '/api/v1/namespaces/listing/secrets?labelSelector=a%3D%3D%3Db')).status).toBe(400);
  });

  it('pages with limit and opaque continue tokens, counting the remaining items', async () => {
    const seen: string[] = [];
    let token: string | undefined;
    const remaining: Array<number | undefined> = [];
    do {
      const r = await cluster.request('GET', `/api/v1/namespaces/listing/secrets?limit=4${token ? `&continue=${encodeURIComponent(token)}` : ''}`);
      expect(r.status).toBe(200);
      seen.push(...names(r.body));
      remaining.push(r.body.metadata.remainingItemCount);
      token = r.body.metadata.continue;
    } while (token);
    expect(seen).toEqual(Array.from({ length: 10 }, (_, i) => `item-${String(i).padStart(2, '0')}`));
    expect(remaining).toEqual([6, 2, undefined]);
    // with a selector the limit counts matches, and no remainingItemCount is given
    const odd = await cluster.request('GET', '/api/v1/namespaces/listing/secrets?limit=2&labelSelector=parity%3Dodd');
    expect(names(odd.body)).toEqual(['item-01', 'item-03']);
    expect(odd.body.metadata.continue).toBeTruthy();
    expect(odd.body.metadata.remainingItemCount).toBeUndefined();
    const bad = await cluster.request('GET', '/api/v1/namespaces/listing/secrets?limit=2&continue=garbage');
    expect(bad.status).toBe(400);
  });

  it('lists across namespaces and serves Tables', async () => {
    const all = await cluster.request('GET', '/api/v1/secrets?labelSelector=idx%3D3');
    expect(all.body.items.map((i: { metadata: { namespace: string; name: string } }) => `${i.metadata.namespace}/${i.metadata.name}`)).toEqual(['listing/item-03']);
    const table = await cluster.request('GET', '/api/v1/namespaces/listing/secrets?limit=2', { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' });
    expect(table.body).toMatchObject({ kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: { continue: expect.any(String) } });
    expect(table.body.columnDefinitions.map((c: { name: string }) => c.name)).toEqual(['Name', 'Type', 'Data', 'Age']);
    expect(table.body.rows[0].cells.slice(0, 3)).toEqual(['item-00', 'kubernetes.io/tls', 0]);
    expect(table.body.rows[0].object).toMatchObject({ kind: 'PartialObjectMetadata', metadata: { name: 'item-00' } });
  });

  it('deletecollection deletes what the selector matches', async () => {
    const r = await cluster.request('DELETE', '/api/v1/namespaces/listing/secrets?labelSelector=idx+in+(8,9)');
    expect(r.body.kind).toBe('SecretList');
    expect(names(r.body)).toEqual(['item-08', 'item-09']);
    expect(cluster.store.list('secrets', 'listing')).toHaveLength(8);
  });

  it('5,000 seeded secrets list completely through HTTP', async () => {
    const ns = 'bulk';
    const t0 = Date.now();
    for (let i = 0; i < 5000; i++) {
      cluster.store.put({ apiVersion: 'v1', kind: 'Secret', metadata: { name: `s-${i}`, namespace: ns, labels: { 'argocd.argoproj.io/secret-type': 'cluster' } }, data: { server: b64(`https://h${i}`) } });
    }
    const seeded = Date.now();
    const full = await cluster.request('GET', `/api/v1/namespaces/${ns}/secrets`);
    expect(full.body.items).toHaveLength(5000);
    let count = 0;
    let token: string | undefined;
    cluster.counts.reset();
    do {
      const r = await cluster.request('GET', `/api/v1/namespaces/${ns}/secrets?limit=500&labelSelector=argocd.argoproj.io%2Fsecret-type%3Dcluster${token ? `&continue=${encodeURIComponent(token)}` : ''}`);
      count += r.body.items.length;
      token = r.body.metadata.continue;
    } while (token);
    expect(count).toBe(5000);
    expect(cluster.counts.get('list secrets')).toBe(10);
    console.log(`seeded 5000 secrets in ${seeded - t0} ms, listed them (1 + 10 pages) in ${Date.now() - seeded} ms`);
  });
});

describe('watch', () => {
  it('streams the current state, then ADDED/MODIFIED/DELETED events for matching objects', async () => {
    const https = await import('node:https');
    cluster.store.put({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'w0', namespace: 'watched', labels: { w: '1' } } });
    const events: Array<{ type: string; name: string }> = [];
    let notify: () => void = () => {};
    const until = (n: number) => new Promise<void>((resolve) => {
      notify = () => events.length >= n && resolve();
      notify();
    });
    const req = https.request(`${cluster.url}/api/v1/namespaces/watched/configmaps?watch=true&labelSelector=w%3D1&timeoutSeconds=30`, {
      ca: cluster.caPem, cert: cluster.admin.certPem, key: cluster.admin.keyPem, agent: false,
    }, (res) => {
      expect(res.headers['content-type']).toBe('application/json');
      let buf = '';
      res.on('data', (c: Buffer) => {
        buf += c.toString();
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const e = JSON.parse(buf.slice(0, nl));
          buf = buf.slice(nl + 1);
          events.push({ type: e.type, name: e.object.metadata.name });
          notify();
        }
      });
    });
    req.on('error', () => {});
    req.end();
    try {
      await until(1); // subscribed: the current state arrived
      await cluster.request('POST', '/api/v1/namespaces/watched/configmaps', { body: { metadata: { name: 'w1', labels: { w: '1' } } } });
      await cluster.request('POST', '/api/v1/namespaces/watched/configmaps', { body: { metadata: { name: 'other' } } });
      await cluster.request('PATCH', '/api/v1/namespaces/watched/configmaps/w1', { body: { data: { a: 'b' } }, contentType: 'application/merge-patch+json' });
      await cluster.request('DELETE', '/api/v1/namespaces/watched/configmaps/w1');
      await until(4);
    } finally {
      req.destroy();
    }
    expect(events).toEqual([
      { type: 'ADDED', name: 'w0' },
      { type: 'ADDED', name: 'w1' },
      { type: 'MODIFIED', name: 'w1' },
      { type: 'DELETED', name: 'w1' },
    ]);
  });
});

describe('protobuf request bodies', () => {
  it('creates a Secret and requests a token from kubectl-style protobuf', async () => {
    const body = encodeKubeProtobuf({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'pb-1', labels: { a: 'b' } }, data: { bin: Buffer.from([0, 1, 255]).toString('base64') }, type: 'Opaque' });
    const r = await cluster.request('POST', SECRETS, { body, contentType: PROTOBUF_CONTENT_TYPE });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ metadata: { name: 'pb-1', labels: { a: 'b' } }, data: { bin: 'AAH/' }, type: 'Opaque' });

    cluster.store.put({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'pb-sa', namespace: 'default' } });
    const tr = encodeKubeProtobuf({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', metadata: {}, spec: { audiences: ['aud-1', 'aud-2'], expirationSeconds: 1800 } });
    const tok = await cluster.request('POST', '/api/v1/namespaces/default/serviceaccounts/pb-sa/token', { body: tr, contentType: PROTOBUF_CONTENT_TYPE });
    expect(tok.status).toBe(201);
    expect(tok.body).toMatchObject({ kind: 'TokenRequest', apiVersion: 'authentication.k8s.io/v1', spec: { audiences: ['aud-1', 'aud-2'], expirationSeconds: 1800, boundObjectRef: null } });
    const { payload } = await jwtVerify(tok.body.status.token, createLocalJWKSet(cluster.issuer.jwks()), { audience: 'aud-2' });
    expect(payload.exp! - payload.iat!).toBe(1800);
    expect(new Date(tok.body.status.expirationTimestamp).getTime()).toBe(payload.exp! * 1000);

    const garbage = await cluster.request('POST', SECRETS, { body: Buffer.from('nope'), contentType: PROTOBUF_CONTENT_TYPE });
    expect(garbage.status).toBe(400);
  });
});

describe('authentication', () => {
  it('401 Status without credentials, with an unknown token, or a certificate from another CA', async () => {
    const none = await cluster.request('GET', SECRETS, { identity: null });
    expect(none.status).toBe(401);
    expect(none.body).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 });
    expect((await cluster.request('GET', '/version', { identity: { token: 'nope' } })).status).toBe(401);
    const other = await FakeKubeCluster.start({ name: 'other' });
    try {
      expect(other.port).not.toBe(cluster.port);
      expect((await cluster.request('GET', SECRETS, { identity: other.admin })).status).toBe(401);
      expect((await other.request('GET', '/api/v1/namespaces/default/secrets')).status).toBe(200);
    } finally {
      await other.close();
    }
  });

  it('client certificates: CN is the user, O the groups; expired certificates are rejected', async () => {
    const cert = await cluster.issueClientCertificate('dave', ['team-a', 'team-b']);
    const review = { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' };
    const who = await cluster.request('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { identity: cert, body: review });
    expect(who.body.status.userInfo).toEqual({ username: 'dave', groups: ['team-a', 'team-b', 'system:authenticated'] });
    const expired = await cluster.issueClientCertificate('dave', [], { notBefore: new Date(Date.now() - 7200_000), notAfter: new Date(Date.now() - 3600_000) });
    expect((await cluster.request('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { identity: expired, body: review })).status).toBe(401);
  });

  it('static tokens and service account tokens', async () => {
    const review = { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' };
    const whoami = async (token: string) => cluster.request('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { identity: { token }, body: review });
    expect((await whoami('static-token')).body.status.userInfo).toEqual({ username: 'tokyo', groups: ['ops', 'system:authenticated'] });
    const added = cluster.addToken('eve', ['x']);
    expect((await whoami(added)).body.status.userInfo.username).toBe('eve');

    cluster.store.put({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'robot', namespace: 'default' } });
    const token = await cluster.serviceAccountToken('default', 'robot');
    expect((await whoami(token)).body.status.userInfo).toMatchObject({
      username: 'system:serviceaccount:default:robot',
      groups: ['system:serviceaccounts', 'system:serviceaccounts:default', 'system:authenticated'],
    });
    // a token for another audience is not a credential here
    expect((await whoami(await cluster.serviceAccountToken('default', 'robot', { audiences: ['teleport'] }))).status).toBe(401);
    // nor an expired one
    expect((await whoami(await cluster.serviceAccountToken('default', 'robot', { now: new Date(Date.now() - 7200_000) }))).status).toBe(401);
    // TokenReview tells the same
    const tr = await cluster.request('POST', '/apis/authentication.k8s.io/v1/tokenreviews', { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } } });
    expect(tr.body.status).toMatchObject({ authenticated: true, user: { username: 'system:serviceaccount:default:robot' } });
    // a recreated service account (new uid) invalidates old tokens
    cluster.store.delete('ServiceAccount', 'default', 'robot');
    cluster.store.put({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'robot', namespace: 'default' } });
    expect((await whoami(token)).status).toBe(401);
    // changing the issuer invalidates tokens of the old issuer
    const fresh = await cluster.serviceAccountToken('default', 'robot');
    cluster.setIssuer('https://oidc.eks.us-west-2.amazonaws.com/id/ABC');
    try {
      expect((await whoami(fresh)).status).toBe(401);
      // new tokens carry the new issuer, which is also the default API audience
      const issued = await cluster.serviceAccountToken('default', 'robot');
      expect((await whoami(issued)).status).toBe(201);
      expect(cluster.issuer.apiAudiences).toEqual(['https://oidc.eks.us-west-2.amazonaws.com/id/ABC']);
      const doc = await cluster.request('GET', '/.well-known/openid-configuration');
      expect(doc.body.issuer).toBe('https://oidc.eks.us-west-2.amazonaws.com/id/ABC');
    } finally {
      cluster.setIssuer('https://kubernetes.default.svc.cluster.local');
    }
  });

  it('anonymous requests when anonymous auth is on', async () => {
    cluster.anonymousAuth = true;
    try {
      expect((await cluster.request('GET', '/version', { identity: null })).status).toBe(200);
      const r = await cluster.request('GET', SECRETS, { identity: null });
      expect(r.status).toBe(403);
      expect(r.body.message).toBe('secrets is forbidden: User "system:anonymous" cannot list resource "secrets" in API group "" in the namespace "default"');
      const path = await cluster.request('GET', '/apis', { identity: null });
      expect(path.body.message).toBe('forbidden: User "system:anonymous" cannot get path "/apis"');
    } finally {
      cluster.anonymousAuth = false;
    }
  });
});

describe('impersonation', () => {
  let frank: { certPem: string; keyPem: string };
  beforeAll(async () => {
    frank = await cluster.issueClientCertificate('frank');
    cluster.store.seed([
      {
        apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'impersonate-some' },
        rules: [
          { apiGroups: [''], resources: ['users'], verbs: ['impersonate'], resourceNames: ['alice'] },
          { apiGroups: [''], resources: ['groups'], verbs: ['impersonate'], resourceNames: ['devs'] },
        ],
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'frank-impersonates' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'impersonate-some' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'frank' }],
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'frank-edits', namespace: 'apps' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'frank' }],
      },
    ]);
  });

  const whoami = (headers: Record<string, string | string[]>, identity: { certPem: string; keyPem: string } = frank) =>
    cluster.request('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { identity, headers, body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } });

  it('allows what RBAC grants and answers 403 with the real message otherwise', async () => {
    expect((await whoami({ 'Impersonate-User': 'alice', 'Impersonate-Group': 'devs' })).body.status.userInfo).toEqual({ username: 'alice', groups: ['devs', 'system:authenticated'] });
    const user = await whoami({ 'Impersonate-User': 'mallory' });
    expect(user.status).toBe(403);
    expect(user.body).toMatchObject({
      reason: 'Forbidden',
      message: 'users "mallory" is forbidden: User "frank" cannot impersonate resource "users" in API group "" at the cluster scope',
      details: { name: 'mallory', kind: 'users' },
    });
    const group = await whoami({ 'Impersonate-User': 'alice', 'Impersonate-Group': ['devs', 'system:masters'] });
    expect(group.body.message).toBe('groups "system:masters" is forbidden: User "frank" cannot impersonate resource "groups" in API group "" at the cluster scope');
    const noUser = await whoami({ 'Impersonate-Group': 'devs' });
    expect(noUser.status).toBe(500);
  });

  it('service accounts: checked in their namespace as resource serviceaccounts; SA groups added', async () => {
    const denied = await whoami({ 'Impersonate-User': 'system:serviceaccount:other:deployer' });
    expect(denied.body.message).toBe('serviceaccounts "deployer" is forbidden: User "frank" cannot impersonate resource "serviceaccounts" in API group "" in the namespace "other"');
    // the edit role includes impersonating service accounts in its namespace
    const ok = await whoami({ 'Impersonate-User': 'system:serviceaccount:apps:deployer' });
    expect(ok.body.status.userInfo).toEqual({
      username: 'system:serviceaccount:apps:deployer',
      groups: ['system:serviceaccounts', 'system:serviceaccounts:apps', 'system:authenticated'],
    });
    // admin impersonating a user who cannot read secrets
    const r = await cluster.request('GET', '/api/v1/namespaces/apps/secrets', { headers: { 'Impersonate-User': 'system:serviceaccount:apps:deployer' } });
    expect(r.status).toBe(403);
    expect(r.body.message).toBe('secrets is forbidden: User "system:serviceaccount:apps:deployer" cannot list resource "secrets" in API group "" in the namespace "apps"');
  });
});

describe('access reviews', () => {
  const ssar = (attrs: Record<string, unknown>, identity?: { certPem: string; keyPem: string }) =>
    cluster.request('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
      identity,
      body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: attrs },
    });

  it('evaluates RBAC: wildcards, resourceNames, subresources, non-resource URLs', async () => {
    cluster.store.seed([
      {
        apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'mixed', namespace: 'rev' },
        rules: [
          { apiGroups: [''], resources: ['configmaps'], verbs: ['get'], resourceNames: ['one'] },
          { apiGroups: ['*'], resources: ['*/token'], verbs: ['create'] },
          { apiGroups: ['argoproj.io'], resources: ['*'], verbs: ['*'] },
        ],
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'mixed', namespace: 'rev' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'mixed' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'reviewers' }],
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'broken', namespace: 'rev' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'does-not-exist' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'reviewers' }],
      },
    ]);
    const gina = await cluster.issueClientCertificate('gina', ['reviewers']);
    const allowed = async (ra: Record<string, string>) => (await ssar({ resourceAttributes: ra }, gina)).body.status.allowed;
    expect(await allowed({ namespace: 'rev', verb: 'get', resource: 'configmaps', name: 'one' })).toBe(true);
    expect(await allowed({ namespace: 'rev', verb: 'get', resource: 'configmaps', name: 'two' })).toBe(false);
    expect(await allowed({ namespace: 'rev', verb: 'get', resource: 'configmaps' })).toBe(false);
    expect(await allowed({ namespace: 'rev', verb: 'create', resource: 'serviceaccounts', subresource: 'token', name: 'x' })).toBe(true);
    expect(await allowed({ namespace: 'rev', verb: 'create', resource: 'serviceaccounts' })).toBe(false);
    expect(await allowed({ namespace: 'rev', verb: 'delete', group: 'argoproj.io', resource: 'appprojects' })).toBe(true);
    expect(await allowed({ namespace: 'other', verb: 'delete', group: 'argoproj.io', resource: 'appprojects' })).toBe(false);
    expect(await allowed({ verb: 'list', group: 'argoproj.io', resource: 'appprojects' })).toBe(false);
    const denied = await ssar({ resourceAttributes: { namespace: 'rev', verb: 'list', resource: 'secrets' } }, gina);
    expect(denied.status).toBe(201);
    expect(denied.body).toMatchObject({ kind: 'SelfSubjectAccessReview', apiVersion: 'authorization.k8s.io/v1', status: { allowed: false } });
    expect(denied.body.status.reason).toContain('role.rbac.authorization.k8s.io "does-not-exist" not found');
    const ok = await ssar({ resourceAttributes: { namespace: 'rev', verb: 'get', resource: 'configmaps', name: 'one' } }, gina);
    expect(ok.body.status.reason).toBe('RBAC: allowed by RoleBinding "mixed" of Role "mixed" to Group "reviewers"');
    expect((await ssar({ nonResourceAttributes: { path: '/version', verb: 'get' } }, gina)).body.status.allowed).toBe(true);
    expect((await ssar({ nonResourceAttributes: { path: '/logs', verb: 'get' } }, gina)).body.status.allowed).toBe(false);
    expect((await ssar({})).status).toBe(422);
    expect((await ssar({ resourceAttributes: { verb: 'anything', resource: 'anything' } })).body.status.allowed).toBe(true);
  });

  it('SubjectAccessReview for another user and protobuf SelfSubjectAccessReview', async () => {
    const sar = await cluster.request('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
      body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec: { user: 'someone', groups: ['reviewers'], resourceAttributes: { namespace: 'rev', verb: 'get', resource: 'configmaps', name: 'one' } } },
    });
    expect(sar.body.status.allowed).toBe(true);
    const sa = await cluster.request('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
      body: { spec: { user: 'system:serviceaccount:kube-system:default', groups: ['system:serviceaccounts'], resourceAttributes: { verb: 'list', resource: 'secrets' } } },
    });
    expect(sa.body.status.allowed).toBe(false);
    const pb = encodeKubeProtobuf({ apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', metadata: {}, spec: { resourceAttributes: { namespace: 'x', verb: 'create', resource: 'secrets' } } });
    const r = await cluster.request('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', { body: pb, contentType: PROTOBUF_CONTENT_TYPE });
    expect(r.body.status.allowed).toBe(true);
    expect(r.body.spec.resourceAttributes).toEqual({ namespace: 'x', verb: 'create', resource: 'secrets' });
  });
});

describe('discovery and issuer documents', () => {
  it('legacy and aggregated discovery, OpenAPI v3, version', async () => {
    expect((await cluster.request('GET', '/version')).body).toMatchObject({ major: '1', minor: '32', gitVersion: 'v1.32.4' });
    const apis = await cluster.request('GET', '/apis');
    expect(apis.body.groups.map((g: { name: string }) => g.name)).toEqual(['rbac.authorization.k8s.io', 'authorization.k8s.io', 'authentication.k8s.io', 'argoproj.io']);
    const v1 = await cluster.request('GET', '/api/v1');
    expect(v1.body.resources.find((r: { name: string }) => r.name === 'serviceaccounts/token')).toMatchObject({ group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest', verbs: ['create'] });
    const argo = await cluster.request('GET', '/apis/argoproj.io/v1alpha1');
    expect(argo.body.resources[0]).toMatchObject({ name: 'appprojects', namespaced: true, kind: 'AppProject', shortNames: ['appproj', 'appprojs'] });
    const agg = await cluster.request('GET', '/apis', { accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json' });
    expect(agg.headers['content-type']).toBe('application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList');
    expect(agg.body.items.find((i: { metadata: { name: string } }) => i.metadata.name === 'argoproj.io').versions[0].resources[0]).toMatchObject({ resource: 'appprojects', scope: 'Namespaced', responseKind: { kind: 'AppProject' } });
    const root = await cluster.request('GET', '/openapi/v3');
    const url = root.body.paths['api/v1'].serverRelativeURL;
    const doc = await cluster.request('GET', url);
    const patch = doc.body.paths['/api/v1/namespaces/{namespace}/secrets/{name}'].patch;
    expect(patch['x-kubernetes-group-version-kind']).toEqual({ group: '', version: 'v1', kind: 'Secret' });
    expect(patch.parameters.map((p: { name: string }) => p.name)).toContain('fieldValidation');
    expect((await cluster.request('GET', '/apis/nope.io/v1')).status).toBe(404);
    expect((await cluster.request('GET', '/api/v1/nopes')).status).toBe(404);
  });

  it('issuer discovery can be switched off and the jwks_uri set', async () => {
    const c2 = await FakeKubeCluster.start({ issuer: 'https://container.googleapis.com/v1/projects/p/locations/l/clusters/c', jwksUri: 'https://example.test/keys', issuerDiscovery: false });
    try {
      expect((await c2.request('GET', '/.well-known/openid-configuration')).status).toBe(404);
      expect((await c2.request('GET', '/openid/v1/jwks')).status).toBe(404);
      c2.issuerDiscovery = true;
      const doc = await c2.request('GET', '/.well-known/openid-configuration');
      expect(doc.body).toMatchObject({ issuer: 'https://container.googleapis.com/v1/projects/p/locations/l/clusters/c', jwks_uri: 'https://example.test/keys' });
      const jwks = await c2.request('GET', '/openid/v1/jwks');
      expect(jwks.headers['content-type']).toBe('application/jwk-set+json');
      expect(jwks.body.keys[0]).toMatchObject({ use: 'sig', kty: 'RSA', alg: 'RS256', kid: c2.issuer.currentKid });
    } finally {
      await c2.close();
    }
  });
});

describe('faults and controls', () => {
  it('counts requests per verb and resource', async () => {
    cluster.counts.reset();
    await cluster.request('GET', SECRETS);
    await cluster.request('GET', SECRETS);
    await cluster.request('GET', `${SECRETS}/nope`);
    await cluster.request('GET', '/version');
    await cluster.request('POST', '/api/v1/namespaces/default/serviceaccounts/default/token', { body: {} });
    expect(cluster.counts.get('list secrets')).toBe(2);
    expect(cluster.counts.get('get secrets')).toBe(1);
    expect(cluster.counts.get('get /version')).toBe(1);
    expect(cluster.counts.get('create serviceaccounts/token')).toBe(1);
    expect(cluster.counts.total).toBe(5);
    expect(cluster.counts.resourceTotal).toBe(4);
    cluster.store.put(secret('not-counted') as never, 'secrets');
    cluster.store.list('secrets');
    expect(cluster.counts.total).toBe(5);
    cluster.counts.reset();
    expect(cluster.counts.total).toBe(0);
  });

  it('429 with Retry-After, then 500/503, for the next N matching requests only', async () => {
    const f = cluster.faults.tooManyRequests({ verb: 'list', resource: 'secrets' }, { times: 2, retryAfterSeconds: 7 });
    const first = await cluster.request('GET', SECRETS);
    expect(first.status).toBe(429);
    expect(first.headers['retry-after']).toBe('7');
    expect(first.body).toMatchObject({ reason: 'TooManyRequests', details: { retryAfterSeconds: 7 }, code: 429 });
    expect((await cluster.request('GET', `${SECRETS}/x`)).status).toBe(404); // get does not match
    expect((await cluster.request('GET', SECRETS)).status).toBe(429);
    expect((await cluster.request('GET', SECRETS)).status).toBe(200);
    expect(f.hits).toBe(2);
    expect(f.exhausted).toBe(true);

    cluster.faults.serverError({ resource: 'configmaps' }, { times: 1 });
    cluster.faults.serverError({ resource: 'configmaps' }, { times: 1, code: 503 });
    const e500 = await cluster.request('GET', '/api/v1/namespaces/default/configmaps');
    expect(e500.status).toBe(500);
    expect(e500.body.reason).toBe('InternalError');
    const e503 = await cluster.request('GET', '/api/v1/namespaces/default/configmaps');
    expect(e503.status).toBe(503);
    expect(e503.body.reason).toBe('ServiceUnavailable');
    expect((await cluster.request('GET', '/api/v1/namespaces/default/configmaps')).status).toBe(200);
  });

  it('latency applies to matching requests and is counted', async () => {
    const f = cluster.faults.latency({ path: '/version' }, 20);
    expect((await cluster.request('GET', '/version')).status).toBe(200);
    expect((await cluster.request('GET', SECRETS)).status).toBe(200);
    expect(f.hits).toBe(1);
    f.remove();
    expect(cluster.faults.active).toHaveLength(0);
  });

  it('drops the connection for the next N matching requests', async () => {
    cluster.counts.reset();
    cluster.faults.dropConnection({ verb: 'get', resource: 'secrets', name: 'flaky' }, 1);
    cluster.store.put(secret('flaky') as never, 'secrets');
    await expect(cluster.request('GET', `${SECRETS}/flaky`)).rejects.toThrow(/socket hang up|ECONNRESET/);
    expect((await cluster.request('GET', `${SECRETS}/flaky`)).status).toBe(200);
    expect(cluster.counts.filter({ name: 'flaky' }).map((r) => r.status)).toEqual([undefined, 200]);
  });

  it('injects 409 Conflicts on the next N updates of matching objects', async () => {
    const obj = (await cluster.request('POST', SECRETS, { body: secret('contended') })).body;
    cluster.faults.conflict({ name: 'contended' }, 2);
    expect((await cluster.request('GET', `${SECRETS}/contended`)).status).toBe(200); // reads unaffected
    const put = () => cluster.request('PUT', `${SECRETS}/contended`, { body: { ...obj, data: { k: b64('new') } } });
    const c1 = await put();
    expect(c1.status).toBe(409);
    expect(c1.body.message).toBe('Operation cannot be fulfilled on secrets "contended": the object has been modified; please apply your changes to the latest version and try again');
    expect((await cluster.request('PATCH', `${SECRETS}/contended`, { body: { data: { k: b64('p') } }, contentType: 'application/merge-patch+json' })).status).toBe(409);
    expect((await put()).status).toBe(200);
  });

  it('runs a hook just before the next N matching requests are handled (another writer in between)', async () => {
    const listed = (await cluster.request('POST', SECRETS, { body: secret('raced') })).body;
    const hook = cluster.faults.before({ verb: 'delete', name: 'raced' }, () => {
      cluster.store.put({ ...cluster.store.get('Secret', 'default', 'raced')!, data: { k: b64('refreshed') } });
    });
    const stale = await cluster.request('DELETE', `${SECRETS}/raced`, { body: { preconditions: { resourceVersion: listed.metadata.resourceVersion } } });
    expect(stale.status).toBe(409);
    expect(hook).toMatchObject({ hits: 1, remaining: 0 });
    const current = cluster.store.get('Secret', 'default', 'raced')!;
    expect(current.data).toEqual({ k: b64('refreshed') });
    const ok = await cluster.request('DELETE', `${SECRETS}/raced`, { body: { preconditions: { resourceVersion: current.metadata.resourceVersion } } });
    expect(ok.status).toBe(200);
  });

  it('stops mid-test and restarts on the same port with its state', async () => {
    const c = await FakeKubeCluster.start({ name: 'stoppable' });
    try {
      c.store.put(secret('kept') as never, 'secrets');
      const port = c.port;
      await c.stop();
      expect(c.running).toBe(false);
      await expect(c.request('GET', '/version')).rejects.toThrow(/ECONNREFUSED/);
      await c.restart();
      expect(c.port).toBe(port);
      expect((await c.request('GET', '/api/v1/namespaces/default/secrets/kept')).status).toBe(200);
    } finally {
      await c.close();
    }
  });

  it('kubeconfig for an identity', async () => {
    const text = cluster.kubeconfig({ token: 'abc' }, { context: 'ctx', namespace: 'argocd' });
    const { parse } = await import('yaml');
    const cfg = parse(text);
    expect(cfg['current-context']).toBe('ctx');
    expect(cfg.clusters[0].cluster).toEqual({ server: cluster.url, 'certificate-authority-data': Buffer.from(cluster.caPem).toString('base64') });
    expect(cfg.users[0].user).toEqual({ token: 'abc' });
    expect(cfg.contexts[0].context).toMatchObject({ namespace: 'argocd' });
  });
});
