import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { clusterSecretName } from '../../src/argocd/cluster-secret.js';
import {
  argocdClusterAddSecret,
  mergeKubeconfigs,
  tbotClusterSecret,
  tshKubeLoginKubeconfig,
  writeFakeTsh,
} from '../world/fixtures/index.js';
import { BOT_ROLE, startSandbox, tbotKubeconfig, TELEPORT_CLUSTER, type Sandbox } from '../world/sandbox.js';
import { BINARY, isolatedEnv, runCommand, runPlugin, runThroughKubectl } from '../support/run.js';

let world: Sandbox;
let dir: string;
let kubeconfigFile: string;

const nameOf = (kube: string) => clusterSecretName('teleport.argocd-cluster', { teleportCluster: TELEPORT_CLUSTER, kubeCluster: kube });
const secrets = () => world.source.store.list('secrets', 'argocd');
const decoded = (secret: object) =>
  Object.fromEntries(Object.entries((secret as { data?: Record<string, string> }).data ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64').toString('utf8')]));

async function sync(args: string[], file = kubeconfigFile) {
  const result = await runPlugin(['sync', '--kubeconfig', file, '-o', 'json', ...args]);
  const document = result.stdout ? JSON.parse(result.stdout) : null;
  return { ...result, document };
}

beforeAll(async () => {
  world = await startSandbox();
  dir = mkdtempSync(path.join(tmpdir(), 'tpa-sync-'));
  kubeconfigFile = await world.writeKubeconfig(path.join(dir, 'kubeconfig'));
});

afterAll(async () => {
  await world?.close();
});

beforeEach(() => world.resetSource());

describe('sync with tbot kubernetes/v2 contexts', () => {
  it('creates the secrets exactly as tbot writes them, then writes nothing when nothing changed', async () => {
    const first = await sync([]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.document).toMatchObject({ apiVersion: 'teleport-argocd/v1alpha1', kind: 'SyncResult', dryRun: 'none', summary: { create: 2, update: 0, unchanged: 0, prune: 0, skip: 0, fail: 0 } });
    for (const item of first.document.items) {
      expect(Object.keys(item).sort()).toEqual(['action', 'changes', 'context', 'kubeCluster', 'reason', 'secret', 'server', 'teleportCluster']);
    }
    expect(world.source.counts.get('list secrets')).toBe(1);
    expect(world.source.counts.get('create secrets')).toBe(2);

    for (const kube of ['prod-eu', 'staging']) {
      const written = world.source.store.get('secrets', 'argocd', nameOf(kube))!;
      // The independent fixture of tbot's renderer: data must be byte-identical.
      const tbot = tbotClusterSecret({
        teleportCluster: TELEPORT_CLUSTER,
        kubeCluster: kube,
        proxyAddr: world.proxy.addr,
        caPem: world.proxy.hostCA.certPem,
        certPem: world.botIdentity.certPem,
        keyPem: world.botIdentity.keyPem,
        botName: 'argocd',
      });
      expect(written.data).toEqual(tbot.data);
      expect(written.type).toBe('Opaque');
      expect(written.metadata.labels).toEqual({ 'argocd.argoproj.io/secret-type': 'cluster', 'app.kubernetes.io/managed-by': 'kubectl-teleport-argocd' });
      const annotations = written.metadata.annotations!;
      expect(annotations['teleport.dev/bot-name']).toBe('argocd');
      expect(annotations['teleport.dev/teleport-cluster-name']).toBe(TELEPORT_CLUSTER);
      expect(annotations['teleport.dev/kubernetes-cluster-name']).toBe(kube);
      expect(annotations['teleport.dev/updated']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(annotations['teleport.dev/tbot-version']).toBeUndefined();
    }

    world.source.counts.reset();
    const second = await sync([]);
    expect(second.code).toBe(0);
    expect(second.document.summary).toMatchObject({ create: 0, update: 0, unchanged: 2 });
    expect(world.source.counts.filter((r) => r.resourceRequest).map((r) => r.key)).toEqual(['list secrets']);
  });

  it('registers secrets that work: the stored server, SNI, CA and certificate reach the right cluster through the proxy', async () => {
    expect((await sync([])).code).toBe(0);
    for (const kube of ['prod-eu', 'staging']) {
      const data = decoded(world.source.store.get('secrets', 'argocd', nameOf(kube))!);
      const tls = JSON.parse(data.config!).tlsClientConfig;
      const config = [
        'apiVersion: v1',
        'kind: Config',
        'clusters: [{name: c, cluster: {server: "' + data.server + '", certificate-authority-data: ' + tls.caData + ', tls-server-name: ' + tls.serverName + '}}]',
        'users: [{name: u, user: {client-certificate-data: ' + tls.certData + ', client-key-data: ' + tls.keyData + '}}]',
        'contexts: [{name: c, context: {cluster: c, user: u}}]',
        'current-context: c',
      ].join('\n');
      const file = path.join(dir, `from-secret-${kube}`);
      writeFileSync(file, config, { mode: 0o600 });
      const env = isolatedEnv({ KUBECONFIG: file });
      const result = await runCommand('kubectl', ['get', 'configmap', 'cluster-info', '-n', 'apps', '-o', 'jsonpath={.data.cluster}'], { env });
      expect(result.stderr).toBe('');
      expect(result.stdout).toBe(kube);
    }
  });

  it('updates only what changed when a certificate is renewed, keeping what Argo CD added', async () => {
    expect((await sync([])).code).toBe(0);
    const before = world.source.store.get('secrets', 'argocd', nameOf('prod-eu'))!;
    before.metadata.labels!['argocd.argoproj.io/kubernetes-version'] = '1.32';
    before.metadata.annotations!['argocd.argoproj.io/refresh'] = '2026-01-01T00:00:00Z';
    const liveVersion = world.source.store.put(before).metadata.resourceVersion;
    const renewed = await world.proxy.issueIdentity({ user: 'bot-argocd', roles: [BOT_ROLE], botName: 'argocd', kubernetesGroups: ['editor'] });
    const file = await world.writeKubeconfig(
      path.join(dir, 'renewed'),
      mergeKubeconfigs(
        world.sourceKubeconfig,
        tbotKubeconfig(world.proxy, ['prod-eu'], renewed),
      ),
    );
    world.source.counts.reset();
    const result = await sync(['--diff'], file);
    expect(result.code).toBe(0);
    expect(result.document.summary).toMatchObject({ update: 1, create: 0, unchanged: 0 });
    const [item] = result.document.items;
    expect(item.secret).toBe(nameOf('prod-eu'));
    expect(item.changes.some((change: string) => change.startsWith('data.config.tlsClientConfig.certData: sha256:'))).toBe(true);
    expect(JSON.stringify(result.document)).not.toContain(Buffer.from(renewed.certPem).toString('base64'));
    expect(world.source.counts.get('update secrets')).toBe(1);
    const update = world.source.counts.filter({ verb: 'update', resource: 'secrets' })[0]!;
    expect(JSON.parse(update.body!.toString()).metadata.resourceVersion).toBe(liveVersion);
    const after = world.source.store.get('secrets', 'argocd', nameOf('prod-eu'))!;
    expect(after.metadata.labels!['argocd.argoproj.io/kubernetes-version']).toBe('1.32');
    expect(after.metadata.annotations!['argocd.argoproj.io/refresh']).toBe('2026-01-01T00:00:00Z');
    expect(JSON.parse(decoded(after).config!).tlsClientConfig.certData).toBe(Buffer.from(renewed.certPem).toString('base64'));
    // staging was not in this kubeconfig and is left as it was (no prune asked).
    expect(world.source.store.get('secrets', 'argocd', nameOf('staging'))).toBeDefined();
  });

  it('leaves secrets written by tbot and by argocd cluster add alone, and takes over only when asked', async () => {
    const tbot = tbotClusterSecret({ teleportCluster: TELEPORT_CLUSTER, kubeCluster: 'prod-eu', proxyAddr: world.proxy.addr, caPem: 'old-ca', certPem: 'old', keyPem: 'old', botName: 'argocd', extraLabels: { team: 'a' } });
    const argocd = argocdClusterAddSecret({ server: world.proxy.kubeServerUrl('staging'), name: 'staging', bearerToken: 'token-value' });
    world.source.store.seed([tbot as never, argocd as never]);
    const result = await sync([]);
    expect(result.code).toBe(0);
    const byCluster = Object.fromEntries(result.document.items.map((item: { kubeCluster: string }) => [item.kubeCluster, item]));
    expect(byCluster['prod-eu']).toMatchObject({ action: 'skip' });
    expect(byCluster['prod-eu'].reason).toContain('tbot');
    expect(byCluster.staging).toMatchObject({ action: 'skip' });
    expect(byCluster.staging.reason).toContain('duplicate server');
    expect(world.source.counts.filter((r) => r.verb === 'create' || r.verb === 'update')).toEqual([]);

    const takeOver = await sync(['--take-over', 'prod-eu']);
    expect(takeOver.code).toBe(0);
    expect(takeOver.document.items).toHaveLength(1);
    expect(takeOver.document.items[0]).toMatchObject({ action: 'update', kubeCluster: 'prod-eu' });
    const taken = world.source.store.get('secrets', 'argocd', nameOf('prod-eu'))!;
    expect(taken.metadata.labels).toMatchObject({ team: 'a', 'app.kubernetes.io/managed-by': 'kubectl-teleport-argocd' });
    expect(taken.metadata.annotations!['teleport.dev/tbot-version']).toBeUndefined();
    expect(world.source.store.get('secrets', 'argocd', argocd.metadata.name)).toBeDefined();
  });

  it('prunes only its own secrets, and refuses to prune from an empty kubeconfig', async () => {
    expect((await sync([])).code).toBe(0);
    const gone = structuredClone(world.source.store.get('secrets', 'argocd', nameOf('staging'))!) as { metadata: Record<string, any>; data: Record<string, string> };
    gone.metadata = { ...gone.metadata, name: clusterSecretName('teleport.argocd-cluster', { teleportCluster: TELEPORT_CLUSTER, kubeCluster: 'retired' }), annotations: { ...gone.metadata.annotations, 'teleport.dev/kubernetes-cluster-name': 'retired' } };
    delete gone.metadata.resourceVersion;
    delete gone.metadata.uid;
    gone.data = { ...gone.data, server: Buffer.from(world.proxy.kubeServerUrl('retired')).toString('base64') };
    const tbot = tbotClusterSecret({ teleportCluster: TELEPORT_CLUSTER, kubeCluster: 'tbot-only', proxyAddr: world.proxy.addr, caPem: 'x', certPem: 'x', keyPem: 'x' });
    world.source.store.seed([gone as never, tbot as never]);

    const empty = path.join(dir, 'empty-kubeconfig');
    await world.writeKubeconfig(empty, world.sourceKubeconfig);
    const refused = await runPlugin(['sync', '--kubeconfig', empty, '--prune']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^error: refusing to prune/m);
    expect(secrets()).toHaveLength(4);

    const dryRun = await sync(['--prune', '--dry-run=server']);
    expect(dryRun.code).toBe(0);
    expect(dryRun.document.summary.prune).toBe(1);
    expect(secrets()).toHaveLength(4);
    expect(world.source.counts.filter({ verb: 'delete' }).every((r) => r.query.get('dryRun') === 'All')).toBe(true);

    const pruned = await sync(['--prune']);
    expect(pruned.code).toBe(0);
    expect(pruned.document.items.filter((item: { action: string }) => item.action === 'prune').map((item: { secret: string }) => item.secret)).toEqual([gone.metadata.name]);
    expect(secrets().map((secret) => secret.metadata.name).sort()).toEqual([nameOf('prod-eu'), nameOf('staging'), tbot.metadata.name].sort());
  });

  it('writes nothing with --dry-run=server or client', async () => {
    const server = await sync(['--dry-run=server']);
    expect(server.code).toBe(0);
    expect(server.document).toMatchObject({ dryRun: 'server', summary: { create: 2 } });
    expect(world.source.counts.filter({ verb: 'create' }).map((r) => r.query.get('dryRun'))).toEqual(['All', 'All']);
    const client = await sync(['--dry-run=client']);
    expect(client.document).toMatchObject({ dryRun: 'client', summary: { create: 2 } });
    expect(world.source.counts.get('create secrets')).toBe(2);
    expect(secrets()).toEqual([]);
    expect(server.stderr).toContain('(server dry run)');
  });

  it('retries a conflicting update and throttling, and still converges', async () => {
    expect((await sync([])).code).toBe(0);
    const renewed = await world.proxy.issueIdentity({ user: 'bot-argocd', roles: [BOT_ROLE], botName: 'argocd', kubernetesGroups: ['editor'] });
    const file = await world.writeKubeconfig(path.join(dir, 'renewed-all'), mergeKubeconfigs(
      world.sourceKubeconfig,
      tbotKubeconfig(world.proxy, ['prod-eu', 'staging'], renewed),
    ));
    world.source.counts.reset();
    world.source.faults.conflict({ name: nameOf('prod-eu') }, 1);
    world.source.faults.tooManyRequests({ verb: 'update', name: nameOf('staging') }, { times: 1, retryAfterSeconds: 1 });
    const result = await sync([], file);
    expect(result.code, result.stderr).toBe(0);
    expect(result.document.summary).toMatchObject({ update: 2, fail: 0 });
    expect(world.source.counts.filter({ verb: 'update', name: nameOf('prod-eu') }).map((r) => r.status)).toEqual([409, 200]);
    expect(world.source.counts.filter({ verb: 'get', name: nameOf('prod-eu') })).toHaveLength(1);
    expect(world.source.counts.filter({ verb: 'update', name: nameOf('staging') }).map((r) => r.status)).toEqual([429, 200]);
    for (const kube of ['prod-eu', 'staging']) {
      expect(JSON.parse(decoded(world.source.store.get('secrets', 'argocd', nameOf(kube))!).config!).tlsClientConfig.certData).toBe(Buffer.from(renewed.certPem).toString('base64'));
    }
  });

  it('shows a progress line on a terminal only', async () => {
    // `script` gives the binary a pseudo-terminal, as an interactive shell would.
    const command = `${BINARY} sync --kubeconfig ${kubeconfigFile} --dry-run=server`;
    const tty = await runCommand('script', ['-qec', command, '/dev/null'], { env: isolatedEnv() });
    expect(tty.code).toBe(0);
    expect(tty.stdout).toMatch(/\r\x1b\[2Ksync: 1\/2 written/);
    expect(tty.stdout).toMatch(/\r\x1b\[2Ksync: 2\/2 written/);
    const piped = await sync(['--dry-run=server']);
    expect(piped.stderr).not.toContain('written');
  });

  it('runs through the real kubectl as a plugin', async () => {
    const result = await runThroughKubectl(['sync', '--kubeconfig', kubeconfigFile]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.split('\n')[0]).toMatch(/^ACTION\s{3,}SECRET\s{3,}CLUSTER\s{3,}SERVER\s{3,}DETAIL$/);
    expect(result.stdout).toContain(`create   ${nameOf('prod-eu')}`);
    expect(result.stderr).toContain('sync: 2 created, 0 updated, 0 unchanged, 0 pruned, 0 skipped, 0 failed');
    expect(secrets()).toHaveLength(2);
  });
});

describe('sync with tsh kube login contexts', () => {
  it('runs tsh for each cluster, keeps going when one fails, and exits 1', async () => {
    const tshDir = mkdtempSync(path.join(tmpdir(), 'tpa-tsh-'));
    const identity = await world.proxy.issueIdentity({ user: 'alice', roles: [BOT_ROLE], kubernetesGroups: ['editor'] });
    const tsh = await writeFakeTsh(tshDir, { credentials: { 'prod-eu': identity } });
    const config = mergeKubeconfigs(
      world.sourceKubeconfig,
      tshKubeLoginKubeconfig({ teleportCluster: TELEPORT_CLUSTER, proxyAddr: world.proxy.addr, kubeClusters: ['prod-eu', 'staging'], caPem: world.proxy.hostCA.certPem, tshPath: tsh.path }),
    );
    config['current-context'] = 'source';
    const file = await world.writeKubeconfig(path.join(dir, 'tsh-kubeconfig'), config);
    const result = await sync([], file);
    expect(result.code).toBe(1);
    const byCluster = Object.fromEntries(result.document.items.map((item: { kubeCluster: string }) => [item.kubeCluster, item]));
    expect(byCluster['prod-eu'].action).toBe('create');
    expect(byCluster.staging.action).toBe('fail');
    expect(byCluster.staging.reason).toContain('exec plugin "tsh kube credentials');
    expect(result.stderr).toMatch(/error: .*staging/);
    const written = decoded(world.source.store.get('secrets', 'argocd', nameOf('prod-eu'))!);
    expect(written.server).toBe(world.proxy.kubeServerUrl('prod-eu'));
    expect(world.source.store.get('secrets', 'argocd', nameOf('staging'))).toBeUndefined();
  });
});
