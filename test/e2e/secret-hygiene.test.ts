// Secret hygiene, end to end: every command, in every output mode, quiet and with -v,
// over fixtures whose private keys, certificates and tokens are known: the bot identity
// in the kubeconfig and in the secrets, the source admin's key, a bearer token in an
// `argocd cluster add` secret, a bearer token as the source credential, and the service
// account tokens the TokenRequest API mints (matched by their JWT shape). None of it may
// reach stdout, stderr, or any file but those the user asked for (written 0600). And TLS
// is verified unless the kubeconfig (or the secret) itself says not to.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tbotSecret } from '../support/cluster-secrets.js';
import { isolatedEnv, runPlugin, type RunResult } from '../support/run.js';
import { argocdClusterAddSecret, mergeKubeconfigs, type Kubeconfig } from '../world/fixtures/index.js';
import type { PemPair } from '../world/pki.js';
import { BOT_ROLE, startSandbox, tbotKubeconfig, TELEPORT_CLUSTER, type Sandbox } from '../world/sandbox.js';

let world: Sandbox;
let dir: string;
let kubeconfigFile: string;
/** The source reached with a bearer token instead of a client certificate. */
let tokenKubeconfigFile: string;
/** The same clusters with a renewed bot certificate: sync then updates, and --diff has something to show. */
let renewedKubeconfigFile: string;
let renewed: PemPair;
/** The last identity tbot wrote for a cluster that has since left Teleport: `clean` deletes its secret. */
let abandoned: PemPair;
/** Fragments of every secret: if any appears in output, something leaked. */
const needles: Array<{ what: string; text: string }> = [];

const HOUR = 3_600_000;
const JWT = /eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\./;

/** A PEM, its base64 body (as tbot stores it inside JSON) and base64 of the whole PEM (as in a secret), in fragments. */
function addPem(what: string, pem: string): void {
  const body = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  const wrapped = Buffer.from(pem).toString('base64');
  for (const [form, text] of [
    ['PEM body', body],
    ['base64 of PEM', wrapped],
  ] as const) {
    for (const at of [0.1, 0.5, 0.85]) {
      const start = Math.floor(text.length * at);
      needles.push({ what: `${what} (${form})`, text: text.slice(start, start + 32) });
    }
  }
}

function expectClean(result: RunResult, label: string): void {
  for (const { what, text } of needles) {
    expect(result.stdout.includes(text), `${label}: ${what} on stdout`).toBe(false);
    expect(result.stderr.includes(text), `${label}: ${what} on stderr`).toBe(false);
  }
  expect(result.stdout, `${label}: a token on stdout`).not.toMatch(JWT);
  expect(result.stderr, `${label}: a token on stderr`).not.toMatch(JWT);
  expect(result.stderr, `${label}: stack trace`).not.toMatch(/^\s+at /m);
}

/** Runs with HOME, TMPDIR and the working directory empty, and checks that they stay empty. */
async function run(label: string, args: string[], options: { allowedFiles?: string } = {}): Promise<RunResult> {
  const scratch = mkdtempSync(path.join(tmpdir(), 'tpa-hygiene-run-'));
  const home = path.join(scratch, 'home');
  const temp = path.join(scratch, 'tmp');
  const cwd = path.join(scratch, 'cwd');
  for (const sub of [home, temp, cwd]) mkdirSync(sub);
  const result = await runPlugin(args, { env: isolatedEnv({ HOME: home, TMPDIR: temp }), cwd });
  expectClean(result, label);
  for (const sub of [home, temp, cwd]) {
    const left = readdirSync(sub).filter((name) => path.join(sub, name) !== options.allowedFiles);
    expect(left, `${label}: files left in ${path.basename(sub)}`).toEqual([]);
  }
  return result;
}

