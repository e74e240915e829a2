// Bad input, end to end: broken kubeconfigs, missing credential files, unknown contexts,
// exec plugins that hang, fail, print garbage or an expired certificate, garbled secrets,
// malformed JWKS and token files, bad flag values. Each must end in one `error:` line
// that names the input, exit 1 (runtime) or 2 (usage), no stack trace, and no write.
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import { clusterSecretName, type SecretObject } from '../../src/argocd/cluster-secret.js';
import { isolatedEnv, runPlugin, type RunResult } from '../support/run.js';
import { mergeKubeconfigs, tbotKubernetesV2Kubeconfig, writeFakeTbot, type FakeTbot, type Kubeconfig } from '../world/fixtures/index.js';
import { BOT_ROLE, startSandbox, TELEPORT_CLUSTER, type Sandbox } from '../world/sandbox.js';

let world: Sandbox;
let dir: string;
let kubeconfigFile: string;
let tbot: FakeTbot;
/** Source context (admin) plus k1 through tbot's exec plugin and k2 with a static certificate. */
let execKubeconfig: string;
let snapshot: string;

const nameOf = (kube: string) => clusterSecretName('teleport.argocd-cluster', { teleportCluster: TELEPORT_CLUSTER, kubeCluster: kube });
const secretsState = () => JSON.stringify(world.source.store.list('secrets', 'argocd'));
const writes = () => world.source.counts.filter({ verb: ['create', 'update', 'patch', 'delete'], resource: ['secrets', 'clusterrolebindings'] });
const file = (name: string, text: string) => {
  const target = path.join(dir, name);
  writeFileSync(target, text, { mode: 0o600 });
  return target;
};

function run(args: string[], options: { input?: string } = {}): Promise<RunResult> {
  // First, so that a --request-timeout in `args` wins (the last one does).
  return runPlugin(['--request-timeout', '2s', ...args], { env: isolatedEnv(), input: options.input, timeoutMs: 20_000 });
}

/** Exactly one `error:` line matching `pattern`, the exit code, nothing on stdout, no stack trace. */
function expectOneError(result: RunResult, code: 1 | 2, pattern: RegExp): void {
  const errors = result.stderr.split('\n').filter((line) => line.startsWith('error:'));
  expect(errors, result.stderr).toEqual([expect.stringMatching(pattern)]);
  expect(result.code, result.stderr).toBe(code);
  expect(result.stdout).toBe('');
  expect(result.stderr).not.toMatch(/^\s+at /m);
  expect(result.stderr).not.toMatch(/main\.cjs|node:internal|\bthrow\b/);
  if (code === 2) expect(result.stderr).toMatch(/^See '.*--help' for usage\.$/m);
}

const COMMANDS: Record<string, string[]> = {
  sync: ['sync'],
  list: ['list'],
  'check join': ['check', 'join', '--cluster-name', TELEPORT_CLUSTER],
  'check impersonation': ['check', 'impersonation'],
  join: ['join', '--cluster-name', TELEPORT_CLUSTER, '--proxy', 'teleport.example.com:443', '--kube-cluster', 'k1'],
};

