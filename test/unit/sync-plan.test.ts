import { describe, expect, it } from 'vitest';
import { renderClusterSecret, type SecretObject } from '../../src/argocd/cluster-secret.js';
import { describeChanges, fingerprint, mergeForUpdate, planSync, type DesiredCluster } from '../../src/sync/plan.js';
import { routedServerUrl, type KubeRoute } from '../../src/teleport/routing.js';

const PROXY = 'https://teleport.example.com:443';
const route = (kubeCluster: string): KubeRoute => ({ teleportCluster: 'example.com', kubeCluster });

function desired(kube: string, cert = 'CERT-1'): Extract<DesiredCluster, { secret: SecretObject }> {
  const secret = renderClusterSecret({
    namespace: 'argocd',
    prefix: 'teleport.argocd-cluster',
    nameTemplate: '{{.ClusterName}}-{{.KubeName}}',
    route: route(kube),
    proxyBase: PROXY,
    credentials: { caPem: 'CA', certPem: cert, keyPem: `KEY-${cert}`, serverName: 'kube-teleport-proxy-alpn.teleport.example.com' },
    botName: 'argocd',
    updated: new Date(),
  });
  return { contextName: `example.com-${kube}`, route: route(kube), server: routedServerUrl(PROXY, route(kube)), secret };
}

function live(secret: SecretObject, extra: { labels?: Record<string, string>; annotations?: Record<string, string>; resourceVersion?: string } = {}): SecretObject {
  return {
    ...secret,
    metadata: {
      ...secret.metadata,
      labels: { ...secret.metadata.labels, ...extra.labels },
      annotations: { ...secret.metadata.annotations, 'teleport.dev/updated': '2020-01-01T00:00:00Z', ...extra.annotations },
      resourceVersion: extra.resourceVersion ?? '7',
    },
  };
}

const options = { prefix: 'teleport.argocd-cluster', takeOver: false, prune: false, prunable: () => true };

