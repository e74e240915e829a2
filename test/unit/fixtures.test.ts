// Test-world fixtures against the reference vectors (reference/README.md, teleport.md,
// argocd.md) and the shapes real tools write.
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  argocdClusterAddSecret,
  argocdClusterSecretName,
  argocdCm,
  appProject,
  decodeRawURLBase64,
  decodeSecretData,
  encodePathComponent,
  fnv32a,
  goJson,
  kubeTlsServerName,
  kubeconfigToYaml,
  mergeKubeconfigs,
  pathRoutedServer,
  rfc3339Local,
  tbotClusterSecret,
  tbotKubernetesV1Kubeconfig,
  tbotKubernetesV2Kubeconfig,
  tbotSecretName,
  tctlAuthSignKubeconfig,
  tshKubeLoginKubeconfig,
  writeKubeconfig,
  writeKubeconfigWithCredentialFiles,
} from '../world/fixtures/index.js';

const CA = '-----BEGIN CERTIFICATE-----\nQ0E=\n-----END CERTIFICATE-----\n';
const CERT = '-----BEGIN CERTIFICATE-----\nQ0VSVA==\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nS0VZ\n-----END PRIVATE KEY-----\n';
const b64 = (s: string) => Buffer.from(s).toString('base64');

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'fixtures-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('encodings', () => {
  it('encodes path components as base64url without padding', () => {
    expect(encodePathComponent('root')).toBe('cm9vdA');
    expect(encodePathComponent('kube-cluster-1')).toBe('a3ViZS1jbHVzdGVyLTE');
    expect(encodePathComponent('tele.blackmesa.gov')).toBe('dGVsZS5ibGFja21lc2EuZ292');
    expect(encodePathComponent('a')).toBe('YQ');
    expect(encodePathComponent('tp1.floppy.co')).toBe('dHAxLmZsb3BweS5jbw');
    expect(encodePathComponent('boxofrad5')).toBe('Ym94b2ZyYWQ1');
    expect(encodePathComponent('\u00ff\u00fe?>')).not.toMatch(/[+/=]/);
  });

  it('builds the path-routed server URL from the guide', () => {
    expect(pathRoutedServer('test.teleport.sh:443', 'tp1.floppy.co', 'boxofrad5')).toBe(
      'https://test.teleport.sh:443/v1/teleport/dHAxLmZsb3BweS5jbw/Ym94b2ZyYWQ1',
    );
    expect(pathRoutedServer('https://tele.blackmesa.gov:443', 'tele.blackmesa.gov', 'a')).toBe(
      'https://tele.blackmesa.gov:443/v1/teleport/dGVsZS5ibGFja21lc2EuZ292/YQ',
    );
  });

  it('decodes base64url strictly, like Go RawURLEncoding', () => {
    expect(decodeRawURLBase64('cm9vdA').toString()).toBe('root');
    expect(() => decodeRawURLBase64('cm9vdA==')).toThrow('illegal base64 data at input byte 6');
    expect(() => decodeRawURLBase64('cm9v+A')).toThrow('illegal base64 data at input byte 4');
    expect(() => decodeRawURLBase64('cm9vd')).toThrow('illegal base64 data at input byte 4');
  });

  it('names tbot secrets by the first 8 bytes of sha256(teleport + kube)', () => {
    expect(tbotSecretName('tp1.floppy.co', 'boxofrad5')).toBe('teleport.argocd-cluster.e815df7b7588be17');
    expect(tbotSecretName('root', 'kube-cluster-1')).toBe('teleport.argocd-cluster.10dae90fc5854d7b');
    expect(tbotSecretName('root', 'kube-cluster-1', 'my-prefix')).toBe('my-prefix.10dae90fc5854d7b');
  });

  it('computes FNV-32a and Argo CD cluster secret names', () => {
    expect(fnv32a('https://kubernetes.default.svc')).toBe(3396314289);
    expect(argocdClusterSecretName('https://kubernetes.default.svc')).toBe('cluster-kubernetes.default.svc-3396314289');
    expect(argocdClusterSecretName('http://foo')).toBe('cluster-foo-752281925');
    expect(argocdClusterSecretName('https://Proxy.Example.com:443/v1/teleport/YQ/Yg')).toMatch(/^cluster-proxy\.example\.com-\d+$/);
    expect(argocdClusterSecretName('https://[::1]:6443')).toBe(`cluster---1-${fnv32a('https://[::1]:6443')}`);
    expect(argocdClusterSecretName('https://[fd00::1]:6443')).toBe(`cluster-fd00--1-${fnv32a('https://[fd00::1]:6443')}`);
  });

  it('derives the kube SNI from the proxy host', () => {
    expect(kubeTlsServerName('tele.blackmesa.gov')).toBe('kube-teleport-proxy-alpn.tele.blackmesa.gov');
    for (const host of ['', 'localhost', '127.0.0.1', '[::1]', '::1']) {
      expect(kubeTlsServerName(host), host).toBe('kube-teleport-proxy-alpn.teleport.cluster.local');
    }
  });

  it('formats RFC 3339 local time like Go and JSON like encoding/json', () => {
    expect(rfc3339Local(new Date())).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/);
    expect(goJson({ a: '<&>' })).toBe('{"a":"\\u003c\\u0026\\u003e"}');
  });
});