beforeAll(async () => {
  world = await startSandbox({ targets: ['k1', 'k2'] });
  dir = mkdtempSync(path.join(tmpdir(), 'tpa-bad-input-'));
  kubeconfigFile = await world.writeKubeconfig(path.join(dir, 'kubeconfig'));
  // Registered before any bad input: none of it may change or delete these.
  const synced = await runPlugin(['sync', '--kubeconfig', kubeconfigFile]);
  expect(synced.code, synced.stderr).toBe(0);
  snapshot = secretsState();

  tbot = await writeFakeTbot(path.join(dir, 'tools'), { credentials: world.botIdentity });
  const hour = 3_600_000;
  await tbot.setExpiredCredentials(
    await world.proxy.issueIdentity({ user: 'bot-argocd', roles: [BOT_ROLE], botName: 'argocd', kubernetesGroups: ['editor'] }, { notBefore: new Date(Date.now() - 2 * hour), notAfter: new Date(Date.now() - hour) }),
  );
  const sourceOnly: Kubeconfig = {
    ...world.kubeconfig,
    clusters: world.kubeconfig.clusters.filter((entry) => entry.name === 'source'),
    users: world.kubeconfig.users.filter((entry) => entry.name === 'source-admin'),
    contexts: world.kubeconfig.contexts.filter((entry) => entry.name === 'source'),
  };
  const viaExec = tbotKubernetesV2Kubeconfig({
    teleportCluster: TELEPORT_CLUSTER,
    proxyAddr: world.proxy.addr,
    kubeClusters: ['k1'],
    caPem: world.proxy.hostCA.certPem,
    credentials: { kind: 'exec', tbotPath: tbot.path, destinationDir: tbot.destinationDir },
  });
  viaExec.users[0]!.name = 'tbot-exec';
  viaExec.contexts[0]!.context.user = 'tbot-exec';
  const staticK2 = tbotKubernetesV2Kubeconfig({
    teleportCluster: TELEPORT_CLUSTER,
    proxyAddr: world.proxy.addr,
    kubeClusters: ['k2'],
    caPem: world.proxy.hostCA.certPem,
    credentials: { kind: 'static', credentials: world.botIdentity },
  });
  const merged = mergeKubeconfigs(sourceOnly, viaExec, staticK2);
  merged['current-context'] = 'source';
  execKubeconfig = await world.writeKubeconfig(path.join(dir, 'exec-kubeconfig'), merged);
});

afterAll(async () => {
  await world?.close();
});

beforeEach(async () => {
  world.source.counts.reset();
  await tbot.setMode('ok');
  return () => {
    expect(writes()).toHaveLength(0);
    expect(secretsState()).toBe(snapshot);
  };
});