beforeAll(async () => {
  world = await startSandbox({ targets: ['k1', 'k2'] });
  dir = mkdtempSync(path.join(tmpdir(), 'tpa-hygiene-'));
  const k1 = world.targets.k1!;
  const argocdToken = k1.addToken('argocd-manager', ['system:masters']);
  world.source.store.put(argocdClusterAddSecret({ server: k1.url, name: 'direct', bearerToken: argocdToken, caPem: k1.caPem }) as never);
  world.source.store.put({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'tbot-0', namespace: 'argocd' }, spec: { serviceAccountName: 'tbot', containers: [{ name: 'tbot', image: 'tbot' }] }, status: { phase: 'Running' } } as never);
  kubeconfigFile = await world.writeKubeconfig(path.join(dir, 'kubeconfig'));
  const sourceToken = world.source.addToken('hygiene-admin', ['system:masters']);
  const tokenConfig = structuredClone(world.kubeconfig);
  tokenConfig.users.find((user) => user.name === 'source-admin')!.user = { token: sourceToken };
  tokenKubeconfigFile = await world.writeKubeconfig(path.join(dir, 'token-kubeconfig'), tokenConfig);
  renewed = await world.proxy.issueIdentity({ user: 'bot-argocd', roles: [BOT_ROLE], botName: 'argocd', kubernetesGroups: ['editor'] });
  abandoned = await world.proxy.issueIdentity(
    { user: 'bot-argocd', roles: [BOT_ROLE], botName: 'argocd', kubernetesGroups: ['editor'] },
    { notBefore: new Date(Date.now() - 5 * HOUR), notAfter: new Date(Date.now() - 3 * HOUR) },
  );
  const sourceOnly: Kubeconfig = {
    ...world.kubeconfig,
    clusters: world.kubeconfig.clusters.filter((entry) => entry.name === 'source'),
    users: world.kubeconfig.users.filter((entry) => entry.name === 'source-admin'),
    contexts: world.kubeconfig.contexts.filter((entry) => entry.name === 'source'),
  };
  renewedKubeconfigFile = await world.writeKubeconfig(path.join(dir, 'renewed'), mergeKubeconfigs(sourceOnly, tbotKubeconfig(world.proxy, ['k1', 'k2'], renewed)));

  for (const [what, pair] of [
    ['bot', world.botIdentity],
    ['renewed bot', renewed],
    ['abandoned bot', abandoned],
    ['source admin', world.source.admin],
  ] as const) {
    addPem(`${what} key`, pair.keyPem);
    addPem(`${what} certificate`, pair.certPem);
  }
  needles.push({ what: 'argocd cluster add bearer token', text: argocdToken }, { what: 'source bearer token', text: sourceToken });
});

afterAll(async () => {
  await world?.close();
});