describe('planSync', () => {
  it('creates what is missing and leaves equal secrets unchanged (the timestamp alone is no change)', () => {
    const a = desired('a');
    const b = desired('b');
    const plan = planSync([a, b], [live(b.secret)], options);
    expect(plan.map((item) => [item.secretName, item.action])).toEqual([
      [a.secret.metadata.name, 'create'],
      [b.secret.metadata.name, 'unchanged'],
    ]);
    expect(plan[0]!.object).toBe(a.secret);
    expect(plan[1]!.object).toBeNull();
  });

  it('updates a renewed certificate, keeping foreign labels/annotations and the resourceVersion', () => {
    const old = live(desired('a', 'CERT-1').secret, { labels: { 'argocd.argoproj.io/kubernetes-version': '1.30' }, annotations: { 'argocd.argoproj.io/refresh': 'x' }, resourceVersion: '42' });
    const [item] = planSync([desired('a', 'CERT-2')], [old], options);
    expect(item!.action).toBe('update');
    expect(item!.object!.metadata.resourceVersion).toBe('42');
    expect(item!.object!.metadata.labels!['argocd.argoproj.io/kubernetes-version']).toBe('1.30');
    expect(item!.object!.metadata.annotations!['argocd.argoproj.io/refresh']).toBe('x');
    expect(item!.changes).toEqual([
      `data.config.tlsClientConfig.certData: ${fingerprint(Buffer.from('CERT-1').toString('base64'))} → ${fingerprint(Buffer.from('CERT-2').toString('base64'))}`,
      `data.config.tlsClientConfig.keyData: ${fingerprint(Buffer.from('KEY-CERT-1').toString('base64'))} → ${fingerprint(Buffer.from('KEY-CERT-2').toString('base64'))}`,
    ]);
    expect(item!.changes!.join('\n')).not.toContain('CERT-2');
  });

  it('skips secrets written by tbot, Argo CD or by hand unless taking over', () => {
    const tbotSecret = live(desired('a').secret, { annotations: { 'teleport.dev/tbot-version': '18.2.0' } });
    delete tbotSecret.metadata.labels!['app.kubernetes.io/managed-by'];
    const [skipped] = planSync([desired('a')], [tbotSecret], options);
    expect(skipped!.action).toBe('skip');
    expect(skipped!.reason).toContain('tbot');
    const [taken] = planSync([desired('a')], [tbotSecret], { ...options, takeOver: true });
    expect(taken!.action).toBe('update');
    expect(taken!.object!.metadata.annotations!['teleport.dev/tbot-version']).toBeUndefined();
    expect(taken!.object!.metadata.labels!['app.kubernetes.io/managed-by']).toBe('kubectl-teleport-argocd');
  });

  it('removes Argo CD’s managed-by mark when taking over, keeps other foreign marks', () => {
    const argo = live(desired('a').secret, { annotations: { 'managed-by': 'argocd.argoproj.io', keep: 'me' } });
    delete argo.metadata.labels!['app.kubernetes.io/managed-by'];
    const merged = mergeForUpdate(argo, desired('a').secret);
    expect(merged.metadata.annotations!['managed-by']).toBeUndefined();
    expect(merged.metadata.annotations!.keep).toBe('me');
  });

  it('removes flag keys whose templates rendered empty, and only those', () => {
    const before = live(desired('a').secret, { labels: { region: 'eu', argo: 'keep' }, annotations: { owner: 'team-a', other: 'keep' } });
    const now = { ...desired('a'), omitted: { labels: ['region'], annotations: ['owner'] } };
    const [item] = planSync([now], [before], options);
    expect(item!.action).toBe('update');
    expect(item!.changes).toEqual(['metadata.labels.region: "eu" → <none>', 'metadata.annotations.owner: "team-a" → <none>']);
    expect(item!.object!.metadata.labels).not.toHaveProperty('region');
    expect(item!.object!.metadata.labels!.argo).toBe('keep');
    expect(item!.object!.metadata.annotations).not.toHaveProperty('owner');
    expect(item!.object!.metadata.annotations!.other).toBe('keep');
  });

  it('skips a cluster whose server another secret already registers', () => {
    const a = desired('a');
    const other: SecretObject = { metadata: { name: 'cluster-teleport.example.com-1', labels: {} }, data: { server: Buffer.from(`${a.server}/`).toString('base64') } };
    const [item] = planSync([a], [other], options);
    expect(item!.action).toBe('skip');
    expect(item!.reason).toContain('duplicate server');
  });

  it('prunes only our own secrets with the prefix that are no longer wanted', () => {
    const keep = desired('a');
    const gone = live(desired('gone').secret);
    const foreign = live(desired('foreign').secret);
    delete foreign.metadata.labels!['app.kubernetes.io/managed-by'];
    const otherPrefix = live({ ...desired('x').secret, metadata: { ...desired('x').secret.metadata, name: 'other.0011223344556677' } });
    const plan = planSync([keep], [live(keep.secret), gone, foreign, otherPrefix], { ...options, prune: true });
    expect(plan.filter((item) => item.action === 'prune').map((item) => item.secretName)).toEqual([gone.metadata.name]);
  });

  it('never prunes the secret of a context that failed this round', () => {
    const broken: DesiredCluster = { contextName: 'example.com-a', route: route('a'), server: null, error: 'exec plugin failed' };
    const plan = planSync([broken], [live(desired('a').secret)], { ...options, prune: true });
    expect(plan.map((item) => item.action)).toEqual(['fail']);
  });

  it('names the secret and server of a failed cluster whose route is known, and only then', () => {
    // teleport.md §1.3 test vector: root + kube-cluster-1 → teleport.argocd-cluster.10dae90fc5854d7b.
    const known = { teleportCluster: 'root', kubeCluster: 'kube-cluster-1' };
    const server = routedServerUrl(PROXY, known);
    const broken: DesiredCluster = { contextName: 'root-kube-cluster-1', route: known, server, error: 'exec plugin failed' };
    const unknown: DesiredCluster = { contextName: 'weird', route: null, server: null, error: 'exec plugin failed before the names were known' };
    const plan = planSync([broken, unknown], [], options);
    expect(plan.map((item) => [item.action, item.secretName, item.server])).toEqual([
      ['fail', 'teleport.argocd-cluster.10dae90fc5854d7b', server],
      ['fail', null, null],
    ]);
  });

  it('names the context that registers a cluster, not one that failed for it', () => {
    const broken: DesiredCluster = { contextName: 'broken', route: route('a'), server: desired('a').server, error: 'exec plugin failed' };
    const plan = planSync([broken, desired('a'), { ...desired('a'), contextName: 'third' }], [], options);
    expect(plan.map((item) => item.action)).toEqual(['fail', 'create', 'skip']);
    expect(plan[2]!.reason).toBe(`same cluster as context "${desired('a').contextName}"`);
  });

  it('prunes nothing when a context failed before its cluster was known', () => {
    const unknown: DesiredCluster = { contextName: 'weird', route: null, server: null, error: 'unreadable certificate' };
    const plan = planSync([desired('a'), unknown], [live(desired('gone').secret)], { ...options, prune: true });
    expect(plan.find((item) => item.secretName === desired('gone').secret.metadata.name)!.action).toBe('skip');
  });

  it('keeps prune within the selected clusters', () => {
    const plan = planSync([desired('a')], [live(desired('b').secret)], { ...options, prune: true, prunable: (r) => r?.kubeCluster !== 'b' });
    expect(plan.some((item) => item.action === 'prune')).toBe(false);
  });

  it('registers a cluster once when two contexts reach it', () => {
    const first = desired('a');
    const second = { ...desired('a'), contextName: 'other-context' };
    const plan = planSync([first, second], [], options);
    expect(plan.map((item) => item.action)).toEqual(['create', 'skip']);
    expect(plan[1]!.reason).toContain(first.contextName);
  });
});

describe('describeChanges', () => {
  it('shows plain fields in clear and labels by key', () => {
    const before = desired('a').secret;
    const after = { ...before, metadata: { ...before.metadata, labels: { ...before.metadata.labels, team: 'b' } }, data: { ...before.data, project: Buffer.from('p').toString('base64') } };
    expect(describeChanges(before, after)).toEqual(['data.project: <none> → "p"', 'metadata.labels.team: <none> → "b"']);
  });
});
