import { describe, expect, it } from 'vitest';
import {
  clusterSecretName,
  parseClusterConfig,
  renderClusterConfig,
  renderClusterSecret,
  secretOwner,
  validateNameTemplate,
  validateSecretPrefix,
  type ClusterSecretSpec,
} from '../../src/argocd/cluster-secret.js';
import { UsageError } from '../../src/cli/errors.js';
import { encodePathComponent, kubeTlsServerName, parseRoutedServer, routedServerUrl } from '../../src/teleport/routing.js';

const decode = (value: string | undefined) => Buffer.from(value ?? '', 'base64').toString('utf8');

function spec(overrides: Partial<ClusterSecretSpec> = {}): ClusterSecretSpec {
  return {
    namespace: 'argocd',
    prefix: 'teleport.argocd-cluster',
    nameTemplate: '{{.ClusterName}}-{{.KubeName}}',
    route: { teleportCluster: 'tp1.floppy.co', kubeCluster: 'boxofrad5' },
    proxyBase: 'https://tp1.floppy.co:443',
    credentials: { caPem: 'CA PEM\n', certPem: 'CERT PEM\n', keyPem: 'KEY PEM\n', serverName: 'kube-teleport-proxy-alpn.tp1.floppy.co' },
    botName: 'argocd',
    updated: new Date('2026-01-02T03:04:05.678Z'),
    ...overrides,
  };
}

describe('reference vectors', () => {
  it('names the secret as tbot does', () => {
    expect(clusterSecretName('teleport.argocd-cluster', { teleportCluster: 'tp1.floppy.co', kubeCluster: 'boxofrad5' })).toBe(
      'teleport.argocd-cluster.e815df7b7588be17',
    );
    expect(clusterSecretName('teleport.argocd-cluster', { teleportCluster: 'root', kubeCluster: 'kube-cluster-1' })).toBe(
      'teleport.argocd-cluster.10dae90fc5854d7b',
    );
  });

  it('encodes path components as unpadded base64url', () => {
    expect(encodePathComponent('root')).toBe('cm9vdA');
    expect(encodePathComponent('kube-cluster-1')).toBe('a3ViZS1jbHVzdGVyLTE');
    expect(encodePathComponent('a')).toBe('YQ');
    expect(routedServerUrl('https://tp1.floppy.co:443', { teleportCluster: 'tp1.floppy.co', kubeCluster: 'boxofrad5' })).toBe(
      'https://tp1.floppy.co:443/v1/teleport/dHAxLmZsb3BweS5jbw/Ym94b2ZyYWQ1',
    );
  });

  it('decodes routed servers and rejects padded or garbled ones', () => {
    expect(parseRoutedServer('https://p:443/v1/teleport/dHAxLmZsb3BweS5jbw/Ym94b2ZyYWQ1')).toEqual({
      teleportCluster: 'tp1.floppy.co',
      kubeCluster: 'boxofrad5',
    });
    expect(parseRoutedServer('https://p:443/v1/teleport/cm9vdA==/YQ')).toBeNull();
    expect(parseRoutedServer('https://p:443/v1/teleport//YQ')).toBeNull();
    expect(parseRoutedServer('https://p:443/api')).toBeNull();
    expect(parseRoutedServer('not a url')).toBeNull();
  });

  it('computes the SNI from the proxy host', () => {
    expect(kubeTlsServerName('tele.blackmesa.gov')).toBe('kube-teleport-proxy-alpn.tele.blackmesa.gov');
    expect(kubeTlsServerName('127.0.0.1')).toBe('kube-teleport-proxy-alpn.teleport.cluster.local');
    expect(kubeTlsServerName('localhost')).toBe('kube-teleport-proxy-alpn.teleport.cluster.local');
    expect(kubeTlsServerName('[::1]')).toBe('kube-teleport-proxy-alpn.teleport.cluster.local');
  });
});