describe('kubeconfigs that cannot be used', () => {
  const BROKEN: Array<[string, string, RegExp]> = [
    ['empty', '', /^error: no configuration has been provided: ".*empty" has no contexts$/],
    ['not-yaml', 'clusters: [\n  - {name: a\n', /^error: error loading kubeconfig ".*not-yaml": line \d+, column \d+: /],
    ['a-list', '- clusters\n- users\n', /^error: error loading kubeconfig ".*a-list": line 1: expected a mapping with clusters, users and contexts$/],
    ['binary', '\u0000\u0001\u0002\u00ff', /^error: error loading kubeconfig ".*binary": /],
    ['clusters-not-a-list', 'clusters: 5\n', /^error: error loading kubeconfig ".*clusters-not-a-list": line 1: "clusters" must be a list$/],
    ['nameless-cluster', 'clusters: [{cluster: {server: "https://127.0.0.1:6443"}}]\n', /^error: error loading kubeconfig ".*nameless-cluster": line 1: clusters\[0\] has no name$/],
    ['context-not-a-mapping', 'contexts: [{name: x, context: "str"}]\ncurrent-context: x\n', /^error: error loading kubeconfig ".*context-not-a-mapping": line 1: contexts "x": "context" must be a mapping$/],
    ['dangling-context', 'contexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n', /^error: context "x" in ".*dangling-context" refers to cluster "c", which does not exist$/],
    ['no-current-context', 'clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443"}}]\ncontexts: [{name: x, context: {cluster: c}}]\n', /^error: current-context is not set in ".*no-current-context"; pass --context$/],
  ];
  const shape = (server: unknown, extra: Record<string, unknown> = {}) =>
    toYaml({ clusters: [{ name: 'c', cluster: { server, ...extra } }], users: [{ name: 'u', user: {} }], contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }], 'current-context': 'x' });

  /** `sync` (the command that writes) and, in turn, one of the others: loading is shared code. */
  const commandsFor = (index: number) => [COMMANDS.sync!, Object.values(COMMANDS).slice(1)[index % 4]!];

  it.each(BROKEN.map((entry, index) => [...entry, index] as const))('%s: one error line naming the file', async (name, text, pattern, index) => {
    const kubeconfig = file(name, text);
    const results = await Promise.all(commandsFor(index).map((command) => run([...command, '--kubeconfig', kubeconfig])));
    for (const result of results) expectOneError(result, 1, pattern);
  });

  it('a cluster entry without a server, with a server that is not a URL, or with CA data that is not base64', async () => {
    const cases: Array<[string, RegExp]> = [
      [file('no-server', shape(undefined)), /^error: context "x" \(.*no-server\): cluster "c" has no server$/],
      [file('bad-server', shape('not a url')), /^error: context "x" \(.*bad-server\): cluster "c" has an invalid server "not a url"/],
      [file('bad-ca-data', shape(world.source.url, { 'certificate-authority-data': '!!! not base64 !!!' })), /^error: context "x" \(.*bad-ca-data\): certificate-authority-data is not base64$/],
    ];
    for (const [index, [kubeconfig, pattern]] of cases.entries()) {
      const results = await Promise.all(commandsFor(index).map((command) => run([...command, '--kubeconfig', kubeconfig])));
      for (const result of results) expectOneError(result, 1, pattern);
    }
  });

  it('a missing kubeconfig file, and an unknown --context', async () => {
    for (const result of await Promise.all(commandsFor(2).map((command) => run([...command, '--kubeconfig', path.join(dir, 'nope')])))) {
      expectOneError(result, 1, /^error: kubeconfig ".*nope" does not exist$/);
    }
    const results = await Promise.all(Object.values(COMMANDS).map((command) => run([...command, '--kubeconfig', kubeconfigFile, '--context', 'prod'])));
    for (const result of results) expectOneError(result, 1, /^error: context "prod" does not exist in ".*kubeconfig"$/);
    expectOneError(await run(['sync', '--kubeconfig', kubeconfigFile, '--source-kubeconfig', path.join(dir, 'nope')]), 1, /^error: kubeconfig ".*nope" does not exist$/);
  });

  it('certificate, key and CA files that do not exist: named, not retried, nothing sent', async () => {
    const edit = (name: string, change: (config: Kubeconfig) => void) => {
      const config = structuredClone(world.kubeconfig);
      change(config);
      return file(name, toYaml(config));
    };
    const source = (config: Kubeconfig) => ({ cluster: config.clusters.find((entry) => entry.name === 'source')!.cluster, user: config.users.find((entry) => entry.name === 'source-admin')!.user });
    const cases: Array<[string, RegExp]> = [
      [edit('missing-ca', (config) => Object.assign(source(config).cluster, { 'certificate-authority-data': undefined, 'certificate-authority': '/nonexistent/ca.crt' })), /unable to read certificate-authority "\/nonexistent\/ca\.crt": no such file$/],
      [edit('missing-cert', (config) => Object.assign(source(config).user, { 'client-certificate-data': undefined, 'client-certificate': 'admin.crt' })), /unable to read client-certificate ".*\/admin\.crt": no such file$/],
      [edit('missing-key', (config) => Object.assign(source(config).user, { 'client-key-data': undefined, 'client-key': 'admin.key' })), /unable to read client-key ".*\/admin\.key": no such file$/],
    ];
    for (const [index, [kubeconfig, pattern]] of cases.entries()) {
      const results = await Promise.all(commandsFor(index + 1).map((command) => run([...command, '--kubeconfig', kubeconfig])));
      for (const result of results) expectOneError(result, 1, new RegExp(`^error: context "source" \\(.*\\): ${pattern.source}`));
    }
    expect(world.source.counts.total).toBe(0);
  });

  it('a Teleport context whose certificate file is missing fails alone; sync writes the others and prunes nothing', async () => {
    const config = structuredClone(world.kubeconfig);
    config.users.push({ name: 'broken', user: { 'client-certificate': 'gone.crt', 'client-key': 'gone.key' } });
    config.contexts.find((entry) => entry.name === `${TELEPORT_CLUSTER}-k1`)!.context.user = 'broken';
    const kubeconfig = file('teleport-cert-missing', toYaml(config));
    const result = await run(['sync', '--prune', '-o', 'json', '--kubeconfig', kubeconfig]);
    expect(result.code).toBe(1);
    const items = JSON.parse(result.stdout).items;
    expect(items.map((item: { kubeCluster: string; action: string }) => [item.kubeCluster, item.action])).toEqual([
      ['k1', 'fail'],
      ['k2', 'unchanged'],
    ]);
    expect(result.stderr).toMatch(/^error: example\.teleport\.sh-k1: cannot read client certificate file ".*gone\.crt"/m);
    expect(result.stderr).not.toMatch(/^\s+at /m);
  });
});

