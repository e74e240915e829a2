import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runExecCredential } from '../../src/kubeconfig/exec-credential.js';
import { loadKubeconfig } from '../../src/kubeconfig/load.js';
import { detectTeleportContexts, nameFromCertificate } from '../../src/kubeconfig/teleport-contexts.js';
import { desiredCluster, ExecCache, nameByExec } from '../../src/sync/desired.js';
import { summarizeCertificate } from '../../src/teleport/identity.js';
import {
  mergeKubeconfigs,
  tbotKubernetesV1Kubeconfig,
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

// tbot's v1 `kubernetes` output as tbot writes it: gravitational/teleport
// lib/tbot/services/k8s/testdata/TestKubernetesOutputService_render/{exec_plugin_disabled @ 0a870bdee2815465ea982eabf84c093af1103ac5,
// absolute_path @ 5181e490362c0920a99629b1b7c13b3da034bb9d}/kubeconfig.yaml.golden, copied verbatim.
const TBOT_V1_GOLDEN = (name: 'exec_plugin_disabled' | 'absolute_path') =>
  new URL(`../fixtures/tbot-kubernetes-v1/${name}.kubeconfig.yaml.golden`, import.meta.url).pathname;

describe("tbot's v1 kubernetes output (names in the certificate only)", () => {
  it('names the static form from the certificate: RouteToCluster, not the issuer', () => {
    const { contexts, namedByExec, problems } = detectTeleportContexts(loadKubeconfig({ explicitPath: TBOT_V1_GOLDEN('exec_plugin_disabled') }));
    expect(problems).toEqual([]);
    expect(namedByExec).toEqual([]);
    expect(contexts.map((c) => [c.contextName, c.route, c.detectedBy, c.proxyBase, c.serverName])).toEqual([
      ['tele.blackmesa.gov-example', { teleportCluster: 'tele.blackmesa.gov', kubeCluster: 'example' }, 'certificate', 'https://tele.blackmesa.gov:443', 'kube-teleport-proxy-alpn.tele.blackmesa.gov'],
    ]);
  });

  it('leaves the exec form to be named by the certificate its plugin returns', () => {
    const { contexts, namedByExec, problems } = detectTeleportContexts(loadKubeconfig({ explicitPath: TBOT_V1_GOLDEN('absolute_path') }));
    expect(contexts).toEqual([]);
    expect(problems).toEqual([]);
    expect(namedByExec.map((c) => [c.contextName, c.exec.command, c.exec.args, c.credentials.kind, c.proxyBase])).toEqual([
      ['tele.blackmesa.gov-example', '/path/to/tbot', ['kube', 'credentials', '--destination-dir=/test/dir'], 'exec', 'https://tele.blackmesa.gov:443'],
    ]);
  });

  it('does so without TLS routing too: a tsh/tbot exec plugin alone makes it a Teleport context', async () => {
    const config = tbotKubernetesV1Kubeconfig({ teleportCluster: 'example.teleport.sh', proxyAddr: 'example.teleport.sh:3026', kubeCluster: 'prod-eu', caPem: hostCA.certPem, tlsServerName: null, credentials: { kind: 'exec', tbotPath: '/usr/local/bin/tbot', destinationDir: '/opt/machine-id' } });
    const { contexts, namedByExec, problems } = await detect(config);
    expect([contexts, problems]).toEqual([[], []]);
    expect(namedByExec.map((c) => [c.contextName, c.serverName])).toEqual([['example.teleport.sh-prod-eu', 'kube-teleport-proxy-alpn.example.teleport.sh']]);
  });

  it('runs the plugin once to name the context and load its credentials, naming the leaf of a leaf route', async () => {
    const leafRouted = await issueTeleportCertificate(userCA, { user: 'bot-argocd', roles: ['kube-access'], botName: 'argocd', kubernetesCluster: 'prod-eu', routeToCluster: 'leaf.example.com', teleportCluster: 'example.teleport.sh' });
    const tbot = await writeFakeTbot(dir(), { credentials: leafRouted });
    const config = tbotKubernetesV1Kubeconfig({ teleportCluster: 'leaf.example.com', proxyAddr: 'example.teleport.sh:443', kubeCluster: 'prod-eu', caPem: hostCA.certPem, credentials: { kind: 'exec', tbotPath: tbot.path, destinationDir: tbot.destinationDir } });
    const [pending] = (await detect(config)).namedByExec;
    const exec = new ExecCache(10_000);
    const context = await nameByExec(pending!, exec);
    expect([context.route, context.detectedBy]).toEqual([{ teleportCluster: 'leaf.example.com', kubeCluster: 'prod-eu' }, 'certificate']);
    const settings = { namespace: 'argocd', prefix: 'teleport.argocd-cluster', nameTemplate: '{{.ClusterName}}-{{.KubeName}}' };
    const desired = await desiredCluster(context, exec, { settings, execTimeoutMs: 10_000, now: new Date() });
    expect('secret' in desired && desired.server).toBe('https://example.teleport.sh:443/v1/teleport/bGVhZi5leGFtcGxlLmNvbQ/cHJvZC1ldQ');
    expect(await tbot.invocations()).toHaveLength(1);
  });

  it('cannot name it from a certificate without a kube cluster route', async () => {
    const tbot = await writeFakeTbot(dir(), { credentials: botCert });
    const config = tbotKubernetesV1Kubeconfig({ teleportCluster: 'example.teleport.sh', proxyAddr: 'example.teleport.sh:443', kubeCluster: 'prod-eu', caPem: hostCA.certPem, credentials: { kind: 'exec', tbotPath: tbot.path, destinationDir: tbot.destinationDir } });
    const [pending] = (await detect(config)).namedByExec;
    expect(() => nameFromCertificate(pending!, summarizeCertificate(botCert.certPem))).toThrow(
      `looks like a Teleport context, but the certificate its exec plugin "tbot kube credentials --destination-dir=${tbot.destinationDir}" returned names no kube cluster`,
    );
    await expect(nameByExec(pending!, new ExecCache(10_000))).rejects.toThrow('returned names no kube cluster');
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