describe('renderClusterSecret', () => {
  it('writes the tbot format', () => {
    const secret = renderClusterSecret(spec());
    expect(secret.metadata.name).toBe('teleport.argocd-cluster.e815df7b7588be17');
    expect(secret.type).toBe('Opaque');
    expect(secret.metadata.labels).toEqual({
      'argocd.argoproj.io/secret-type': 'cluster',
      'app.kubernetes.io/managed-by': 'kubectl-teleport-argocd',
    });
    expect(secret.metadata.annotations).toEqual({
      'teleport.dev/teleport-cluster-name': 'tp1.floppy.co',
      'teleport.dev/kubernetes-cluster-name': 'boxofrad5',
      'teleport.dev/bot-name': 'argocd',
      'teleport.dev/updated': '2026-01-02T03:04:05Z',
    });
    expect(Object.keys(secret.data!).sort()).toEqual(['config', 'name', 'server']);
    expect(decode(secret.data!.name)).toBe('tp1.floppy.co-boxofrad5');
    expect(decode(secret.data!.server)).toBe('https://tp1.floppy.co:443/v1/teleport/dHAxLmZsb3BweS5jbw/Ym94b2ZyYWQ1');
    expect(decode(secret.data!.config)).toBe(
      '{"tlsClientConfig":{"caData":"Q0EgUEVNCg==","certData":"Q0VSVCBQRU0K","keyData":"S0VZIFBFTQo=","serverName":"kube-teleport-proxy-alpn.tp1.floppy.co"}}',
    );
  });

  it('omits serverName when empty and never writes insecure', () => {
    const config = renderClusterConfig({ caPem: 'a', certPem: 'b', keyPem: 'c', serverName: '' });
    expect(JSON.parse(config)).toEqual({ tlsClientConfig: { caData: 'YQ==', certData: 'Yg==', keyData: 'Yw==' } });
  });

  it('adds project, namespaces and clusterResources only when asked', () => {
    const secret = renderClusterSecret(spec({ project: 'team-a', namespaces: ['prod', 'dev'], clusterResources: false }));
    expect(decode(secret.data!.project)).toBe('team-a');
    expect(decode(secret.data!.namespaces)).toBe('prod,dev');
    expect(decode(secret.data!.clusterResources)).toBe('false');
  });

  it('lets our labels win, annotates only bot identities, and never writes tbot-version', () => {
    const secret = renderClusterSecret(
      spec({
        botName: null,
        labels: { 'app.kubernetes.io/managed-by': 'someone', team: 'a' },
        annotations: { 'teleport.dev/tbot-version': 'v18', note: 'x' },
        refreshInterval: '20m',
      }),
    );
    expect(secret.metadata.labels!['app.kubernetes.io/managed-by']).toBe('kubectl-teleport-argocd');
    expect(secret.metadata.labels!.team).toBe('a');
    expect(secret.metadata.annotations!['teleport.dev/bot-name']).toBeUndefined();
    expect(secret.metadata.annotations!['teleport.dev/tbot-version']).toBeUndefined();
    expect(secret.metadata.annotations!['kubectl-teleport-argocd/refresh-interval']).toBe('20m');
    expect(secret.metadata.annotations!.note).toBe('x');
  });

  it('renders the name template', () => {
    expect(decode(renderClusterSecret(spec({ nameTemplate: 'tp-{{ .KubeName }}' })).data!.name)).toBe('tp-boxofrad5');
  });

  it('renders label and annotation templates from the route and the kube cluster labels, leaving out empty ones', () => {
    const secret = renderClusterSecret(
      spec({
        labels: { region: '{{index .Labels "region"}}', cloud: '{{.Labels.cloud}}', kube: '{{.KubeName}}', tier: 'gold', empty: '' },
        annotations: { where: 'kube {{.KubeName}} of {{.ClusterName}}, in {{index .Labels "region"}}', team: '{{index .Labels "team"}}' },
        kubeLabels: { region: 'eu', env: 'prod' },
      }),
    );
    expect(secret.metadata.labels).toEqual({
      region: 'eu',
      kube: 'boxofrad5',
      tier: 'gold',
      'argocd.argoproj.io/secret-type': 'cluster',
      'app.kubernetes.io/managed-by': 'kubectl-teleport-argocd',
    });
    expect(secret.metadata.annotations!.where).toBe('kube boxofrad5 of tp1.floppy.co, in eu');
    expect(secret.metadata.annotations).not.toHaveProperty('team');
  });

  it('fails a cluster whose rendered label value Kubernetes would reject, naming the label', () => {
    const render = (region: string) => renderClusterSecret(spec({ labels: { region: 'r-{{index .Labels "region"}}' }, kubeLabels: { region } }));
    expect(() => render('eu west')).toThrow(/label region="r-eu west" \(rendered from "r-\{\{index \.Labels "region"\}\}"\) is not a valid label value/);
    expect(() => render('x'.repeat(62))).toThrow(/not a valid label value/);
    expect(render('x'.repeat(61)).metadata.labels!.region).toBe(`r-${'x'.repeat(61)}`);
    // Annotation values may hold any text.
    expect(renderClusterSecret(spec({ annotations: { a: '{{index .Labels "region"}}' }, kubeLabels: { region: 'eu west' } })).metadata.annotations!.a).toBe('eu west');
  });
});

