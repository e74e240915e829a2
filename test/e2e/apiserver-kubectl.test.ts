// Fidelity of the API server stand-in, proven with the real kubectl: what kubectl sends
// (protobuf bodies, aggregated discovery, OpenAPI v3, strategic-merge patches, paging)
// is accepted, and what it prints is what it prints for a real cluster.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import { FakeKubeCluster, KubectlSandbox, PROTOBUF_CONTENT_TYPE } from '../world/apiserver/index.js';

let cluster: FakeKubeCluster;
let sandbox: KubectlSandbox;
let admin: string;

function kubectl(args: string[], options: { kubeconfig?: string; input?: string } = {}) {
  return sandbox.run(args, { kubeconfig: options.kubeconfig ?? admin, input: options.input });
}

async function kubeconfigFor(name: string, identity: Parameters<FakeKubeCluster['writeKubeconfig']>[1], namespace?: string): Promise<string> {
  return cluster.writeKubeconfig(sandbox.path(`${name}.kubeconfig`), identity, { namespace });
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

beforeAll(async () => {
  cluster = await FakeKubeCluster.start({ name: 'fidelity', namespaces: ['argocd'] });
  sandbox = await KubectlSandbox.create();
  admin = await kubeconfigFor('admin', cluster.admin);
});

afterAll(async () => {
  await cluster?.close();
  await sandbox?.dispose();
});

describe('secrets and configmaps', () => {
  it('kubectl create secret generic sends protobuf and stores base64 data', async () => {
    cluster.counts.reset();
    const r = await kubectl(['create', 'secret', 'generic', 'gen1', '--from-literal=user=admin', '--from-literal=pass=s3cr3t']);
    expect(r).toMatchObject({ code: 0, stdout: 'secret/gen1 created\n' });
    const [create] = cluster.counts.filter({ verb: 'create', resource: 'secrets' });
    expect(create?.headers['content-type']).toBe(PROTOBUF_CONTENT_TYPE);
    expect(create?.query.get('fieldManager')).toBe('kubectl-create');
    const stored = cluster.store.get('Secret', 'default', 'gen1');
    expect(stored?.data).toEqual({ user: b64('admin'), pass: b64('s3cr3t') });
    expect(stored?.type).toBe('Opaque');
    expect(stored?.metadata.managedFields).toEqual([expect.objectContaining({ manager: 'kubectl-create', operation: 'Update' })]);
  });

  it('kubectl create configmap and get -o json', async () => {
    expect(await kubectl(['create', 'configmap', 'cm1', '--from-literal=a=1', '-n', 'argocd'])).toMatchObject({ code: 0, stdout: 'configmap/cm1 created\n' });
    const r = await kubectl(['get', 'configmap', 'cm1', '-n', 'argocd', '-o', 'json']);
    expect(r.code).toBe(0);
    const cm = JSON.parse(r.stdout);
    expect(cm).toMatchObject({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm1', namespace: 'argocd' }, data: { a: '1' } });
    expect(cm.metadata.resourceVersion).toMatch(/^\d+$/);
    expect(cm.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('kubectl apply creates, configures and leaves unchanged (client-side validation passes)', async () => {
    const manifest = (value: string, cmValue: string) => `
apiVersion: v1
kind: Secret
metadata:
  name: applied
  labels: {app: demo, tier: web}
stringData:
  key: ${value}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: applied-cm
  labels: {app: demo}
data:
  k: "${cmValue}"
`;
    cluster.counts.reset();
    let r = await kubectl(['apply', '-f', '-'], { input: manifest('one', '1') });
    expect(r).toMatchObject({ code: 0, stdout: 'secret/applied created\nconfigmap/applied-cm created\n' });
    expect(r.stderr).toBe('');
    // kubectl learnt from OpenAPI v3 that the server validates fields itself
    expect(cluster.counts.get('get /openapi/v3')).toBeGreaterThan(0);
    expect(cluster.counts.filter({ verb: 'create', resource: 'secrets' })[0]?.query.get('fieldValidation')).toBe('Strict');
    expect(cluster.store.get('Secret', 'default', 'applied')?.data).toEqual({ key: b64('one') });

    r = await kubectl(['apply', '-f', '-'], { input: manifest('two', '2') });
    expect(r).toMatchObject({ code: 0, stdout: 'secret/applied configured\nconfigmap/applied-cm configured\n' });
    expect(r.stderr).toBe('');
    const patches = cluster.counts.filter({ verb: 'patch' });
    expect(patches.map((p) => p.headers['content-type'])).toEqual(['application/strategic-merge-patch+json', 'application/strategic-merge-patch+json']);
    const secret = cluster.store.get('Secret', 'default', 'applied')!;
    expect(secret.data).toEqual({ key: b64('two') });
    expect(secret.stringData).toBeUndefined();
    expect(cluster.store.get('ConfigMap', 'default', 'applied-cm')?.data).toEqual({ k: '2' });

    // stringData is never stored, so kubectl always sends it again ("configured", as with a
    // real cluster), but the server sees a no-op and keeps the resourceVersion
    const rv = secret.metadata.resourceVersion;
    const cmRv = cluster.store.get('ConfigMap', 'default', 'applied-cm')?.metadata.resourceVersion;
    r = await kubectl(['apply', '-f', '-'], { input: manifest('two', '2') });
    expect(r).toMatchObject({ code: 0, stdout: 'secret/applied configured\nconfigmap/applied-cm unchanged\n' });
    expect(cluster.store.get('Secret', 'default', 'applied')?.metadata.resourceVersion).toBe(rv);
    expect(cluster.store.get('ConfigMap', 'default', 'applied-cm')?.metadata.resourceVersion).toBe(cmRv);
  });

  it('kubectl apply of an AppProject uses a JSON merge patch', async () => {
    const project = (ns: string) => `
apiVersion: argoproj.io/v1alpha1
kind: AppProject
metadata: {name: team-a, namespace: argocd}
spec:
  destinations: [{server: "*", namespace: "${ns}"}]
  destinationServiceAccounts: [{server: "*", namespace: "${ns}", defaultServiceAccount: deployer}]
`;
    expect(await kubectl(['apply', '-f', '-'], { input: project('a') })).toMatchObject({ code: 0, stdout: 'appproject.argoproj.io/team-a created\n' });
    cluster.counts.reset();
    expect(await kubectl(['apply', '-f', '-'], { input: project('b') })).toMatchObject({ code: 0, stdout: 'appproject.argoproj.io/team-a configured\n' });
    expect(cluster.counts.filter({ verb: 'patch' })[0]?.headers['content-type']).toBe('application/merge-patch+json');
    const stored = cluster.store.get('AppProject', 'argocd', 'team-a')!;
    expect(stored.spec).toEqual({
      destinations: [{ server: '*', namespace: 'b' }],
      destinationServiceAccounts: [{ server: '*', namespace: 'b', defaultServiceAccount: 'deployer' }],
    });
    expect(stored.metadata.generation).toBe(2);
    const r = await kubectl(['get', 'appprojects', '-n', 'argocd']);
    expect(r.stdout).toMatch(/^NAME\s+AGE\nteam-a\s+\d+s\n$/);
  });

  it('get with label selectors, -o json over several items, and the table', async () => {
    for (const [name, labels] of [
      ['sel-a', { app: 'sel', tier: 'web' }],
      ['sel-b', { app: 'sel', tier: 'db' }],
      ['sel-c', { app: 'other' }],
    ] as const) {
      cluster.store.put({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'default', labels }, data: { x: b64('y') } });
    }
    const names = async (selector: string) => {
      const r = await kubectl(['get', 'secrets', '-l', selector, '-o', 'json']);
      expect(r.code).toBe(0);
      const list = JSON.parse(r.stdout);
      expect(list.kind).toBe('List');
      for (const item of list.items) expect(item).toMatchObject({ apiVersion: 'v1', kind: 'Secret' });
      return list.items.map((i: { metadata: { name: string } }) => i.metadata.name);
    };
    expect(await names('app=sel')).toEqual(['sel-a', 'sel-b']);
    expect(await names('app==sel,tier!=db')).toEqual(['sel-a']);
    expect(await names('tier in (db,cache)')).toEqual(['sel-b']);
    expect(await names('app,app notin (sel,demo)')).toEqual(['sel-c']);
    expect(await names('app=sel,!tier')).toEqual([]);
    expect(await names('app=sel,tier')).toEqual(['sel-a', 'sel-b']);

    const table = await kubectl(['get', 'secrets', '-l', 'app=sel']);
    expect(table.stdout).toMatch(/^NAME\s+TYPE\s+DATA\s+AGE\nsel-a\s+Opaque\s+1\s+\d+s\nsel-b\s+Opaque\s+1\s+\d+s\n$/);
    const byName = await kubectl(['get', 'secrets', '--field-selector', 'metadata.name=sel-b', '-o', 'name']);
    expect(byName.stdout).toBe('secret/sel-b\n');
  });

  it('kubectl delete removes the object; dry-run=server stores nothing', async () => {
    cluster.store.put({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'doomed', namespace: 'default' } });
    expect(await kubectl(['delete', 'secret', 'doomed'])).toMatchObject({ code: 0, stdout: 'secret "doomed" deleted\n' });
    expect(cluster.store.get('Secret', 'default', 'doomed')).toBeUndefined();

    const r = await kubectl(['create', 'secret', 'generic', 'dry', '--from-literal=a=b', '--dry-run=server']);
    expect(r).toMatchObject({ code: 0, stdout: 'secret/dry created (server dry run)\n' });
    expect(cluster.counts.filter({ verb: 'create', resource: 'secrets' }).at(-1)?.query.get('dryRun')).toBe('All');
    expect(cluster.store.get('Secret', 'default', 'dry')).toBeUndefined();
  });

  it('paging with --chunk-size: several list requests with limit/continue, every item printed', async () => {
    for (let i = 0; i < 7; i++) cluster.store.put({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `page-${i}`, namespace: 'paging' }, data: {} });
    cluster.counts.reset();
    const r = await kubectl(['get', 'configmaps', '-n', 'paging', '--chunk-size=3', '-o', 'name']);
    expect(r.code).toBe(0);
    const expected = ['kube-root-ca.crt', ...Array.from({ length: 7 }, (_, i) => `page-${i}`)].sort().map((n) => `configmap/${n}`);
    expect(r.stdout.trim().split('\n')).toEqual(expected);
    const lists = cluster.counts.filter({ verb: 'list', resource: 'configmaps' });
    expect(lists.map((l) => l.query.get('limit'))).toEqual(['3', '3', '3']);
    expect(lists[0]?.query.get('continue')).toBeNull();
    expect(lists[1]?.query.get('continue')).toBeTruthy();
    expect(lists[2]?.query.get('continue')).toBeTruthy();
    expect(lists[1]?.query.get('continue')).not.toBe(lists[2]?.query.get('continue'));

    const table = await kubectl(['get', 'configmaps', '-n', 'paging', '--chunk-size=4']);
    expect(table.stdout.trim().split('\n')).toHaveLength(1 + 8);
  });
});

describe('errors as kubectl prints them for a real server', () => {
  it('NotFound', async () => {
    expect(await kubectl(['get', 'secret', 'nope'])).toMatchObject({ code: 1, stdout: '', stderr: 'Error from server (NotFound): secrets "nope" not found\n' });
    expect(await kubectl(['get', 'appproject', 'nope', '-n', 'argocd'])).toMatchObject({
      code: 1,
      stderr: 'Error from server (NotFound): appprojects.argoproj.io "nope" not found\n',
    });
  });

  it('AlreadyExists', async () => {
    const manifest = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dup}\n';
    expect(await kubectl(['create', '-f', '-'], { input: manifest })).toMatchObject({ code: 0 });
    expect(await kubectl(['create', '-f', '-'], { input: manifest })).toMatchObject({
      code: 1,
      stderr: 'Error from server (AlreadyExists): error when creating "STDIN": configmaps "dup" already exists\n',
    });
    expect(await kubectl(['create', 'secret', 'generic', 'gen1', '--from-literal=a=b'])).toMatchObject({
      code: 1,
      stderr: 'error: failed to create secret secrets "gen1" already exists\n',
    });
  });

  it('Invalid names and bad base64', async () => {
    const r = await kubectl(['create', 'secret', 'generic', 'Bad_Name', '--from-literal=a=b']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Secret "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain');
    const bad = await kubectl(['create', '-f', '-'], { input: 'apiVersion: v1\nkind: Secret\nmetadata: {name: b64}\ndata: {k: "no*base64"}\n' });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe('Error from server (BadRequest): error when creating "STDIN": Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 2\n');
  });

  it('Forbidden for a user without RBAC', async () => {
    const alice = await kubeconfigFor('alice', await cluster.issueClientCertificate('alice', ['devs']));
    expect(await kubectl(['get', 'secrets'], { kubeconfig: alice })).toMatchObject({
      code: 1,
      stderr: 'Error from server (Forbidden): secrets is forbidden: User "alice" cannot list resource "secrets" in API group "" in the namespace "default"\n',
    });
    expect(await kubectl(['get', 'secret', 'gen1'], { kubeconfig: alice })).toMatchObject({
      code: 1,
      stderr: 'Error from server (Forbidden): secrets "gen1" is forbidden: User "alice" cannot get resource "secrets" in API group "" in the namespace "default"\n',
    });
    expect(await kubectl(['get', 'secrets', '--as', 'bob'], { kubeconfig: alice })).toMatchObject({
      code: 1,
      stderr: 'Error from server (Forbidden): users "bob" is forbidden: User "alice" cannot impersonate resource "users" in API group "" at the cluster scope\n',
    });
  });

  it('Unauthorized for an unknown token', async () => {
    const bogus = await kubeconfigFor('bogus', { token: 'not-a-token' });
    // discovery is cached in HOME from the admin runs (same server URL), so the first
    // request kubectl makes is the list itself
    expect(await kubectl(['get', 'secrets'], { kubeconfig: bogus })).toMatchObject({
      code: 1,
      stdout: '',
      stderr: 'error: You must be logged in to the server (Unauthorized)\n',
    });
    // with a cold cache the failure happens in discovery, and kubectl words it differently
    const cold = await KubectlSandbox.create();
    try {
      const r = await cold.run(['get', 'secrets'], { kubeconfig: bogus });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/error: You must be logged in to the server \(the server has asked for the client to provide credentials\)\n$/);
    } finally {
      await cold.dispose();
    }
  });
});

describe('kubectl auth can-i', () => {
  it('answers from RBAC, with and without --as, before and after bindings', async () => {
    expect(await kubectl(['auth', 'can-i', 'delete', 'secrets', '-n', 'argocd'])).toMatchObject({ code: 0, stdout: 'yes\n' });
    expect(await kubectl(['auth', 'can-i', 'list', 'secrets', '-n', 'argocd', '--as', 'carol'])).toMatchObject({ code: 1, stdout: 'no\n' });
    expect(
      await kubectl(['auth', 'can-i', 'list', 'secrets', '-n', 'argocd', '--as', 'system:serviceaccount:argocd:tbot']),
    ).toMatchObject({ code: 1, stdout: 'no\n' });

    // typed create commands: protobuf bodies for Role / RoleBinding / ClusterRoleBinding
    expect(await kubectl(['create', 'serviceaccount', 'tbot', '-n', 'argocd'])).toMatchObject({ code: 0, stdout: 'serviceaccount/tbot created\n' });
    expect(await kubectl(['create', 'role', 'secret-reader', '-n', 'argocd', '--verb=get,list,watch', '--resource=secrets'])).toMatchObject({ code: 0 });
    expect(
      await kubectl(['create', 'rolebinding', 'tbot-reads', '-n', 'argocd', '--role=secret-reader', '--serviceaccount=argocd:tbot', '--user=carol']),
    ).toMatchObject({ code: 0, stdout: 'rolebinding.rbac.authorization.k8s.io/tbot-reads created\n' });
    expect(await kubectl(['create', 'clusterrolebinding', 'carol-view', '--clusterrole=view', '--user=carol'])).toMatchObject({ code: 0 });
    expect(cluster.store.get('RoleBinding', 'argocd', 'tbot-reads')).toMatchObject({
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'secret-reader' },
      subjects: [
        { kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'carol' },
        { kind: 'ServiceAccount', name: 'tbot', namespace: 'argocd' },
      ],
    });

    expect(await kubectl(['auth', 'can-i', 'list', 'secrets', '-n', 'argocd', '--as', 'carol'])).toMatchObject({ code: 0, stdout: 'yes\n' });
    expect(await kubectl(['auth', 'can-i', 'list', 'secrets', '-n', 'default', '--as', 'carol'])).toMatchObject({ code: 1, stdout: 'no\n' });
    expect(await kubectl(['auth', 'can-i', 'list', 'pods', '-A', '--as', 'carol'])).toMatchObject({ code: 0, stdout: 'yes\n' });
    expect(
      await kubectl(['auth', 'can-i', 'list', 'secrets', '-n', 'argocd', '--as', 'system:serviceaccount:argocd:tbot']),
    ).toMatchObject({ code: 0, stdout: 'yes\n' });
    expect(
      await kubectl(['auth', 'can-i', 'delete', 'secrets', '-n', 'argocd', '--as', 'system:serviceaccount:argocd:tbot']),
    ).toMatchObject({ code: 1, stdout: 'no\n' });
    expect(await kubectl(['auth', 'can-i', 'get', 'secrets/x', '-n', 'argocd', '--as', 'nobody', '--as-group', 'system:masters'])).toMatchObject({
      code: 0,
      stdout: 'yes\n',
    });
    const ssar = cluster.counts.filter({ verb: 'create', resource: 'selfsubjectaccessreviews' });
    expect(ssar.length).toBeGreaterThan(0);
    expect(ssar.every((r) => r.headers['content-type'] === PROTOBUF_CONTENT_TYPE)).toBe(true);
  });

  it('whoami shows the impersonated service account with its groups', async () => {
    const r = await kubectl(['auth', 'whoami', '-o', 'json', '--as', 'system:serviceaccount:argocd:tbot']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).status.userInfo).toEqual({
      username: 'system:serviceaccount:argocd:tbot',
      groups: ['system:serviceaccounts', 'system:serviceaccounts:argocd', 'system:authenticated'],
    });
  });
});

