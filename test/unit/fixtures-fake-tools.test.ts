// The fake tsh / tbot executables: ExecCredential output and switchable failure modes.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_TOOL_MODE_ENV, type FakeTool, writeFakeTbot, writeFakeTsh } from '../world/fixtures/index.js';
import { type PemPair, createCA, issueTeleportCertificate } from '../world/pki.js';

let tmp: string;
let current: PemPair;
let expired: PemPair;

const env = (extra: Record<string, string> = {}) => ({
  ...process.env,
  PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
  ...extra,
});

function run(path: string, args: string[], extraEnv: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(path, args, { env: env(extraEnv), timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'fake-tools-'));
  const ca = await createCA('tp1.floppy.co');
  current = await issueTeleportCertificate(ca, { user: 'bot-argocd', roles: ['r'], botName: 'argocd' });
  expired = await issueTeleportCertificate(
    ca,
    { user: 'bot-argocd', roles: ['r'] },
    { notBefore: new Date(Date.now() - 7200_000), notAfter: new Date(Date.now() - 3600_000) },
  );
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const notAfterOf = (pem: string) => new Date(new X509Certificate(pem).validTo).toISOString().replace(/\.\d{3}Z$/, 'Z');

describe('fake tsh', () => {
  it('prints an ExecCredential for a known kube cluster and logs the call', async () => {
    const tsh = await writeFakeTsh(join(tmp, 'tsh1'), { credentials: { boxofrad5: current } });
    const args = ['kube', 'credentials', '--kube-cluster=boxofrad5', '--teleport-cluster=tp1.floppy.co', '--proxy=tp1.floppy.co:443'];
    const result = await run(tsh.path, args);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      kind: 'ExecCredential',
      apiVersion: 'client.authentication.k8s.io/v1beta1',
      spec: { interactive: false },
      status: {
        expirationTimestamp: notAfterOf(current.certPem),
        clientCertificateData: current.certPem,
        clientKeyData: current.keyPem,
      },
    });
    expect(await tsh.invocations()).toEqual([{ args, execInfo: null, mode: 'ok', pid: expect.any(Number) }]);
    await tsh.resetInvocations();
    expect(await tsh.invocations()).toEqual([]);
  });

  it('fails like tsh for an unknown kube cluster', async () => {
    const tsh = await writeFakeTsh(join(tmp, 'tsh2'), { credentials: { a: current } });
    const result = await run(tsh.path, ['kube', 'credentials', '--kube-cluster=zzz', '--teleport-cluster=x']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('ERROR: kubernetes cluster "zzz" not found\n');
    expect(result.stdout).toBe('');
  });

  it('switches to expired credentials', async () => {
    const tsh = await writeFakeTsh(join(tmp, 'tsh3'), { credentials: { a: current }, expiredCredentials: { a: expired } });
    await tsh.setMode('expired');
    const result = await run(tsh.path, ['kube', 'credentials', '--kube-cluster=a']);
    const credential = JSON.parse(result.stdout) as { status: { expirationTimestamp: string; clientCertificateData: string } };
    expect(credential.status.clientCertificateData).toBe(expired.certPem);
    expect(new Date(credential.status.expirationTimestamp).getTime()).toBeLessThan(Date.now());
  });
});

describe('fake tsh kube ls', () => {
  it('lists the chosen Teleport cluster as tsh prints it, and logs the call', async () => {
    const tsh = await writeFakeTsh(join(tmp, 'tsh-ls'), {
      kubeClusters: {
        'root.example.com': { staging: null, 'prod-eu': { region: 'eu', env: 'prod' } },
        'leaf.example.com': { edge: {} },
      },
    });
    const args = ['kube', 'ls', '--format=json', '--cluster=root.example.com', '--proxy=root.example.com:443'];
    const root = await run(tsh.path, args);
    expect(root.code).toBe(0);
    expect(root.stdout).toBe(
      [
        '[',
        '  {',
        '    "kube_cluster_name": "prod-eu",',
        '    "labels": {',
        '      "env": "prod",',
        '      "region": "eu"',
        '    },',
        '    "selected": false',
        '  },',
        '  {',
        '    "kube_cluster_name": "staging",',
        '    "labels": null,',
        '    "selected": false',
        '  }',
        ']',
        '',
      ].join('\n'),
    );
    const leaf = await run(tsh.path, ['kube', 'ls', '--format=json', '--cluster=leaf.example.com']);
    expect(JSON.parse(leaf.stdout)).toEqual([{ kube_cluster_name: 'edge', labels: null, selected: false }]);
    const current = await run(tsh.path, ['kube', 'ls', '--format=json']);
    expect(JSON.parse(current.stdout)).toHaveLength(2);
    expect((await tsh.invocations()).map((call) => call.args)).toEqual([args, ['kube', 'ls', '--format=json', '--cluster=leaf.example.com'], ['kube', 'ls', '--format=json']]);
  });

  it('fails for an unknown Teleport cluster and in fail mode, without touching credentials', async () => {
    const tsh = await writeFakeTsh(join(tmp, 'tsh-ls-fail'), { credentials: { a: current }, kubeClusters: { 'root.example.com': { a: null } } });
    const unknown = await run(tsh.path, ['kube', 'ls', '--format=json', '--cluster=other.example.com']);
    expect(unknown).toEqual({ code: 1, stdout: '', stderr: 'ERROR: cluster "other.example.com" is not found\n' });
    await tsh.configure({ kubeLsMode: 'fail', kubeLsStderr: 'ERROR: access denied' });
    const failed = await run(tsh.path, ['kube', 'ls', '--format=json', '--cluster=root.example.com']);
    expect(failed).toEqual({ code: 1, stdout: '', stderr: 'ERROR: access denied\n' });
    const credential = await run(tsh.path, ['kube', 'credentials', '--kube-cluster=a']);
    expect(credential.code).toBe(0);
  });
});

