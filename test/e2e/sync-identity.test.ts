// `sync` agrees with Teleport on whose cluster a context is (product.md §3 rule 3, §7),
// through the real kubectl: leaf routes take RouteToCluster, tbot's v1 `kubernetes` output
// is named by the certificate its exec plugin returns (run once), and failed items still
// name the registration they concern.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runThroughKubectl } from '../support/run.js';
import { mergeKubeconfigs, tbotKubernetesV1Kubeconfig, tbotSecretName, tshKubeLoginKubeconfig, writeFakeTbot, writeFakeTsh, type Kubeconfig } from '../world/fixtures/index.js';
import { BOT_ROLE, startSandbox, TELEPORT_CLUSTER, type Sandbox } from '../world/sandbox.js';

const LEAF = 'leaf.example.com';

let world: Sandbox;
let dir: string;

interface SyncItem {
  action: string;
  secret: string | null;
  context: string;
  teleportCluster: string | null;
  kubeCluster: string | null;
  server: string | null;
  reason: string | null;
}

/** Writes `config` next to the source context and runs `kubectl teleport-argocd <args>` on it. */
async function kubectlPlugin(name: string, config: Kubeconfig, args: string[]) {
  const merged = mergeKubeconfigs(world.sourceKubeconfig, config);
  merged['current-context'] = world.sourceContext;
  const file = await world.writeKubeconfig(path.join(dir, name), merged);
  return runThroughKubectl([...args, '--kubeconfig', file]);
}

async function syncJson(name: string, config: Kubeconfig) {
  const result = await kubectlPlugin(name, config, ['sync', '-o', 'json']);
  return { ...result, items: JSON.parse(result.stdout).items as SyncItem[] };
}

beforeAll(async () => {
  world = await startSandbox();
  dir = mkdtempSync(path.join(tmpdir(), 'tpa-sync-identity-'));
  // A kube cluster enrolled in a leaf cluster the proxy's root trusts.
  const target = world.targets.staging!;
  world.proxy.setKubeCluster('leaf-kube', {
    upstream: { url: target.url, caPem: target.caPem, clientCertPem: target.admin.certPem, clientKeyPem: target.admin.keyPem },
    labels: { env: 'leaf' },
    teleportCluster: LEAF,
  });
});

afterAll(async () => {
  await world?.close();
});

beforeEach(() => world.resetSource());

