// `list` end to end: the built binary against the API server stand-in (source cluster with
// Argo CD's namespace) and the Teleport proxy stand-in in front of a target cluster.
import { X509Certificate } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { SecretObject } from '../../src/argocd/cluster-secret.js';
import type { ClusterList, ClusterListItem } from '../../src/audit/cluster-status.js';
import { ourSecret, tbotSecret, type OurSecretOptions } from '../support/cluster-secrets.js';
import { isolatedEnv, runPlugin, runThroughKubectl, type RunResult } from '../support/run.js';
import { startKubeApiServer, type FakeKubeCluster, type KubeObject } from '../world/apiserver/index.js';
import { application, argocdClusterAddSecret, argocdCmdParamsCm } from '../world/fixtures/index.js';
import type { PemPair } from '../world/pki.js';
import { startSandbox, type Sandbox } from '../world/sandbox.js';
import { startTeleportProxy, type TeleportProxy } from '../world/teleport-proxy/index.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const TELEPORT = 'example.teleport.sh';
const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

let source: FakeKubeCluster;
let target: FakeKubeCluster;
let proxy: TeleportProxy;
let kubeconfig: string;
let env: NodeJS.ProcessEnv;
let bot: PemPair;
let expiredBot: PemPair;
let expiringBot: PemPair;
let targetToken: string;
/** Every certificate, key and token stored in the secrets: none may ever be printed. */
const material: string[] = [];

const names = {
  prod: `${TELEPORT}-prod`,
  dev: `${TELEPORT}-dev`,
  legacy: `${TELEPORT}-legacy`,
  orphan: `${TELEPORT}-orphan`,
  watched: `${TELEPORT}-watched`,
  soon: `${TELEPORT}-soon`,
  shared: `${TELEPORT}-shared`,
  sharedByHand: 'shared-by-argocd-cli',
  direct: 'direct-token',
  badJson: 'garbled-json',
  noServer: 'garbled-no-server',
  notACert: 'garbled-not-a-cert',
  badBase64: 'garbled-base64',
};

const ours = (kubeCluster: string, pair: PemPair, extra: OurSecretOptions = {}): SecretObject => ourSecret(proxy, kubeCluster, pair, extra);
const tbot = (kubeCluster: string, pair: PemPair, updated: Date): SecretObject => tbotSecret(proxy, kubeCluster, pair, updated);

function withConfig(secret: SecretObject, config: string): SecretObject {
  return { ...secret, data: { ...secret.data, config: b64(config) } };
}

function renamed(secret: SecretObject, secretName: string, argoName: string): SecretObject {
  return { ...secret, metadata: { ...secret.metadata, name: secretName }, data: { ...secret.data, name: b64(argoName) } };
}

function seed(secrets: SecretObject[]): void {
  for (const secret of secrets) source.store.put(secret as unknown as KubeObject, 'secrets');
}

