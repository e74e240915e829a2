import { X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { renderClusterSecret, type ClusterSecretSpec, type SecretObject } from '../../src/argocd/cluster-secret.js';
import {
  auditClusterSecrets,
  buildClusterList,
  clusterColumns,
  expiresCell,
  failsOn,
  parseFailOn,
  type AuditOptions,
  type AuditedCluster,
} from '../../src/audit/cluster-status.js';
import { UsageError } from '../../src/cli/errors.js';
import { renderJson, renderTable } from '../../src/cli/output.js';
import { renderYaml } from '../../src/cli/output-yaml.js';
import { argocdClusterAddSecret, declarativeClusterSecret, tbotClusterSecret } from '../world/fixtures/index.js';
import { createCA, issueTeleportCertificate, type CertificateAuthority, type PemPair } from '../world/pki.js';

const HOUR = 3_600_000;
const MINUTE = 60_000;
const now = new Date();
const options: AuditOptions = { now, staleAfterMs: HOUR, expiringWithinMs: 10 * MINUTE };
const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

let hostCA: CertificateAuthority;
let userCA: CertificateAuthority;
/** Valid for 50 more minutes: tbot's usual one-hour bot certificate. */
let bot: PemPair;
let expired: PemPair;
let expiringSoon: PemPair;
let other: PemPair;

beforeAll(async () => {
  hostCA = await createCA('example.teleport.sh');
  userCA = await createCA('example.teleport.sh');
  const identity = {
    user: 'bot-argocd',
    roles: ['bot-argocd'],
    kubernetesUsers: ['argocd-sa'],
    kubernetesGroups: ['editor', 'viewer'],
    teleportCluster: 'example.teleport.sh',
    botName: 'argocd',
  };
  bot = await issueTeleportCertificate(userCA, identity, { notBefore: new Date(now.getTime() - 10 * MINUTE), notAfter: new Date(now.getTime() + 50 * MINUTE) });
  expired = await issueTeleportCertificate(userCA, identity, { notBefore: new Date(now.getTime() - 5 * HOUR), notAfter: new Date(now.getTime() - 3 * HOUR) });
  expiringSoon = await issueTeleportCertificate(userCA, identity, { notBefore: new Date(now.getTime() - HOUR), notAfter: new Date(now.getTime() + 5 * MINUTE) });
  other = await issueTeleportCertificate(userCA, { user: 'alice', roles: ['access'] });
});

function ours(kubeCluster: string, overrides: Partial<ClusterSecretSpec> = {}): SecretObject {
  return renderClusterSecret({
    namespace: 'argocd',
    prefix: 'teleport.argocd-cluster',
    nameTemplate: '{{.ClusterName}}-{{.KubeName}}',
    route: { teleportCluster: 'example.teleport.sh', kubeCluster },
    proxyBase: 'https://example.teleport.sh:443',
    credentials: { caPem: hostCA.certPem, certPem: bot.certPem, keyPem: bot.keyPem, serverName: 'kube-teleport-proxy-alpn.example.teleport.sh' },
    botName: 'argocd',
    updated: new Date(now.getTime() - 5 * MINUTE),
    ...overrides,
  });
}

function tbot(kubeCluster: string, updated: Date | string, pair: PemPair = bot): SecretObject {
  return tbotClusterSecret({
    teleportCluster: 'example.teleport.sh',
    kubeCluster,
    proxyAddr: 'example.teleport.sh:443',
    caPem: hostCA.certPem,
    certPem: pair.certPem,
    keyPem: pair.keyPem,
    botName: 'argocd',
    updated,
  }) as SecretObject;
}

function audit(...secrets: SecretObject[]): AuditedCluster[] {
  return auditClusterSecrets(secrets, options);
}

function only(...secrets: SecretObject[]): AuditedCluster {
  const [first] = audit(...secrets);
  return first!;
}

/** A copy of a secret with some `data` values replaced (already base64) or removed (undefined). */
function withData(secret: SecretObject, data: Record<string, string | undefined>): SecretObject {
  const copy = structuredClone(secret);
  for (const [key, value] of Object.entries(data)) {
    if (value === undefined) delete copy.data![key];
    else copy.data![key] = value;
  }
  return copy;
}

describe('a secret written by sync', () => {
  it('reads every field, the certificate and the Teleport identity', () => {
    const secret = ours('prod-eu', { project: 'platform', namespaces: ['apps', 'tools'], clusterResources: true });
    const row = only(secret);
    expect(row.item).toMatchObject({
      secret: { name: secret.metadata.name, namespace: 'argocd' },
      name: 'example.teleport.sh-prod-eu',
      server: 'https://example.teleport.sh:443/v1/teleport/ZXhhbXBsZS50ZWxlcG9ydC5zaA/cHJvZC1ldQ',
      teleportCluster: 'example.teleport.sh',
      kubeCluster: 'prod-eu',
      owner: 'kubectl-teleport-argocd',
      project: 'platform',
      namespaces: ['apps', 'tools'],
      clusterResources: true,
      credentials: {
        type: 'client-certificate',
        serverName: 'kube-teleport-proxy-alpn.example.teleport.sh',
        certificate: {
          subject: expect.stringContaining('CN=bot-argocd'),
          issuer: 'CN=example.teleport.sh, O=example.teleport.sh',
          teleport: {
            user: 'bot-argocd',
            botName: 'argocd',
            roles: ['bot-argocd'],
            kubernetesUsers: ['argocd-sa'],
            kubernetesGroups: ['editor', 'viewer'],
            teleportCluster: 'example.teleport.sh',
            kubernetesCluster: null,
          },
        },
      },
      status: 'Healthy',
      problems: [],
      probe: null,
    });
    const x509 = new X509Certificate(bot.certPem);
    expect(row.item.credentials.certificate?.sha256Fingerprint).toBe(x509.fingerprint256);
    expect(row.item.credentials.certificate?.notAfter).toBe(new Date(x509.validTo).toISOString());
    expect(row.item.updated).toBe(secret.metadata.annotations!['teleport.dev/updated']);
    expect(row.teleportRelated).toBe(true);
    expect(row.target?.server).toBe(row.item.server);
  });

  it('has every §6.1 key, null when unknown, even for a secret with nothing in it', () => {
    const empty: SecretObject = { metadata: { name: 'empty', labels: { 'argocd.argoproj.io/secret-type': 'cluster' } } };
    const shape = (value: unknown): unknown =>
      value !== null && typeof value === 'object' && !Array.isArray(value)
        ? Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, shape(inner)]))
        : '*';
    const full = only(ours('a')).item;
    const broken = only(empty).item;
    // No certificate: `certificate` is null as a whole, not an object of nulls.
    expect(shape(broken)).toEqual(shape({ ...full, credentials: { ...full.credentials, certificate: null } }));
    expect(Object.keys(full)).toEqual([
      'secret', 'name', 'server', 'teleportCluster', 'kubeCluster', 'owner', 'project', 'namespaces', 'clusterResources',
      'updated', 'applications', 'credentials', 'status', 'problems', 'probe',
    ]);
    expect(Object.keys(full.credentials.certificate!)).toEqual(['subject', 'issuer', 'notBefore', 'notAfter', 'sha256Fingerprint', 'teleport']);
    expect(broken).toMatchObject({ name: null, server: null, project: null, namespaces: [], clusterResources: false, updated: null, applications: null, owner: 'unknown' });
    expect(broken.credentials.certificate).toBeNull();
    expect(broken.status).toBe('Invalid');
  });

  it('is Stale when a sync --watch secret missed three refresh intervals', () => {
    const fresh = ours('fresh', { refreshInterval: '20m', updated: new Date(now.getTime() - 55 * MINUTE) });
    const late = ours('late', { refreshInterval: '20m', updated: new Date(now.getTime() - 61 * MINUTE) });
    const oneShot = ours('one-shot', { updated: new Date(now.getTime() - 10 * HOUR) });
    const rows = audit(fresh, late, oneShot);
    expect(rows.map((row) => [row.item.kubeCluster, row.item.status])).toEqual([
      ['fresh', 'Healthy'],
      ['late', 'Stale'],
      ['one-shot', 'Healthy'],
    ]);
    expect(rows[1]!.item.problems).toEqual(['stale: not updated for 61m (more than 3 refresh intervals of 20m)']);
    // Not Stale in list, but for clean nothing refreshes a one-shot secret past --stale-after (§5.6).
    expect(rows.map((row) => row.refreshOverdue)).toEqual([null, 'not updated for 61m (more than 3 refresh intervals of 20m)', 'not updated for 10h (more than --stale-after 1h)']);
  });
});

