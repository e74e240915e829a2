// `clean` end to end (product.md §5.6, §6.4): the built binary against the API server
// stand-in, with secrets as tbot, sync, `argocd cluster add` and people write them, and
// Applications that still target some. Every rule of §5.6 has a case here.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { SecretObject } from '../../src/argocd/cluster-secret.js';
import type { CleanResult, CleanResultItem } from '../../src/clean/result.js';
import { ourSecret, tbotSecret } from '../support/cluster-secrets.js';
import { isolatedEnv, runPlugin, runThroughKubectl, type RunResult } from '../support/run.js';
import { startKubeApiServer, type FakeKubeCluster, type KubeObject } from '../world/apiserver/index.js';
import { application, argocdClusterAddSecret, argocdCmdParamsCm, declarativeClusterSecret } from '../world/fixtures/index.js';
import type { PemPair } from '../world/pki.js';
import { startTeleportProxy, type TeleportProxy } from '../world/teleport-proxy/index.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const TELEPORT = 'example.teleport.sh';
const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

let source: FakeKubeCluster;
let proxy: TeleportProxy;
let kubeconfig: string;
let env: NodeJS.ProcessEnv;
let fresh: PemPair;
let expired: PemPair;
let expiring: PemPair;
/** Kube cluster → the secret seeded for it before each test. */
let world: Record<string, SecretObject>;

const ago = (ms: number) => new Date(Date.now() - ms);
const argoName = (kube: string) => `${TELEPORT}-${kube}`;

/** Every kind of secret §5.6 names, keyed by kube cluster. */
function secrets(): Record<string, SecretObject> {
  const garbledDead = tbotSecret(proxy, 'garbled-dead', expired, ago(4 * HOUR));
  // Expired and stale, but its key belongs to another certificate: Invalid, for a person to look at.
  garbledDead.data!.config = b64(JSON.stringify({ tlsClientConfig: { caData: b64(proxy.hostCA.certPem), certData: b64(expired.certPem), keyData: b64(fresh.keyPem) } }));
  const byArgo = argocdClusterAddSecret({ server: proxy.kubeServerUrl('by-argocd'), name: argoName('by-argocd'), certPem: expired.certPem, keyPem: expired.keyPem, caPem: proxy.hostCA.certPem }) as SecretObject;
  const byHand = declarativeClusterSecret({
    secretName: 'by-hand',
    server: proxy.kubeServerUrl('by-hand'),
    name: argoName('by-hand'),
    config: { tlsClientConfig: { caData: b64(proxy.hostCA.certPem), certData: b64(expired.certPem), keyData: b64(expired.keyPem) } },
    annotations: { 'teleport.dev/updated': ago(4 * HOUR).toISOString() },
  }) as SecretObject;
  return {
    'dead-tbot': tbotSecret(proxy, 'dead-tbot', expired, ago(4 * HOUR)),
    'dead-watch': ourSecret(proxy, 'dead-watch', expired, { refreshInterval: '5m', updated: ago(30 * MINUTE) }),
    'only-stale': tbotSecret(proxy, 'only-stale', fresh, ago(2 * HOUR)),
    'only-expired': tbotSecret(proxy, 'only-expired', expired, ago(5 * MINUTE)),
    'dead-one-shot': ourSecret(proxy, 'dead-one-shot', expired, { updated: ago(10 * HOUR) }),
    'one-shot': ourSecret(proxy, 'one-shot', expired, { updated: ago(30 * MINUTE) }),
    healthy: tbotSecret(proxy, 'healthy', fresh, ago(5 * MINUTE)),
    expiring: ourSecret(proxy, 'expiring', expiring),
    'garbled-dead': garbledDead,
    'by-argocd': byArgo,
    'by-hand': byHand,
    'targeted-server': tbotSecret(proxy, 'targeted-server', expired, ago(4 * HOUR)),
    'targeted-name': tbotSecret(proxy, 'targeted-name', expired, ago(4 * HOUR)),
    'targeted-many': tbotSecret(proxy, 'targeted-many', expired, ago(4 * HOUR)),
  };
}

const DEAD = ['dead-one-shot', 'dead-tbot', 'dead-watch'];
const TARGETED = ['targeted-many', 'targeted-name', 'targeted-server'];
const secretName = (kube: string) => world[kube]!.metadata.name;