beforeAll(async () => {
  [source, target] = await Promise.all([startKubeApiServer({ name: 'source', namespaces: ['argocd'] }), startKubeApiServer({ name: 'target' })]);
  const upstream = { url: target.url, caPem: target.caPem, clientCertPem: target.admin.certPem, clientKeyPem: target.admin.keyPem };
  proxy = await startTeleportProxy({
    clusterName: TELEPORT,
    kubeClusters: { prod: { upstream }, dev: { upstream }, legacy: { upstream }, shared: { upstream }, watched: { upstream }, soon: { upstream } },
    roles: { 'bot-argocd': { kubernetesUsers: ['*'], kubernetesGroups: ['viewers'], kubernetesLabels: { '*': '*' } } },
  });
  const identity = { user: 'bot-argocd', roles: ['bot-argocd'], kubernetesUsers: ['*'], kubernetesGroups: ['viewers'], botName: 'argocd' };
  const now = Date.now();
  [bot, expiredBot, expiringBot] = await Promise.all([
    proxy.issueIdentity(identity, { notBefore: new Date(now - 10 * MINUTE), notAfter: new Date(now + 50 * MINUTE) }),
    proxy.issueIdentity(identity, { notBefore: new Date(now - 5 * HOUR), notAfter: new Date(now - 3 * HOUR) }),
    proxy.issueIdentity(identity, { notBefore: new Date(now - 55 * MINUTE), notAfter: new Date(now + 5 * MINUTE) }),
  ]);
  targetToken = target.addToken('argocd-manager', ['system:masters']);
  material.push(targetToken, proxy.hostCA.certPem, target.caPem);
  for (const pair of [bot, expiredBot, expiringBot]) material.push(pair.certPem, pair.keyPem);

  const sharedServer = proxy.kubeServerUrl('shared');
  seed([
    ours('prod', bot, { project: 'platform' }),
    tbot('dev', bot, new Date(now - 5 * MINUTE)),
    tbot('legacy', expiredBot, new Date(now - 4 * HOUR)),
    tbot('orphan', bot, new Date(now - 2 * HOUR)),
    ours('watched', bot, { refreshInterval: '5m', updated: new Date(now - 20 * MINUTE) }),
    ours('soon', expiringBot),
    ours('shared', bot),
    argocdClusterAddSecret({ server: sharedServer, name: names.sharedByHand, certPem: bot.certPem, keyPem: bot.keyPem, caPem: proxy.hostCA.certPem, serverName: proxy.sni }) as SecretObject,
    argocdClusterAddSecret({ server: target.url, name: names.direct, bearerToken: targetToken, caPem: target.caPem }) as SecretObject,
    renamed(withConfig(ours('garbled-a', bot), '{"tlsClientConfig": {"caData": '), 'garbled-json', names.badJson),
    (() => {
      const secret = renamed(ours('garbled-b', bot), 'garbled-no-server', names.noServer);
      delete secret.data!.server;
      return secret;
    })(),
    renamed(
      withConfig(ours('garbled-c', bot), JSON.stringify({ tlsClientConfig: { caData: b64(proxy.hostCA.certPem), certData: b64('this is not a certificate'), keyData: b64(bot.keyPem) } })),
      'garbled-not-a-cert',
      names.notACert,
    ),
    renamed(
      withConfig(ours('garbled-d', bot), JSON.stringify({ tlsClientConfig: { caData: '!!not base64!!', certData: b64(bot.certPem), keyData: b64(bot.keyPem) } })),
      'garbled-base64',
      names.badBase64,
    ),
    // Not a cluster secret: never listed.
    { metadata: { name: 'unrelated', namespace: 'argocd' }, data: { server: b64('https://x') } },
  ]);
  const home = mkdtempSync(path.join(tmpdir(), 'tpa-list-'));
  kubeconfig = await source.writeKubeconfig(path.join(home, 'kubeconfig'));
  env = isolatedEnv();
});

afterAll(async () => {
  await Promise.all([proxy?.close(), source?.close(), target?.close()]);
});

function list(args: string[]): Promise<RunResult> {
  return runPlugin(['list', '--kubeconfig', kubeconfig, ...args], { env });
}

async function listJson(args: string[] = []): Promise<{ result: RunResult; items: ClusterListItem[] }> {
  const result = await list(['-o', 'json', ...args]);
  const document = JSON.parse(result.stdout) as ClusterList;
  expect(document).toMatchObject({ apiVersion: 'teleport-argocd/v1alpha1', kind: 'ClusterList' });
  return { result, items: document.items };
}

const statusByName = (items: ClusterListItem[]) => Object.fromEntries(items.map((item) => [item.name ?? item.secret.name, item.status]));

