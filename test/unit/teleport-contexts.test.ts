import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runExecCredential } from '../../src/kubeconfig/exec-credential.js';
import { loadKubeconfig } from '../../src/kubeconfig/load.js';
import { detectTeleportContexts } from '../../src/kubeconfig/teleport-contexts.js';
import {
  mergeKubeconfigs,
  tbotKubernetesV2Kubeconfig,
  tctlAuthSignKubeconfig,
  tshKubeLoginKubeconfig,
  writeFakeTbot,
  writeFakeTsh,
  writeKubeconfig,
  writeKubeconfigWithCredentialFiles,
} from '../world/fixtures/index.js';
import { createCA, issueTeleportCertificate, type CertificateAuthority, type PemPair } from '../world/pki.js';

let hostCA: CertificateAuthority;
let userCA: CertificateAuthority;
let botCert: PemPair;
let routedCert: PemPair;
const dir = () => mkdtempSync(path.join(tmpdir(), 'tpa-ctx-'));

beforeAll(async () => {
  hostCA = await createCA('example.teleport.sh');
  userCA = await createCA('example.teleport.sh');
  botCert = await issueTeleportCertificate(userCA, { user: 'bot-argocd', roles: ['kube-access'], botName: 'argocd', teleportCluster: 'example.teleport.sh', kubernetesGroups: ['editor'] });
  routedCert = await issueTeleportCertificate(userCA, { user: 'alice', roles: ['access'], kubernetesCluster: 'prod-eu', teleportCluster: 'example.teleport.sh' });
});

async function detect(config: Parameters<typeof writeKubeconfig>[1]) {
  const file = await writeKubeconfig(path.join(dir(), 'config'), config);
  return detectTeleportContexts(loadKubeconfig({ explicitPath: file }));
}

describe('detectTeleportContexts', () => {
  it('reads tbot kubernetes/v2 output from the server path (static credentials)', async () => {
    const { contexts, problems } = await detect(
      tbotKubernetesV2Kubeconfig({
        teleportCluster: 'example.teleport.sh',
        proxyAddr: 'example.teleport.sh:443',
        kubeClusters: ['prod-eu', 'staging'],
        caPem: hostCA.certPem,
        credentials: { kind: 'static', credentials: botCert },
      }),
    );
    expect(problems).toEqual([]);
    expect(contexts.map((c) => [c.contextName, c.route.kubeCluster, c.detectedBy])).toEqual([
      ['example.teleport.sh-prod-eu', 'prod-eu', 'server-path'],
      ['example.teleport.sh-staging', 'staging', 'server-path'],
    ]);
    expect(contexts[0]).toMatchObject({
      proxyBase: 'https://example.teleport.sh:443',
      serverName: 'kube-teleport-proxy-alpn.example.teleport.sh',
      caPem: hostCA.certPem,
      credentials: { kind: 'static', certPem: botCert.certPem, keyPem: botCert.keyPem },
    });
  });

  it('reads tsh kube login contexts from the exec arguments', async () => {
    const { contexts } = await detect(
      tshKubeLoginKubeconfig({ teleportCluster: 'example.teleport.sh', proxyAddr: 'example.teleport.sh:443', kubeClusters: ['a', 'b'], caPem: hostCA.certPem, tshPath: '/usr/local/bin/tsh' }),
    );
    expect(contexts.map((c) => [c.route, c.detectedBy, c.credentials.kind])).toEqual([
      [{ teleportCluster: 'example.teleport.sh', kubeCluster: 'a' }, 'exec-args', 'exec'],
      [{ teleportCluster: 'example.teleport.sh', kubeCluster: 'b' }, 'exec-args', 'exec'],
    ]);
  });

  it('reads tctl auth sign output from the certificate, including from relative credential files', async () => {
    const config = tctlAuthSignKubeconfig({ teleportCluster: 'example.teleport.sh', proxyAddr: 'example.teleport.sh:3026', kubeCluster: 'prod-eu', caPem: hostCA.certPem, credentials: routedCert });
    const inline = await detect(config);
    expect(inline.contexts.map((c) => [c.contextName, c.route.kubeCluster])).toEqual([['example.teleport.sh-prod-eu', 'prod-eu']]);
    const base = dir();
    const file = path.join(base, 'config');
    await writeKubeconfigWithCredentialFiles(file, config, { caFiles: true });
    const fromFiles = detectTeleportContexts(loadKubeconfig({ explicitPath: file }));
    expect(fromFiles.contexts[0]).toMatchObject({ caPem: hostCA.certPem, credentials: { kind: 'static', certPem: routedCert.certPem } });
  });

  it('uses the certificate OIDs when nothing else names the cluster', async () => {
    const config = tctlAuthSignKubeconfig({ teleportCluster: 'example.teleport.sh', proxyAddr: 'example.teleport.sh:3026', kubeCluster: 'prod-eu', caPem: hostCA.certPem, credentials: routedCert });
    config.contexts[0]!.context.extensions = undefined;
    config.contexts[0]!.name = 'my-context';
    config['current-context'] = 'my-context';
    const { contexts } = await detect(config);
    expect(contexts.map((c) => [c.route, c.detectedBy])).toEqual([[{ teleportCluster: 'example.teleport.sh', kubeCluster: 'prod-eu' }, 'certificate']]);
  });

  it('falls back to the SNI + context name rule, and reports contexts it cannot name', async () => {
    const config = tctlAuthSignKubeconfig({ teleportCluster: 'example.teleport.sh', proxyAddr: 'example.teleport.sh:443', kubeCluster: 'prod-eu', caPem: hostCA.certPem, credentials: { certPem: hostCA.certPem, keyPem: 'x' }, tlsServerName: 'kube-teleport-proxy-alpn.example.teleport.sh' });
    config.contexts[0]!.context.extensions = undefined;
    const named = await detect(config);
    expect(named.contexts.map((c) => [c.route.kubeCluster, c.detectedBy])).toEqual([['prod-eu', 'sni-context-name']]);
    config.contexts[0]!.name = 'whatever';
    const unnamed = await detect(config);
    expect(unnamed.contexts).toEqual([]);
    expect(unnamed.problems[0]!.contextName).toBe('whatever');
  });

  it('ignores ordinary contexts', async () => {
    const teleport = tshKubeLoginKubeconfig({ teleportCluster: 't', proxyAddr: 't:443', kubeClusters: ['a'], caPem: hostCA.certPem, tshPath: 'tsh' });
    const plain = { apiVersion: 'v1' as const, kind: 'Config' as const, 'current-context': 'kind', clusters: [{ name: 'kind', cluster: { server: 'https://127.0.0.1:6443' } }], users: [{ name: 'kind', user: { token: 'x' } }], contexts: [{ name: 'kind', context: { cluster: 'kind', user: 'kind' } }] };
    const { contexts, problems } = await detect(mergeKubeconfigs(plain, teleport));
    expect(contexts.map((c) => c.contextName)).toEqual(['t-a']);
    expect(problems).toEqual([]);
  });
});