describe('no secret in any output', () => {
  it('the fragments looked for are the ones a leak would show (the checks below are not vacuous)', () => {
    const secret = world.source.store.list('secrets', 'argocd').find((entry) => entry.metadata.name?.startsWith('cluster-'))!;
    const decoded = Buffer.from(String((secret.data as Record<string, string>).config), 'base64').toString('utf8');
    expect(needles.some(({ text }) => decoded.includes(text))).toBe(true);
    const kubeconfigText = readFileSync(kubeconfigFile, 'utf8');
    expect(needles.filter(({ text }) => kubeconfigText.includes(text)).map(({ what }) => what)).toEqual(
      expect.arrayContaining(['bot key (base64 of PEM)', 'bot certificate (base64 of PEM)', 'source admin key (base64 of PEM)']),
    );
  });

  it('sync: every output mode, -v, dry runs, --diff, updates and takeovers', async () => {
    const base = ['sync', '--kubeconfig', kubeconfigFile];
    // -v only adds stderr lines to the quiet run, so each output mode runs verbose (and the table once quiet).
    const modes = [['-o', 'table', '--dry-run=client'], ...['table', 'json', 'yaml'].flatMap((output) => ['--dry-run=client', '--dry-run=server'].map((dryRun) => ['-o', output, '-v', dryRun]))];
    await Promise.all(modes.map((mode) => run(`sync ${mode.join(' ')}`, [...base, ...mode, '--diff'])));
    const created = await run('sync -v (creates)', [...base, '-v', '-o', 'json']);
    expect(JSON.parse(created.stdout).summary.create).toBe(2);
    await Promise.all(
      ['table', 'json', 'yaml'].map((output) =>
        run(`sync --diff -o ${output} -v (updates, dry run)`, ['sync', '--kubeconfig', renewedKubeconfigFile, '-o', output, '-v', '--diff', '--dry-run=server']),
      ),
    );
    const updated = await run('sync --diff -v (updates)', ['sync', '--kubeconfig', renewedKubeconfigFile, '-o', 'json', '-v', '--diff']);
    expect(JSON.parse(updated.stdout).summary.update).toBe(2);
    // A takeover of the `argocd cluster add` secret would print its config: not even then.
    await run('sync --take-over -v', ['sync', '--kubeconfig', tokenKubeconfigFile, '--take-over', '--diff', '-v', '--dry-run=client']);
  });

  it('list: every output mode, -A, --probe, -v, with a bearer token as the source credential', async () => {
    const results = await Promise.all(
      [
        ...['table', 'wide', 'json', 'yaml', 'name'].map((output) => ['-o', output, '--kubeconfig', tokenKubeconfigFile]),
        ['-o', 'wide', '--kubeconfig', kubeconfigFile],
      ].map((args) => run(`list ${args.join(' ')}`, ['list', '-A', '--probe', '-v', ...args])),
    );
    // The rows are there (the check above is not vacuous): certificates by fingerprint only.
    const json = JSON.parse(results[2]!.stdout) as { items: Array<{ name: string; probe: { reachable: boolean }; credentials: { certificate: { sha256Fingerprint: string } | null } }> };
    expect(json.items.map((item) => item.probe.reachable)).toEqual(json.items.map(() => true));
    expect(json.items.some((item) => /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/i.test(item.credentials.certificate?.sha256Fingerprint ?? ''))).toBe(true);
  });

  it('clean: every output mode, -v, dry runs, and the delete of a dead registration', async () => {
    // Seeded here, not in beforeAll: the other tests expect every registered cluster to be reachable.
    world.source.store.put(tbotSecret(world.proxy, 'gone', abandoned, new Date(Date.now() - 4 * HOUR)) as never, 'secrets');
    const base = ['clean', '-v', '--kubeconfig', kubeconfigFile];
    const planned = await Promise.all(
      ['table', 'json', 'yaml'].flatMap((output) => ['--dry-run=client', '--dry-run=server'].map((dryRun) => run(`clean -o ${output} ${dryRun}`, [...base, '-o', output, dryRun]))),
    );
    // The dead secret is in the output (the check above is not vacuous), and still there after the dry runs.
    expect(planned[2]!.stdout).toMatch(/"action": "delete",\s+"secret": "\S+",\s+"teleportCluster": "example\.teleport\.sh",\s+"kubeCluster": "gone"/);
    const deleted = await run('clean -o json -v', [...base, '-o', 'json']);
    expect(JSON.parse(deleted.stdout).summary).toEqual({ delete: 1, skip: 0, fail: 0 });
    expect(world.source.store.list('secrets', 'argocd').some((secret) => secret.metadata.annotations?.['teleport.dev/kubernetes-cluster-name'] === 'gone')).toBe(false);
  });

  it('check join and check impersonation: every output mode, -v (the TokenRequest token never shows)', async () => {
    const runs = ['table', 'json', 'yaml'].flatMap((output) => [
      run(`check join -o ${output}`, ['check', 'join', '--cluster-name', TELEPORT_CLUSTER, '-v', '-o', output, '--kubeconfig', tokenKubeconfigFile]),
      run(`check impersonation -o ${output}`, ['check', 'impersonation', '-v', '-o', output, '--kubeconfig', kubeconfigFile]),
    ]);
    const [checkJoin] = await Promise.all(runs);
    expect(checkJoin!.stdout).toMatch(/token\.signature\s+\S+\s+pass/);
    expect(world.source.counts.get('create serviceaccounts/token')).toBeGreaterThan(0);
  });

  it('join: to stdout and to --out-dir (files 0600, nothing else written)', async () => {
    const args = ['join', '--cluster-name', TELEPORT_CLUSTER, '--proxy', 'teleport.example.com:443', '--kube-cluster', 'k1', '-v', '--kubeconfig', kubeconfigFile];
    const stdout = await run('join (stdout)', args);
    expect(stdout.stdout).toMatch(/kind: token/);
    const outDir = path.join(mkdtempSync(path.join(tmpdir(), 'tpa-hygiene-out-')), 'setup');
    const written = await run('join --out-dir', [...args, '--out-dir', outDir, '--apply-rbac']);
    expect(written.code, written.stderr).toBe(0);
    const files = readdirSync(outDir);
    expect(files.length).toBeGreaterThan(0);
    for (const name of files) {
      expect((statSync(path.join(outDir, name)).mode & 0o777).toString(8), name).toBe('600');
      const text = readFileSync(path.join(outDir, name), 'utf8');
      expectClean({ code: 0, stdout: text, stderr: '' }, `join file ${name}`);
    }
  });
});