describe('fake tbot', () => {
  let tbot: Awaited<ReturnType<typeof writeFakeTbot>>;
  const args = () => ['kube', 'credentials', `--destination-dir=${tbot.destinationDir}`];

  beforeAll(async () => {
    tbot = await writeFakeTbot(join(tmp, 'tbot'), { credentials: current, expiredCredentials: expired });
  });

  it('reads tlscert and key from the destination directory', async () => {
    await tbot.setMode('ok');
    const result = await run(tbot.path, args());
    expect(result.code).toBe(0);
    const credential = JSON.parse(result.stdout) as { status: Record<string, string> };
    expect(credential.status.clientCertificateData).toBe(current.certPem);
    expect(credential.status.clientKeyData).toBe(current.keyPem);
  });

  it('echoes the apiVersion from KUBERNETES_EXEC_INFO, or prints a fixed one', async () => {
    const info = JSON.stringify({ kind: 'ExecCredential', apiVersion: 'client.authentication.k8s.io/v1', spec: { interactive: false } });
    await tbot.configure({ mode: 'ok', apiVersion: 'echo' });
    const echoed = await run(tbot.path, args(), { KUBERNETES_EXEC_INFO: info });
    expect(JSON.parse(echoed.stdout).apiVersion).toBe('client.authentication.k8s.io/v1');
    const fallback = await run(tbot.path, args());
    expect(JSON.parse(fallback.stdout).apiVersion).toBe('client.authentication.k8s.io/v1beta1');
    await tbot.configure({ apiVersion: 'client.authentication.k8s.io/v1beta1' });
    const fixed = await run(tbot.path, args(), { KUBERNETES_EXEC_INFO: info });
    expect(JSON.parse(fixed.stdout).apiVersion).toBe('client.authentication.k8s.io/v1beta1');
    const calls = await tbot.invocations();
    expect(calls.at(-1)?.execInfo).toBe(info);
  });

  it('fails with the configured stderr and exit code', async () => {
    await tbot.setMode('fail', { stderr: 'ERROR: renewal failed', exitCode: 3 });
    const result = await run(tbot.path, args());
    expect(result).toEqual({ code: 3, stdout: '', stderr: 'ERROR: renewal failed\n' });
  });

  it('prints garbage', async () => {
    await tbot.setMode('garbage', { garbage: '{"kind":' });
    const result = await run(tbot.path, args());
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('{"kind":');
  });

  it('the mode env var overrides the configured mode', async () => {
    await tbot.setMode('ok');
    const result = await run(tbot.path, args(), { [FAKE_TOOL_MODE_ENV]: 'expired' });
    expect(JSON.parse(result.stdout).status.clientCertificateData).toBe(expired.certPem);
  });

  it('hangs until killed', async () => {
    await tbot.setMode('hang');
    await tbot.resetInvocations();
    const child: ChildProcess = spawn(tbot.path, args(), { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
    await waitForInvocation(tbot);
    expect(child.exitCode).toBeNull();
    child.kill('SIGTERM');
    const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
    expect(code).toBeNull();
    expect(signal).toBe('SIGTERM');
    expect(stdout).toBe('');
  });

  it('refuses other commands', async () => {
    await tbot.setMode('ok');
    const result = await run(tbot.path, ['start']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('unsupported command');
  });
});

async function waitForInvocation(tool: FakeTool): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if ((await tool.invocations()).length > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('fake tool never started');
}