describe('kubeconfigs', () => {
  it('tbot kubernetes/v2 with the exec plugin, as in the golden file layout', () => {
    const config = tbotKubernetesV2Kubeconfig({
      teleportCluster: 'tele.blackmesa.gov',
      proxyAddr: 'tele.blackmesa.gov:443',
      kubeClusters: [{ name: 'a', defaultNamespace: 'namespace-a' }, 'b'],
      caPem: CA,
      credentials: { kind: 'exec', tbotPath: '/path/to/tbot', destinationDir: '/test/dir' },
    });
    expect(kubeconfigToYaml(config)).toBe(
      [
        'apiVersion: v1',
        'clusters:',
        '- cluster:',
        `    certificate-authority-data: ${b64(CA)}`,
        '    server: https://tele.blackmesa.gov:443/v1/teleport/dGVsZS5ibGFja21lc2EuZ292/YQ',
        '    tls-server-name: kube-teleport-proxy-alpn.tele.blackmesa.gov',
        '  name: tele.blackmesa.gov-a',
        '- cluster:',
        `    certificate-authority-data: ${b64(CA)}`,
        '    server: https://tele.blackmesa.gov:443/v1/teleport/dGVsZS5ibGFja21lc2EuZ292/Yg',
        '    tls-server-name: kube-teleport-proxy-alpn.tele.blackmesa.gov',
        '  name: tele.blackmesa.gov-b',
        'contexts:',
        '- context:',
        '    cluster: tele.blackmesa.gov-a',
        '    namespace: namespace-a',
        '    user: tele.blackmesa.gov',
        '  name: tele.blackmesa.gov-a',
        '- context:',
        '    cluster: tele.blackmesa.gov-b',
        '    user: tele.blackmesa.gov',
        '  name: tele.blackmesa.gov-b',
        'current-context: tele.blackmesa.gov-a',
        'kind: Config',
        'users:',
        '- name: tele.blackmesa.gov',
        '  user:',
        '    exec:',
        '      apiVersion: client.authentication.k8s.io/v1beta1',
        '      args:',
        '      - kube',
        '      - credentials',
        '      - --destination-dir=/test/dir',
        '      command: /path/to/tbot',
        '      env: null',
        '      provideClusterInfo: false',
        '',
      ].join('\n'),
    );
  });

  it("tbot's v1 kubernetes output, byte for byte as in tbot's goldens (static and exec)", async () => {
    // gravitational/teleport lib/tbot/services/k8s/testdata/TestKubernetesOutputService_render/
    // {exec_plugin_disabled @ 0a870bdee2815465ea982eabf84c093af1103ac5, absolute_path @ 5181e490362c0920a99629b1b7c13b3da034bb9d}/kubeconfig.yaml.golden
    const golden = (name: string) => readFile(new URL(`../fixtures/tbot-kubernetes-v1/${name}.kubeconfig.yaml.golden`, import.meta.url), 'utf8');
    const staticText = await golden('exec_plugin_disabled');
    const parsed = YAML.parse(staticText);
    const fromGolden = (value: string) => Buffer.from(value, 'base64').toString('utf8');
    const common = { teleportCluster: 'tele.blackmesa.gov', proxyAddr: 'tele.blackmesa.gov:443', kubeCluster: 'example', caPem: fromGolden(parsed.clusters[0].cluster['certificate-authority-data']) };
    const credentials = { certPem: fromGolden(parsed.users[0].user['client-certificate-data']), keyPem: fromGolden(parsed.users[0].user['client-key-data']) };
    expect(kubeconfigToYaml(tbotKubernetesV1Kubeconfig({ ...common, credentials: { kind: 'static', credentials } }))).toBe(staticText);
    expect(kubeconfigToYaml(tbotKubernetesV1Kubeconfig({ ...common, credentials: { kind: 'exec', tbotPath: '/path/to/tbot', destinationDir: '/test/dir' } }))).toBe(await golden('absolute_path'));
  });

  it('tbot kubernetes/v2 with static credentials', () => {
    const config = tbotKubernetesV2Kubeconfig({
      teleportCluster: 'root',
      proxyAddr: '127.0.0.1:3080',
      kubeClusters: ['kube-cluster-1'],
      caPem: [CA, CA],
      credentials: { kind: 'static', credentials: { certPem: CERT, keyPem: KEY } },
    });
    expect(config.clusters).toEqual([
      {
        cluster: {
          'certificate-authority-data': b64(`${CA}\n${CA}`),
          server: 'https://127.0.0.1:3080/v1/teleport/cm9vdA/a3ViZS1jbHVzdGVyLTE',
          'tls-server-name': 'kube-teleport-proxy-alpn.teleport.cluster.local',
        },
        name: 'root-kube-cluster-1',
      },
    ]);
    expect(config.users).toEqual([{ name: 'root', user: { 'client-certificate-data': b64(CERT), 'client-key-data': b64(KEY) } }]);
  });

  it('tsh kube login: shared cluster entry, extension, exec tsh kube credentials', () => {
    const config = tshKubeLoginKubeconfig({
      teleportCluster: 'tp1.floppy.co',
      proxyAddr: 'tp1.floppy.co:443',
      kubeClusters: ['boxofrad5', 'alpha'],
      caPem: CA,
      tshPath: '/usr/local/bin/tsh',
    });
    const yaml = kubeconfigToYaml(config);
    expect(yaml).toContain('- extension: boxofrad5\n      name: teleport.kube.name\n');
    expect(config.clusters).toEqual([
      {
        cluster: {
          'certificate-authority-data': b64(CA),
          server: 'https://tp1.floppy.co:443',
          'tls-server-name': 'kube-teleport-proxy-alpn.tp1.floppy.co',
        },
        name: 'tp1.floppy.co',
      },
    ]);
    expect(config.contexts.map((c) => c.name)).toEqual(['tp1.floppy.co-alpha', 'tp1.floppy.co-boxofrad5']);
    expect(config['current-context']).toBe('tp1.floppy.co-boxofrad5');
    const user = config.users.find((u) => u.name === 'tp1.floppy.co-boxofrad5')!.user;
    expect(user.exec).toEqual({
      apiVersion: 'client.authentication.k8s.io/v1beta1',
      args: ['kube', 'credentials', '--kube-cluster=boxofrad5', '--teleport-cluster=tp1.floppy.co', '--proxy=tp1.floppy.co:443'],
      command: '/usr/local/bin/tsh',
      env: null,
      provideClusterInfo: false,
    });
    const parsed = YAML.parse(yaml) as { contexts: Array<{ name: string; context: { extensions: unknown } }> };
    expect(parsed.contexts[1]!.context.extensions).toEqual([{ extension: 'boxofrad5', name: 'teleport.kube.name' }]);
  });

  it('tctl auth sign --format=kubernetes: static credentials, one context', () => {
    const config = tctlAuthSignKubeconfig({
      teleportCluster: 'root',
      proxyAddr: 'proxy.example.com:3080',
      kubeCluster: 'kube-cluster-1',
      caPem: CA,
      credentials: { certPem: CERT, keyPem: KEY },
    });
    expect(config).toEqual({
      apiVersion: 'v1',
      clusters: [
        {
          cluster: {
            'certificate-authority-data': b64(CA),
            server: 'https://proxy.example.com:3080',
            'tls-server-name': 'kube-teleport-proxy-alpn.proxy.example.com',
          },
          name: 'root',
        },
      ],
      contexts: [
        {
          context: { cluster: 'root', extensions: [{ extension: 'kube-cluster-1', name: 'teleport.kube.name' }], user: 'root-kube-cluster-1' },
          name: 'root-kube-cluster-1',
        },
      ],
      'current-context': 'root-kube-cluster-1',
      kind: 'Config',
      preferences: {},
      users: [{ name: 'root-kube-cluster-1', user: { 'client-certificate-data': b64(CERT), 'client-key-data': b64(KEY) } }],
    });
  });

  it('merges kubeconfigs', () => {
    const merged = mergeKubeconfigs(
      tctlAuthSignKubeconfig({ teleportCluster: 'root', proxyAddr: 'p:1', kubeCluster: 'k', caPem: CA, credentials: { certPem: CERT, keyPem: KEY } }),
      tbotKubernetesV2Kubeconfig({
        teleportCluster: 'other',
        proxyAddr: 'q:2',
        kubeClusters: ['x'],
        caPem: CA,
        credentials: { kind: 'static', credentials: { certPem: CERT, keyPem: KEY } },
      }),
    );
    expect(merged.contexts.map((c) => c.name)).toEqual(['other-x', 'root-k']);
    expect(merged['current-context']).toBe('root-k');
  });

  it('writes kubeconfigs with mode 0600, and credential files with relative paths', async () => {
    const config = tctlAuthSignKubeconfig({
      teleportCluster: 'root',
      proxyAddr: 'p:1',
      kubeCluster: 'k',
      caPem: CA,
      credentials: { certPem: CERT, keyPem: KEY },
    });
    const path = await writeKubeconfig(join(tmp, 'a', 'config'), config);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(YAML.parse(await readFile(path, 'utf8'))).toEqual(config);

    const filesPath = join(tmp, 'b', 'kubeconfig.yaml');
    const rewritten = await writeKubeconfigWithCredentialFiles(filesPath, config, { caFiles: true, dirName: 'certs' });
    expect(rewritten.users[0]!.user).toEqual({ 'client-certificate': 'certs/root-k.crt', 'client-key': 'certs/root-k.key' });
    expect(rewritten.clusters[0]!.cluster['certificate-authority']).toBe('certs/root-ca.crt');
    expect(rewritten.clusters[0]!.cluster['certificate-authority-data']).toBeUndefined();
    expect(await readFile(join(tmp, 'b', 'certs', 'root-k.key'), 'utf8')).toBe(KEY);
    expect(await readFile(join(tmp, 'b', 'certs', 'root-ca.crt'), 'utf8')).toBe(CA);
    expect((await stat(join(tmp, 'b', 'certs', 'root-k.key'))).mode & 0o777).toBe(0o600);
    expect(YAML.parse(await readFile(filesPath, 'utf8'))).toEqual(rewritten);
  });
});