describe('validation', () => {
  it('rejects prefixes that make invalid names', () => {
    expect(() => validateSecretPrefix('my-argo-cluster-')).toThrow(UsageError);
    expect(() => validateSecretPrefix('Upper')).toThrow(UsageError);
    expect(() => validateSecretPrefix('x'.repeat(240))).toThrow(UsageError);
    expect(() => validateSecretPrefix('my-argo-cluster')).not.toThrow();
  });

  it('rejects templates with other fields', () => {
    expect(() => validateNameTemplate('{{.Labels}}')).toThrow(UsageError);
    expect(() => validateNameTemplate('{{index .Labels "region"}}')).toThrow(UsageError);
    expect(() => validateNameTemplate('{{.KubeName')).toThrow(UsageError);
    expect(() => validateNameTemplate('{{.KubeName}}')).not.toThrow();
  });
});

describe('parsing', () => {
  it('reads a config back and classifies credentials', () => {
    const parsed = parseClusterConfig(renderClusterConfig({ caPem: 'ca', certPem: 'cert', keyPem: 'key', serverName: 'sni' }));
    expect(parsed).toMatchObject({ credentialType: 'client-certificate', caPem: 'ca', certPem: 'cert', keyPem: 'key', serverName: 'sni' });
    expect(parseClusterConfig('{"bearerToken":"t","tlsClientConfig":{"insecure":false}}').credentialType).toBe('bearer-token');
    expect(parseClusterConfig('{"execProviderConfig":{"command":"x"}}').credentialType).toBe('exec');
    expect(parseClusterConfig('{"awsAuthConfig":{"clusterName":"x"}}').credentialType).toBe('aws');
    expect(parseClusterConfig(null).credentialType).toBe('none');
    expect(() => parseClusterConfig('{nope')).toThrow('not valid JSON');
    expect(() => parseClusterConfig('{"tlsClientConfig":{"caData":"%%%"}}')).toThrow('caData is not valid base64');
  });

  it('names the owner', () => {
    const meta = (labels: Record<string, string>, annotations: Record<string, string>) => ({ metadata: { name: 'x', labels, annotations } });
    expect(secretOwner(meta({ 'app.kubernetes.io/managed-by': 'kubectl-teleport-argocd' }, {}))).toBe('kubectl-teleport-argocd');
    expect(secretOwner(meta({}, { 'teleport.dev/tbot-version': '18.2.0' }))).toBe('tbot');
    expect(secretOwner(meta({}, { 'managed-by': 'argocd.argoproj.io' }))).toBe('argocd');
    expect(secretOwner(meta({}, {}))).toBe('unknown');
  });
});