describe('sync names clusters as Teleport does', () => {
  it('registers a leaf-routed certificate under the leaf, and the secret reaches the cluster', async () => {
    // Issued by the root's user CA (issuer CN and OID 1.3.9999.1.7: the root), routed to the leaf.
    const leafRouted = await world.proxy.issueIdentity({ user: 'bot-argocd', roles: [BOT_ROLE], botName: 'argocd', kubernetesGroups: ['editor'], kubernetesCluster: 'leaf-kube', routeToCluster: LEAF });
    // Only the certificate names this context: tbot's v1 output shape, static.
    const config = tbotKubernetesV1Kubeconfig({ teleportCluster: LEAF, proxyAddr: world.proxy.addr, kubeCluster: 'leaf-kube', caPem: world.proxy.hostCA.certPem, credentials: { kind: 'static', credentials: leafRouted } });
    const sync = await syncJson('leaf', config);
    expect(sync.code, sync.stderr).toBe(0);
    expect(sync.items).toEqual([
      expect.objectContaining({ action: 'create', secret: tbotSecretName(LEAF, 'leaf-kube'), teleportCluster: LEAF, kubeCluster: 'leaf-kube', server: world.proxy.kubeServerUrl('leaf-kube', LEAF) }),
    ]);

    const list = await kubectlPlugin('leaf', config, ['list', '--probe', '-o', 'json']);
    expect(list.code, list.stderr).toBe(0);
    const [row] = JSON.parse(list.stdout).items;
    expect(row.teleportCluster).toBe(LEAF);
    expect(row.credentials.certificate.teleport.teleportCluster).toBe(LEAF);
    // The proxy refuses a path that contradicts the certificate's route: reachable proves the name.
    expect(row.probe).toMatchObject({ reachable: true, error: null });
  });

  it("names tbot's v1 output from the certificate its exec plugin returns, running tbot once", async () => {
    const v1Identity = await world.proxy.issueIdentity({ user: 'bot-argocd', roles: [BOT_ROLE], botName: 'argocd', kubernetesGroups: ['editor'], kubernetesCluster: 'prod-eu', routeToCluster: TELEPORT_CLUSTER });
    const tbot = await writeFakeTbot(mkdtempSync(path.join(tmpdir(), 'tpa-tbot-v1-')), { credentials: v1Identity });
    const config = tbotKubernetesV1Kubeconfig({ teleportCluster: TELEPORT_CLUSTER, proxyAddr: world.proxy.addr, kubeCluster: 'prod-eu', caPem: world.proxy.hostCA.certPem, credentials: { kind: 'exec', tbotPath: tbot.path, destinationDir: tbot.destinationDir } });
    const sync = await syncJson('tbot-v1', config);
    expect(sync.code, sync.stderr).toBe(0);
    expect(sync.items).toEqual([
      expect.objectContaining({ action: 'create', secret: tbotSecretName(TELEPORT_CLUSTER, 'prod-eu'), context: `${TELEPORT_CLUSTER}-prod-eu`, server: world.proxy.kubeServerUrl('prod-eu') }),
    ]);
    expect((await tbot.invocations()).map((invocation) => invocation.args)).toEqual([['kube', 'credentials', `--destination-dir=${tbot.destinationDir}`]]);

    const list = await kubectlPlugin('tbot-v1', config, ['list', '--probe', '-o', 'json']);
    expect(JSON.parse(list.stdout).items[0].probe).toMatchObject({ reachable: true });
  });

  it('names the secret and server of a cluster whose credentials fail, and null only for an unidentified one', async () => {
    // tsh is logged in, but not to a cluster named staging.
    const tsh = await writeFakeTsh(mkdtempSync(path.join(tmpdir(), 'tpa-tsh-')));
    const tbot = await writeFakeTbot(mkdtempSync(path.join(tmpdir(), 'tpa-tbot-broken-')), { config: { mode: 'fail', stderr: 'ERROR: identity expired' } });
    const config = mergeKubeconfigs(
      tshKubeLoginKubeconfig({ teleportCluster: TELEPORT_CLUSTER, proxyAddr: world.proxy.addr, kubeClusters: ['staging'], caPem: world.proxy.hostCA.certPem, tshPath: tsh.path }),
      tbotKubernetesV1Kubeconfig({ teleportCluster: TELEPORT_CLUSTER, proxyAddr: world.proxy.addr, kubeCluster: 'prod-eu', caPem: world.proxy.hostCA.certPem, credentials: { kind: 'exec', tbotPath: tbot.path, destinationDir: tbot.destinationDir } }),
    );
    const sync = await syncJson('failing', config);
    expect(sync.code).toBe(1);
    const byContext = Object.fromEntries(sync.items.map((item) => [item.context, item]));
    expect(byContext[`${TELEPORT_CLUSTER}-staging`]).toMatchObject({ action: 'fail', secret: tbotSecretName(TELEPORT_CLUSTER, 'staging'), server: world.proxy.kubeServerUrl('staging') });
    expect(byContext[`${TELEPORT_CLUSTER}-staging`]!.reason).toContain('ERROR: kubernetes cluster "staging" not found');
    // tbot failed before its certificate could say which cluster it is.
    expect(byContext[`${TELEPORT_CLUSTER}-prod-eu`]).toMatchObject({ action: 'fail', secret: null, server: null, teleportCluster: null });
    expect(byContext[`${TELEPORT_CLUSTER}-prod-eu`]!.reason).toContain('ERROR: identity expired');

    const table = await kubectlPlugin('failing', config, ['sync']);
    expect(table.code).toBe(1);
    const rows = table.stdout.trimEnd().split('\n').slice(1).map((line) => line.split(/\s{3,}/));
    expect(rows.map((row) => row.slice(0, 4))).toEqual([
      ['fail', tbotSecretName(TELEPORT_CLUSTER, 'staging'), `${TELEPORT_CLUSTER}/staging`, world.proxy.kubeServerUrl('staging')],
      ['fail', '<none>', `${TELEPORT_CLUSTER}-prod-eu`, '<none>'],
    ]);
    expect(world.source.store.list('secrets', 'argocd')).toEqual([]);
  });
});