describe('Argo CD objects', () => {
  it('argocd-cm with and without sync impersonation', () => {
    expect(argocdCm()).toEqual({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: 'argocd-cm',
        namespace: 'argocd',
        labels: { 'app.kubernetes.io/name': 'argocd-cm', 'app.kubernetes.io/part-of': 'argocd' },
      },
      data: {},
    });
    expect(argocdCm({ impersonationEnabled: true }).data).toEqual({ 'application.sync.impersonation.enabled': 'true' });
    expect(argocdCm({ impersonationEnabled: 'True', impersonationEnforced: 'false', namespace: 'gitops' })).toMatchObject({
      metadata: { namespace: 'gitops' },
      data: { 'application.sync.impersonation.enabled': 'True', 'application.sync.impersonation.enforced': 'false' },
    });
  });

  it('AppProject with destinationServiceAccounts', () => {
    const project = appProject({
      name: 'team-a',
      destinationServiceAccounts: [
        { server: 'https://proxy:443/v1/teleport/*', namespace: 'team-a', defaultServiceAccount: 'team-a-sync' },
        { server: '*', namespace: '*', defaultServiceAccount: 'argocd:readonly' },
      ],
    });
    expect(project).toEqual({
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'AppProject',
      metadata: { name: 'team-a', namespace: 'argocd' },
      spec: {
        sourceRepos: ['*'],
        destinations: [{ server: '*', namespace: '*' }],
        destinationServiceAccounts: [
          { server: 'https://proxy:443/v1/teleport/*', namespace: 'team-a', defaultServiceAccount: 'team-a-sync' },
          { server: '*', namespace: '*', defaultServiceAccount: 'argocd:readonly' },
        ],
      },
    });
  });

  it('cluster secret as argocd cluster add writes it', () => {
    const secret = argocdClusterAddSecret({
      server: 'https://kubernetes.default.svc',
      name: 'in-cluster',
      bearerToken: 'eyJhbGciOi.token',
      caPem: CA,
      project: 'team-a',
      namespaces: ['a', 'b'],
      clusterResources: true,
    });
    expect(secret.metadata).toEqual({
      name: 'cluster-kubernetes.default.svc-3396314289',
      namespace: 'argocd',
      labels: { 'argocd.argoproj.io/secret-type': 'cluster' },
      annotations: { 'managed-by': 'argocd.argoproj.io' },
    });
    expect(secret.type).toBe('Opaque');
    expect(decodeSecretData(secret)).toEqual({
      clusterResources: 'true',
      config: `{"bearerToken":"eyJhbGciOi.token","tlsClientConfig":{"insecure":false,"caData":"${b64(CA)}"}}`,
      name: 'in-cluster',
      namespaces: 'a,b',
      project: 'team-a',
      server: 'https://kubernetes.default.svc',
    });
    expect(Object.keys(secret.data)).toEqual(['clusterResources', 'config', 'name', 'namespaces', 'project', 'server']);
    expect(decodeSecretData(argocdClusterAddSecret({ server: 'https://x.example/' })).name).toBe('https://x.example/');
    expect(decodeSecretData(argocdClusterAddSecret({ server: 'https://x.example/' })).server).toBe('https://x.example');
  });

  it('cluster secret as tbot writes it', () => {
    const secret = tbotClusterSecret({
      teleportCluster: 'tp1.floppy.co',
      kubeCluster: 'boxofrad5',
      proxyAddr: 'test.teleport.sh:443',
      caPem: [CA, CA],
      certPem: CERT,
      keyPem: KEY,
      botName: 'argocd',
      tbotVersion: '18.2.0',
      updated: '2025-09-10T12:00:00+02:00',
      extraLabels: { 'argocd.argoproj.io/secret-type': 'nope', env: 'prod' },
      extraAnnotations: { 'teleport.dev/bot-name': 'nope', note: 'x' },
    });
    expect(secret).toMatchObject({ apiVersion: 'v1', kind: 'Secret', type: 'Opaque' });
    expect(secret.metadata).toEqual({
      name: 'teleport.argocd-cluster.e815df7b7588be17',
      namespace: 'argocd',
      labels: { 'argocd.argoproj.io/secret-type': 'cluster', env: 'prod' },
      annotations: {
        note: 'x',
        'teleport.dev/bot-name': 'argocd',
        'teleport.dev/kubernetes-cluster-name': 'boxofrad5',
        'teleport.dev/tbot-version': '18.2.0',
        'teleport.dev/teleport-cluster-name': 'tp1.floppy.co',
        'teleport.dev/updated': '2025-09-10T12:00:00+02:00',
      },
    });
    expect(decodeSecretData(secret)).toEqual({
      config:
        `{"tlsClientConfig":{"caData":"${b64(`${CA}\n${CA}`)}","certData":"${b64(CERT)}","keyData":"${b64(KEY)}",` +
        `"serverName":"kube-teleport-proxy-alpn.test.teleport.sh"}}`,
      name: 'tp1.floppy.co-boxofrad5',
      server: 'https://test.teleport.sh:443/v1/teleport/dHAxLmZsb3BweS5jbw/Ym94b2ZyYWQ1',
    });
  });

  it('tbot secret options: no SNI, project, namespaces, prefix, name template', () => {
    const secret = tbotClusterSecret({
      teleportCluster: 'root',
      kubeCluster: 'kube-cluster-1',
      proxyAddr: 'https://proxy.example.com:3026',
      caPem: CA,
      certPem: CERT,
      keyPem: KEY,
      serverName: null,
      project: 'p',
      namespaces: ['prod', 'dev'],
      prefix: 'my-prefix',
      name: 'kube-cluster-1',
    });
    expect(secret.metadata.name).toBe('my-prefix.10dae90fc5854d7b');
    expect(secret.metadata.annotations?.['teleport.dev/bot-name']).toBe('');
    const data = decodeSecretData(secret);
    expect(data).toMatchObject({ project: 'p', namespaces: 'prod,dev', clusterResources: 'false', name: 'kube-cluster-1' });
    expect(JSON.parse(data.config!).tlsClientConfig).not.toHaveProperty('serverName');
    expect(data.server).toBe('https://proxy.example.com:3026/v1/teleport/cm9vdA/a3ViZS1jbHVzdGVyLTE');
  });
});
