// The Teleport proxy stand-in against two echo upstreams: TLS/SNI, client certificates,
// path routing, authorization from roles, impersonation rules, streaming, faults.
import type { ClientRequest } from 'node:http';
import https from 'node:https';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { encodePathComponent } from '../world/fixtures/encoding.js';
import { type PemPair, createCA, issueTeleportCertificate } from '../world/pki.js';
import {
  type EchoUpstream,
  SEVERAL_USERS_MESSAGE,
  type TeleportProxy,
  call,
  routedPath,
  startEchoUpstream,
  startTeleportProxy,
  statusOf,
} from '../world/teleport-proxy/index.js';

const CLUSTER = 'tp1.floppy.co';

let a: EchoUpstream;
let b: EchoUpstream;
let proxy: TeleportProxy;
/** bot-argocd with roles wildcard-users + editor-group. */
let wildcardBot: PemPair;

beforeAll(async () => {
  a = await startEchoUpstream('a');
  b = await startEchoUpstream('b');
  proxy = await startTeleportProxy({
    clusterName: CLUSTER,
    publicHosts: ['proxy.example.test'],
    kubeClusters: {
      a: { upstream: a.target, labels: { env: 'prod' } },
      b: { upstream: b.target, labels: { env: 'dev' } },
    },
    roles: {
      'wildcard-users': { kubernetesUsers: ['*'], kubernetesLabels: { '*': '*' } },
      'editor-group': { kubernetesGroups: ['editor'], kubernetesLabels: { '*': '*' } },
      'single-user': { kubernetesUsers: ['system:serviceaccount:argocd:deployer'], kubernetesLabels: { '*': '*' } },
      'several-users': {
        kubernetesUsers: ['system:serviceaccount:team-a:sync', 'system:serviceaccount:team-b:sync'],
        kubernetesLabels: { '*': '*' },
      },
      'prod-admins': { kubernetesGroups: ['prod-admins'], kubernetesLabels: { env: 'prod' } },
      'no-principals': { kubernetesLabels: { '*': '*' } },
    },
  });
  wildcardBot = await proxy.issueIdentity({ user: 'bot-argocd', roles: ['wildcard-users', 'editor-group'], botName: 'argocd' });
});

afterAll(async () => {
  await proxy?.close();
  await a?.close();
  await b?.close();
});

beforeEach(() => {
  proxy.clearRequests();
  proxy.clearFaults();
  a.requests.length = 0;
  b.requests.length = 0;
});

const lastA = () => a.requests.at(-1)!;

