// `check impersonation` end to end: the built binary against the API server stand-in (the
// source cluster with Argo CD's namespaces, and target clusters) behind the Teleport proxy
// stand-in, which computes the bot's kube users and groups from its roles as Teleport does.
// One cluster per misconfiguration the guide names; each run selects it by GLOB.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { renderClusterSecret, type SecretObject } from '../../src/argocd/cluster-secret.js';
import type { CheckReport, CheckResult } from '../../src/audit/check-report.js';
import { encodePathComponent } from '../../src/teleport/routing.js';
import { isolatedEnv, runPlugin, runThroughKubectl, type RunResult } from '../support/run.js';
import { startKubeApiServer, type FakeKubeCluster, type KubeObject } from '../world/apiserver/index.js';
import { appProject, argocdCm } from '../world/fixtures/index.js';
import type { PemPair, TeleportIdentity } from '../world/pki.js';
import { startTeleportProxy, type TeleportProxy } from '../world/teleport-proxy/index.js';

const TELEPORT = 'example.teleport.sh';
const SA_USER = 'system:serviceaccount:team-a:deployer';
const SEVERAL_USERS = 'please select a user to impersonate, refusing to select a user due to several kubernetes_users set up for this user';

let source: FakeKubeCluster;
/** Target clusters by what is (mis)configured in them. */
const targets: Record<'good' | 'noBinding' | 'noAccount' | 'editOnly', FakeKubeCluster> = {} as never;
let proxy: TeleportProxy;
let kubeconfig: string;
let bothKubeconfigs: string;
let workDir: string;
const material: string[] = [];

/** Every kube cluster registered in Argo CD, and the target and bot certificate behind it. */
const CLUSTERS = {
  good: { target: 'good', bot: 'wildcard' },
  literal: { target: 'good', bot: 'literal' },
  groups: { target: 'good', bot: 'groups' },
  unmatched: { target: 'good', bot: 'wildcard' },
  nobinding: { target: 'noBinding', bot: 'wildcard' },
  noaccount: { target: 'noAccount', bot: 'wildcard' },
  editonly: { target: 'editOnly', bot: 'wildcard' },
  expired: { target: 'good', bot: 'expired' },
} as const;

const BOT_IDENTITIES: Record<string, TeleportIdentity> = {
  wildcard: { user: 'bot-argocd', botName: 'argocd', roles: ['argocd-kube'], kubernetesUsers: ['*'] },
  literal: { user: 'bot-argocd', botName: 'argocd', roles: ['argocd-literal'], kubernetesUsers: [SA_USER, 'system:serviceaccount:team-b:deployer'] },
  groups: { user: 'bot-argocd', botName: 'argocd', roles: ['argocd-kube', 'argocd-editor'], kubernetesUsers: ['*'], kubernetesGroups: ['editor'] },
};

const bindBot = (name: string, role: string): KubeObject => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'ClusterRoleBinding',
  metadata: { name },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
  subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'bot-argocd' }],
});
const READ_ALL: KubeObject = {
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'ClusterRole',
  metadata: { name: 'argocd-read-all' },
  rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['get', 'list', 'watch'] }],
} as KubeObject;
const DEPLOYER: KubeObject = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'deployer', namespace: 'team-a' } };

function clusterSecret(kubeCluster: string, pair: PemPair, namespace: string): SecretObject {
  return renderClusterSecret({
    namespace,
    prefix: 'teleport.argocd-cluster',
    nameTemplate: '{{.ClusterName}}-{{.KubeName}}',
    route: { teleportCluster: TELEPORT, kubeCluster },
    proxyBase: proxy.url,
    credentials: { caPem: proxy.hostCA.certPem, certPem: pair.certPem, keyPem: pair.keyPem, serverName: proxy.sni },
    botName: 'argocd',
    updated: new Date(),
  });
}

/** An Argo CD namespace in the source cluster: argocd-cm, projects and cluster secrets. */
function seedArgoNamespace(namespace: string, cm: KubeObject, projects: KubeObject[], secrets: SecretObject[]): void {
  source.store.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }, 'namespaces');
  source.store.put(cm, 'configmaps');
  for (const project of projects) source.store.put(project, 'appprojects');
  for (const secret of secrets) source.store.put(secret as unknown as KubeObject, 'secrets');
}