describe('list', () => {
  it('audits secrets written by sync, tbot and argocd cluster add, with one LIST request', async () => {
    source.counts.reset();
    const { result, items } = await listJson();
    expect(result.code).toBe(0);
    expect(source.counts.filter({ verb: 'list', resource: 'secrets' })).toHaveLength(1);
    expect(statusByName(items)).toEqual({
      [names.prod]: 'Healthy',
      [names.dev]: 'Healthy',
      [names.legacy]: 'Expired',
      [names.orphan]: 'Stale',
      [names.watched]: 'Stale',
      [names.soon]: 'Expiring',
      [names.shared]: 'Duplicate',
      [names.sharedByHand]: 'Duplicate',
      [names.badJson]: 'Invalid',
      [names.noServer]: 'Invalid',
      [names.notACert]: 'Invalid',
      [names.badBase64]: 'Invalid',
    });
    const sorted = [...items.map((item) => item.name ?? '')].sort();
    expect(items.map((item) => item.name ?? '')).toEqual(sorted);

    const prod = items.find((item) => item.name === names.prod)!;
    expect(prod).toMatchObject({
      server: proxy.kubeServerUrl('prod'),
      teleportCluster: TELEPORT,
      kubeCluster: 'prod',
      owner: 'kubectl-teleport-argocd',
      project: 'platform',
      namespaces: [],
      clusterResources: false,
      credentials: {
        type: 'client-certificate',
        serverName: proxy.sni,
        certificate: { teleport: { user: 'bot-argocd', botName: 'argocd', roles: ['bot-argocd'], kubernetesGroups: ['viewers'], teleportCluster: TELEPORT } },
      },
      problems: [],
      probe: null,
    });
    expect(items.find((item) => item.name === names.dev)!.owner).toBe('tbot');
    expect(items.find((item) => item.name === names.sharedByHand)).toMatchObject({ owner: 'argocd', problems: [expect.stringMatching(/^duplicate: server is also registered by secret\/teleport\.argocd-cluster\./)] });
    expect(items.find((item) => item.name === names.legacy)!.problems).toEqual([expect.stringMatching(/^expired: /), expect.stringMatching(/^stale: not updated for 4h/)]);
    expect(items.find((item) => item.name === names.badJson)!.problems).toEqual(['invalid: config is not valid JSON']);
    expect(items.find((item) => item.name === names.noServer)!.problems).toEqual(['invalid: data.server is missing']);
    expect(items.find((item) => item.name === names.notACert)!.problems).toEqual(['invalid: config tlsClientConfig.certData is not a certificate: no PEM certificate found']);
    expect(items.find((item) => item.name === names.badBase64)!.problems).toEqual(['invalid: config tlsClientConfig.caData is not valid base64']);
  });

  it('shows every cluster secret with -A, and hides non-Teleport ones without', async () => {
    const teleportOnly = await listJson();
    expect(teleportOnly.items.map((item) => item.name)).not.toContain(names.direct);
    const all = await listJson(['-A']);
    expect(all.items.find((item) => item.name === names.direct)).toMatchObject({ owner: 'argocd', teleportCluster: null, credentials: { type: 'bearer-token' }, status: 'Healthy' });
    expect(all.items).toHaveLength(teleportOnly.items.length + 1);
  });

  it('prints a kubectl table, a wide table and names', async () => {
    const table = await list([]);
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAME\s{3,}TELEPORT CLUSTER\s{3,}KUBE CLUSTER\s{3,}OWNER\s{3,}IDENTITY\s{3,}EXPIRES\s{3,}STATUS$/);
    expect(lines).toHaveLength(13);
    expect(lines.find((line) => line.startsWith(`${names.prod} `))).toMatch(new RegExp(`^${names.prod}\\s+${TELEPORT}\\s+prod\\s+kubectl-teleport-argocd\\s+bot-argocd\\s+(49|50)m\\s+Healthy$`));
    expect(lines.find((line) => line.startsWith(`${names.legacy} `))).toMatch(/\s+tbot\s+bot-argocd\s+expired 3h ago\s+Expired$/);
    expect(lines.find((line) => line.startsWith(`${names.badJson} `))).toMatch(/\s+<none>\s+<none>\s+Invalid$/);

    const wide = await list(['-o', 'wide', '--no-headers']);
    const prodLine = wide.stdout.split('\n').find((line) => line.startsWith(`${names.prod} `))!;
    expect(prodLine).toContain(proxy.kubeServerUrl('prod'));
    expect(prodLine).toMatch(/\s+platform\s+\d+s\s+\*\s+viewers\s+0$/); // no Application targets it
    expect(wide.stdout).not.toMatch(/^NAME/);

    const allNames = await list(['-o', 'name', '-A']);
    expect(allNames.stdout.split('\n').filter(Boolean)).toHaveLength(13);
    expect(allNames.stdout).toMatch(/^secret\/\S+$/m);
    expect(allNames.stdout).toContain('secret/garbled-json\n');
  });

  it('prints the same ClusterList as YAML', async () => {
    const yaml = await list(['-o', 'yaml']);
    const json = await listJson();
    const document = parseYaml(yaml.stdout) as ClusterList;
    expect(document.kind).toBe('ClusterList');
    expect(yaml.stdout.match(/.*[&*]a\d.*/g) ?? []).toEqual([]); // rows sharing one bot certificate: no YAML aliases
    expect(document.items.map((item) => [item.name, item.status])).toEqual(json.items.map((item) => [item.name, item.status]));
    expect(json.result.stdout).toMatch(/^\{\n {4}"apiVersion"/);
  });

  it('exits 1 on --fail-on only when a shown row has that condition', async () => {
    const invalid = await list(['--fail-on', 'invalid']);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(/^error: 4 cluster\(s\) match --fail-on invalid: garbled-base64, garbled-json, garbled-no-server, garbled-not-a-cert\n$/);
    expect(invalid.stdout).toContain('STATUS');
    expect((await list(['--fail-on', 'stale'])).stderr).toContain(names.legacy); // Expired, and also stale
    expect((await list(['--fail-on', 'expiring,duplicate'])).code).toBe(1);
    const none = await list(['-o', 'name']);
    expect(none.code).toBe(0);
    const withinDefaults = await list(['--stale-after', '5h', '--expiring-within', '1m', '-o', 'json', '--fail-on', 'stale,expiring']);
    expect(withinDefaults.code).toBe(1); // `watched` misses 3 of its own 5m intervals whatever --stale-after says
    const items = (JSON.parse(withinDefaults.stdout) as ClusterList).items;
    expect(statusByName(items)[names.orphan]).toBe('Healthy');
    expect(statusByName(items)[names.soon]).toBe('Healthy');
    expect(withinDefaults.stderr).toBe(`error: 1 cluster(s) match --fail-on stale,expiring: ${names.watched}\n`);
  });

  it('refuses bad flag values before any request', async () => {
    source.counts.reset();
    for (const args of [['--fail-on', 'expired,borked'], ['--stale-after', 'soon'], ['--expiring-within', '5 minutes'], ['--fail-on', 'unreachable'], ['-o', 'xml']]) {
      const result = await list(args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr.split('\n')[0], args.join(' ')).toMatch(/^error: /);
      expect(result.stdout).toBe('');
    }
    expect(source.counts.total).toBe(0);
  });

  it('probes /version through each secret’s own credentials and the Teleport proxy', async () => {
    proxy.clearRequests();
    const { result, items } = await listJson(['--probe', '-A']);
    expect(result.code).toBe(0);
    const probe = Object.fromEntries(items.map((item) => [item.name, item.probe]));
    expect(probe[names.prod]).toEqual({ reachable: true, serverVersion: target.version.gitVersion, error: null });
    expect(probe[names.dev]).toMatchObject({ reachable: true });
    expect(probe[names.direct]).toEqual({ reachable: true, serverVersion: target.version.gitVersion, error: null });
    expect(probe[names.orphan]).toEqual({ reachable: false, serverVersion: null, error: 'Kubernetes cluster "orphan" not found (NotFound)' });
    expect(probe[names.legacy]).toMatchObject({ reachable: false, serverVersion: null });
    expect(probe[names.badJson]).toEqual({ reachable: null, serverVersion: null, error: 'not probed: the secret is invalid' });
    const routed = proxy.requests.filter((request) => request.path === `${new URL(proxy.kubeServerUrl('prod')).pathname}/version`);
    expect(routed).toMatchObject([{ route: 'path', teleportUser: 'bot-argocd', kubeCluster: 'prod', upstreamPath: '/version', status: 200 }]);

    const failing = await list(['--probe', '--fail-on', 'unreachable', '-o', 'wide']);
    expect(failing.code).toBe(1);
    expect(failing.stdout.split('\n')[0]).toMatch(/\s{3,}REACHABLE$/);
    expect(failing.stdout.split('\n').find((line) => line.startsWith(`${names.prod} `))).toMatch(/\s+yes$/);
    expect(failing.stdout.split('\n').find((line) => line.startsWith(`${names.orphan} `))).toMatch(/\s+no$/);
    expect(failing.stdout.split('\n').find((line) => line.startsWith(`${names.badJson} `))).toMatch(/\s+unknown$/);
    expect(failing.stderr).toContain(names.orphan);
  });

  it('never prints key, certificate or token material, in any output mode', async () => {
    const needles = material.flatMap((text) => {
      const body = text.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
      return body.length > 40 ? [body.slice(0, 40), body.slice(-40), b64(text).slice(0, 40), b64(text).slice(-40)] : [text, b64(text)];
    });
    for (const output of ['table', 'wide', 'json', 'yaml', 'name']) {
      for (const extra of [[], ['-A', '--probe', '-v']]) {
        const result = await list(['-o', output, ...extra]);
        const printed = result.stdout + result.stderr;
        expect(printed, `${output} ${extra.join(' ')}`).not.toMatch(/-----BEGIN|PRIVATE KEY/);
        for (const needle of needles) expect(printed.includes(needle), `${output} ${extra.join(' ')}`).toBe(false);
      }
    }
  });

  it('says there is nothing to list like kubectl, and still prints an empty list as JSON', async () => {
    const table = await list(['-n', 'empty-ns']);
    expect(table).toMatchObject({ code: 0, stdout: '', stderr: 'No resources found in empty-ns namespace.\n' });
    const json = await list(['-n', 'empty-ns', '-o', 'json']);
    expect(JSON.parse(json.stdout)).toEqual({ apiVersion: 'teleport-argocd/v1alpha1', kind: 'ClusterList', items: [] });
  });

  it('retries a failed LIST, and names the namespace when it cannot list', async () => {
    source.counts.reset();
    source.faults.add({ match: { verb: 'list', resource: 'secrets' }, action: { kind: 'status', code: 503 }, times: 1 });
    const retried = await list(['-o', 'name']);
    expect(retried.code).toBe(0);
    expect(retried.stdout.split('\n').filter(Boolean)).toHaveLength(12);
    expect(source.counts.filter({ verb: 'list', resource: 'secrets' })).toHaveLength(2);

    source.faults.add({ match: { verb: 'list', resource: 'secrets' }, action: { kind: 'status', code: 403, message: 'secrets is forbidden' }, times: 1 });
    const forbidden = await list([]);
    expect(forbidden.code).toBe(1);
    expect(forbidden.stdout).toBe('');
    expect(forbidden.stderr).toMatch(/^error: cannot list cluster secrets in namespace argocd: .*forbidden.*\n$/i);
  });

  it('runs as kubectl teleport-argocd list', async () => {
    const result = await runThroughKubectl(['list', '--kubeconfig', kubeconfig, '-o', 'name', '--fail-on', 'invalid'], { env });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('secret/garbled-json\n');
    expect(result.stderr).toMatch(/^error: 4 cluster\(s\) match --fail-on invalid/);
  });
});

