// `join` and `check join` end to end: the built binary (and the real kubectl) against
// stand-in API servers with real RS256 service account tokens, key rotation and
// issuer controls.
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { createRuntime, parseGlobalOptions } from '../../src/cli/globals.js';
import { judgeJoin } from '../../src/join/check.js';
import { gatherJoinFacts } from '../../src/join/gather.js';
import { connectContext, loadUserKubeconfig } from '../../src/kube/connect.js';
import { FakeKubeCluster, KubectlSandbox } from '../world/apiserver/index.js';
import { isolatedEnv, runPlugin, runThroughKubectl, type RunResult } from '../support/run.js';

const TELEPORT = 'example.teleport.sh';
const PROXY = 'example.teleport.sh:443';
const EKS_ISSUER = 'https://oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B716D3041E';

let source: FakeKubeCluster;
let target: FakeKubeCluster;
let eks: FakeKubeCluster;
let dark: FakeKubeCluster;
let dir: string;
let kubeconfig: string;
let kubectl: KubectlSandbox;
const env = () => isolatedEnv({ KUBECONFIG: kubeconfig });

function seedTbot(cluster: FakeKubeCluster, options: { pod?: boolean } = {}): void {
  cluster.store.put({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'tbot', namespace: 'argocd' } });
  if (options.pod ?? true) {
    cluster.store.put({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'tbot-5c9d7f-x2x7q', namespace: 'argocd' },
      spec: { serviceAccountName: 'tbot', containers: [{ name: 'tbot', image: 'public.ecr.aws/gravitational/tbot-distroless' }] },
      status: { phase: 'Running' },
    });
  }
}

function run(args: string[], input?: string): Promise<RunResult> {
  return runPlugin(args, { env: env(), input });
}

async function checkJoin(args: string[], input?: string) {
  const result = await run(['check', 'join', '--cluster-name', TELEPORT, '-o', 'json', ...args], input);
  const report = result.stdout ? (JSON.parse(result.stdout) as { results: Array<{ id: string; subject: string; status: string; message: string }>; summary: Record<string, number> }) : null;
  const status = (id: string) => report?.results.find((entry) => entry.id === id)?.status;
  const message = (id: string) => report?.results.find((entry) => entry.id === id)?.message;
  return { ...result, report, status, message };
}

const JOIN = ['join', '--cluster-name', TELEPORT, '--proxy', PROXY, '--selector', 'environment=production'];

function documents(stream: string): unknown[] {
  return parseAllDocuments(stream).map((document) => document.toJS());
}

/** Nothing that looks like a JWT (the TokenRequest's token) may ever be printed. */
function expectNoToken(result: RunResult): void {
  expect(result.stdout + result.stderr).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]+\./);
}

beforeAll(async () => {
  [source, target, eks, dark] = await Promise.all([
    FakeKubeCluster.start({ name: 'source', namespaces: ['argocd'] }),
    FakeKubeCluster.start({ name: 'target' }),
    FakeKubeCluster.start({ name: 'eks', namespaces: ['argocd'], issuer: EKS_ISSUER }),
    FakeKubeCluster.start({ name: 'dark', namespaces: ['argocd'], issuerDiscovery: false }),
  ]);
  seedTbot(source);
  seedTbot(eks);
  seedTbot(dark);
  dir = mkdtempSync(path.join(tmpdir(), 'tpa-join-'));
  const files = await Promise.all([source, target, eks, dark].map((cluster) => cluster.writeKubeconfig(path.join(dir, `${cluster.name}.yaml`))));
  kubeconfig = files.join(path.delimiter);
  kubectl = await KubectlSandbox.create();
});

afterAll(async () => {
  await Promise.all([source, target, eks, dark].map((cluster) => cluster?.close()));
  await kubectl?.dispose();
});

beforeEach(() => {
  for (const cluster of [source, target]) {
    for (const name of ['teleport-editor-edit', 'teleport-bot-argocd-edit']) cluster.store.delete('clusterrolebindings', undefined, name);
    cluster.counts.reset();
  }
});