describe('TLS', () => {
  it('serves a host-CA certificate for both SNI forms and the cluster name', async () => {
    for (const servername of [
      'kube-teleport-proxy-alpn.teleport.cluster.local',
      `kube-teleport-proxy-alpn.${CLUSTER}`,
      'kube-teleport-proxy-alpn.proxy.example.test',
    ]) {
      const reply = await call(proxy, wildcardBot, `${routedPath(proxy, 'a')}/version`, { servername });
      expect(reply.status, servername).toBe(200);
    }
    expect(proxy.sni).toBe('kube-teleport-proxy-alpn.teleport.cluster.local');
  });

  it('aborts the handshake without SNI', async () => {
    await expect(call(proxy, wildcardBot, '/version', { servername: null })).rejects.toThrow();
    expect(proxy.requests).toHaveLength(0);
    expect(proxy.tlsRejections).toEqual([expect.objectContaining({ servername: null, reason: 'sni' })]);
  });

  it('aborts the handshake with a foreign SNI', async () => {
    await expect(call(proxy, wildcardBot, '/version', { servername: 'tp1.floppy.co' })).rejects.toThrow();
    await expect(call(proxy, wildcardBot, '/version', { servername: 'kube-teleport-proxy-alpn.other.example' })).rejects.toThrow();
    expect(proxy.requests).toHaveLength(0);
    expect(proxy.tlsRejections.map((r) => [r.servername, r.reason])).toEqual([
      ['tp1.floppy.co', 'sni'],
      ['kube-teleport-proxy-alpn.other.example', 'sni'],
    ]);
  });

  it('refuses a client certificate from another CA (401 Status; Teleport would fail the handshake)', async () => {
    const otherCA = await createCA(CLUSTER);
    const foreign = await issueTeleportCertificate(otherCA, { user: 'bot-argocd', roles: ['wildcard-users'] });
    const reply = await call(proxy, foreign, `${routedPath(proxy, 'a')}/version`);
    expect(reply.status).toBe(401);
    expect(statusOf(reply)).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'Unauthorized', code: 401 });
    expect(statusOf(reply).message).toMatch(/^access denied: client certificate rejected: x509: certificate signed by unknown authority/);
    expect(a.requests).toHaveLength(0);
    expect(proxy.tlsRejections).toEqual([expect.objectContaining({ reason: 'client-certificate' })]);
  });

  it('refuses an expired user certificate', async () => {
    const expired = await proxy.issueIdentity(
      { user: 'bot-argocd', roles: ['wildcard-users'] },
      { notBefore: new Date(Date.now() - 7200_000), notAfter: new Date(Date.now() - 3600_000) },
    );
    const reply = await call(proxy, expired, `${routedPath(proxy, 'a')}/version`);
    expect(reply.status).toBe(401);
    expect(statusOf(reply).message).toBe(
      'access denied: client certificate rejected: x509: certificate has expired or is not yet valid (CERT_HAS_EXPIRED)',
    );
    expect(a.requests).toHaveLength(0);
  });

  it('refuses a connection without a client certificate like Teleport ([00] access denied)', async () => {
    const reply = await call(proxy, null, `${routedPath(proxy, 'a')}/version`);
    expect(reply.status).toBe(403);
    expect(statusOf(reply)).toMatchObject({ message: '[00] access denied', reason: 'Forbidden', code: 403 });
    expect(a.requests).toHaveLength(0);
  });

  it('can hang up instead of answering for refused certificates', async () => {
    const strict = await startTeleportProxy({ clusterName: CLUSTER, clientCertFailure: 'hangup' });
    try {
      const otherCA = await createCA(CLUSTER);
      const foreign = await issueTeleportCertificate(otherCA, { user: 'bot-argocd' });
      await expect(call(strict, foreign, '/version')).rejects.toThrow(/socket hang up|ECONNRESET/);
      expect(strict.requests).toEqual([expect.objectContaining({ status: null, error: expect.stringMatching(/client certificate rejected/) })]);
    } finally {
      await strict.close();
    }
  });
});

