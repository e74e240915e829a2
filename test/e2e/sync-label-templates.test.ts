// `sync --label/--annotation` templates (product.md §4): `.Labels` from `tsh kube ls`, run
// once per Teleport cluster with the context's own tsh; empty renders omitted; failures
// and invalid values confined to their clusters; label-only changes are updates.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { clusterSecretName } from '../../src/argocd/cluster-secret.js';
import { mergeKubeconfigs, tshKubeLoginKubeconfig, type FakeTsh, type Kubeconfig } from '../world/fixtures/index.js';
import type { PemPair } from '../world/pki.js';
import { BOT_ROLE, startSandbox, TELEPORT_CLUSTER, type Sandbox } from '../world/sandbox.js';
import { isolatedEnv, runCommand, runPlugin, runThroughKubectl } from '../support/run.js';

let world: Sandbox;
let dir: string;
let alice: PemPair;

const REGION = 'region={{index .Labels "region"}}';
const nameOf = (kube: string, teleportCluster = TELEPORT_CLUSTER) => clusterSecretName('teleport.argocd-cluster', { teleportCluster, kubeCluster: kube });
const secret = (kube: string, teleportCluster = TELEPORT_CLUSTER) => world.source.store.get('secrets', 'argocd', nameOf(kube, teleportCluster));

interface Item {
  action: string;
  secret: string | null;
  context: string | null;
  kubeCluster: string | null;
  teleportCluster: string | null;
  reason: string | null;
  changes: string[] | null;
}

async function sync(file: string, args: string[]) {
  const result = await runPlugin(['sync', '--kubeconfig', file, '-o', 'json', ...args]);
  const document = result.stdout ? (JSON.parse(result.stdout) as { items: Item[]; summary: Record<string, number> }) : null;
  const byKube = Object.fromEntries((document?.items ?? []).map((item) => [item.kubeCluster, item]));
  return { ...result, document, byKube };
}

/** A `tsh kube login --all` kubeconfig for the sandbox's clusters, as alice, in its own directory. */
async function tshLogin(name: string, extra: Kubeconfig[] = []): Promise<{ tsh: FakeTsh; file: string }> {
  const { tsh, kubeconfig } = await world.tshLogin(path.join(dir, name), alice);
  const merged = mergeKubeconfigs(kubeconfig, ...extra);
  merged['current-context'] = 'source';
  return { tsh, file: await world.writeKubeconfig(path.join(dir, name, 'kubeconfig'), merged) };
}

const kubeLsCalls = async (tsh: FakeTsh) => (await tsh.invocations()).filter((call) => call.args[0] === 'kube' && call.args[1] === 'ls').map((call) => call.args);
const warnings = (stderr: string) => stderr.split('\n').filter((line) => line.startsWith('warning:'));

/** `kubectl get secrets -l SELECTOR -o name` in the Argo CD namespace: what an ApplicationSet cluster generator selects. */
async function selectSecrets(file: string, selector: string): Promise<string[]> {
  const result = await runCommand('kubectl', ['--context', 'source', '-n', 'argocd', 'get', 'secrets', '-l', selector, '-o', 'name'], { env: isolatedEnv({ KUBECONFIG: file }) });
  expect(result.code, result.stderr).toBe(0);
  return result.stdout.split('\n').filter(Boolean).sort();
}

beforeAll(async () => {
  world = await startSandbox();
  dir = mkdtempSync(path.join(tmpdir(), 'tpa-label-templates-'));
  alice = await world.proxy.issueIdentity({ user: 'alice', roles: [BOT_ROLE], kubernetesGroups: ['editor'] });
});

afterAll(async () => {
  await world?.close();
});

beforeEach(() => world.resetSource());