describe('list at scale', () => {
  let big: FakeKubeCluster;
  let bigKubeconfig: string;

  beforeAll(async () => {
    big = await startKubeApiServer({ name: 'big', namespaces: ['argocd'] });
    const secrets: SecretObject[] = [];
    for (let index = 0; index < 1_100; index += 1) secrets.push(tbot(`kube-${String(index).padStart(4, '0')}`, bot, new Date()));
    for (const secret of secrets) big.store.put(secret as unknown as KubeObject, 'secrets');
    bigKubeconfig = await big.writeKubeconfig(path.join(mkdtempSync(path.join(tmpdir(), 'tpa-list-big-')), 'kubeconfig'));
  });

  afterAll(async () => {
    await big?.close();
  });

  it('pages through the LIST 500 at a time', async () => {
    big.counts.reset();
    const result = await runPlugin(['list', '--kubeconfig', bigKubeconfig, '-o', 'name'], { env });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.split('\n').filter(Boolean)).toHaveLength(1_100);
    const lists = big.counts.filter({ verb: 'list', resource: 'secrets' });
    expect(lists).toHaveLength(3);
  });
});

describe('list after sync', () => {
  let world: Sandbox;
  let file: string;

  beforeAll(async () => {
    world = await startSandbox();
    file = await world.writeKubeconfig(path.join(mkdtempSync(path.join(tmpdir(), 'tpa-list-sync-')), 'kubeconfig'));
  });

  afterAll(async () => {
    await world?.close();
  });

  it('shows what sync wrote as Healthy and reachable through the Teleport proxy', async () => {
    const synced = await runPlugin(['sync', '--kubeconfig', file], { env });
    expect(synced.code, synced.stderr).toBe(0);
    const result = await runPlugin(['list', '--kubeconfig', file, '--probe', '--fail-on', 'expired,stale,invalid,duplicate,expiring,unreachable', '-o', 'json'], { env });
    expect(result.code, result.stderr).toBe(0);
    const items = (JSON.parse(result.stdout) as ClusterList).items;
    expect(items.map((item) => [item.kubeCluster, item.owner, item.status, item.probe?.reachable])).toEqual([
      ['prod-eu', 'kubectl-teleport-argocd', 'Healthy', true],
      ['staging', 'kubectl-teleport-argocd', 'Healthy', true],
    ]);
    expect(items[0]!.credentials.certificate?.sha256Fingerprint).toBe(new X509Certificate(world.botIdentity.certPem).fingerprint256);
  });
});