describe('routing', () => {
  it('routes /v1/teleport/<b64>/<b64>/… to the named cluster with the remaining path and query', async () => {
    const replyA = await call(proxy, wildcardBot, `${routedPath(proxy, 'a')}/api/v1/namespaces/argocd/secrets?labelSelector=x%3Dy&limit=5`);
    const replyB = await call(proxy, wildcardBot, `${routedPath(proxy, 'b')}/apis/argoproj.io/v1alpha1`);
    expect(replyA.status).toBe(200);
    expect(replyB.status).toBe(200);
    expect(a.requests.map((r) => r.path)).toEqual(['/api/v1/namespaces/argocd/secrets?labelSelector=x%3Dy&limit=5']);
    expect(b.requests.map((r) => r.path)).toEqual(['/apis/argoproj.io/v1alpha1']);
    expect(routedPath(proxy, 'a')).toBe(`/v1/teleport/${encodePathComponent(CLUSTER)}/YQ`);
  });

  it('calls the upstream as the admin identity with X-Forwarded headers', async () => {
    await call(proxy, wildcardBot, `${routedPath(proxy, 'a')}/api/v1/pods`, { headers: { authorization: 'Bearer should-not-pass' } });
    const seen = lastA();
    expect(seen.clientCommonName).toBe('admin-a');
    expect(seen.headers['authorization']).toBeUndefined();
    expect(seen.headers['x-forwarded-proto']).toEqual(['https']);
    expect(seen.headers['x-forwarded-path']).toEqual(['/api/v1/pods']);
    expect(seen.headers['x-forwarded-host']).toEqual([`127.0.0.1:${proxy.port}`]);
    expect(seen.headers['x-forwarded-for']).toEqual(['127.0.0.1']);
  });

  it('answers path decoding errors like Teleport', async () => {
    const cases: Array<[string, number, string]> = [
      [`/v1/teleport//YQ/version`, 400, 'no Teleport cluster name found in path'],
      [`/v1/teleport/${encodePathComponent(CLUSTER)}//version`, 400, 'no Kubernetes cluster name found in path'],
      [`/v1/teleport/dHA=/YQ/version`, 500, 'illegal base64 data at input byte 3'],
      [`/v1/teleport/__4/YQ/version`, 400, 'invalid Teleport cluster name'],
      [`/v1/teleport/${encodePathComponent(CLUSTER)}/__4/version`, 400, 'invalid Kubernetes cluster name'],
    ];
    for (const [path, code, message] of cases) {
      const reply = await call(proxy, wildcardBot, path);
      expect(reply.status, path).toBe(code);
      expect(statusOf(reply), path).toMatchObject({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message, code });
    }
    expect(a.requests).toHaveLength(0);
  });

  it('refuses a path that differs from the route fixed in the certificate', async () => {
    const routedToA = await proxy.issueIdentity({ user: 'alice', roles: ['editor-group'], kubernetesCluster: 'a' });
    const denied = await call(proxy, routedToA, `${routedPath(proxy, 'b')}/version`);
    expect(denied.status).toBe(403);
    expect(statusOf(denied)).toMatchObject({ message: 'existing route in identity may not be overwritten', reason: 'Forbidden', code: 403 });
    const same = await call(proxy, routedToA, `${routedPath(proxy, 'a')}/version`);
    expect(same.status).toBe(200);

    const leafRoute = await proxy.issueIdentity({ user: 'alice', roles: ['editor-group'], routeToCluster: 'leaf.example' });
    const deniedLeaf = await call(proxy, leafRoute, `${routedPath(proxy, 'a')}/version`);
    expect(deniedLeaf.status).toBe(403);
    expect(statusOf(deniedLeaf).message).toBe('existing route in identity may not be overwritten');
    expect(b.requests).toHaveLength(0);
  });

  it('answers not found for another Teleport cluster or an unknown kube cluster', async () => {
    const other = await call(proxy, wildcardBot, `${routedPath(proxy, 'a', 'other.example')}/version`);
    expect(other.status).toBe(404);
    expect(statusOf(other)).toMatchObject({ message: 'cluster "other.example" is not found', reason: 'NotFound' });
    const unknown = await call(proxy, wildcardBot, `${routedPath(proxy, 'nope')}/version`);
    expect(unknown.status).toBe(404);
    expect(statusOf(unknown)).toMatchObject({ message: 'Kubernetes cluster "nope" not found', reason: 'NotFound', code: 404 });
  });

  it('reaches a kube cluster of a trusted leaf by the leaf path or a leaf-routed certificate, never through the root', async () => {
    proxy.setKubeCluster('leafy', { upstream: b.target, labels: { env: 'dev' }, teleportCluster: 'leaf.example' });
    try {
      const byPath = await call(proxy, wildcardBot, `${routedPath(proxy, 'leafy', 'leaf.example')}/version`);
      expect(byPath.status).toBe(200);
      const leafRouted = await proxy.issueIdentity({ user: 'alice', roles: ['editor-group'], routeToCluster: 'leaf.example', kubernetesCluster: 'leafy' });
      expect((await call(proxy, leafRouted, '/version')).status).toBe(200);
      expect((await call(proxy, leafRouted, `${routedPath(proxy, 'leafy', 'leaf.example')}/version`)).status).toBe(200);
      // A leaf-routed certificate under the root's name is refused, as Teleport refuses it.
      expect(statusOf(await call(proxy, leafRouted, `${routedPath(proxy, 'leafy')}/version`)).message).toBe('existing route in identity may not be overwritten');
      const byRoot = await call(proxy, wildcardBot, `${routedPath(proxy, 'leafy')}/version`);
      expect(byRoot.status).toBe(404);
      expect(statusOf(byRoot).message).toBe('Kubernetes cluster "leafy" not found');
      expect(b.requests).toHaveLength(3);
    } finally {
      proxy.setKubeCluster('leafy', undefined);
    }
  });

  it('routes by the certificate kube cluster without the path prefix (tsh / tctl certificates)', async () => {
    const tshCert = await proxy.issueIdentity({ user: 'alice', roles: ['editor-group'], kubernetesCluster: 'b' });
    const reply = await call(proxy, tshCert, '/api/v1/namespaces');
    expect(reply.status).toBe(200);
    expect(b.requests.map((r) => r.path)).toEqual(['/api/v1/namespaces']);
    expect(proxy.requests.at(-1)).toMatchObject({ route: 'identity', kubeCluster: 'b', status: 200 });

    const noRoute = await call(proxy, wildcardBot, '/api/v1/namespaces');
    expect(noRoute.status).toBe(404);
    expect(statusOf(noRoute).message).toBe('Kubernetes cluster "" not found');
  });
});

