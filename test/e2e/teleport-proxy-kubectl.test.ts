// The real kubectl (a Go client) through the Teleport proxy stand-in, with kubeconfigs in
// the shapes tbot, tsh and tctl write and the fake tsh/tbot exec plugins. Proves the TLS,
// SNI and exec-credential setup works for real clients.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type Kubeconfig,
  tbotKubernetesV2Kubeconfig,
  tctlAuthSignKubeconfig,
  tshKubeLoginKubeconfig,
  writeFakeTbot,
  writeFakeTsh,
  writeKubeconfig,
  writeKubeconfigWithCredentialFiles,
} from '../world/fixtures/index.js';
import type { PemPair } from '../world/pki.js';
import { type EchoUpstream, type TeleportProxy, startEchoUpstream, startTeleportProxy } from '../world/teleport-proxy/index.js';

const CLUSTER = 'tp1.floppy.co';

let a: EchoUpstream;
let b: EchoUpstream;
let proxy: TeleportProxy;
let bot: PemPair;
let tmp: string;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function kubectl(kubeconfig: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      'kubectl',
      ['--kubeconfig', kubeconfig, ...args],
      {
        // node (24) first on PATH for the fake tools' shebang; a private HOME for kubectl's caches.
        env: { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`, HOME: tmp },
        timeout: 60_000,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

async function write(name: string, config: Kubeconfig): Promise<string> {
  return writeKubeconfig(join(tmp, name, 'config'), config);
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'tp-kubectl-'));
  a = await startEchoUpstream('a');
  b = await startEchoUpstream('b');
  proxy = await startTeleportProxy({
    clusterName: CLUSTER,
    kubeClusters: { a: { upstream: a.target }, b: { upstream: b.target } },
    roles: {
      'wildcard-users': { kubernetesUsers: ['*'], kubernetesLabels: { '*': '*' } },
      editor: { kubernetesGroups: ['editor'], kubernetesLabels: { '*': '*' } },
    },
  });
  bot = await proxy.issueIdentity({ user: 'bot-argocd', roles: ['wildcard-users', 'editor'], botName: 'argocd' });
});

afterAll(async () => {
  await proxy?.close();
  await a?.close();
  await b?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

beforeEach(() => {
  proxy.clearRequests();
  a.requests.length = 0;
  b.requests.length = 0;
});

describe('tbot kubernetes/v2 kubeconfig (path-routed, static credentials)', () => {
  let path: string;
  beforeAll(async () => {
    path = await write(
      'tbot-static',
      tbotKubernetesV2Kubeconfig({
        teleportCluster: CLUSTER,
        proxyAddr: proxy.addr,
        kubeClusters: ['a', 'b'],
        caPem: proxy.hostCA.certPem,
        credentials: { kind: 'static', credentials: bot },
      }),
    );
  });

  it('kubectl version reaches the routed cluster through the proxy', async () => {
    const run = await kubectl(path, ['--context', `${CLUSTER}-b`, 'version', '-o', 'json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).serverVersion).toMatchObject({ gitVersion: 'v1.32.0' });
    expect(b.requests.some((r) => r.path.startsWith('/version'))).toBe(true);
    expect(a.requests).toHaveLength(0);
    expect(proxy.tlsRejections).toEqual([]);
  });

  it('kubectl get --raw with the routed path works', async () => {
    const raw = `${new URL(proxy.kubeServerUrl('a')).pathname}/version`;
    const run = await kubectl(path, ['get', '--raw', raw]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ gitVersion: 'v1.32.0' });
    expect(a.requests.at(-1)?.headers['impersonate-user']).toEqual(['bot-argocd']);
  });

  it('kubectl get --raw /version replaces the routed path, so Teleport finds no kube cluster', async () => {
    // Same as real Teleport: --raw is a request URI on the server host, the /v1/teleport prefix is lost.
    const run = await kubectl(path, ['get', '--raw', '/version']);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('Kubernetes cluster "" not found');
  });

  it('kubectl --as sends Impersonate-User, allowed by the wildcard role', async () => {
    const raw = `${new URL(proxy.kubeServerUrl('a')).pathname}/api/v1/namespaces`;
    const run = await kubectl(path, ['get', '--raw', raw, '--as', 'system:serviceaccount:guestbook:deployer']);
    expect(run.code).toBe(0);
    expect(a.requests.at(-1)?.headers['impersonate-user']).toEqual(['system:serviceaccount:guestbook:deployer']);
    expect(a.requests.at(-1)?.headers['impersonate-group']).toEqual(['editor', 'system:authenticated']);
  });

  it('works with certificate, key and CA as relative file paths', async () => {
    const filePath = join(tmp, 'tbot-files', 'config');
    const config = await writeKubeconfigWithCredentialFiles(
      filePath,
      tbotKubernetesV2Kubeconfig({
        teleportCluster: CLUSTER,
        proxyAddr: proxy.addr,
        kubeClusters: ['a'],
        caPem: proxy.hostCA.certPem,
        credentials: { kind: 'static', credentials: bot },
      }),
      { caFiles: true },
    );
    expect(config.users[0]?.user['client-certificate']).toBe(`credentials/${CLUSTER}.crt`);
    expect(config.clusters[0]?.cluster['certificate-authority']).toBe(`credentials/${CLUSTER}-a-ca.crt`);
    const run = await kubectl(filePath, ['version', '-o', 'json']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).serverVersion.gitVersion).toBe('v1.32.0');
  });
});

describe('exec plugins', () => {
  it('tbot kubernetes/v2 with the fake tbot exec plugin', async () => {
    const tbot = await writeFakeTbot(join(tmp, 'tbot-exec'), { credentials: bot });
    const path = await write(
      'tbot-exec',
      tbotKubernetesV2Kubeconfig({
        teleportCluster: CLUSTER,
        proxyAddr: proxy.addr,
        kubeClusters: ['a'],
        caPem: proxy.hostCA.certPem,
        credentials: { kind: 'exec', tbotPath: tbot.path, destinationDir: tbot.destinationDir },
      }),
    );
    const run = await kubectl(path, ['version', '-o', 'json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const invocations = await tbot.invocations();
    expect(invocations.length).toBeGreaterThan(0);
    expect(invocations[0]!.args).toEqual(['kube', 'credentials', `--destination-dir=${tbot.destinationDir}`]);
    expect(JSON.parse(invocations[0]!.execInfo ?? '{}')).toMatchObject({
      apiVersion: 'client.authentication.k8s.io/v1beta1',
      kind: 'ExecCredential',
    });
    expect(proxy.requests.every((r) => r.teleportUser === 'bot-argocd')).toBe(true);
  });

  it('tsh kube login kubeconfig with the fake tsh (certificate routed by its kube cluster OID)', async () => {
    const forB = await proxy.issueIdentity({ user: 'alice', roles: ['editor'], kubernetesCluster: 'b' });
    const tsh = await writeFakeTsh(join(tmp, 'tsh-exec'), { credentials: { b: forB } });
    const path = await write(
      'tsh-exec',
      tshKubeLoginKubeconfig({
        teleportCluster: CLUSTER,
        proxyAddr: proxy.addr,
        kubeClusters: ['a', 'b'],
        selectCluster: 'b',
        caPem: proxy.hostCA.certPem,
        tshPath: tsh.path,
      }),
    );
    const run = await kubectl(path, ['get', '--raw', '/version']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(b.requests.at(-1)?.headers['impersonate-user']).toEqual(['alice']);
    const args = (await tsh.invocations())[0]!.args;
    expect(args).toEqual(['kube', 'credentials', '--kube-cluster=b', `--teleport-cluster=${CLUSTER}`, `--proxy=${proxy.addr}`]);

    // Context for `a` has no credentials in the fake tsh: kubectl reports the tool's error.
    const failed = await kubectl(path, ['--context', `${CLUSTER}-a`, 'get', '--raw', '/version']);
    expect(failed.code).not.toBe(0);
    expect(failed.stderr).toContain('ERROR: kubernetes cluster "a" not found');
  });

  it('a failing, garbage-printing or expired fake tool makes kubectl fail', async () => {
    const tbot = await writeFakeTbot(join(tmp, 'tbot-failing'), {
      credentials: bot,
      expiredCredentials: await proxy.issueIdentity(
        { user: 'bot-argocd', roles: ['wildcard-users'] },
        { notBefore: new Date(Date.now() - 7200_000), notAfter: new Date(Date.now() - 3600_000) },
      ),
    });
    const path = await write(
      'tbot-failing',
      tbotKubernetesV2Kubeconfig({
        teleportCluster: CLUSTER,
        proxyAddr: proxy.addr,
        kubeClusters: ['a'],
        caPem: proxy.hostCA.certPem,
        credentials: { kind: 'exec', tbotPath: tbot.path, destinationDir: tbot.destinationDir },
      }),
    );
    await tbot.setMode('fail', { stderr: 'ERROR: the bot identity has expired' });
    const failed = await kubectl(path, ['version', '-o', 'json']);
    expect(failed.code).not.toBe(0);
    expect(failed.stderr).toContain('ERROR: the bot identity has expired');

    await tbot.setMode('garbage');
    const garbage = await kubectl(path, ['version', '-o', 'json']);
    expect(garbage.code).not.toBe(0);
    expect(garbage.stderr).toMatch(/decoding stdout|invalid character/);

    await tbot.setMode('expired');
    proxy.clearRequests();
    const expired = await kubectl(path, ['version', '-o', 'json']);
    expect(expired.code).not.toBe(0);
    expect(proxy.requests.some((r) => r.status === 401)).toBe(true);
    expect(a.requests).toHaveLength(0);
  });
});

describe('tctl auth sign --format=kubernetes kubeconfig', () => {
  it('kubectl get --raw /version routes by the certificate', async () => {
    const signed = await proxy.issueIdentity({ user: 'alice', roles: ['editor'], kubernetesCluster: 'a' });
    const path = await write(
      'tctl',
      tctlAuthSignKubeconfig({
        teleportCluster: CLUSTER,
        proxyAddr: proxy.addr,
        kubeCluster: 'a',
        caPem: proxy.hostCA.certPem,
        credentials: signed,
      }),
    );
    const run = await kubectl(path, ['get', '--raw', '/version']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ gitVersion: 'v1.32.0' });
    expect(proxy.requests.at(-1)).toMatchObject({ route: 'identity', kubeCluster: 'a', status: 200 });
  });
});