describe('check join', () => {
  it('passes a correct setup, through the real kubectl, without printing the token', async () => {
    const result = await runThroughKubectl(['check', 'join', '--context', 'source', '--cluster-name', TELEPORT], { env: env() });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.split('\n')[0]).toMatch(/^CHECK\s{3,}SUBJECT\s{3,}STATUS\s{3,}MESSAGE$/);
    for (const id of ['issuer.discovery', 'jwks.wellformed', 'token.signature', 'token.audience', 'token.lifetime', 'token.subject', 'token.pod-bound']) {
      expect(result.stdout).toMatch(new RegExp(`^${id.replace('.', '\\.')}\\s+\\S+\\s+pass\\s`, 'm'));
    }
    expect(result.stderr).toBe('check join: 12 passed, 0 warnings, 0 failed, 0 skipped\n');
    expectNoToken(result);
    // The token was requested as tbot's chart projects it: audience = Teleport cluster, 600 s, bound to the running pod.
    const request = source.counts.filter({ verb: 'create' }).find((record) => record.key === 'create serviceaccounts/token')!;
    expect(JSON.parse(request.body!.toString('utf8')).spec).toMatchObject({
      audiences: [TELEPORT],
      expirationSeconds: 600,
      boundObjectRef: { kind: 'Pod', name: 'tbot-5c9d7f-x2x7q' },
    });
  });

  it('reports as JSON and YAML, the same document', async () => {
    const json = await checkJoin(['--context', 'source']);
    expect(json.code).toBe(0);
    expect(json.report).toMatchObject({ apiVersion: 'teleport-argocd/v1alpha1', kind: 'CheckReport', check: 'join', summary: { pass: 12, warn: 0, fail: 0, skip: 0 } });
    const yaml = await run(['check', 'join', '--context', 'source', '--cluster-name', TELEPORT, '-o', 'yaml']);
    const fromYaml = parseYaml(yaml.stdout) as typeof json.report;
    expect(fromYaml!.results.map((entry) => [entry.id, entry.status])).toEqual(json.report!.results.map((entry) => [entry.id, entry.status]));
  });

  it('detects JWKS drift in a rendered token after the signing key rotates', async () => {
    const out = path.join(dir, 'drift');
    const rendered = await run([...JOIN, '--context', 'source', '--out-dir', out]);
    expect(rendered.code, rendered.stderr).toBe(0);
    const tokenFile = path.join(out, 'join-token.yaml');
    const before = await checkJoin(['--context', 'source', '--token-file', tokenFile]);
    expect(before.code, before.stdout).toBe(0);
    expect(before.status('tokenfile.jwks-drift')).toBe('pass');

    const oldKid = source.issuer.currentKid;
    await source.rotateSigningKey();
    const after = await checkJoin(['--context', 'source', '--token-file', tokenFile]);
    expect(after.code).toBe(1);
    expect(after.status('tokenfile.jwks-drift')).toBe('fail');
    expect(after.message('tokenfile.jwks-drift')).toContain(`key ${oldKid} no longer published by the cluster`);
    expect(after.status('tokenfile.signature')).toBe('fail');
    // The cluster itself is still consistent: its fresh token verifies with its live JWKS.
    expect(after.status('token.signature')).toBe('pass');
    expectNoToken(after);
  });

  it('reads the token from stdin, as `tctl get token/NAME` prints it', async () => {
    const tctlOutput = `kind: token
metadata:
  expires: "0001-01-01T00:00:00Z"
  name: argocd-join
  revision: 3a7c4f35-0a4f-4c51-9a1f-0dc3b5e3e5a9
spec:
  bot_name: argocd
  join_method: kubernetes
  kubernetes:
    allow:
    - service_account: argocd:default
    static_jwks:
      jwks: '${JSON.stringify(source.issuer.jwks())}'
    type: static_jwks
  roles:
  - Bot
version: v2
`;
    const result = await checkJoin(['--context', 'source', '--token-file', '-'], tctlOutput);
    expect(result.code).toBe(1);
    expect(result.status('tokenfile.jwks-drift')).toBe('pass');
    expect(result.status('tokenfile.allow')).toBe('fail');
    expect(result.message('tokenfile.allow')).toContain('no allow rule matches argocd:tbot (rules: argocd:default)');
    expect(result.report!.results.find((entry) => entry.id === 'tokenfile.allow')!.subject).toBe('token/argocd-join');
  });

  it('explains a file that is not a token, and refuses one that is not YAML', async () => {
    const role = path.join(dir, 'role-only.yaml');
    writeFileSync(role, 'kind: role\nversion: v7\nmetadata:\n  name: r\n');
    const notToken = await checkJoin(['--context', 'source', '--token-file', role]);
    expect(notToken.code).toBe(1);
    expect(notToken.message('tokenfile.kind')).toBe('no Teleport token (kind: token) in it; found role');

    source.counts.reset();
    const garbage = path.join(dir, 'garbage.yaml');
    writeFileSync(garbage, 'kind: [token\n');
    for (const file of [garbage, path.join(dir, 'missing.yaml')]) {
      const result = await run(['check', 'join', '--context', 'source', '--cluster-name', TELEPORT, '--token-file', file]);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(/^error: token file "[^"]+"/);
      expect(result.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    }
    // A bad file is refused before any request.
    expect(source.counts.total).toBe(0);
  });

  it('warns when tbot is not deployed yet: no service account, or no running pod', async () => {
    const fresh = await FakeKubeCluster.start({ name: 'fresh', namespaces: ['argocd'] });
    try {
      const file = await fresh.writeKubeconfig(path.join(dir, 'fresh.yaml'));
      const missing = await checkJoin(['--kubeconfig', file]);
      expect(missing.code, missing.stdout).toBe(0);
      expect(missing.status('serviceaccount.exists')).toBe('warn');
      expect(missing.status('token.request')).toBe('skip');
      expect(missing.status('token.signature')).toBe('skip');

      seedTbot(fresh, { pod: false });
      const noPod = await checkJoin(['--kubeconfig', file]);
      expect(noPod.code).toBe(0);
      expect(noPod.status('token.pod-bound')).toBe('warn');
      expect(noPod.status('token.signature')).toBe('pass');
      expect(noPod.status('token.audience')).toBe('pass');
    } finally {
      await fresh.close();
    }
  });

  it('fails clearly when the API server does not serve issuer discovery', async () => {
    const result = await checkJoin(['--context', 'dark']);
    expect(result.code).toBe(1);
    expect(result.status('issuer.discovery')).toBe('fail');
    expect(result.message('issuer.discovery')).toContain('does not serve /.well-known/openid-configuration');
    expect(result.status('jwks.fetch')).toBe('fail');
    expect(result.stderr).not.toMatch(/\n\s+at /);
    // join stops on the failed checks and writes nothing.
    const join = await run([...JOIN, '--context', 'dark']);
    expect(join.code).toBe(1);
    expect(join.stdout).toBe('');
    expect(join.stderr).toMatch(/^error: check join: .*nothing was written/m);
  });
});