describe('a kubeconfig that yields no Teleport context', () => {
  it('sync --prune refuses (exit 1) and deletes nothing: a broken kubeconfig must not wipe Argo CD', async () => {
    const sourceOnly: Kubeconfig = {
      ...world.kubeconfig,
      clusters: world.kubeconfig.clusters.filter((entry) => entry.name === 'source'),
      users: world.kubeconfig.users.filter((entry) => entry.name === 'source-admin'),
      contexts: world.kubeconfig.contexts.filter((entry) => entry.name === 'source'),
    };
    const kubeconfig = file('no-teleport-contexts', toYaml(sourceOnly));
    expect(world.source.store.list('secrets', 'argocd').length).toBeGreaterThan(0);
    for (const output of ['table', 'json']) {
      expectOneError(await run(['sync', '--prune', '-o', output, '--kubeconfig', kubeconfig]), 1, /^error: refusing to prune: no Teleport context was found, .*--allow-empty/);
    }
  });
});

describe('exec plugins that hang, fail, print garbage or an expired certificate', () => {
  const MODES: Array<['hang' | 'fail' | 'garbage' | 'expired', RegExp]> = [
    ['hang', /timed out after 1s$/],
    ['fail', /failed with exit code 1: ERROR: tbot kube credentials failed$/],
    ['garbage', /did not print an ExecCredential \(output is not JSON\)$/],
    ['expired', /returned a credential that expired at \S+; log in again/],
  ];

  it.each(MODES)('sync: a Teleport context whose plugin does "%s" fails with the command named; the others are written, nothing is pruned', async (mode, pattern) => {
    await tbot.setMode(mode);
    const result = await runPlugin(['sync', '--prune', '-o', 'json', '--kubeconfig', execKubeconfig, '--exec-timeout', '1s'], { env: isolatedEnv() });
    expect(result.code, result.stderr).toBe(1);
    const items = JSON.parse(result.stdout).items as Array<{ kubeCluster: string; action: string; reason: string | null }>;
    expect(items.map((item) => [item.kubeCluster, item.action])).toEqual([
      ['k1', 'fail'],
      ['k2', 'unchanged'],
    ]);
    const errors = result.stderr.split('\n').filter((line) => line.startsWith('error:'));
    expect(errors).toEqual([expect.stringMatching(new RegExp(`^error: example\\.teleport\\.sh-k1: exec plugin "tbot kube credentials --destination-dir=\\S+" ${pattern.source}`))]);
    expect(result.stderr).not.toMatch(/^\s+at /m);
  });

  it.each(MODES)('list, sync, check impersonation (and check join, join): a source context whose plugin does "%s" is one error line naming the command', async (mode, pattern) => {
    await tbot.setMode(mode);
    const context = ['--kubeconfig', execKubeconfig, '--context', `${TELEPORT_CLUSTER}-k1`, '--request-timeout', '1s'];
    // Each mode with two of the commands that stop on it (the client code is shared), check join and join in turn.
    const stoppers = [COMMANDS.list!, ['check', 'impersonation'], ['sync', '--exec-timeout', '1s']];
    const index = MODES.findIndex(([name]) => name === mode);
    const commands = [stoppers[index % 3]!, stoppers[(index + 1) % 3]!];
    const results = await Promise.all(commands.map((command) => runPlugin([...command, ...context], { env: isolatedEnv(), timeoutMs: 20_000 })));
    for (const result of results) {
      expectOneError(result, 1, new RegExp(`exec plugin "tbot kube credentials --destination-dir=\\S+" ${pattern.source}`));
    }
    // check join reports the failure per check; join stops before writing anything.
    if (index % 2 === 1) return;
    const checkJoin = await runPlugin([...COMMANDS['check join']!, ...context, '-o', 'json'], { env: isolatedEnv(), timeoutMs: 20_000 });
    expect(checkJoin.code).toBe(1);
    const report = JSON.parse(checkJoin.stdout) as { results: Array<{ id: string; status: string; message: string }> };
    expect(report.results.find((entry) => entry.id === 'jwks.fetch')).toMatchObject({ status: 'fail', message: expect.stringMatching(new RegExp(`exec plugin "tbot kube credentials[^"]*" ${pattern.source}`)) });
    const outDir = path.join(dir, `join-out-${mode}`);
    const join = await runPlugin([...COMMANDS.join!, ...context, '--out-dir', outDir], { env: isolatedEnv(), timeoutMs: 20_000 });
    expect(join.code).toBe(1);
    expect(join.stderr).toMatch(/^error: check join: .*nothing was written/m);
    expect(() => readdirSync(outDir)).toThrow();
  });
});