describe('authorization and impersonation', () => {
  it('falls back to the Teleport username when kubernetes_users has a wildcard', async () => {
    const reply = await call(proxy, wildcardBot, `${routedPath(proxy, 'a')}/api/v1/namespaces`);
    expect(reply.status).toBe(200);
    expect(lastA().headers['impersonate-user']).toEqual(['bot-argocd']);
    expect(lastA().headers['impersonate-group']).toEqual(['editor', 'system:authenticated']);
  });

  it('uses the only literal kube user', async () => {
    const cert = await proxy.issueIdentity({ user: 'bot-deployer', roles: ['single-user'] });
    const reply = await call(proxy, cert, `${routedPath(proxy, 'a')}/api/v1/namespaces`);
    expect(reply.status).toBe(200);
    expect(lastA().headers['impersonate-user']).toEqual(['system:serviceaccount:argocd:deployer']);
    expect(lastA().headers['impersonate-group']).toEqual(['system:authenticated']);
  });

  it('impersonates the Teleport user itself when no kubernetes_users apply', async () => {
    const cert = await proxy.issueIdentity({ user: 'bot-editor', roles: ['editor-group'] });
    await call(proxy, cert, `${routedPath(proxy, 'a')}/version`);
    expect(lastA().headers['impersonate-user']).toEqual(['bot-editor']);
  });

  it('refuses to choose among several literal users without a header', async () => {
    const cert = await proxy.issueIdentity({ user: 'bot-argocd', roles: ['several-users'] });
    const reply = await call(proxy, cert, `${routedPath(proxy, 'a')}/api/v1/namespaces`);
    expect(reply.status).toBe(403);
    expect(statusOf(reply)).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: SEVERAL_USERS_MESSAGE,
      reason: 'Forbidden',
      code: 403,
    });
    expect(SEVERAL_USERS_MESSAGE).toBe(
      'please select a user to impersonate, refusing to select a user due to several kubernetes_users set up for this user',
    );
    expect(a.requests).toHaveLength(0);
  });

  it('accepts an allowed Impersonate-User and denies one that is not allowed', async () => {
    const cert = await proxy.issueIdentity({ user: 'bot-argocd', roles: ['several-users'] });
    const ok = await call(proxy, cert, `${routedPath(proxy, 'a')}/api/v1/namespaces/team-a/pods`, {
      headers: { 'Impersonate-User': 'system:serviceaccount:team-a:sync' },
    });
    expect(ok.status).toBe(200);
    expect(lastA().headers['impersonate-user']).toEqual(['system:serviceaccount:team-a:sync']);

    const denied = await call(proxy, cert, `${routedPath(proxy, 'a')}/api/v1/namespaces/team-c/pods`, {
      headers: { 'Impersonate-User': 'system:serviceaccount:team-c:sync' },
    });
    expect(denied.status).toBe(403);
    expect(statusOf(denied).message).toBe(
      'impersonation request has been denied, user header "system:serviceaccount:team-c:sync" is not allowed in roles',
    );
    expect(a.requests).toHaveLength(1);
  });

  it('lets a wildcard role impersonate any service account', async () => {
    const reply = await call(proxy, wildcardBot, `${routedPath(proxy, 'a')}/api/v1/namespaces/guestbook/configmaps`, {
      headers: { 'Impersonate-User': 'system:serviceaccount:guestbook:guestbook-deployer' },
    });
    expect(reply.status).toBe(200);
    expect(lastA().headers['impersonate-user']).toEqual(['system:serviceaccount:guestbook:guestbook-deployer']);
    expect(lastA().headers['impersonate-group']).toEqual(['editor', 'system:authenticated']);
    expect(proxy.requests.at(-1)).toMatchObject({
      requestedUser: 'system:serviceaccount:guestbook:guestbook-deployer',
      impersonateUser: 'system:serviceaccount:guestbook:guestbook-deployer',
      impersonateGroups: ['editor', 'system:authenticated'],
    });
  });

  it('treats an empty Impersonate-User as not set', async () => {
    const reply = await call(proxy, wildcardBot, `${routedPath(proxy, 'a')}/version`, { headers: { 'Impersonate-User': '' } });
    expect(reply.status).toBe(200);
    expect(lastA().headers['impersonate-user']).toEqual(['bot-argocd']);
  });

  it('impersonates a requested subset of allowed groups and denies others', async () => {
    const ok = await call(proxy, wildcardBot, `${routedPath(proxy, 'a')}/version`, {
      headers: { 'Impersonate-Group': ['editor', 'editor'] },
    });
    expect(ok.status).toBe(200);
    expect(lastA().headers['impersonate-group']).toEqual(['editor']);

    const denied = await call(proxy, wildcardBot, `${routedPath(proxy, 'a')}/version`, {
      headers: { 'Impersonate-Group': 'system:masters' },
    });
    expect(denied.status).toBe(403);
    expect(statusOf(denied).message).toBe(
      'impersonation request has been denied, group header "system:masters" value is not allowed in roles',
    );
  });

  it('rejects other Impersonate-* headers', async () => {
    for (const header of ['Impersonate-Uid', 'Impersonate-Extra-Scopes']) {
      const reply = await call(proxy, wildcardBot, `${routedPath(proxy, 'a')}/version`, { headers: { [header.toLowerCase()]: 'x' } });
      expect(reply.status).toBe(403);
      expect(statusOf(reply).message).toBe(`impersonation request has been denied, unsupported impersonation header "${header}"`);
    }
    expect(a.requests).toHaveLength(0);
  });

  it('recomputes principals from roles instead of trusting the certificate OIDs', async () => {
    const cert = await proxy.issueIdentity({
      user: 'bot-argocd',
      roles: ['single-user', 'role-that-does-not-exist'],
      kubernetesUsers: ['system:admin'],
      kubernetesGroups: ['system:masters'],
    });
    const user = await call(proxy, cert, `${routedPath(proxy, 'a')}/version`, { headers: { 'Impersonate-User': 'system:admin' } });
    expect(user.status).toBe(403);
    const group = await call(proxy, cert, `${routedPath(proxy, 'a')}/version`, { headers: { 'Impersonate-Group': 'system:masters' } });
    expect(group.status).toBe(403);
    const plain = await call(proxy, cert, `${routedPath(proxy, 'a')}/version`);
    expect(plain.status).toBe(200);
    expect(lastA().headers['impersonate-group']).toEqual(['system:authenticated']);
  });

  it('applies roles only to clusters whose labels they match', async () => {
    const cert = await proxy.issueIdentity({ user: 'alice', roles: ['prod-admins'] });
    const prod = await call(proxy, cert, `${routedPath(proxy, 'a')}/version`);
    expect(prod.status).toBe(200);
    expect(lastA().headers['impersonate-group']).toEqual(['prod-admins', 'system:authenticated']);
    const dev = await call(proxy, cert, `${routedPath(proxy, 'b')}/version`);
    expect(dev.status).toBe(404);
    expect(statusOf(dev)).toMatchObject({
      message:
        "Your user's Teleport role does not allow Kubernetes access. Please ask cluster administrator to ensure your role has appropriate kubernetes_groups and kubernetes_users set.",
      reason: 'NotFound',
    });
  });

  it('denies roles without kubernetes users or groups, and unknown roles', async () => {
    for (const roles of [['no-principals'], ['role-that-does-not-exist'], []]) {
      const cert = await proxy.issueIdentity({ user: 'bob', roles });
      const reply = await call(proxy, cert, `${routedPath(proxy, 'a')}/version`);
      expect(reply.status, roles.join(',')).toBe(404);
      expect(statusOf(reply).message).toMatch(/^Your user's Teleport role does not allow Kubernetes access\./);
    }
  });

  it('picks up role changes at runtime', async () => {
    const cert = await proxy.issueIdentity({ user: 'carol', roles: ['late-role'] });
    expect((await call(proxy, cert, `${routedPath(proxy, 'a')}/version`)).status).toBe(404);
    proxy.setRole('late-role', { kubernetesGroups: ['viewers'], kubernetesLabels: { env: ['dev', 'prod'] } });
    try {
      expect((await call(proxy, cert, `${routedPath(proxy, 'a')}/version`)).status).toBe(200);
      expect(lastA().headers['impersonate-group']).toEqual(['viewers', 'system:authenticated']);
    } finally {
      proxy.setRole('late-role', undefined);
    }
  });
});