describe('kubectl create token', () => {
  it('returns a JWT that verifies against /openid/v1/jwks', async () => {
    cluster.store.put({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'joiner', namespace: 'argocd' } });
    const sa = cluster.store.get('ServiceAccount', 'argocd', 'joiner')!;
    const r = await kubectl(['create', 'token', 'joiner', '-n', 'argocd', '--audience', 'tp1.example.com', '--duration', '10m']);
    expect(r.code).toBe(0);
    const token = r.stdout.trim();
    expect(cluster.counts.filter({ resource: 'serviceaccounts/token' }).at(-1)?.headers['content-type']).toBe(PROTOBUF_CONTENT_TYPE);

    const jwks = await kubectl(['get', '--raw', '/openid/v1/jwks']);
    const keys = JSON.parse(jwks.stdout);
    expect(keys.keys).toEqual([{ use: 'sig', kty: 'RSA', kid: cluster.issuer.currentKid, alg: 'RS256', n: expect.any(String), e: 'AQAB' }]);
    const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(keys), {
      audience: 'tp1.example.com',
      issuer: 'https://kubernetes.default.svc.cluster.local',
    });
    expect(protectedHeader).toEqual({ alg: 'RS256', kid: cluster.issuer.currentKid });
    expect(payload.sub).toBe('system:serviceaccount:argocd:joiner');
    expect(payload.exp! - payload.iat!).toBe(600);
    expect(payload.nbf).toBe(payload.iat);
    expect(payload['kubernetes.io']).toEqual({ namespace: 'argocd', serviceaccount: { name: 'joiner', uid: sa.metadata.uid } });

    const discovery = JSON.parse((await kubectl(['get', '--raw', '/.well-known/openid-configuration'])).stdout);
    expect(discovery).toEqual({
      issuer: 'https://kubernetes.default.svc.cluster.local',
      jwks_uri: `${cluster.url}/openid/v1/jwks`,
      response_types_supported: ['id_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
    });
  });

  it('binds to a pod of the service account, rejects short durations, and authenticates', async () => {
    cluster.store.put({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'tbot-0', namespace: 'argocd' },
      spec: { serviceAccountName: 'joiner', containers: [{ name: 'tbot', image: 'tbot' }] },
      status: { phase: 'Running' },
    });
    const pod = cluster.store.get('Pod', 'argocd', 'tbot-0')!;
    const bound = await kubectl(['create', 'token', 'joiner', '-n', 'argocd', '--bound-object-kind', 'Pod', '--bound-object-name', 'tbot-0']);
    expect(bound.code).toBe(0);
    const claims = decodeJwt(bound.stdout.trim());
    expect(claims.aud).toEqual(['https://kubernetes.default.svc.cluster.local']);
    expect(claims.exp! - claims.iat!).toBe(3600);
    expect((claims['kubernetes.io'] as { pod: unknown }).pod).toEqual({ name: 'tbot-0', uid: pod.metadata.uid });

    expect(await kubectl(['create', 'token', 'joiner', '-n', 'argocd', '--duration', '5m'])).toMatchObject({
      code: 1,
      stderr: 'error: failed to create token: TokenRequest.authentication.k8s.io "joiner" is invalid: spec.expirationSeconds: Invalid value: 300: may not specify a duration less than 10 minutes\n',
    });
    expect(await kubectl(['create', 'token', 'ghost', '-n', 'argocd'])).toMatchObject({
      code: 1,
      stderr: 'error: failed to create token: serviceaccounts "ghost" not found\n',
    });

    // the default-audience token is a credential for this API server
    const asToken = await kubeconfigFor('joiner', { token: bound.stdout.trim() }, 'argocd');
    const who = await kubectl(['auth', 'whoami', '-o', 'json'], { kubeconfig: asToken });
    expect(who.code).toBe(0);
    expect(JSON.parse(who.stdout).status.userInfo).toMatchObject({
      username: 'system:serviceaccount:argocd:joiner',
      uid: cluster.store.get('ServiceAccount', 'argocd', 'joiner')!.metadata.uid,
      groups: ['system:serviceaccounts', 'system:serviceaccounts:argocd', 'system:authenticated'],
      extra: { 'authentication.kubernetes.io/pod-name': ['tbot-0'], 'authentication.kubernetes.io/pod-uid': [pod.metadata.uid] },
    });
    // deleting the pod revokes the bound token
    expect(await kubectl(['delete', 'pod', 'tbot-0', '-n', 'argocd', '--wait=false'])).toMatchObject({ code: 0 });
    expect(await kubectl(['get', 'secrets'], { kubeconfig: asToken })).toMatchObject({
      code: 1,
      stderr: 'error: You must be logged in to the server (Unauthorized)\n',
    });
  });

  it('key rotation changes the kid; old tokens stop verifying unless the old key is kept', async () => {
    const before = (await kubectl(['create', 'token', 'joiner', '-n', 'argocd', '--audience', 'x'])).stdout.trim();
    const oldKid = cluster.issuer.currentKid;
    await cluster.rotateSigningKey({ keepOld: true });
    let jwks = JSON.parse((await kubectl(['get', '--raw', '/openid/v1/jwks'])).stdout);
    expect(jwks.keys.map((k: { kid: string }) => k.kid)).toEqual([cluster.issuer.currentKid, oldKid]);
    await expect(jwtVerify(before, createLocalJWKSet(jwks), { audience: 'x' })).resolves.toBeTruthy();
    await cluster.rotateSigningKey();
    jwks = JSON.parse((await kubectl(['get', '--raw', '/openid/v1/jwks'])).stdout);
    expect(jwks.keys).toHaveLength(1);
    await expect(jwtVerify(before, createLocalJWKSet(jwks), { audience: 'x' })).rejects.toThrow();
    const after = (await kubectl(['create', 'token', 'joiner', '-n', 'argocd', '--audience', 'x'])).stdout.trim();
    await expect(jwtVerify(after, createLocalJWKSet(jwks), { audience: 'x' })).resolves.toBeTruthy();
  });
});