function seed(): void {
  for (const secret of source.store.list('secrets', 'argocd')) source.store.delete('secrets', 'argocd', secret.metadata.name!);
  for (const app of source.store.list('applications')) source.store.delete('applications', app.metadata.namespace, app.metadata.name!);
  world = secrets();
  for (const secret of Object.values(world)) source.store.put(secret as unknown as KubeObject, 'secrets');
  const apps = [
    application({ name: 'guestbook', destination: { server: proxy.kubeServerUrl('targeted-server') } }),
    // In another namespace that argocd-cmd-params-cm enables, by cluster name.
    application({ name: 'billing', namespace: 'team-a', destination: { name: argoName('targeted-name') } }),
    ...['a', 'b', 'c', 'd', 'e'].map((suffix) => application({ name: `shard-${suffix}`, destination: { name: argoName('targeted-many') } })),
    // Not reconciled by Argo CD (namespace not enabled): does not keep anything alive.
    application({ name: 'ignored', namespace: 'sandbox', destination: { server: proxy.kubeServerUrl('dead-tbot') } }),
  ];
  for (const app of apps) source.store.put(app as unknown as KubeObject);
  source.faults.clear();
  source.counts.reset();
}

beforeAll(async () => {
  source = await startKubeApiServer({ name: 'clean-source', namespaces: ['argocd'] });
  proxy = await startTeleportProxy({ clusterName: TELEPORT });
  const identity = { user: 'bot-argocd', roles: ['bot-argocd'], kubernetesGroups: ['viewers'], botName: 'argocd' };
  const now = Date.now();
  [fresh, expired, expiring] = await Promise.all([
    proxy.issueIdentity(identity, { notBefore: new Date(now - 10 * MINUTE), notAfter: new Date(now + 50 * MINUTE) }),
    proxy.issueIdentity(identity, { notBefore: new Date(now - 5 * HOUR), notAfter: new Date(now - 3 * HOUR) }),
    proxy.issueIdentity(identity, { notBefore: new Date(now - 55 * MINUTE), notAfter: new Date(now + 5 * MINUTE) }),
  ]);
  source.store.put(argocdCmdParamsCm({ applicationNamespaces: ['team-*'] }) as unknown as KubeObject);
  kubeconfig = await source.writeKubeconfig(path.join(mkdtempSync(path.join(tmpdir(), 'tpa-clean-')), 'kubeconfig'));
  env = isolatedEnv();
});

afterAll(async () => {
  await Promise.all([proxy?.close(), source?.close()]);
});

beforeEach(seed);

function clean(args: string[], config = kubeconfig): Promise<RunResult> {
  return runPlugin(['clean', '--kubeconfig', config, ...args], { env });
}

async function cleanJson(args: string[] = [], config = kubeconfig): Promise<{ result: RunResult; document: CleanResult; byKube: Record<string, CleanResultItem> }> {
  const result = await clean(['-o', 'json', ...args], config);
  const document = JSON.parse(result.stdout) as CleanResult;
  expect(document).toMatchObject({ apiVersion: 'teleport-argocd/v1alpha1', kind: 'CleanResult' });
  return { result, document, byKube: Object.fromEntries(document.items.map((item) => [item.kubeCluster, item])) };
}

const remaining = () => new Set(source.store.list('secrets', 'argocd').map((secret) => secret.metadata.name));
const deletes = () => source.counts.filter({ verb: 'delete', resource: 'secrets' });

