// The local sandbox: a source cluster running "Argo CD" (namespace, argocd-cm, argocd-cmd-params-cm, tbot
// service account), two Teleport-enrolled target clusters behind the Teleport proxy
// stand-in, and a kubeconfig holding the source context plus tbot `kubernetes/v2`
// contexts for the targets. Used by end-to-end tests, benchmarks and `npm run sandbox`.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { FakeKubeCluster } from './apiserver/index.js';
import { argocdCm, argocdCmdParamsCm, FakeTbot, mergeKubeconfigs, tbotKubernetesV2Kubeconfig, tshKubeLoginKubeconfig, writeFakeTsh, writeKubeconfig, type FakeTsh, type Kubeconfig } from './fixtures/index.js';
import type { PemPair } from './pki.js';
import { startTeleportProxy, type TeleportProxy } from './teleport-proxy/index.js';

export const TELEPORT_CLUSTER = 'example.teleport.sh';
export const BOT = 'argocd';
export const BOT_ROLE = 'argocd-kube-access';

/** Regions of the sandbox's kube clusters: Teleport labels that ApplicationSets select by. */
const REGIONS: Record<string, string> = { 'prod-eu': 'eu', staging: 'us' };

function teleportLabels(kubeCluster: string): Record<string, string> {
  const region = REGIONS[kubeCluster];
  return region ? { env: kubeCluster, region } : { env: kubeCluster };
}

export interface SandboxOptions {
  /** Kube clusters behind the proxy (default: prod-eu and staging). */
  targets?: string[];
  /** kubernetes_users / kubernetes_groups of the bot's role. */
  role?: { kubernetesUsers?: string[]; kubernetesGroups?: string[] };
}

export interface Sandbox {
  source: FakeKubeCluster;
  targets: Record<string, FakeKubeCluster>;
  proxy: TeleportProxy;
  botIdentity: PemPair;
  /** Teleport labels of each target kube cluster (`env`, and `region` for prod-eu and staging). */
  kubeLabels: Record<string, Record<string, string>>;
  /**
   * `tsh kube login --all` as `identity`: a fake tsh in `dir` (credentials for every target,
   * `tsh kube ls` listing their labels) and the source context merged with its contexts.
   */
  tshLogin(dir: string, identity: PemPair): Promise<{ tsh: FakeTsh; kubeconfig: Kubeconfig }>;
  /** The source context (admin) merged with tbot kubernetes/v2 contexts for every target. */
  kubeconfig: Kubeconfig;
  /** The source context alone: merge other Teleport contexts into it. */
  sourceKubeconfig: Kubeconfig;
  sourceContext: string;
  writeKubeconfig(file: string, config?: Kubeconfig): Promise<string>;
  /** Between tests: no cluster secrets in argocd, no Applications, no faults, request counts at zero. */
  resetSource(): void;
  close(): Promise<void>;
}

/** The source context alone, as the kubeconfig fixtures type it. */
function sourceKubeconfig(source: FakeKubeCluster): Kubeconfig {
  const ca = Buffer.from(source.ca.certPem).toString('base64');
  return {
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': 'source',
    clusters: [{ name: 'source', cluster: { server: source.url, 'certificate-authority-data': ca } }],
    users: [
      {
        name: 'source-admin',
        user: {
          'client-certificate-data': Buffer.from(source.admin.certPem).toString('base64'),
          'client-key-data': Buffer.from(source.admin.keyPem).toString('base64'),
        },
      },
    ],
    contexts: [{ name: 'source', context: { cluster: 'source', user: 'source-admin', namespace: 'argocd' } }],
  };
}