describe('TLS is verified unless the kubeconfig says not to', () => {
  function withSourceCluster(change: (cluster: Record<string, unknown>) => void): Kubeconfig {
    const config = structuredClone(world.kubeconfig);
    change(config.clusters.find((entry) => entry.name === 'source')!.cluster as unknown as Record<string, unknown>);
    return config;
  }

  it('an API server whose CA the kubeconfig does not hold is refused, without retries, by every command', async () => {
    const wrongCa = await world.writeKubeconfig(
      path.join(dir, 'wrong-ca'),
      withSourceCluster((cluster) => (cluster['certificate-authority-data'] = Buffer.from(world.proxy.hostCA.certPem).toString('base64'))),
    );
    const noCa = await world.writeKubeconfig(path.join(dir, 'no-ca'), withSourceCluster((cluster) => delete cluster['certificate-authority-data']));
    world.source.counts.reset();
    const commands = [['sync'], ['list'], ['check', 'impersonation'], ['check', 'join', '--cluster-name', TELEPORT_CLUSTER]];
    const runs = [...commands.map((command) => [...command, '--kubeconfig', wrongCa]), ...commands.slice(0, 2).map((command) => [...command, '--kubeconfig', noCa])];
    const results = await Promise.all(runs.map((args) => run(args.join(' '), [...args, '-v'])));
    for (const result of results) {
      expect(result.code).toBe(1);
      expect(result.stdout + result.stderr).toMatch(/TLS verification of https:\/\/127\.0\.0\.1:\d+ failed \((SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)\)/);
      expect(result.stderr).not.toMatch(/^retrying /m);
    }
    // The handshake failed: no request reached the server.
    expect(world.source.counts.total).toBe(0);
  });

  it('insecure-skip-tls-verify in the kubeconfig is honoured', async () => {
    const insecure = await world.writeKubeconfig(
      path.join(dir, 'insecure'),
      withSourceCluster((cluster) => {
        delete cluster['certificate-authority-data'];
        cluster['insecure-skip-tls-verify'] = true;
      }),
    );
    const result = await run('list insecure', ['list', '-o', 'name', '--kubeconfig', insecure]);
    expect(result.code, result.stderr).toBe(0);
  });

  it('a registered cluster whose stored CA does not match the proxy is unreachable, never probed without verification', async () => {
    const proxyRequests = world.proxy.requests.length;
    const wrongCa = await world.writeKubeconfig(
      path.join(dir, 'wrong-teleport-ca'),
      mergeKubeconfigs(
        { ...world.kubeconfig, clusters: world.kubeconfig.clusters.filter((entry) => entry.name === 'source'), users: world.kubeconfig.users.filter((entry) => entry.name === 'source-admin'), contexts: world.kubeconfig.contexts.filter((entry) => entry.name === 'source') },
        (() => {
          const config = tbotKubeconfig(world.proxy, ['k2'], world.botIdentity);
          config.clusters[0]!.cluster['certificate-authority-data'] = Buffer.from(world.source.ca.certPem).toString('base64');
          return config;
        })(),
      ),
    );
    const synced = await run('sync (wrong Teleport CA)', ['sync', '-o', 'json', '--kubeconfig', wrongCa]);
    expect(synced.code, synced.stderr).toBe(0);
    const stored = world.source.store.list('secrets', 'argocd').map((secret) => Buffer.from(String((secret.data as Record<string, string>).config ?? ''), 'base64').toString('utf8'));
    for (const config of stored) expect(config).not.toMatch(/"insecure":\s*true/);
    const listed = await run('list --probe (wrong Teleport CA)', ['list', '--probe', '-o', 'json', '--kubeconfig', kubeconfigFile]);
    const k2 = JSON.parse(listed.stdout).items.find((item: { kubeCluster: string }) => item.kubeCluster === 'k2');
    expect(k2.probe).toMatchObject({ reachable: false, error: expect.stringMatching(/TLS verification .* failed/) });
    // The proxy never saw a request for k2 (the handshake was refused by the client).
    expect(world.proxy.requests.slice(proxyRequests).filter((record) => record.kubeCluster === 'k2')).toHaveLength(0);
    // Restore k2's secret.
    expect((await run('sync', ['sync', '--kubeconfig', kubeconfigFile])).code).toBe(0);
  });
});