describe('Argo CD Applications (argoproj.io/v1alpha1, namespaced, listed cluster-wide)', () => {
  const app = (name: string, namespace: string, destination: string) => `
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: ${name}, namespace: ${namespace}}
spec:
  project: default
  source: {repoURL: "https://github.com/argoproj/argocd-example-apps.git", path: guestbook, targetRevision: HEAD}
  destination: {${destination}, namespace: apps}
`;

  it('kubectl apply -f app.yaml creates Applications in several namespaces; get -A lists them in one cluster-wide LIST', async () => {
    const applied = await kubectl(['apply', '-f', '-'], {
      input: [app('guestbook', 'argocd', 'server: "https://prod.example.com:443"'), app('billing', 'team-a', 'name: prod-eu')].join('---\n'),
    });
    expect(applied).toMatchObject({ code: 1 });
    expect(applied.stderr).toContain('namespaces "team-a" not found');
    expect(await kubectl(['create', 'namespace', 'team-a'])).toMatchObject({ code: 0 });
    expect(await kubectl(['apply', '-f', '-'], { input: app('billing', 'team-a', 'name: prod-eu') })).toMatchObject({
      code: 0,
      stdout: 'application.argoproj.io/billing created\n',
    });
    expect(cluster.store.get('Application', 'team-a', 'billing')).toMatchObject({ metadata: { generation: 1 }, spec: { destination: { name: 'prod-eu', namespace: 'apps' } } });

    cluster.counts.reset();
    const all = await kubectl(['get', 'applications', '-A']);
    expect(all.code).toBe(0);
    // No status yet: the CRD's printer columns find nothing, and kubectl prints empty cells.
    expect(all.stdout).toMatch(/^NAMESPACE\s+NAME\s+SYNC STATUS\s+HEALTH STATUS\nargocd\s+guestbook\s*\nteam-a\s+billing\s*\n$/);
    expect(cluster.counts.filter({ verb: 'list', resource: 'applications' }).map((request) => request.path)).toEqual(['/apis/argoproj.io/v1alpha1/applications']);

    cluster.store.put({ ...cluster.store.get('Application', 'argocd', 'guestbook')!, status: { sync: { status: 'Synced', revision: 'abc123' }, health: { status: 'Healthy' } } });
    const wide = await kubectl(['get', 'apps', '-n', 'argocd', '-o', 'wide']);
    expect(wide.stdout).toMatch(/^NAME\s+SYNC STATUS\s+HEALTH STATUS\s+REVISION\s+PROJECT\nguestbook\s+Synced\s+Healthy\s+abc123\s+default\n$/);
  });

  it('pages a cluster-wide LIST with limit/continue', async () => {
    for (const namespace of ['team-b', 'team-c']) {
      for (let index = 0; index < 2; index += 1) {
        cluster.store.put({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', metadata: { name: `page-${index}`, namespace }, spec: { project: 'default', destination: { name: 'x' } } });
      }
    }
    cluster.counts.reset();
    const names = await kubectl(['get', 'applications', '-A', '--chunk-size=2', '-o', 'json']);
    expect(names.code).toBe(0);
    const items = (JSON.parse(names.stdout) as { items: Array<{ kind: string; metadata: { namespace: string; name: string } }> }).items;
    expect(items.map((item) => `${item.metadata.namespace}/${item.metadata.name}`)).toEqual([
      'argocd/guestbook',
      'team-a/billing',
      'team-b/page-0',
      'team-b/page-1',
      'team-c/page-0',
      'team-c/page-1',
    ]);
    expect(items.every((item) => item.kind === 'Application')).toBe(true);
    expect(cluster.counts.filter({ verb: 'list', resource: 'applications' }).map((request) => request.query.get('limit'))).toEqual(['2', '2', '2']);
  });

  it('validates the spec as the CRD schema does, and answers 403 to a user RBAC does not allow', async () => {
    const invalid = await kubectl(['apply', '-f', '-'], { input: 'apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: broken, namespace: argocd}\nspec: {destination: {name: x}}\n' });
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain('Application.argoproj.io "broken" is invalid: spec.project: Required value');

    const reader = await kubeconfigFor('secret-reader', await cluster.issueClientCertificate('secret-reader'));
    cluster.store.put({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'secret-reader', namespace: 'argocd' }, rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['list'] }] });
    cluster.store.put({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'secret-reader', namespace: 'argocd' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'secret-reader' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'secret-reader' }],
    });
    expect(await kubectl(['get', 'secrets', '-n', 'argocd', '-o', 'name'], { kubeconfig: reader })).toMatchObject({ code: 0 });
    expect(await kubectl(['get', 'applications', '-n', 'argocd'], { kubeconfig: reader })).toMatchObject({
      code: 1,
      stderr: 'Error from server (Forbidden): applications.argoproj.io is forbidden: User "secret-reader" cannot list resource "applications" in API group "argoproj.io" in the namespace "argocd"\n',
    });
  });

  it('without the CRD: gone from discovery, 404 for its URLs; served again after reinstalling', async () => {
    cluster.uninstallCrd('applications.argoproj.io');
    const cold = await KubectlSandbox.create();
    try {
      expect(await cold.run(['get', 'applications', '-A'], { kubeconfig: admin })).toMatchObject({
        code: 1,
        stderr: expect.stringContaining('error: the server doesn\'t have a resource type "applications"'),
      });
      expect(await cold.run(['get', 'appprojects', '-n', 'argocd', '-o', 'name'], { kubeconfig: admin })).toMatchObject({ code: 0 });
      const raw = await cold.run(['get', '--raw', '/apis/argoproj.io/v1alpha1/namespaces/argocd/applications'], { kubeconfig: admin });
      expect(raw).toMatchObject({ code: 1, stderr: 'Error from server (NotFound): the server could not find the requested resource\n' });
      cluster.installCrd('applications.argoproj.io');
      expect(await cold.run(['get', 'applications', '-A'], { kubeconfig: admin })).toMatchObject({ code: 0, stdout: '', stderr: 'No resources found\n' });
    } finally {
      cluster.installCrd('applications.argoproj.io');
      await cold.dispose();
    }
  });
});