async function check(args: string[], options: { kubectl?: boolean; kubeconfigPath?: string } = {}): Promise<RunResult> {
  const full = ['check', 'impersonation', ...args, '--kubeconfig', options.kubeconfigPath ?? kubeconfig];
  const result = options.kubectl ? await runThroughKubectl(full, { env: isolatedEnv() }) : await runPlugin(full);
  for (const secret of material) {
    expect(result.stdout).not.toContain(secret);
    expect(result.stderr).not.toContain(secret);
  }
  return result;
}

async function report(args: string[], options: { kubeconfigPath?: string } = {}): Promise<{ result: RunResult; report: CheckReport }> {
  const result = await check([...args, '-o', 'json'], options);
  return { result, report: JSON.parse(result.stdout) as CheckReport };
}

const byId = (checkReport: CheckReport, id: string): CheckResult[] => checkReport.results.filter((result) => result.id === id);
const statusOf = (checkReport: CheckReport, id: string): string[] => byId(checkReport, id).map((result) => result.status);

beforeAll(async () => {
  const [src, good, noBinding, noAccount, editOnly] = await Promise.all([
    startKubeApiServer({ name: 'source', namespaces: ['argocd'] }),
    startKubeApiServer({ name: 'good', namespaces: ['team-a'] }),
    startKubeApiServer({ name: 'nobinding', namespaces: ['team-a'] }),
    startKubeApiServer({ name: 'noaccount', namespaces: ['team-a'] }),
    startKubeApiServer({ name: 'editonly', namespaces: ['team-a'] }),
  ]);
  source = src;
  Object.assign(targets, { good, noBinding, noAccount, editOnly });
  // The guide's binding for bot-<name>, plus cluster-wide read for Argo CD's cache.
  good.store.seed([DEPLOYER, READ_ALL, bindBot('argocd-edit', 'edit'), bindBot('argocd-read-all', 'argocd-read-all')]);
  noBinding.store.seed([DEPLOYER]);
  noAccount.store.seed([READ_ALL, bindBot('argocd-edit', 'edit'), bindBot('argocd-read-all', 'argocd-read-all')]);
  editOnly.store.seed([DEPLOYER, bindBot('argocd-edit', 'edit')]);

  const upstream = (cluster: FakeKubeCluster) => ({ upstream: { url: cluster.url, caPem: cluster.caPem, clientCertPem: cluster.admin.certPem, clientKeyPem: cluster.admin.keyPem } });
  proxy = await startTeleportProxy({
    clusterName: TELEPORT,
    kubeClusters: Object.fromEntries(Object.entries(CLUSTERS).map(([kube, { target }]) => [kube, upstream(targets[target])])),
    roles: {
      'argocd-kube': { kubernetesUsers: ['*'], kubernetesLabels: { '*': '*' } },
      'argocd-literal': { kubernetesUsers: BOT_IDENTITIES.literal!.kubernetesUsers, kubernetesLabels: { '*': '*' } },
      'argocd-editor': { kubernetesGroups: ['editor'], kubernetesLabels: { '*': '*' } },
    },
  });
  const bots: Record<string, PemPair> = {};
  for (const [name, identity] of Object.entries(BOT_IDENTITIES)) bots[name] = await proxy.issueIdentity(identity);
  const hour = 3_600_000;
  bots.expired = await proxy.issueIdentity(BOT_IDENTITIES.wildcard!, { notBefore: new Date(Date.now() - 3 * hour), notAfter: new Date(Date.now() - hour) });
  for (const pair of Object.values(bots)) material.push(pair.certPem, pair.keyPem);

  // Project `platform` maps the covered clusters (a gobwas alternative group) to team-a's deployer.
  const covered = Object.keys(CLUSTERS).filter((kube) => kube !== 'unmatched');
  const serverGlob = `${proxy.url}/v1/teleport/${encodePathComponent(TELEPORT)}/{${covered.map(encodePathComponent).join(',')}}`;
  const platform = appProject({
    name: 'platform',
    destinations: [{ server: '*', namespace: 'team-a' }],
    destinationServiceAccounts: [
      { server: serverGlob, namespace: 'team-a', defaultServiceAccount: 'deployer' },
      { server: serverGlob, namespace: '*', defaultServiceAccount: 'team-a:deployer' },
    ],
  });
  const inClusterOnly = appProject({ name: 'default', destinations: [{ server: 'https://kubernetes.default.svc', namespace: '*' }] });
  const enabled = argocdCm({ impersonationEnabled: true });
  seedArgoNamespace(
    'argocd',
    enabled as unknown as KubeObject,
    [platform as unknown as KubeObject, inClusterOnly as unknown as KubeObject],
    Object.entries(CLUSTERS).map(([kube, { bot }]) => clusterSecret(kube, bots[bot]!, 'argocd')),
  );
  // Same clusters, but Argo CD reads "True", which is not "true".
  seedArgoNamespace(
    'argocd-off',
    argocdCm({ namespace: 'argocd-off', impersonationEnabled: 'True' }) as unknown as KubeObject,
    [{ ...platform, metadata: { name: 'platform', namespace: 'argocd-off' } } as unknown as KubeObject],
    [clusterSecret('good', bots.wildcard!, 'argocd-off')],
  );
  // A project applied with kubectl that Argo CD's API would have refused.
  seedArgoNamespace(
    'argocd-broken',
    argocdCm({ namespace: 'argocd-broken', impersonationEnabled: true }) as unknown as KubeObject,
    [
      appProject({
        name: 'broken',
        namespace: 'argocd-broken',
        destinationServiceAccounts: [
          { server: '*', namespace: '!kube-system', defaultServiceAccount: 'deployer' },
          { server: '[a-z0-9]*', namespace: '*', defaultServiceAccount: 'deployer' },
          { server: '*', namespace: 'team-a', defaultServiceAccount: 'team-a/*' },
        ],
      }) as unknown as KubeObject,
    ],
    [clusterSecret('good', bots.wildcard!, 'argocd-broken')],
  );

  // Entry 2 is shadowed: entry 1 already matches its server and namespace, so Argo CD never
  // picks it, and its service account (which does not exist) must not fail the check.
  seedArgoNamespace(
    'argocd-shadowed',
    argocdCm({ namespace: 'argocd-shadowed', impersonationEnabled: true }) as unknown as KubeObject,
    [
      appProject({
        name: 'shadowed',
        namespace: 'argocd-shadowed',
        destinations: [{ server: '*', namespace: 'team-a' }],
        destinationServiceAccounts: [
          { server: serverGlob, namespace: '*', defaultServiceAccount: 'team-a:deployer' },
          { server: serverGlob, namespace: 'team-a', defaultServiceAccount: 'team-a:never-created' },
        ],
      }) as unknown as KubeObject,
    ],
    [clusterSecret('good', bots.wildcard!, 'argocd-shadowed')],
  );

  workDir = mkdtempSync(path.join(tmpdir(), 'tpa-check-imp-'));
  kubeconfig = await source.writeKubeconfig(path.join(workDir, 'source'));
  const noBindingAdmin = await noBinding.writeKubeconfig(path.join(workDir, 'nobinding-admin'), noBinding.admin, { context: 'admin-nobinding' });
  const goodAdmin = await good.writeKubeconfig(path.join(workDir, 'good-admin'), good.admin, { context: 'admin-good' });
  // One file holding the source context and both admin contexts (what --target-context reads).
  bothKubeconfigs = path.join(workDir, 'all');
  writeFileSync(bothKubeconfigs, mergedKubeconfig([kubeconfig, noBindingAdmin, goodAdmin]), { mode: 0o600 });
  material.push(proxy.hostCA.keyPem, proxy.userCA.keyPem);
}, 60_000);