describe('list dependents: the Applications that target each cluster', () => {
  let deps: FakeKubeCluster;
  let admin: string;
  let auditor: string;

  const rbac = (kind: 'Role' | 'ClusterRole', name: string, rules: unknown[], namespace?: string): KubeObject[] => [
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind, metadata: { name, namespace }, rules } as KubeObject,
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: kind === 'Role' ? 'RoleBinding' : 'ClusterRoleBinding',
      metadata: { name, namespace },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind, name },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'auditor' }],
    } as KubeObject,
  ];
  const seedApps = (...apps: Array<ReturnType<typeof application>>) => {
    for (const app of apps) deps.store.put(app as unknown as KubeObject);
  };
  const appsOf = (items: ClusterListItem[]) => Object.fromEntries(items.map((item) => [item.kubeCluster, item.applications]));

  beforeAll(async () => {
    deps = await startKubeApiServer({ name: 'deps', namespaces: ['argocd'] });
    const home = mkdtempSync(path.join(tmpdir(), 'tpa-list-deps-'));
    admin = await deps.writeKubeconfig(path.join(home, 'admin'));
    auditor = await deps.writeKubeconfig(path.join(home, 'auditor'), await deps.issueClientCertificate('auditor'), { namespace: 'argocd' });
    // The auditor may read cluster secrets and configmaps in argocd — and nothing about Applications.
    deps.store.seed(rbac('Role', 'auditor', [{ apiGroups: [''], resources: ['secrets', 'configmaps'], verbs: ['get', 'list'] }], 'argocd'));
    for (const kube of ['prod', 'staging', 'legacy']) deps.store.put(tbot(kube, bot, new Date()) as unknown as KubeObject, 'secrets');
    seedApps(
      application({ name: 'guestbook', destination: { server: proxy.kubeServerUrl('prod') } }),
      application({ name: 'billing', destination: { name: `${TELEPORT}-prod` } }),
      application({ name: 'web', namespace: 'team-a', destination: { name: `${TELEPORT}-staging` } }),
      application({ name: 'api', namespace: 'team-b', destination: { server: proxy.kubeServerUrl('prod') } }),
      application({ name: 'stray', namespace: 'sandbox', destination: { server: proxy.kubeServerUrl('staging') } }),
    );
  });

  afterAll(async () => {
    await deps?.close();
  });

  const listDeps = (args: string[], kubeconfig = admin) => runPlugin(['list', '--kubeconfig', kubeconfig, ...args], { env });

  it('counts only the Argo CD namespace without apps in any namespace: one GET of argocd-cmd-params-cm, one LIST there', async () => {
    deps.counts.reset();
    const result = await listDeps(['-o', 'json']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(appsOf((JSON.parse(result.stdout) as ClusterList).items)).toEqual({ legacy: [], prod: ['argocd/billing', 'argocd/guestbook'], staging: [] });
    expect(deps.counts.filter({ resource: 'configmaps' }).map((request) => [request.verb, request.name, request.status])).toEqual([['get', 'argocd-cmd-params-cm', 404]]);
    expect(deps.counts.filter({ resource: 'applications' }).map((request) => [request.verb, request.path])).toEqual([
      ['list', '/apis/argoproj.io/v1alpha1/namespaces/argocd/applications'],
    ]);
  });

  it('reads Applications cluster-wide in one paged LIST when application.namespaces is set, kept where a pattern matches', async () => {
    deps.store.put(argocdCmdParamsCm({ applicationNamespaces: ['team-*', 'ci'] }) as unknown as KubeObject);
    for (let index = 0; index < 600; index += 1) {
      seedApps(application({ name: `ci-${String(index).padStart(3, '0')}`, namespace: 'ci', destination: { name: `${TELEPORT}-legacy` } }));
    }
    try {
      deps.counts.reset();
      const result = await runThroughKubectl(['list', '--kubeconfig', admin, '-o', 'json'], { env });
      expect(result).toMatchObject({ code: 0, stderr: '' });
      const apps = appsOf((JSON.parse(result.stdout) as ClusterList).items);
      expect(apps.prod).toEqual(['argocd/billing', 'argocd/guestbook', 'team-b/api']);
      expect(apps.staging).toEqual(['team-a/web']); // sandbox/stray: a namespace Argo CD does not reconcile
      expect(apps.legacy).toHaveLength(600);
      expect(apps.legacy!.slice(0, 2)).toEqual(['ci/ci-000', 'ci/ci-001']);
      const lists = deps.counts.filter({ verb: 'list', resource: 'applications' });
      expect(lists.map((request) => request.path)).toEqual(Array(2).fill('/apis/argoproj.io/v1alpha1/applications'));
      expect(lists.map((request) => request.query.get('limit'))).toEqual(['500', '500']);
      expect(deps.counts.filter({ resource: 'configmaps' })).toHaveLength(1);

      const wide = await runThroughKubectl(['list', '--kubeconfig', admin, '-o', 'wide'], { env });
      const lines = wide.stdout.trimEnd().split('\n');
      expect(lines[0]).toMatch(/\s{3,}KUBE GROUPS\s{3,}APPS$/);
      expect(lines.find((line) => line.startsWith(`${TELEPORT}-prod `))).toMatch(/\s+3$/);
      expect(lines.find((line) => line.startsWith(`${TELEPORT}-legacy `))).toMatch(/\s+600$/);
    } finally {
      for (const app of deps.store.list('applications', 'ci')) deps.store.delete('applications', 'ci', app.metadata.name!);
      deps.store.delete('configmaps', 'argocd', 'argocd-cmd-params-cm');
    }
  });

  it('warns once and shows <unknown> when Applications are forbidden (403), and still succeeds — through kubectl', async () => {
    const result = await runThroughKubectl(['list', '--kubeconfig', auditor, '-o', 'wide'], { env });
    expect(result.code).toBe(0);
    expect(result.stderr).toBe(
      'warning: cannot read Argo CD Applications, so APPS and applications[] are unknown: applications.argoproj.io is forbidden: User "auditor" cannot list resource "applications" in API group "argoproj.io" in the namespace "argocd" (Forbidden)\n',
    );
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    for (const line of lines.slice(1)) expect(line).toMatch(/\s{3,}<unknown>$/);
    const json = await listDeps(['-o', 'json'], auditor);
    expect(json.code).toBe(0);
    expect(json.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    expect(appsOf((JSON.parse(json.stdout) as ClusterList).items)).toEqual({ legacy: null, prod: null, staging: null });
  });

  it('counts a forbidden argocd-cmd-params-cm as Applications it cannot read (their namespaces are unknown)', async () => {
    deps.store.seed(rbac('ClusterRole', 'auditor-apps', [{ apiGroups: ['argoproj.io'], resources: ['applications'], verbs: ['list'] }]));
    deps.store.seed(rbac('Role', 'auditor', [{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list'] }], 'argocd'));
    try {
      const result = await listDeps(['-o', 'json'], auditor);
      expect(result.code).toBe(0);
      expect(result.stderr).toMatch(/^warning: cannot read Argo CD Applications, so APPS and applications\[\] are unknown: cannot read configmap argocd-cmd-params-cm \(it says which namespaces hold Applications\): configmaps "argocd-cmd-params-cm" is forbidden: .*\n$/);
      // With the configmap readable again, the auditor's cluster-wide rights suffice.
      deps.store.seed(rbac('Role', 'auditor', [{ apiGroups: [''], resources: ['secrets', 'configmaps'], verbs: ['get', 'list'] }], 'argocd'));
      const allowed = await listDeps(['-o', 'json'], auditor);
      expect(allowed).toMatchObject({ code: 0, stderr: '' });
      expect(appsOf((JSON.parse(allowed.stdout) as ClusterList).items).prod).toEqual(['argocd/billing', 'argocd/guestbook']);
    } finally {
      deps.store.delete('clusterroles', undefined, 'auditor-apps');
      deps.store.delete('clusterrolebindings', undefined, 'auditor-apps');
    }
  });

  it('warns that the CRD is missing when Argo CD’s Application CRD is not installed', async () => {
    deps.uninstallCrd('applications.argoproj.io');
    try {
      const result = await listDeps(['-o', 'wide', '--no-headers']);
      expect(result.code).toBe(0);
      expect(result.stderr).toBe('warning: cannot read Argo CD Applications, so APPS and applications[] are unknown: the Application CRD (applications.argoproj.io) is not installed\n');
      expect(result.stdout.trimEnd().split('\n').every((line) => line.endsWith('<unknown>'))).toBe(true);
    } finally {
      deps.installCrd('applications.argoproj.io');
    }
  });
});