describe('a secret written by tbot', () => {
  it('belongs to tbot and is fresh within --stale-after, also with a local-time offset', () => {
    const local = new Date(now.getTime() - 30 * MINUTE);
    const offset = local.toISOString().replace('Z', '+00:00');
    const row = only(tbot('kube-a', offset));
    expect(row.item).toMatchObject({ owner: 'tbot', status: 'Healthy', teleportCluster: 'example.teleport.sh', kubeCluster: 'kube-a' });
    expect(row.item.updated).toBe(local.toISOString().replace(/\.\d{3}Z$/, 'Z'));
  });

  it('is Stale once teleport.dev/updated is older than --stale-after, or missing', () => {
    const old = only(tbot('kube-a', new Date(now.getTime() - 2 * HOUR)));
    expect(old.item.status).toBe('Stale');
    expect(old.item.problems).toEqual(['stale: not updated for 120m (more than --stale-after 1h)']);
    const strict = auditClusterSecrets([tbot('kube-a', new Date(now.getTime() - 2 * HOUR))], { ...options, staleAfterMs: 3 * HOUR });
    expect(strict[0]!.item.status).toBe('Healthy');
    const missing = tbot('kube-b', new Date());
    delete missing.metadata.annotations!['teleport.dev/updated'];
    expect(only(missing).item.problems).toEqual(['stale: annotation teleport.dev/updated is missing, so freshness is unknown']);
    // Stale for want of an update time is not proof that nothing refreshes it.
    expect([old.refreshOverdue, strict[0]!.refreshOverdue, only(missing).refreshOverdue]).toEqual(['not updated for 120m (more than --stale-after 1h)', null, null]);
    expect(only(tbot('kube-c', 'yesterday')).item.status).toBe('Stale');
  });

  it('reports an orphaned secret as both Expired and Stale, Expired first', () => {
    const row = only(tbot('gone', new Date(now.getTime() - 4 * HOUR), expired));
    expect(row.item.status).toBe('Expired');
    expect(row.conditions).toEqual(['expired', 'stale']);
    expect(row.refreshOverdue).toBe('not updated for 4h (more than --stale-after 1h)');
    expect(row.item.problems[0]).toMatch(/^expired: certificate expired 3h ago \(/);
    expect(row.item.problems[1]).toMatch(/^stale: not updated for 4h/);
  });
});

describe('a secret written by argocd cluster add', () => {
  it('belongs to argocd, names its credential type and is not Teleport-related', () => {
    const row = only(argocdClusterAddSecret({ server: 'https://10.0.0.1:6443', name: 'staging', bearerToken: 'tok-abc', caPem: hostCA.certPem }) as SecretObject);
    expect(row.item).toMatchObject({
      owner: 'argocd',
      name: 'staging',
      teleportCluster: null,
      credentials: { type: 'bearer-token', serverName: null, certificate: null },
      status: 'Healthy',
    });
    expect(row.teleportRelated).toBe(false);
    const table = renderTable([row.item], clusterColumns(now, false));
    expect(table.split('\n')[1]).toMatch(/^staging\s{3,}<none>\s{3,}<none>\s{3,}argocd\s{3,}bearer-token\s{3,}<none>\s{3,}Healthy$/);
  });

  it('is Teleport-related when it points at a path-routed server', () => {
    const server = 'https://example.teleport.sh:443/v1/teleport/ZXhhbXBsZS50ZWxlcG9ydC5zaA/c3RhZ2luZw';
    const row = only(argocdClusterAddSecret({ server, certPem: other.certPem, keyPem: other.keyPem, caPem: hostCA.certPem }) as SecretObject);
    expect(row.teleportRelated).toBe(true);
    expect(row.item).toMatchObject({ teleportCluster: 'example.teleport.sh', kubeCluster: 'staging', credentials: { type: 'client-certificate' } });
    expect(row.item.credentials.certificate?.teleport.user).toBe('alice');
  });
});

describe('status conditions', () => {
  it('Expiring within --expiring-within, Healthy outside it', () => {
    const secret = ours('soon', { credentials: { caPem: hostCA.certPem, certPem: expiringSoon.certPem, keyPem: expiringSoon.keyPem } });
    const row = only(secret);
    expect(row.item.status).toBe('Expiring');
    expect(row.item.problems[0]).toMatch(/^expiring: certificate expires in 4m\d+s \(/);
    expect(auditClusterSecrets([secret], { ...options, expiringWithinMs: MINUTE })[0]!.item.status).toBe('Healthy');
  });

  it('Duplicate for every secret sharing a server, trailing slash ignored, hidden ones included', () => {
    const first = ours('dup');
    const second = declarativeClusterSecret({
      secretName: 'hand-written',
      server: `${Buffer.from(first.data!.server!, 'base64').toString('utf8')}/`,
      name: 'by-hand',
      config: { tlsClientConfig: { insecure: true } },
    }) as SecretObject;
    const rows = audit(first, second, ours('unique'));
    const status = Object.fromEntries(rows.map((row) => [row.item.secret.name, row.item.status]));
    expect(status).toEqual({ 'hand-written': 'Duplicate', [first.metadata.name]: 'Duplicate', [ours('unique').metadata.name]: 'Healthy' });
    expect(rows.find((row) => row.item.secret.name === first.metadata.name)!.item.problems).toEqual([
      'duplicate: server is also registered by secret/hand-written',
    ]);
  });

  it('prints rows that share a certificate, or lack one, as plain YAML without anchors', () => {
    const garbled = (kube: string) => withData(tbot(kube, new Date()), { config: b64('{') });
    const yaml = renderYaml(buildClusterList(audit(tbot('a', new Date()), tbot('b', new Date()), garbled('c'), garbled('d'))));
    expect(yaml).not.toMatch(/[&*]a\d/);
    expect(yaml.match(/kubernetesGroups:\n\s+- editor\n\s+- viewer/g)).toHaveLength(2);
  });

  it('sorts rows by Argo cluster name, then secret name', () => {
    const rows = audit(ours('zeta'), ours('alpha'), ours('mid'));
    expect(rows.map((row) => row.item.name)).toEqual(['example.teleport.sh-alpha', 'example.teleport.sh-mid', 'example.teleport.sh-zeta']);
  });
});

describe('garbled secrets are Invalid rows, never a crash', () => {
  const cases: Array<[string, (secret: SecretObject) => SecretObject, RegExp]> = [
    ['bad base64 in data', (s) => withData(s, { server: '%%%not-base64' }), /^invalid: data\.server is not valid base64$/],
    ['config that is not JSON', (s) => withData(s, { config: b64('{"tlsClientConfig": ') }), /^invalid: config is not valid JSON$/],
    ['config that is a JSON array', (s) => withData(s, { config: b64('[]') }), /^invalid: config is not a JSON object$/],
    ['missing server', (s) => withData(s, { server: undefined }), /^invalid: data\.server is missing$/],
    ['empty server', (s) => withData(s, { server: '' }), /^invalid: data\.server is empty$/],
    ['a server that is not a URL', (s) => withData(s, { server: b64('example.teleport.sh') }), /^invalid: data\.server "example\.teleport\.sh" is not an http\(s\) URL$/],
    ['missing config', (s) => withData(s, { config: undefined }), /^invalid: data\.config is missing$/],
    ['missing name', (s) => withData(s, { name: undefined }), /^invalid: data\.name is missing$/],
    [
      'bad base64 inside config',
      (s) => withData(s, { config: b64(JSON.stringify({ tlsClientConfig: { caData: b64(hostCA.certPem), certData: 'not base64!', keyData: b64(bot.keyPem) } })) }),
      /^invalid: config tlsClientConfig\.certData is not valid base64$/,
    ],
    [
      'a certificate that is not a certificate',
      (s) => withData(s, { config: b64(JSON.stringify({ tlsClientConfig: { caData: b64(hostCA.certPem), certData: b64('hello'), keyData: b64(bot.keyPem) } })) }),
      /^invalid: config tlsClientConfig\.certData is not a certificate: no PEM certificate found$/,
    ],
    [
      'a PEM block with garbage inside',
      (s) =>
        withData(s, {
          config: b64(JSON.stringify({ tlsClientConfig: { caData: b64(hostCA.certPem), certData: b64('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'), keyData: b64(bot.keyPem) } })),
        }),
      /^invalid: config tlsClientConfig\.certData is not a certificate: certificate is not valid DER X\.509$/,
    ],
    [
      'a key that belongs to another certificate',
      (s) => withData(s, { config: b64(JSON.stringify({ tlsClientConfig: { caData: b64(hostCA.certPem), certData: b64(bot.certPem), keyData: b64(other.keyPem) } })) }),
      /^invalid: config tlsClientConfig\.keyData does not belong to the certificate in certData$/,
    ],
    [
      'a key that is not a key',
      (s) => withData(s, { config: b64(JSON.stringify({ tlsClientConfig: { caData: b64(hostCA.certPem), certData: b64(bot.certPem), keyData: b64('nope') } })) }),
      /^invalid: config tlsClientConfig\.keyData is not a PEM private key$/,
    ],
    [
      'a certificate without its key',
      (s) => withData(s, { config: b64(JSON.stringify({ tlsClientConfig: { caData: b64(hostCA.certPem), certData: b64(bot.certPem) } })) }),
      /^invalid: config tlsClientConfig\.certData has no keyData$/,
    ],
    [
      'a CA that is not a certificate',
      (s) => withData(s, { config: b64(JSON.stringify({ tlsClientConfig: { caData: b64('ca'), certData: b64(bot.certPem), keyData: b64(bot.keyPem) } })) }),
      /^invalid: config tlsClientConfig\.caData holds no valid CA certificate$/,
    ],
  ];

  it.each(cases)('%s', (_label, garble, problem) => {
    const row = only(garble(ours('broken')));
    expect(row.item.status).toBe('Invalid');
    expect(row.item.problems.filter((text) => text.startsWith('invalid:'))).toEqual([expect.stringMatching(problem)]);
    expect(row.teleportRelated).toBe(true);
  });

  it('keeps what it could read and never connects with a broken config', () => {
    const row = only(withData(ours('broken'), { config: b64('{') }));
    expect(row.item).toMatchObject({ name: 'example.teleport.sh-broken', kubeCluster: 'broken', owner: 'kubectl-teleport-argocd', credentials: { type: null } });
    expect(row.target).toBeNull();
  });
});

describe('--fail-on', () => {
  it('parses the known words and refuses others', () => {
    expect([...parseFailOn('expired, stale,invalid', false)]).toEqual(['expired', 'stale', 'invalid']);
    expect(parseFailOn(undefined, false).size).toBe(0);
    expect(() => parseFailOn('expired,broken', false)).toThrow(UsageError);
    expect(() => parseFailOn('unreachable', false)).toThrow(/needs --probe/);
    expect([...parseFailOn('unreachable', true)]).toEqual(['unreachable']);
  });

  it('matches every condition of a row, not only its status', () => {
    const [row] = audit(tbot('gone', new Date(now.getTime() - 4 * HOUR), expired));
    expect(failsOn(row!, new Set(['stale']))).toBe(true);
    expect(failsOn(row!, new Set(['expired']))).toBe(true);
    expect(failsOn(row!, new Set(['invalid', 'duplicate']))).toBe(false);
    row!.item.probe = { reachable: false, serverVersion: null, error: 'refused' };
    expect(failsOn(row!, new Set(['unreachable']))).toBe(true);
  });
});

describe('printing', () => {
  it('EXPIRES in kubectl short form', () => {
    expect(expiresCell(new Date(now.getTime() + 45 * MINUTE + 5000).toISOString(), now)).toBe('45m');
    expect(expiresCell(new Date(now.getTime() - 3 * HOUR).toISOString(), now)).toBe('expired 3h ago');
    expect(expiresCell(null, now)).toBeNull();
  });

  it('never prints key, certificate or token material in any format', () => {
    const token = 'sekret-bearer-token-0123456789';
    const rows = audit(
      ours('a'),
      tbot('b', new Date(), expired),
      argocdClusterAddSecret({ server: 'https://10.0.0.2:6443', name: 'c', bearerToken: token, certPem: other.certPem, keyPem: other.keyPem }) as SecretObject,
      withData(ours('d'), { config: b64(JSON.stringify({ tlsClientConfig: { certData: b64(bot.certPem), keyData: b64(other.keyPem) } })) }),
    );
    for (const row of rows) row.item.probe = { reachable: true, serverVersion: 'v1.32.0', error: null };
    const items = rows.map((row) => row.item);
    const outputs = [
      renderJson(buildClusterList(rows)),
      renderYaml(buildClusterList(rows)),
      renderTable(items, clusterColumns(now, true)),
      renderTable(items, clusterColumns(now, true), { wide: true }),
    ];
    const material = [bot, expired, other, { certPem: hostCA.certPem, keyPem: hostCA.keyPem }].flatMap((pair) => [pair.certPem, pair.keyPem]);
    const needles = material.flatMap((pem) => {
      const body = pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
      return [body.slice(0, 40), body.slice(-40), b64(pem).slice(0, 40)];
    });
    for (const output of outputs) {
      expect(output).not.toMatch(/-----BEGIN|PRIVATE KEY/);
      expect(output).not.toContain(token);
      for (const needle of needles) expect(output).not.toContain(needle);
    }
  });
});