afterAll(async () => {
  await proxy?.close();
  await Promise.all([source, ...Object.values(targets)].filter(Boolean).map((cluster) => cluster.close()));
});

/** A kubeconfig document holding every cluster, user and context of the given files. */
function mergedKubeconfig(files: string[]): string {
  const documents = files.map((file) => parseYaml(readFileSync(file, 'utf8')) as Record<string, unknown>);
  const merged = {
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': documents[0]!['current-context'],
    clusters: documents.flatMap((document) => document.clusters as unknown[]),
    users: documents.flatMap((document) => document.users as unknown[]),
    contexts: documents.flatMap((document) => document.contexts as unknown[]),
  };
  return JSON.stringify(merged);
}

describe('check impersonation', () => {
  it('passes a correct setup, through the real kubectl', async () => {
    proxy.clearRequests();
    const result = await check(['good'], { kubectl: true });
    expect(result.stderr).toContain('check impersonation: ');
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^CHECK\s{3,}SUBJECT\s{3,}STATUS\s{3,}MESSAGE$/);
    const rows = lines.slice(1).map((line) => line.split(/\s{3,}/));
    expect(rows.map((row) => row[2])).toEqual(rows.map(() => 'pass'));
    expect(rows.map((row) => row[0])).toEqual([
      'argocd.impersonation-enabled',
      'argocd.impersonation-enforced',
      'appproject.valid',
      'appproject.coverage',
      'teleport.kubernetes-users',
      'teleport.kubernetes-groups',
      'target.control-plane-access',
      'target.service-account-exists',
      'target.impersonation',
    ]);
    // What went through Teleport: unimpersonated reviews ran as the bot, one impersonated the account.
    const reviews = proxy.requests.filter((request) => request.kubeCluster === 'good' && request.path.includes('selfsubjectaccessreviews'));
    expect(reviews.filter((request) => request.requestedUser === null).every((request) => request.impersonateUser === 'bot-argocd')).toBe(true);
    expect(reviews.some((request) => request.requestedUser === SA_USER && request.impersonateUser === SA_USER && request.status === 201)).toBe(true);
  });

  it('prints the same report as JSON and YAML', async () => {
    const { result, report: json } = await report(['good']);
    expect(result.code).toBe(0);
    expect(json).toMatchObject({ apiVersion: 'teleport-argocd/v1alpha1', kind: 'CheckReport', check: 'impersonation', summary: { pass: 9, warn: 0, fail: 0, skip: 0 } });
    expect(result.stdout).toMatch(/^\{\n {4}"apiVersion"/);
    const yaml = await check(['good', '-o', 'yaml']);
    expect(parseYaml(yaml.stdout)).toEqual(json);
    expect(byId(json, 'appproject.coverage')[0]!.message).toContain(`namespace "team-a" → ${SA_USER}`);
  });

  it('fails when impersonation is not enabled in argocd-cm', async () => {
    const { result, report: checkReport } = await report(['good', '-n', 'argocd-off']);
    expect(result.code).toBe(1);
    const [enabled] = byId(checkReport, 'argocd.impersonation-enabled');
    expect(enabled).toMatchObject({ subject: 'configmap/argocd-cm', status: 'fail' });
    expect(enabled!.message).toContain('is "True"');
    expect(enabled!.message).toContain('kubectl -n argocd-off patch configmap argocd-cm');
    expect(statusOf(checkReport, 'argocd.impersonation-enforced')).toEqual(['skip']);
  });

  it('fails a project that Argo CD would refuse', async () => {
    const { result, report: checkReport } = await report(['good', '-n', 'argocd-broken']);
    expect(result.code).toBe(1);
    const [valid] = byId(checkReport, 'appproject.valid');
    expect(valid).toMatchObject({ subject: 'appproject/broken', status: 'fail' });
    expect(valid!.message).toContain('entry 1: namespace "!kube-system" contains "!"');
    expect(valid!.message).toContain('entry 2: server "[a-z0-9]*" is not a valid glob');
    expect(valid!.message).toContain('entry 3: defaultServiceAccount "team-a/*"');
    // The entries matching the cluster are invalid: no service account is derived from them.
    expect(statusOf(checkReport, 'appproject.coverage')).toEqual(['fail']);
    expect(byId(checkReport, 'target.service-account-exists').map((result) => result.status)).toEqual(['skip']);
  });

  it('warns about a shadowed entry and checks only the accounts Argo CD can pick, through the real kubectl', async () => {
    const table = await check(['good', '-n', 'argocd-shadowed'], { kubectl: true });
    expect(table.code, table.stderr).toBe(0);
    const rows = table.stdout.trimEnd().split('\n').slice(1).map((line) => line.split(/\s{3,}/));
    expect(rows.filter((row) => row[0] === 'appproject.coverage').map((row) => [row[1], row[2]])).toEqual([
      ['shadowed -> good', 'pass'],
      ['shadowed -> good', 'warn'],
    ]);
    const { result, report: checkReport } = await report(['good', '-n', 'argocd-shadowed']);
    expect(result.code).toBe(0);
    expect(checkReport.summary).toMatchObject({ warn: 1, fail: 0 });
    const [coverage, shadowed] = byId(checkReport, 'appproject.coverage');
    expect(coverage!.message).toBe(`syncs impersonate (first match wins): namespace "*" → ${SA_USER}`);
    expect(shadowed!.message).toContain('entry 2 (namespace "team-a" → system:serviceaccount:team-a:never-created) is shadowed by entry 1');
    expect(byId(checkReport, 'target.service-account-exists').map((row) => [row.subject, row.status])).toEqual([['good team-a/deployer', 'pass']]);
    expect(byId(checkReport, 'target.impersonation').map((row) => row.subject)).toEqual(['good team-a/deployer']);
    expect((await check(['good', '-n', 'argocd-shadowed', '--strict'])).code).toBe(1);
  });

  it('fails a cluster that no project entry matches', async () => {
    const { result, report: checkReport } = await report(['unmatched']);
    expect(result.code).toBe(1);
    expect(statusOf(checkReport, 'appproject.coverage')).toEqual(['fail']);
    const [coverage] = byId(checkReport, 'appproject.coverage');
    expect(coverage!.subject).toBe('platform -> unmatched');
    expect(coverage!.message).toContain(`no matching service account found for destination server ${proxy.kubeServerUrl('unmatched')}`);
    // Everything on the Teleport and target side is fine for it.
    expect(statusOf(checkReport, 'teleport.kubernetes-users')).toEqual(['pass']);
    expect(statusOf(checkReport, 'target.control-plane-access')).toEqual(['pass']);
    expect(statusOf(checkReport, 'target.service-account-exists')).toEqual(['skip']);
  });

  it("fails literal kubernetes_users without a wildcard, with Teleport's error", async () => {
    const { result, report: checkReport } = await report(['literal']);
    expect(result.code).toBe(1);
    const [users] = byId(checkReport, 'teleport.kubernetes-users');
    expect(users).toMatchObject({ subject: 'literal', status: 'fail' });
    expect(users!.message).toContain(SEVERAL_USERS);
    // The proxy refuses the control plane's unimpersonated reviews the same way.
    const [access] = byId(checkReport, 'target.control-plane-access');
    expect(access!.status).toBe('fail');
    expect(access!.message).toContain(SEVERAL_USERS);
    // Impersonating a listed account is still allowed.
    expect(statusOf(checkReport, 'target.impersonation')).toEqual(['pass']);
  });

  it('fails kubernetes_groups, explaining the lost isolation', async () => {
    const { result, report: checkReport } = await report(['groups']);
    expect(result.code).toBe(1);
    const [groups] = byId(checkReport, 'teleport.kubernetes-groups');
    expect(groups).toMatchObject({ subject: 'groups', status: 'fail' });
    expect(groups!.message).toContain('"editor"');
    expect(groups!.message).toContain('project isolation is lost');
    expect(checkReport.summary.fail).toBe(1);
  });

  it('fails without a ClusterRoleBinding for bot-<name>, naming the command', async () => {
    const { result, report: checkReport } = await report(['nobinding']);
    expect(result.code).toBe(1);
    const [access] = byId(checkReport, 'target.control-plane-access');
    expect(access).toMatchObject({ subject: 'nobinding', status: 'fail' });
    expect(access!.message).toContain('bot-argocd cannot list/watch namespaces, pods, services');
    expect(access!.message).toContain('kubectl create clusterrolebinding argocd-edit --clusterrole=edit --user=bot-argocd');
    // bot-argocd may not read service accounts there: existence cannot be verified.
    expect(statusOf(checkReport, 'target.service-account-exists')).toEqual(['warn']);
  });

  it('fails a missing service account', async () => {
    const { result, report: checkReport } = await report(['noaccount']);
    expect(result.code).toBe(1);
    const [exists] = byId(checkReport, 'target.service-account-exists');
    expect(exists).toMatchObject({ subject: 'noaccount team-a/deployer', status: 'fail' });
    expect(exists!.message).toContain('kubectl create serviceaccount deployer -n team-a');
    expect(checkReport.summary.fail).toBe(1);
  });

  it('warns when the bot may not read every kind, and --strict turns that into exit 1', async () => {
    const { result, report: checkReport } = await report(['editonly']);
    expect(result.code).toBe(0);
    expect(statusOf(checkReport, 'target.control-plane-access')).toEqual(['warn']);
    expect(checkReport.summary).toMatchObject({ warn: 1, fail: 0 });
    expect((await check(['editonly', '--strict'])).code).toBe(1);
  });

  it('checks the target directly with --target-context, without going through Teleport', async () => {
    proxy.clearRequests();
    const missing = await report(['nobinding', '--target-context', 'nobinding=admin-nobinding'], { kubeconfigPath: bothKubeconfigs });
    expect(missing.result.code).toBe(1);
    expect(statusOf(missing.report, 'target.control-plane-access')).toEqual(['fail']);
    expect(statusOf(missing.report, 'target.service-account-exists')).toEqual(['pass']);
    expect(statusOf(missing.report, 'target.impersonation')).toEqual(['pass']);
    const fine = await report(['good', '--target-context', 'good=admin-good'], { kubeconfigPath: bothKubeconfigs });
    expect(fine.result.code).toBe(0);
    expect(fine.report.summary).toMatchObject({ fail: 0, warn: 0, skip: 0 });
    expect(proxy.requestCount()).toBe(0);
    expect(targets.good.counts.filter({ verb: 'create', resource: 'subjectaccessreviews' }).length).toBeGreaterThan(0);
  });

  it('judges Teleport role files against the roles in the certificates', async () => {
    const roles = path.join(workDir, 'roles.yaml');
    writeFileSync(
      roles,
      [
        'kind: role\nversion: v7\nmetadata:\n  name: argocd-kube\nspec:\n  allow:\n    kubernetes_labels:\n      "*": "*"\n    kubernetes_users: ["*"]\n',
        `kind: role\nversion: v7\nmetadata:\n  name: argocd-literal\nspec:\n  allow:\n    kubernetes_labels:\n      "*": "*"\n    kubernetes_users: ["${SA_USER}", "system:serviceaccount:team-b:deployer"]\n`,
        'kind: role\nversion: v7\nmetadata:\n  name: unrelated\nspec:\n  allow:\n    kubernetes_labels:\n      "*": "*"\n    kubernetes_groups: [admins]\n',
      ].join('---\n'),
    );
    const wildcard = await report(['good', '--role-file', roles]);
    const fromFile = wildcard.report.results.filter((result) => result.subject === 'roles argocd-kube');
    expect(fromFile.map((result) => [result.id, result.status])).toEqual([
      ['teleport.kubernetes-users', 'pass'],
      ['teleport.kubernetes-groups', 'pass'],
    ]);
    const literal = await report(['literal', '--role-file', roles]);
    const [users] = literal.report.results.filter((result) => result.subject === 'roles argocd-literal' && result.id === 'teleport.kubernetes-users');
    expect(users!.status).toBe('fail');
    expect(users!.message).toContain(SEVERAL_USERS);
  });

  it('fails a cluster whose certificate expired', async () => {
    const { result, report: checkReport } = await report(['expired']);
    expect(result.code).toBe(1);
    const [secret] = byId(checkReport, 'argocd.cluster-secret');
    expect(secret).toMatchObject({ subject: 'expired', status: 'fail' });
    expect(secret!.message).toContain('certificate expired');
    expect(statusOf(checkReport, 'target.control-plane-access')).toEqual(['fail']);
  });

  it('fails when no registered cluster matches', async () => {
    const { result, report: checkReport } = await report(['no-such-*']);
    expect(result.code).toBe(1);
    expect(byId(checkReport, 'argocd.clusters')).toEqual([expect.objectContaining({ status: 'fail' })]);
  });

  it('refuses bad flag values before any request', async () => {
    const before = source.counts.filter({}).length;
    const usage = await check(['--target-context', 'no-equals-sign']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/^error: --target-context "no-equals-sign": expected KUBE=CONTEXT$/m);
    const unknown = await check(['--target-context', 'good=no-such-context']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('context "no-such-context" does not exist');
    const noFile = await check(['--role-file', path.join(workDir, 'missing.yaml')]);
    expect(noFile.code).toBe(1);
    expect(noFile.stderr).toContain('does not exist');
    expect(source.counts.filter({}).length).toBe(before);
  });
});