describe('forwarding', () => {
  it('forwards request bodies with Content-Length and chunked encoding', async () => {
    const body = JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' } });
    const withLength = await call(proxy, wildcardBot, `${routedPath(proxy, 'a')}/api/v1/namespaces/argocd/secrets`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
      body,
    });
    expect(withLength.status).toBe(200);
    expect(lastA()).toMatchObject({ method: 'POST', body });
    expect(lastA().headers['content-type']).toEqual(['application/json']);

    const chunked = await call(proxy, wildcardBot, `${routedPath(proxy, 'a')}/api/v1/namespaces/argocd/secrets/s`, {
      method: 'DELETE',
      headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      body: '{"kind":"DeleteOptions"}',
    });
    expect(chunked.status).toBe(200);
    expect(lastA()).toMatchObject({ method: 'DELETE', body: '{"kind":"DeleteOptions"}' });
  });

  it('passes upstream error statuses and bodies through', async () => {
    const reply = await call(proxy, wildcardBot, `${routedPath(proxy, 'a')}/status/409`);
    expect(reply.status).toBe(409);
    expect(statusOf(reply)).toMatchObject({ message: 'upstream a says 409', reason: 'Conflict', code: 409 });
    expect(proxy.requests.at(-1)).toMatchObject({ status: 409, error: null });
  });

  it('streams responses (watch) chunk by chunk', async () => {
    const lines: string[] = [];
    let resolveLine: (() => void) | undefined;
    const nextLine = () => new Promise<void>((resolve) => (resolveLine = resolve));
    const firstLine = nextLine();
    const done = new Promise<number>((resolve, reject) => {
      const req = https.request(
        {
          host: '127.0.0.1',
          port: proxy.port,
          path: `${routedPath(proxy, 'a')}/stream?watch=true`,
          servername: proxy.sni,
          ca: proxy.hostCA.certPem,
          cert: wildcardBot.certPem,
          key: wildcardBot.keyPem,
          agent: false,
        },
        (res) => {
          let buffer = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            buffer += chunk;
            let nl: number;
            while ((nl = buffer.indexOf('\n')) >= 0) {
              lines.push(buffer.slice(0, nl));
              buffer = buffer.slice(nl + 1);
              resolveLine?.();
            }
          });
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end();
    });
    await firstLine;
    expect(lines).toEqual([JSON.stringify({ type: 'ADDED', upstream: 'a' })]);
    expect(a.openStreams()).toBe(1);
    const secondLine = nextLine();
    a.pushToStreams('{"type":"MODIFIED"}');
    await secondLine;
    expect(lines.at(-1)).toBe('{"type":"MODIFIED"}');
    a.endStreams();
    expect(await done).toBe(200);
  });

  it('closes the upstream watch when the client goes away', async () => {
    const started = new Promise<ClientRequest>((resolve, reject) => {
      const req = https.request(
        {
          host: '127.0.0.1',
          port: proxy.port,
          path: `${routedPath(proxy, 'a')}/stream?watch=true`,
          servername: proxy.sni,
          ca: proxy.hostCA.certPem,
          cert: wildcardBot.certPem,
          key: wildcardBot.keyPem,
          agent: false,
        },
        (res) => res.once('data', () => resolve(req)),
      );
      req.on('error', () => undefined);
      req.once('error', reject);
      req.end();
    });
    const req = await started;
    expect(a.openStreams()).toBe(1);
    req.destroy();
    for (let i = 0; i < 500 && a.openStreams() > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(a.openStreams()).toBe(0);
  });

  it('answers 502 when the upstream is unreachable', async () => {
    const dead = await startEchoUpstream('dead');
    await dead.close();
    proxy.setKubeCluster('dead', { upstream: dead.target, labels: {} });
    try {
      const reply = await call(proxy, wildcardBot, `${routedPath(proxy, 'dead')}/version`);
      expect(reply.status).toBe(502);
      expect(statusOf(reply)).toMatchObject({ kind: 'Status', code: 502 });
      expect(statusOf(reply).message).toMatch(/ECONNREFUSED/);
    } finally {
      proxy.setKubeCluster('dead', undefined);
    }
  });
});