describe('garbled secrets', () => {
  const garble = (name: string, data: Record<string, string>, ours = true): SecretObject => ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name,
      namespace: 'argocd',
      labels: { 'argocd.argoproj.io/secret-type': 'cluster', ...(ours ? { 'app.kubernetes.io/managed-by': 'kubectl-teleport-argocd' } : {}) },
      annotations: { 'teleport.dev/teleport-cluster-name': TELEPORT_CLUSTER, 'teleport.dev/kubernetes-cluster-name': 'garbled' },
    },
    type: 'Opaque',
    data,
  });
  const b64 = (text: string) => Buffer.from(text).toString('base64');

  it('are rows marked Invalid in list, skipped by check impersonation, and never crash sync', async () => {
    const garbled = [
      garble('garbled-base64', { server: '%%%not-base64%%%', config: '%%%' }),
      garble('garbled-config', { server: b64('https://example.com/v1/teleport/eA/eQ'), config: b64('{"tlsClientConfig": ') }),
      garble('garbled-cert', { server: b64('https://example.com/v1/teleport/eA/eg'), config: b64(JSON.stringify({ tlsClientConfig: { caData: b64('x'), certData: b64('not a certificate'), keyData: b64('k') } })) }),
      garble('garbled-empty', {}, false),
    ];
    // Seed directly (the API would refuse bad base64), and restore afterwards.
    for (const secret of garbled) world.source.store.put(secret as never);
    try {
      const list = await run(['list', '-A', '-o', 'json', '--kubeconfig', kubeconfigFile]);
      expect(list.code, list.stderr).toBe(0);
      const status = Object.fromEntries(JSON.parse(list.stdout).items.map((item: { secret: { name: string }; status: string }) => [item.secret.name, item.status]));
      for (const secret of garbled) expect(status[secret.metadata.name], secret.metadata.name).toBe('Invalid');
      const gated = await run(['list', '-A', '--fail-on', 'invalid', '--kubeconfig', kubeconfigFile]);
      expect(gated.code).toBe(1);
      expect(gated.stderr).toMatch(/^error: 4 cluster\(s\) match --fail-on invalid: /m);

      const check = await run(['check', 'impersonation', '-o', 'json', '--kubeconfig', kubeconfigFile]);
      expect(check.stderr).not.toMatch(/^\s+at /m);
      const results = JSON.parse(check.stdout).results as Array<{ subject: string; status: string; id: string }>;
      expect(results.filter((entry) => entry.id.startsWith('target.') && /garbled/.test(entry.subject)).every((entry) => entry.status === 'skip')).toBe(true);

      const sync = await run(['sync', '-o', 'json', '--kubeconfig', kubeconfigFile]);
      expect(sync.code, sync.stderr).toBe(0);
      expect(JSON.parse(sync.stdout).summary).toMatchObject({ unchanged: 2, fail: 0 });
      for (const secret of garbled) expect(world.source.store.get('secrets', 'argocd', secret.metadata.name)?.data).toEqual(secret.data);
    } finally {
      for (const secret of garbled) world.source.store.delete('secrets', 'argocd', secret.metadata.name);
    }
  });
});