describe('sync label and annotation templates with tsh contexts', () => {
  it('copies Teleport labels into labels and annotations, leaves out missing ones, and lists each Teleport cluster once', async () => {
    const { tsh, file } = await tshLogin('present');
    const result = await sync(file, [
      '--label', REGION,
      '--label', 'team={{.Labels.team}}',
      '--label', 'kube={{.KubeName}}',
      '--annotation', 'example.com/where=Teleport {{.ClusterName}}, env {{index .Labels "env"}}',
      '--annotation', 'example.com/owner={{index .Labels "owner"}}',
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.document!.summary).toMatchObject({ create: 2, fail: 0 });
    expect(warnings(result.stderr)).toEqual([]);
    for (const kube of ['prod-eu', 'staging']) {
      const written = secret(kube)!;
      const teleport = world.kubeLabels[kube]!;
      expect(written.metadata.labels).toEqual({
        'argocd.argoproj.io/secret-type': 'cluster',
        'app.kubernetes.io/managed-by': 'kubectl-teleport-argocd',
        region: teleport.region,
        kube,
      });
      expect(written.metadata.annotations!['example.com/where']).toBe(`Teleport ${TELEPORT_CLUSTER}, env ${teleport.env}`);
      expect(written.metadata.annotations).not.toHaveProperty('example.com/owner');
    }
    // One listing for the Teleport cluster, as the contexts' own tsh runs it.
    expect(await kubeLsCalls(tsh)).toEqual([['kube', 'ls', '--format=json', `--cluster=${TELEPORT_CLUSTER}`, `--proxy=${world.proxy.addr}`]]);
  });

  it('through the real kubectl, registers secrets that an ApplicationSet-style selector finds', async () => {
    const { file } = await tshLogin('kubectl');
    const result = await runThroughKubectl(['sync', '--kubeconfig', file, '--label', REGION]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('sync: 2 created');
    const inEu = Object.keys(world.kubeLabels).filter((kube) => world.kubeLabels[kube]!.region === 'eu');
    expect(inEu.length).toBeGreaterThan(0);
    expect(await selectSecrets(file, 'region=eu')).toEqual(inEu.map((kube) => `secret/${nameOf(kube)}`).sort());
    expect(await selectSecrets(file, 'argocd.argoproj.io/secret-type=cluster,region')).toHaveLength(2);
  });

  it('runs no tsh kube ls when no template reads .Labels', async () => {
    const { tsh, file } = await tshLogin('no-labels');
    const result = await sync(file, ['--label', 'kube={{.KubeName}}', '--annotation', 'teleport={{.ClusterName}}']);
    expect(result.code, result.stderr).toBe(0);
    expect(secret('prod-eu')!.metadata.labels!.kube).toBe('prod-eu');
    expect(secret('prod-eu')!.metadata.annotations!.teleport).toBe(TELEPORT_CLUSTER);
    expect(await kubeLsCalls(tsh)).toEqual([]);
  });

  it('a failing tsh kube ls fails only the clusters of that Teleport cluster, naming the command', async () => {
    // A second Teleport cluster reached with the same tsh, which cannot list it.
    const other = 'other.teleport.sh';
    const { tsh, file } = await tshLogin('failing', [
      tshKubeLoginKubeconfig({ teleportCluster: other, proxyAddr: world.proxy.addr, kubeClusters: ['edge'], caPem: world.proxy.hostCA.certPem, tshPath: path.join(dir, 'failing', 'tsh') }),
    ]);
    await tsh.setCredentials('edge', alice);
    const result = await sync(file, ['--label', REGION]);
    expect(result.code).toBe(1);
    expect(result.document!.summary).toMatchObject({ create: 2, fail: 1 });
    expect(result.byKube['prod-eu']!.action).toBe('create');
    expect(result.byKube.staging!.action).toBe('create');
    const failed = result.byKube.edge!;
    expect(failed.action).toBe('fail');
    expect(failed.reason).toBe(
      `cannot read the Teleport labels for .Labels: "tsh kube ls --format=json --cluster=${other} --proxy=${world.proxy.addr}" failed with exit code 1: ERROR: cluster "${other}" is not found`,
    );
    expect(result.stderr).toContain(`error: ${other}-edge: cannot read the Teleport labels`);
    expect(secret('edge', other)).toBeUndefined();
    // Once per Teleport cluster, however many contexts each has.
    expect((await kubeLsCalls(tsh)).map((args) => args.find((arg) => arg.startsWith('--cluster=')))).toEqual(
      expect.arrayContaining([`--cluster=${TELEPORT_CLUSTER}`, `--cluster=${other}`]),
    );
    expect(await kubeLsCalls(tsh)).toHaveLength(2);
  });

  it('bounds tsh kube ls by --exec-timeout', async () => {
    const { tsh, file } = await tshLogin('hanging');
    await tsh.configure({ kubeLsMode: 'hang' });
    const result = await sync(file, ['--label', REGION, '--exec-timeout', '2s']);
    expect(result.code).toBe(1);
    for (const kube of ['prod-eu', 'staging']) {
      expect(result.byKube[kube]!.reason).toBe(
        `cannot read the Teleport labels for .Labels: "tsh kube ls --format=json --cluster=${TELEPORT_CLUSTER} --proxy=${world.proxy.addr}" timed out after 2s`,
      );
    }
    expect(await kubeLsCalls(tsh)).toHaveLength(1);
  });

  it('fails only the cluster whose rendered label value Kubernetes would reject', async () => {
    const { tsh, file } = await tshLogin('invalid');
    await tsh.setKubeClusters(TELEPORT_CLUSTER, { 'prod-eu': { region: 'eu west' }, staging: { region: 'us' } });
    const result = await sync(file, ['--label', REGION]);
    expect(result.code).toBe(1);
    expect(result.byKube['prod-eu']!.action).toBe('fail');
    expect(result.byKube['prod-eu']!.reason).toContain('label region="eu west" (rendered from "{{index .Labels "region"}}") is not a valid label value');
    expect(result.byKube['prod-eu']!.secret).toBe(nameOf('prod-eu'));
    expect(result.byKube.staging!.action).toBe('create');
    expect(secret('staging')!.metadata.labels!.region).toBe('us');
    expect(secret('prod-eu')).toBeUndefined();
  });

  it('a label-only change is an update naming the field in --diff; a label gone from Teleport is removed', async () => {
    const { tsh, file } = await tshLogin('change');
    expect((await sync(file, ['--label', REGION])).document!.summary).toMatchObject({ create: 2 });

    await tsh.setKubeClusters(TELEPORT_CLUSTER, { 'prod-eu': { region: 'north' }, staging: world.kubeLabels.staging! });
    const changed = await sync(file, ['--label', REGION, '--diff']);
    expect(changed.code, changed.stderr).toBe(0);
    expect(changed.byKube['prod-eu']).toMatchObject({ action: 'update', changes: ['metadata.labels.region: "eu" → "north"'] });
    expect(changed.byKube.staging!.action).toBe('unchanged');
    expect(secret('prod-eu')!.metadata.labels!.region).toBe('north');

    await tsh.setKubeClusters(TELEPORT_CLUSTER, { 'prod-eu': null, staging: world.kubeLabels.staging! });
    const table = await runPlugin(['sync', '--kubeconfig', file, '--label', REGION, '--diff']);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toContain(`~ secret/${nameOf('prod-eu')} (${TELEPORT_CLUSTER}/prod-eu)\n    metadata.labels.region: "north" → <none>\n`);
    expect(table.stderr).toContain('sync: 0 created, 1 updated, 1 unchanged');
    expect(secret('prod-eu')!.metadata.labels).not.toHaveProperty('region');
  });
});

describe('sync label templates without tsh', () => {
  it('renders .Labels empty for tbot and static contexts, with one warning', async () => {
    const file = await world.writeKubeconfig(path.join(dir, 'tbot', 'kubeconfig'));
    const result = await sync(file, ['--label', REGION, '--label', 'kube={{.KubeName}}', '--annotation', 'team={{.Labels.team}}']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.document!.summary).toMatchObject({ create: 2, fail: 0 });
    const [warning, ...more] = warnings(result.stderr);
    expect(more).toEqual([]);
    expect(warning).toMatch(/^warning: templates read \.Labels, which only tsh can list: it is empty for 2 context\(s\) whose credentials do not come from tsh/);
    for (const kube of ['prod-eu', 'staging']) {
      expect(warning).toContain(`${TELEPORT_CLUSTER}-${kube}`);
      expect(secret(kube)!.metadata.labels).not.toHaveProperty('region');
      expect(secret(kube)!.metadata.labels!.kube).toBe(kube);
      expect(secret(kube)!.metadata.annotations).not.toHaveProperty('team');
    }
  });

  it('rejects any other template construct as a usage error, before any request or tsh run', async () => {
    const { tsh, file } = await tshLogin('usage');
    const cases: Array<[string[], RegExp]> = [
      [['--label', 'region={{range .Labels}}x{{end}}'], /^error: invalid --label value for "region": unsupported template action \{\{range \.Labels\}\}/],
      [['--annotation', 'note={{printf "%s" .KubeName}}'], /^error: invalid --annotation value for "note": unsupported template action/],
      [['--label', 'region={{index .Labels "region"'], /^error: invalid --label value for "region": unclosed template action/],
      [['--label', 'tier=gold plated'], /^error: invalid --label value "gold plated" for "tier"/],
      [['--name-template', '{{index .Labels "region"}}'], /^error: invalid --name-template/],
    ];
    for (const [args, pattern] of cases) {
      const result = await sync(file, args);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr.split('\n').filter((line) => line.startsWith('error:'))).toEqual([expect.stringMatching(pattern)]);
    }
    expect(world.source.counts.total).toBe(0);
    expect(await tsh.invocations()).toEqual([]);
  });
});