describe('clean', () => {
  it('deletes exactly the expired, abandoned secrets of tbot, sync --watch and a one-shot sync, and skips the targeted ones with their Applications', async () => {
    const listed = Object.fromEntries(DEAD.map((kube) => [secretName(kube), source.store.get('secrets', 'argocd', secretName(kube))!.metadata.resourceVersion]));
    const { result, document, byKube } = await cleanJson();
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe('clean: 3 deleted, 3 skipped, 0 failed\n');
    expect(document.dryRun).toBe('none');
    expect(document.summary).toEqual({ delete: 3, skip: 3, fail: 0 });
    expect(Object.keys(byKube).sort()).toEqual([...DEAD, ...TARGETED].sort());
    // A one-shot sync records no refresh interval: --stale-after judges it, as tbot's (§5.6).
    expect(byKube['dead-one-shot']).toMatchObject({ action: 'delete', owner: 'kubectl-teleport-argocd', reason: expect.stringMatching(/; not updated for 10h \(more than --stale-after 1h\)$/) });
    expect(byKube['dead-tbot']).toEqual({
      action: 'delete',
      secret: secretName('dead-tbot'),
      teleportCluster: TELEPORT,
      kubeCluster: 'dead-tbot',
      server: proxy.kubeServerUrl('dead-tbot'),
      owner: 'tbot',
      reason: expect.stringMatching(/^certificate expired 3h ago \(.*\); not updated for 4h \(more than --stale-after 1h\)$/),
      applications: [],
    });
    expect(byKube['dead-watch']).toMatchObject({ action: 'delete', owner: 'kubectl-teleport-argocd', reason: expect.stringContaining('more than 3 refresh intervals of 5m') });
    expect(byKube['targeted-server']).toMatchObject({ action: 'skip', reason: 'still targeted by 1 Application(s): argocd/guestbook', applications: ['argocd/guestbook'] });
    expect(byKube['targeted-name']).toMatchObject({ action: 'skip', reason: 'still targeted by 1 Application(s): team-a/billing', applications: ['team-a/billing'] });
    expect(byKube['targeted-many']).toMatchObject({
      action: 'skip',
      reason: 'still targeted by 5 Application(s): argocd/shard-a, argocd/shard-b, argocd/shard-c and 2 more',
      applications: ['argocd/shard-a', 'argocd/shard-b', 'argocd/shard-c', 'argocd/shard-d', 'argocd/shard-e'],
    });

    const left = remaining();
    for (const kube of DEAD) expect(left.has(secretName(kube)), kube).toBe(false);
    for (const kube of Object.keys(world).filter((kube) => !DEAD.includes(kube))) expect(left.has(secretName(kube)), kube).toBe(true);

    // One LIST of secrets, one GET of argocd-cmd-params-cm, one LIST of Applications, one DELETE per candidate.
    expect(source.counts.entries().filter(([key]) => !key.startsWith('get /'))).toEqual([
      ['delete secrets', 3],
      ['get configmaps', 1],
      ['list applications', 1],
      ['list secrets', 1],
    ]);
    // Each DELETE carries the listed resourceVersion as a precondition (a framed JSON body).
    expect(Object.fromEntries(deletes().map((request) => [request.name, JSON.parse(request.body!.toString('utf8')).preconditions.resourceVersion]))).toEqual(listed);
  });

  it('keeps what is only stale, only expired, Healthy, Expiring, Invalid, and what argocd or unknown writers own — and says why with -v', async () => {
    const result = await clean(['-o', 'json', '-v']);
    expect(result.code).toBe(0);
    const kept = Object.fromEntries(
      [...result.stderr.matchAll(/^keep secret\/(\S+): (.*)$/gm)].map(([, secret, reason]) => [Object.keys(world).find((kube) => secretName(kube) === secret), reason]),
    );
    expect(kept).toEqual({
      'only-stale': 'Stale: its certificate has not expired',
      'only-expired': 'Expired, but not stale: something may still refresh it',
      'one-shot': 'Expired, but not stale: something may still refresh it',
      healthy: 'Healthy: its certificate has not expired',
      expiring: 'Expiring: its certificate has not expired',
      'garbled-dead': 'Invalid: a broken secret is left for a person to look at',
      'by-argocd': 'owned by argocd: clean removes only what tbot or kubectl-teleport-argocd wrote',
      'by-hand': 'owned by unknown: clean removes only what tbot or kubectl-teleport-argocd wrote',
    });
    expect(result.stderr).not.toMatch(/-----BEGIN|PRIVATE KEY/);
  });

  it('prints ACTION SECRET CLUSTER OWNER DETAIL, and the summary on stderr — through kubectl', async () => {
    const result = await runThroughKubectl(['clean', '--kubeconfig', kubeconfig], { env });
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ACTION\s{3,}SECRET\s{3,}CLUSTER\s{3,}OWNER\s{3,}DETAIL$/);
    expect(lines).toHaveLength(7);
    expect(lines.find((line) => line.includes(secretName('dead-tbot')))).toMatch(new RegExp(`^delete\\s+${secretName('dead-tbot')}\\s+${TELEPORT}/dead-tbot\\s+tbot\\s+certificate expired 3h ago`));
    expect(lines.find((line) => line.includes(secretName('targeted-server')))).toMatch(/^skip\s+\S+\s+\S+\/targeted-server\s+tbot\s+still targeted by 1 Application\(s\): argocd\/guestbook$/);
    expect(result.stderr).toBe('clean: 3 deleted, 3 skipped, 0 failed\n');
    // Run again: nothing left to do.
    const again = await runThroughKubectl(['clean', '--kubeconfig', kubeconfig, '--no-headers'], { env });
    expect(again.code).toBe(0);
    expect(again.stdout.trimEnd().split('\n').every((line) => line.startsWith('skip '))).toBe(true);
  });

  it('deletes targeted ones too with --include-targeted, naming the Applications', async () => {
    const { result, byKube } = await cleanJson(['--include-targeted']);
    expect(result.code).toBe(0);
    expect(Object.values(byKube).map((item) => item.action)).toEqual(Array(DEAD.length + TARGETED.length).fill('delete'));
    expect(byKube['targeted-name']!.reason).toMatch(/; deleted although 1 Application\(s\) target it \(--include-targeted\)$/);
    expect(byKube['targeted-many']!.applications).toHaveLength(5);
    for (const kube of [...DEAD, ...TARGETED]) expect(remaining().has(secretName(kube))).toBe(false);
  });

  it('narrows by --owner and by GLOB over the kube cluster or the Argo CD cluster name', async () => {
    expect(Object.keys((await cleanJson(['--owner', 'tbot'])).byKube).sort()).toEqual(['dead-tbot', ...TARGETED].sort());
    seed();
    expect(Object.keys((await cleanJson(['--owner', 'kubectl-teleport-argocd'])).byKube).sort()).toEqual(['dead-one-shot', 'dead-watch']);
    seed();
    expect(Object.keys((await cleanJson(['dead-*'])).byKube).sort()).toEqual(DEAD);
    seed();
    expect(Object.keys((await cleanJson([`${TELEPORT}-targeted-n*`, 'nothing'])).byKube)).toEqual(['targeted-name']);
  });

  it('refuses to delete anything when Applications cannot be read (403), unless --include-targeted', async () => {
    // A janitor that may read argocd-cmd-params-cm and delete cluster secrets, but not read Applications.
    const janitor = await source.writeKubeconfig(path.join(mkdtempSync(path.join(tmpdir(), 'tpa-clean-janitor-')), 'kubeconfig'), await source.issueClientCertificate('janitor'));
    source.store.seed([
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'janitor', namespace: 'argocd' }, rules: [{ apiGroups: [''], resources: ['secrets', 'configmaps'], verbs: ['get', 'list', 'delete'] }] },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: 'janitor', namespace: 'argocd' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'janitor' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'janitor' }],
      },
    ] as KubeObject[]);
    const refused = await runThroughKubectl(['clean', '--kubeconfig', janitor], { env });
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toBe(
      'error: refusing to clean: Argo CD Applications cannot be read, so whether any still targets the 6 dead registration(s) is unknown ' +
        '(applications.argoproj.io is forbidden: User "janitor" cannot list resource "applications" in API group "argoproj.io" at the cluster scope (Forbidden)); ' +
        'allow listing applications.argoproj.io, or pass --include-targeted\n',
    );
    expect(deletes()).toEqual([]);
    // Nothing dead among what the GLOB selects: nothing to refuse, only the warning.
    const nothing = await clean(['healthy'], janitor);
    expect(nothing.code).toBe(0);
    expect(nothing.stderr).toMatch(/^warning: cannot read Argo CD Applications, so applications\[\] are unknown: .*\nNo dead registrations found in argocd namespace\.\nclean: 0 deleted, 0 skipped, 0 failed\n$/);

    const forced = await cleanJson(['--include-targeted'], janitor);
    expect(forced.result.code).toBe(0);
    expect(forced.result.stderr).toMatch(/^warning: cannot read Argo CD Applications, so applications\[\] are unknown: /);
    expect(forced.document.items.map((item) => [item.action, item.applications])).toEqual(Array(DEAD.length + TARGETED.length).fill(['delete', null]));
  });

  it('refuses when the Application CRD is not installed', async () => {
    source.uninstallCrd('applications.argoproj.io');
    try {
      const refused = await clean(['-o', 'json']);
      expect(refused).toMatchObject({ code: 1, stdout: '' });
      expect(refused.stderr).toContain('(the Application CRD (applications.argoproj.io) is not installed)');
      expect(deletes()).toEqual([]);
    } finally {
      source.installCrd('applications.argoproj.io');
    }
  });

  it('leaves a secret alone that tbot refreshed between the LIST and the DELETE', async () => {
    const renewed = await proxy.issueIdentity({ user: 'bot-argocd', roles: ['bot-argocd'], botName: 'argocd' });
    const hook = source.faults.before({ verb: 'delete', resource: 'secrets', name: secretName('dead-tbot') }, () => {
      source.store.put(tbotSecret(proxy, 'dead-tbot', renewed, new Date()) as unknown as KubeObject, 'secrets');
    });
    const { result, byKube } = await cleanJson();
    expect(hook.hits).toBe(1);
    expect(result.code).toBe(0);
    expect(byKube['dead-tbot']).toMatchObject({ action: 'skip', reason: 'refreshed meanwhile; left alone' });
    expect(byKube['dead-watch']!.action).toBe('delete');
    expect(source.store.get('secrets', 'argocd', secretName('dead-tbot'))).toBeDefined();
    expect(source.counts.filter({ verb: 'get', resource: 'secrets', name: secretName('dead-tbot') })).toHaveLength(1);
  });

  it('deletes a secret that changed meanwhile but is still dead, with its new resourceVersion; NotFound counts as done', async () => {
    source.faults.before({ verb: 'delete', resource: 'secrets', name: secretName('dead-tbot') }, () => {
      const live = source.store.get('secrets', 'argocd', secretName('dead-tbot'))!;
      source.store.put({ ...live, metadata: { ...live.metadata, labels: { ...live.metadata.labels, touched: 'by-someone' } } });
    });
    source.faults.before({ verb: 'delete', resource: 'secrets', name: secretName('dead-watch') }, () => {
      source.store.delete('secrets', 'argocd', secretName('dead-watch'));
    });
    const { result, byKube } = await cleanJson();
    expect(result.code).toBe(0);
    expect(byKube['dead-tbot']!.action).toBe('delete');
    expect(byKube['dead-watch']).toMatchObject({ action: 'delete', reason: expect.stringMatching(/; already gone$/) });
    const attempts = deletes().filter((request) => request.name === secretName('dead-tbot'));
    expect(attempts.map((request) => request.status)).toEqual([409, 200]);
    const versions = attempts.map((request) => JSON.parse(request.body!.toString('utf8')).preconditions.resourceVersion);
    expect(versions[0]).not.toBe(versions[1]);
    expect(remaining().has(secretName('dead-tbot'))).toBe(false);
  });

  it('writes nothing in a dry run: client sends no DELETE, server sends them with dryRun=All', async () => {
    const before = remaining();
    const client = await cleanJson(['--dry-run=client']);
    expect(client.result.stderr).toBe('clean: 3 deleted, 3 skipped, 0 failed (dry run)\n');
    expect(client.document.dryRun).toBe('client');
    expect(deletes()).toEqual([]);
    const yaml = await clean(['--dry-run=server', '-o', 'yaml']);
    expect(yaml.code).toBe(0);
    expect((parseYaml(yaml.stdout) as CleanResult).summary).toEqual({ delete: 3, skip: 3, fail: 0 });
    expect(yaml.stderr).toBe('clean: 3 deleted, 3 skipped, 0 failed (server dry run)\n');
    expect(deletes().map((request) => request.query.get('dryRun'))).toEqual(['All', 'All', 'All']);
    expect(remaining()).toEqual(before);
  });

  it('exits 1 when a delete fails, after handling the others', async () => {
    source.faults.add({ match: { verb: 'delete', name: secretName('dead-watch') }, action: { kind: 'status', code: 403, message: 'secrets "x" is forbidden' } });
    const { result, byKube } = await cleanJson();
    expect(result.code).toBe(1);
    expect(byKube['dead-watch']).toMatchObject({ action: 'fail', reason: expect.stringContaining('forbidden') });
    expect(byKube['dead-tbot']!.action).toBe('delete');
    expect(result.stderr).toContain(`error: secret/${secretName('dead-watch')}: `);
    expect(result.stderr).toMatch(/clean: 2 deleted, 3 skipped, 1 failed\n$/);
  });

  it('exits 0 with nothing to do, and judges staleness by --stale-after', async () => {
    const patient = await cleanJson(['--stale-after', '5h', '--owner', 'tbot']);
    expect(patient.result.code).toBe(0);
    expect(patient.document.items).toEqual([]);
    expect(patient.result.stderr).toBe('clean: 0 deleted, 0 skipped, 0 failed\n');
    const table = await clean(['--stale-after', '5h', '--owner', 'tbot']);
    expect(table).toMatchObject({ code: 0, stdout: '', stderr: 'No dead registrations found in argocd namespace.\nclean: 0 deleted, 0 skipped, 0 failed\n' });
    expect(deletes()).toEqual([]);
  });

  it('refuses bad flag values before any request', async () => {
    source.counts.reset();
    for (const args of [['--owner', 'argocd'], ['--stale-after', 'soon'], ['--dry-run=maybe'], ['-o', 'wide'], ['[oops']]) {
      const result = await clean(args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr.split('\n')[0], args.join(' ')).toMatch(/^error: /);
      expect(result.stdout).toBe('');
    }
    expect(source.counts.total).toBe(0);
  });
});