describe('malformed JWKS and token files', () => {
  const CHECK = ['check', 'join', '--cluster-name', TELEPORT_CLUSTER];

  it('a JWKS that is not JSON, or has no usable key: check join fails it, join writes nothing', async () => {
    const issuer = world.source.issuer as unknown as { jwks: () => unknown };
    const original = issuer.jwks;
    try {
      for (const [jwks, pattern] of [
        ['{"keys": [', /not JSON/],
        [{ keys: 'none' }, /keys/],
        [{ keys: [{ kty: 'RSA', kid: 'x', n: '!!', e: 'AQAB' }] }, /./],
      ] as const) {
        issuer.jwks = () => jwks;
        const result = await run([...CHECK, '-o', 'json', '--kubeconfig', kubeconfigFile]);
        expect(result.code, result.stderr).toBe(1);
        expect(result.stderr).not.toMatch(/^\s+at /m);
        const failed = (JSON.parse(result.stdout).results as Array<{ id: string; status: string; message: string }>).filter((entry) => entry.id.startsWith('jwks.') && entry.status === 'fail');
        expect(failed.length, JSON.stringify(jwks)).toBeGreaterThan(0);
        expect(failed.map((entry) => entry.message).join(' ')).toMatch(pattern);
        const outDir = path.join(dir, 'join-jwks');
        const join = await run([...COMMANDS.join!, '--kubeconfig', kubeconfigFile, '--out-dir', outDir, '--skip-checks', '--join-type', 'static_jwks']);
        expectOneError(join, 1, /^error: .*JWKS/);
        expect(() => readdirSync(outDir)).toThrow();
      }
    } finally {
      issuer.jwks = original;
    }
  });

  it('token files that are missing, not YAML or empty: one error line naming the file, before any request', async () => {
    const cases: Array<[string, string | null, RegExp]> = [
      ['missing', null, /^error: token file ".*missing" does not exist$/],
      ['not-yaml', 'kind: token\nspec: [\n', /^error: token file ".*not-yaml": /],
      ['empty', '', /^error: token file ".*empty": no YAML object in it/],
    ];
    const results = await Promise.all(
      cases.map(([name, text]) => run([...CHECK, '--kubeconfig', kubeconfigFile, '--token-file', text === null ? path.join(dir, name) : file(name, text)])),
    );
    results.forEach((result, index) => expectOneError(result, 1, cases[index]![2]));
    expectOneError(await run([...CHECK, '--kubeconfig', kubeconfigFile, '--token-file', '-'], { input: 'kind: token\nspec: [\n' }), 1, /^error: token file "stdin": /);
    expect(world.source.counts.total).toBe(0);
  });

  it('token files that hold no token, or a token with a broken JWKS: a failed check naming the problem', async () => {
    const role = file('a-role', toYaml({ kind: 'role', version: 'v7', metadata: { name: 'x' }, spec: {} }));
    const brokenJwks = file(
      'broken-jwks',
      toYaml({ kind: 'token', version: 'v2', metadata: { name: 'argocd-join' }, spec: { roles: ['Bot'], bot_name: 'argocd', join_method: 'kubernetes', kubernetes: { type: 'static_jwks', static_jwks: { jwks: '{"keys": [' }, allow: [{ service_account: 'argocd:tbot' }] } } }),
    );
    for (const [tokenFile, pattern] of [
      [role, /role/],
      [brokenJwks, /jwks|JSON/i],
    ] as const) {
      const result = await run([...CHECK, '--kubeconfig', kubeconfigFile, '--token-file', tokenFile, '-o', 'json']);
      expect(result.code).toBe(1);
      expect(result.stderr).not.toMatch(/^\s+at /m);
      const failed = (JSON.parse(result.stdout).results as Array<{ id: string; status: string; message: string }>).filter((entry) => entry.status === 'fail');
      expect(failed.length).toBeGreaterThan(0);
      expect(failed.map((entry) => `${entry.id} ${entry.message}`).join('\n')).toMatch(pattern);
    }
  });
});