describe('join', () => {
  it("renders the guide's resources from the live cluster, through the real kubectl", async () => {
    const result = await runThroughKubectl([...JOIN, '--context', 'source', '--bot', 'example-bot', '--role', 'example-role', '--token', 'example-join-token'], { env: env() });
    expect(result.code, result.stderr).toBe(0);
    expectNoToken(result);
    const [role, bot, token, binding, values] = documents(result.stdout) as Array<Record<string, any>>;
    expect(role).toEqual({
      kind: 'role',
      version: 'v7',
      metadata: { name: 'example-role' },
      spec: {
        allow: {
          kubernetes_labels: { '*': '*' },
          kubernetes_groups: ['editor'],
          kubernetes_resources: [{ kind: '*', namespace: '*', name: '*', verbs: ['*'] }],
        },
      },
    });
    expect(bot).toEqual({ kind: 'bot', version: 'v1', metadata: { name: 'example-bot' }, spec: { roles: ['example-role'] } });
    expect(token).toMatchObject({
      kind: 'token',
      version: 'v2',
      metadata: { name: 'example-join-token' },
      spec: { roles: ['Bot'], bot_name: 'example-bot', join_method: 'kubernetes', kubernetes: { type: 'static_jwks', allow: [{ service_account: 'argocd:tbot' }] } },
    });
    // The JWKS exactly as `kubectl get --raw /openid/v1/jwks` prints it.
    const raw = await kubectl.run(['get', '--raw', '/openid/v1/jwks', '--context', 'source'], { kubeconfig });
    expect(raw.code, raw.stderr).toBe(0);
    expect(token!.spec.kubernetes.static_jwks.jwks).toBe(raw.stdout.trim());
    expect(binding).toMatchObject({ kind: 'ClusterRoleBinding', metadata: { name: 'teleport-editor-edit' }, roleRef: { kind: 'ClusterRole', name: 'edit' }, subjects: [{ kind: 'Group', name: 'editor' }] });
    expect(values).toEqual({
      clusterName: TELEPORT,
      teleportProxyAddress: PROXY,
      token: 'example-join-token',
      defaultOutput: { enabled: false },
      argocd: { enabled: true, clusterSelectors: [{ labels: { environment: 'production' } }] },
    });
    expect(result.stdout).toContain('# tbot Helm values: helm install tbot teleport/tbot --kube-context source --namespace argocd --values tbot-values.yaml\n');
    expect(result.stderr).toContain('tctl create -f join-token.yaml');
    expect(result.stderr).toContain('kubectl --context source apply -f rbac-source.yaml');
    // Nothing was applied without --apply-rbac.
    expect(source.store.get('clusterrolebindings', undefined, 'teleport-editor-edit')).toBeUndefined();
  });

  it('writes files and applies the RBAC in the source and target clusters, idempotently', async () => {
    const out = path.join(dir, 'apply');
    const asEditor = ['auth', 'can-i', 'create', 'configmaps', '-n', 'default', '--as', 'bot-argocd', '--as-group', 'editor'];
    expect((await kubectl.run([...asEditor, '--context', 'target'], { kubeconfig })).stdout.trim()).toBe('no');
    const first = await run([...JOIN, '--context', 'source', '--target-context', 'target', '--out-dir', out, '--apply-rbac']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toBe('');
    for (const name of ['role.yaml', 'bot.yaml', 'join-token.yaml', 'rbac-source.yaml', 'rbac-target.yaml', 'tbot-values.yaml']) {
      expect(statSync(path.join(out, name)).mode & 0o777, name).toBe(0o600);
    }
    expect(parseYaml(readFileSync(path.join(out, 'tbot-values.yaml'), 'utf8')).token).toBe('argocd-join');
    expect(first.stderr).toContain('clusterrolebinding.rbac.authorization.k8s.io/teleport-editor-edit created (context source)');
    expect(first.stderr).toContain('clusterrolebinding.rbac.authorization.k8s.io/teleport-editor-edit created (context target)');

    for (const cluster of ['source', 'target']) {
      const got = await kubectl.run(['get', 'clusterrolebinding', 'teleport-editor-edit', '-o', 'json', '--context', cluster], { kubeconfig });
      expect(got.code, got.stderr).toBe(0);
      expect(JSON.parse(got.stdout)).toMatchObject({ roleRef: { kind: 'ClusterRole', name: 'edit' }, subjects: [{ kind: 'Group', name: 'editor' }] });
      // What Teleport's impersonated requests (group editor) may now do.
      const canI = await kubectl.run([...asEditor, '--context', cluster], { kubeconfig });
      expect(canI.stdout.trim(), canI.stderr).toBe('yes');
    }

    target.counts.reset();
    const second = await run([...JOIN, '--context', 'source', '--target-context', 'target', '--out-dir', out, '--apply-rbac']);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain('teleport-editor-edit unchanged (context target)');
    expect(target.counts.get('create clusterrolebindings')).toBe(1);
    expect(target.counts.get('update clusterrolebindings') + target.counts.get('patch clusterrolebindings')).toBe(0);
  });

  it('leaves a foreign binding of the same name alone and fails', async () => {
    target.store.put({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'teleport-editor-edit' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
      subjects: [{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'editor' }],
    });
    const result = await run([...JOIN, '--context', 'source', '--target-context', 'target', '--apply-rbac']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('error: context target: clusterrolebinding teleport-editor-edit already exists and it binds ClusterRole view, not ClusterRole edit; not changed');
    expect(result.stderr).toContain('teleport-editor-edit created (context source)');
    expect(target.store.get('clusterrolebindings', undefined, 'teleport-editor-edit')).toMatchObject({ roleRef: { name: 'view' } });
  });

  it('renders the impersonation variant: wildcard kubernetes_users, no groups, the bot user bound', async () => {
    const result = await run([...JOIN, '--context', 'source', '--impersonation', '--apply-rbac']);
    expect(result.code, result.stderr).toBe(0);
    const [role, , , binding] = documents(result.stdout) as Array<Record<string, any>>;
    expect(role!.spec.allow.kubernetes_users).toEqual(['*']);
    expect(role!.spec.allow).not.toHaveProperty('kubernetes_groups');
    expect(binding).toMatchObject({ metadata: { name: 'teleport-bot-argocd-edit' }, subjects: [{ kind: 'User', name: 'bot-argocd' }] });
    const canI = await kubectl.run(['auth', 'can-i', 'list', 'configmaps', '-A', '--as', 'bot-argocd', '--context', 'source'], { kubeconfig });
    expect(canI.stdout.trim(), canI.stderr).toBe('yes');
  });

  it('picks oidc for an EKS issuer, and warns about static_jwks there', async () => {
    const auto = await run([...JOIN, '--context', 'eks']);
    expect(auto.code, auto.stderr).toBe(0);
    const token = (documents(auto.stdout) as Array<Record<string, any>>).find((document) => document.kind === 'token')!;
    expect(token.spec.kubernetes).toEqual({ type: 'oidc', oidc: { issuer: EKS_ISSUER }, allow: [{ service_account: 'argocd:tbot' }] });
    expect(auto.stderr).not.toContain('warning:');

    const pinned = await run([...JOIN, '--context', 'eks', '--join-type', 'static_jwks']);
    expect(pinned.code, pinned.stderr).toBe(0);
    expect(pinned.stderr).toMatch(/^warning: EKS rotates its service account signing keys/m);
    const pasted = (documents(pinned.stdout) as Array<Record<string, any>>).find((document) => document.kind === 'token')!;
    expect(pasted.spec.kubernetes.type).toBe('static_jwks');
    expect(JSON.parse(pasted.spec.kubernetes.static_jwks.jwks)).toEqual(eks.issuer.jwks());

    const check = await checkJoin(['--context', 'eks']);
    expect(check.message('provider')).toMatch(/^EKS \(us-west-2\): join type oidc/);
  });

  it('with --skip-checks, reads only the discovery document and the JWKS', async () => {
    const result = await run([...JOIN, '--context', 'source', '--skip-checks', '-v']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toContain('check join:');
    expect(source.counts.get('create serviceaccounts/token')).toBe(0);
    expect(source.counts.get('get /openid/v1/jwks')).toBe(1);
    expect(result.stderr).toMatch(/GET https:\/\/127\.0\.0\.1:\d+\/openid\/v1\/jwks/);
    // Without issuer discovery there is nothing to render from, checks or not.
    const dark = await run([...JOIN, '--context', 'dark', '--skip-checks']);
    expect(dark.code).toBe(1);
    expect(dark.stdout).toBe('');
    expect(dark.stderr).toContain("error: join type static_jwks needs the source cluster's JWKS, which could not be read");
  });

  it('never prints the service account token, even verbosely', async () => {
    const result = await run(['check', 'join', '--context', 'source', '--cluster-name', TELEPORT, '-v']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/POST https:\/\/127\.0\.0\.1:\d+\/api\/v1\/namespaces\/argocd\/serviceaccounts\/tbot\/token/);
    expectNoToken(result);
  });

  it('refuses bad flags before any request', async () => {
    for (const args of [
      ['join', '--cluster-name', TELEPORT, '--proxy', PROXY], // no selector, wildcard labels
      [...JOIN, '--proxy', 'no-port'],
      [...JOIN, '--join-type', 'jwks'],
      [...JOIN, '--service-account', 'tbot'],
    ]) {
      const result = await run([...args, '--context', 'source']);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr.split('\n')[0]).toMatch(/^error: /);
    }
    expect(source.counts.total).toBe(0);
  });
});

describe('tokens judged against the live cluster', () => {
  const ACCOUNT = { namespace: 'argocd', name: 'tbot' };
  const POD = 'tbot-5c9d7f-x2x7q';

  async function liveFacts() {
    const runtime = createRuntime(parseGlobalOptions({ kubeconfig: path.join(dir, 'source.yaml') }), 'test');
    const connected = connectContext(loadUserKubeconfig(runtime), runtime, 'source');
    try {
      return await gatherJoinFacts(connected, { clusterName: TELEPORT, serviceAccount: ACCOUNT, tokenFile: null }, runtime.log);
    } finally {
      await connected.clients.close();
    }
  }

  const judge = async (token: string) => {
    const { results } = await judgeJoin({ ...(await liveFacts()), token: { ok: true, value: token } }, { clusterName: TELEPORT, bot: 'argocd', serviceAccount: ACCOUNT, now: new Date() });
    return Object.fromEntries(results.map((result) => [result.id, result]));
  };

  it('fails a token for the API server audience, and one that lives too long', async () => {
    const apiAudience = await source.serviceAccountToken('argocd', 'tbot', { audiences: source.issuer.apiAudiences, expirationSeconds: 600, pod: POD });
    const wrongAudience = await judge(apiAudience);
    expect(wrongAudience['token.audience']).toMatchObject({ status: 'fail', message: `aud [${source.issuer.issuer}] does not contain the Teleport cluster name ${TELEPORT}` });
    expect(wrongAudience['token.signature']!.status).toBe('pass');

    const hourLong = await judge(await source.serviceAccountToken('argocd', 'tbot', { audiences: [TELEPORT], expirationSeconds: 3600, pod: POD }));
    expect(hourLong['token.lifetime']!.status).toBe('fail');
    expect(hourLong['token.audience']!.status).toBe('pass');
  });

  it('fails the signature of a token signed by a key rotated away since', async () => {
    const old = await source.serviceAccountToken('argocd', 'tbot', { audiences: [TELEPORT], expirationSeconds: 600, pod: POD });
    await source.rotateSigningKey();
    const verdicts = await judge(old);
    expect(verdicts['token.signature']!.status).toBe('fail');
    expect(verdicts['token.signature']!.message).toMatch(/which is not in the JWKS \(keys rotated\?\)$/);
    // A token minted now, with the new key, passes.
    const fresh = await judge(await source.serviceAccountToken('argocd', 'tbot', { audiences: [TELEPORT], expirationSeconds: 600, pod: POD }));
    for (const id of ['token.signature', 'token.audience', 'token.time', 'token.lifetime', 'token.subject', 'token.pod-bound']) expect(fresh[id]!.status, id).toBe('pass');
  });
});