describe('test controls', () => {
  it('logs each request with identity, route, impersonation and status', async () => {
    await call(proxy, wildcardBot, `${routedPath(proxy, 'a')}/api/v1/namespaces?limit=1`);
    const cert = await proxy.issueIdentity({ user: 'bot-argocd', roles: ['several-users'], botName: 'argocd' });
    await call(proxy, cert, `${routedPath(proxy, 'b')}/api/v1/namespaces`);
    expect(proxy.requests).toEqual([
      expect.objectContaining({
        method: 'GET',
        path: `${routedPath(proxy, 'a')}/api/v1/namespaces?limit=1`,
        route: 'path',
        teleportUser: 'bot-argocd',
        roles: ['wildcard-users', 'editor-group'],
        botName: 'argocd',
        teleportCluster: CLUSTER,
        kubeCluster: 'a',
        upstreamPath: '/api/v1/namespaces?limit=1',
        impersonateUser: 'bot-argocd',
        impersonateGroups: ['editor', 'system:authenticated'],
        status: 200,
        error: null,
        fault: null,
      }),
      expect.objectContaining({ kubeCluster: 'b', status: 403, error: SEVERAL_USERS_MESSAGE, impersonateUser: null }),
    ]);
    expect(proxy.requestCount()).toBe(2);
    expect(proxy.requestCount((r) => r.status === 403)).toBe(1);
  });

  it('drops connections and injects error statuses for the next N matching requests', async () => {
    proxy.injectFault({ kind: 'drop', match: ({ path }) => path.endsWith('/version') });
    proxy.injectFault({ kind: 'status', count: 2, status: 500, message: 'etcd is down' });
    const path = `${routedPath(proxy, 'a')}/version`;
    await expect(call(proxy, wildcardBot, path)).rejects.toThrow(/socket hang up|ECONNRESET/);
    const first = await call(proxy, wildcardBot, path);
    const second = await call(proxy, wildcardBot, path);
    const third = await call(proxy, wildcardBot, path);
    expect([first.status, second.status, third.status]).toEqual([500, 500, 200]);
    expect(statusOf(first)).toMatchObject({ message: 'etcd is down', reason: 'InternalError', code: 500 });
    expect(proxy.requests.map((r) => r.fault)).toEqual(['drop', 'status', 'status', null]);
    expect(a.requests).toHaveLength(1);
  });
});