describe('runExecCredential', () => {
  it('gets certificates from tsh and tbot (v1beta1 and v1)', async () => {
    const tsh = await writeFakeTsh(dir(), { credentials: { a: botCert } });
    const result = await runExecCredential({ command: tsh.path, args: ['kube', 'credentials', '--kube-cluster=a', '--teleport-cluster=t'] }, 10_000);
    expect(result).toMatchObject({ certPem: botCert.certPem, keyPem: botCert.keyPem });
    const tbot = await writeFakeTbot(dir(), { credentials: botCert, config: { apiVersion: 'echo' } });
    const v1 = await runExecCredential({ apiVersion: 'client.authentication.k8s.io/v1', command: tbot.path, args: ['kube', 'credentials', `--destination-dir=${tbot.destinationDir}`] }, 10_000);
    expect(v1.certPem).toBe(botCert.certPem);
  });

  it('names the command and its stderr when it fails, hangs or prints garbage', async () => {
    const tsh = await writeFakeTsh(dir(), { credentials: { a: botCert }, config: { mode: 'fail', stderr: 'ERROR: not logged in' } });
    const exec = { command: tsh.path, args: ['kube', 'credentials', '--kube-cluster=a'] };
    await expect(runExecCredential(exec, 10_000)).rejects.toThrow('exec plugin "tsh kube credentials --kube-cluster=a" failed with exit code 1: ERROR: not logged in');
    await tsh.configure({ mode: 'garbage' });
    await expect(runExecCredential(exec, 10_000)).rejects.toThrow(/did not print an ExecCredential/);
    await tsh.configure({ mode: 'hang' });
    await expect(runExecCredential(exec, 500)).rejects.toThrow('timed out after 1s');
    await expect(runExecCredential({ command: path.join(dir(), 'missing-tsh'), args: [] }, 1000)).rejects.toThrow(/could not be started/);
  });
});