describe('flags with bad values', () => {
  const BAD: Array<[string[], RegExp]> = [
    [['sync', '--request-timeout', 'soon'], /^error: invalid value "soon" for --request-timeout/],
    [['list', '--request-timeout', '-1s'], /^error: invalid value "-1s" for --request-timeout/],
    [['sync', '--watch', '--interval', '500ms'], /^error: --interval must be at least 1s$/],
    [['sync', '--concurrency', '0'], /^error: --concurrency must be a whole number of at least 1$/],
    [['sync', '--concurrency', 'many'], /^error: invalid value for --concurrency: must be a number$/],
    [['sync', '--secret-prefix', 'Bad_Prefix'], /^error: invalid --secret-prefix "Bad_Prefix"/],
    [['sync', '-n', 'Bad_NS'], /^error: invalid namespace "Bad_NS"/],
    [['sync', '-o', 'wide'], /^error: unable to match a printer suitable for the output format "wide"/],
    [['list', '--color', 'sometimes'], /^error: invalid value "sometimes" for --color/],
    [['sync', '--dry-run=maybe'], /^error: Invalid dry-run value \(maybe\)/],
    [['sync', '--label', 'team'], /^error: invalid --label "team": expected key=value$/],
    [['sync', '--cluster-resources'], /^error: --cluster-resources is only applicable together with --namespaces$/],
    [['sync', '--prune', '--allow-empty', '--watch', '--dry-run=client'], /^error: --watch cannot be combined with --dry-run$/],
    [['sync', '--exec-timeout', 'x'], /^error: invalid value "x" for --exec-timeout/],
    [['list', '--fail-on', 'bogus'], /^error: invalid value "bogus" for --fail-on/],
    [['list', '--stale-after', 'x'], /^error: invalid value "x" for --stale-after/],
    [['join', '--cluster-name', 'a', '--proxy', 'noport', '--kube-cluster', 'k1'], /^error: invalid value "noport" for --proxy/],
    [['join', '--cluster-name', 'a', '--proxy', 'p:443', '--join-type', 'x', '--kube-cluster', 'k1'], /^error: invalid value "x" for --join-type/],
    [['join', '--cluster-name', 'a', '--proxy', 'p:443', '--service-account', 'tbot', '--kube-cluster', 'k1'], /^error: invalid value "tbot" for --service-account/],
    [['check', 'join'], /^error: required flag\(s\) not set: --cluster-name$/],
    [['check', 'impersonation', '--target-context', 'k1'], /^error: --target-context "k1": expected KUBE=CONTEXT$/],
    [['sync', '--bogus'], /^error: unknown flag or argument: --bogus$/],
    [['sync', 'prod-[eu'], /^error: invalid GLOB "prod-\[eu": /],
    [['sync', '--exclude', '[z-a]'], /^error: invalid --exclude "\[z-a\]": /],
    [['check', 'impersonation', 'prod-[eu'], /^error: invalid GLOB "prod-\[eu": /],
  ];

  it('each is a usage error (exit 2) with one error line, before any request', async () => {
    const results = await Promise.all(BAD.map(([args]) => run([...args, '--kubeconfig', kubeconfigFile])));
    results.forEach((result, index) => expectOneError(result, 2, BAD[index]![1]));
    expect(world.source.counts.total).toBe(0);
  });

  it('a global flag given twice: the last one wins, as with kubectl', async () => {
    const result = await runPlugin(['list', '--kubeconfig', '/nonexistent', '--request-timeout', '1s', '--kubeconfig', kubeconfigFile, '--request-timeout', '2s', '-o', 'name'], { env: isolatedEnv() });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.split('\n').filter(Boolean).sort()).toEqual([`secret/${nameOf('k1')}`, `secret/${nameOf('k2')}`].sort());
  });
});