/** The tbot kubernetes/v2 output for `kubeClusters`: static credentials, or tbot's exec plugin. */
export function tbotKubeconfig(proxy: TeleportProxy, kubeClusters: string[], credentials: PemPair | FakeTbot): Kubeconfig {
  return tbotKubernetesV2Kubeconfig({
    teleportCluster: TELEPORT_CLUSTER,
    proxyAddr: proxy.addr,
    kubeClusters,
    caPem: proxy.hostCA.certPem,
    credentials:
      credentials instanceof FakeTbot
        ? { kind: 'exec', tbotPath: credentials.path, destinationDir: credentials.destinationDir }
        : { kind: 'static', credentials },
  });
}

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const names = options.targets ?? ['prod-eu', 'staging'];
  const source = await FakeKubeCluster.start({ name: 'source', namespaces: ['argocd'] });
  source.store.seed([
    argocdCm() as never,
    argocdCmdParamsCm() as never,
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'tbot', namespace: 'argocd' } },
  ]);
  const targets: Record<string, FakeKubeCluster> = {};
  for (const name of names) {
    const target = await FakeKubeCluster.start({ name, namespaces: ['apps'] });
    // The guide's step 1: the bot's group may edit the target cluster.
    target.store.put({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'teleport-editor-edit' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'editor' }],
    } as never);
    target.store.put({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cluster-info', namespace: 'apps' }, data: { cluster: name } } as never);
    targets[name] = target;
  }
  const proxy = await startTeleportProxy({
    clusterName: TELEPORT_CLUSTER,
    kubeClusters: Object.fromEntries(
      Object.entries(targets).map(([name, target]) => [
        name,
        { upstream: { url: target.url, caPem: target.caPem, clientCertPem: target.admin.certPem, clientKeyPem: target.admin.keyPem }, labels: teleportLabels(name) },
      ]),
    ),
    roles: {
      [BOT_ROLE]: {
        kubernetesUsers: options.role?.kubernetesUsers,
        kubernetesGroups: options.role?.kubernetesGroups ?? ['editor'],
        kubernetesLabels: { '*': '*' },
      },
    },
  });
  const botIdentity = await proxy.issueIdentity({ user: `bot-${BOT}`, roles: [BOT_ROLE], botName: BOT, kubernetesGroups: options.role?.kubernetesGroups ?? ['editor'], kubernetesUsers: options.role?.kubernetesUsers });
  const sourceOnly = sourceKubeconfig(source);
  const kubeconfig = mergeKubeconfigs(sourceOnly, tbotKubeconfig(proxy, names, botIdentity));
  kubeconfig['current-context'] = 'source';
  const kubeLabels = Object.fromEntries(names.map((name) => [name, teleportLabels(name)]));
  return {
    source,
    targets,
    proxy,
    botIdentity,
    kubeLabels,
    async tshLogin(dir, identity) {
      const tsh = await writeFakeTsh(dir, {
        credentials: Object.fromEntries(names.map((name) => [name, identity])),
        kubeClusters: { [TELEPORT_CLUSTER]: kubeLabels },
      });
      const login = tshKubeLoginKubeconfig({ teleportCluster: TELEPORT_CLUSTER, proxyAddr: proxy.addr, kubeClusters: names, caPem: proxy.hostCA.certPem, tshPath: tsh.path });
      const merged = mergeKubeconfigs(sourceOnly, login);
      merged['current-context'] = 'source';
      return { tsh, kubeconfig: merged };
    },
    kubeconfig,
    sourceKubeconfig: sourceOnly,
    sourceContext: 'source',
    async writeKubeconfig(file, config = kubeconfig) {
      await mkdir(path.dirname(file), { recursive: true });
      return writeKubeconfig(file, config);
    },
    resetSource() {
      for (const secret of source.store.list('secrets', 'argocd')) source.store.delete('secrets', 'argocd', secret.metadata.name!);
      for (const app of source.store.list('applications')) source.store.delete('applications', app.metadata.namespace, app.metadata.name!);
      source.faults.clear();
      source.counts.reset();
    },
    async close() {
      await proxy.close();
      await Promise.all([source, ...Object.values(targets)].map((cluster) => cluster.close()));
    },
  };
}
