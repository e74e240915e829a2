// Faults for `sync` and `list`: the built binary against the sandbox (source cluster and
// six Teleport kube clusters behind the proxy) while the source API server throttles,
// fails, drops connections, answers too slowly, conflicts, or goes away mid-batch.
// Every test checks the request log (retries happen, and stop), the final state of the
// secrets (nothing half-written, nothing lost) and the exit code and summary line.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { clusterSecretName, type SecretObject } from '../../src/argocd/cluster-secret.js';
import { runPlugin, type RunResult } from '../support/run.js';
import type { RequestRecord } from '../world/apiserver/index.js';
import { tbotClusterSecret } from '../world/fixtures/index.js';
import { startSandbox, TELEPORT_CLUSTER, type Sandbox } from '../world/sandbox.js';

const KUBES = ['k1', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7', 'k8'];
const ATTEMPTS = 5;

let world: Sandbox;
let kubeconfigFile: string;

const nameOf = (kube: string) => clusterSecretName('teleport.argocd-cluster', { teleportCluster: TELEPORT_CLUSTER, kubeCluster: kube });
const stored = () => world.source.store.list('secrets', 'argocd') as unknown as SecretObject[];
const storedNames = () => stored().map((secret) => secret.metadata.name).sort();
/** Requests whose body names this secret (creates carry the name only in the body). */
const about = (kube: string) => (record: RequestRecord) => record.name === nameOf(kube) || (record.body?.toString('utf8') ?? '').includes(`"${nameOf(kube)}"`);
const writesOf = (kube: string, verb: 'create' | 'update') => world.source.counts.filter({ verb, resource: 'secrets', predicate: about(kube) });

interface SyncRun extends RunResult {
  document: { items: Array<{ action: string; secret: string; kubeCluster: string; reason: string | null }>; summary: Record<string, number> } | null;
  actions: Record<string, string>;
}

async function sync(args: string[] = [], requestTimeout = '1s'): Promise<SyncRun> {
  const result = await runPlugin(['sync', '--kubeconfig', kubeconfigFile, '-o', 'json', '-v', '--request-timeout', requestTimeout, ...args]);
  const document = result.stdout ? JSON.parse(result.stdout) : null;
  const actions = Object.fromEntries((document?.items ?? []).map((item: { kubeCluster: string; action: string }) => [item.kubeCluster, item.action]));
  return { ...result, document, actions };
}

/** The delays the -v log announces for one operation, in order. */
function retryDelays(stderr: string, what: string): number[] {
  return [...stderr.matchAll(/^retrying (.+) in (\d+)ms \(attempt (\d+)\/(\d+)\)/gm)].filter((match) => match[1] === what).map((match) => Number(match[2]));
}

/** A secret as sync writes it: every field present, the config parseable, the certificate the bot's. */
function expectComplete(secret: SecretObject | undefined, kube: string): void {
  expect(secret, kube).toBeDefined();
  const data = Object.fromEntries(Object.entries(secret!.data ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64').toString('utf8')]));
  expect(Object.keys(data).sort()).toEqual(['config', 'name', 'server']);
  expect(data.server).toBe(world.proxy.kubeServerUrl(kube));
  const tls = JSON.parse(data.config!).tlsClientConfig;
  expect(Buffer.from(tls.certData, 'base64').toString('utf8')).toBe(world.botIdentity.certPem);
  expect(Buffer.from(tls.keyData, 'base64').toString('utf8')).toBe(world.botIdentity.keyPem);
  expect(Buffer.from(tls.caData, 'base64').toString('utf8')).toBe(world.proxy.hostCA.certPem);
  expect(secret!.metadata.labels?.['app.kubernetes.io/managed-by']).toBe('kubectl-teleport-argocd');
}

function expectNoStackTrace(result: RunResult): void {
  expect(result.stderr).not.toMatch(/^\s+at /m);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
async function until(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

beforeAll(async () => {
  world = await startSandbox({ targets: KUBES });
  kubeconfigFile = await world.writeKubeconfig(path.join(mkdtempSync(path.join(tmpdir(), 'tpa-faults-')), 'kubeconfig'));
});

afterAll(async () => {
  await world?.close();
});

beforeEach(() => world.resetSource());

afterEach(async () => {
  world.source.faults.clear();
  await world.source.restart();
});

describe('sync under throttling, server errors, dropped connections and timeouts', () => {
  it('retries each transient fault, fails only the clusters whose writes keep failing, and every other cluster is written once', async () => {
    const create = (kube: string) => ({ verb: 'create', resource: 'secrets', predicate: about(kube) });
    world.source.faults.tooManyRequests(create('k1'), { times: 2, retryAfterSeconds: 1 });
    world.source.faults.serverError(create('k2'), { times: 2, code: 503 });
    world.source.faults.serverError(create('k3'), { times: 1000, code: 500 });
    world.source.faults.dropConnection(create('k4'), 2);
    world.source.faults.dropConnection(create('k5'), 1000);
    world.source.faults.latency(create('k6'), 2000, 1);
    world.source.faults.latency(create('k7'), 5000);
    const result = await sync([], '500ms');

    expect(result.code).toBe(1);
    expect(result.actions).toEqual({ k1: 'create', k2: 'create', k3: 'fail', k4: 'create', k5: 'fail', k6: 'create', k7: 'fail', k8: 'create' });
    const statuses = (kube: string) => writesOf(kube, 'create').map((record) => record.status ?? 'dropped');
    // Transient faults: retried until the write lands.
    expect(statuses('k1')).toEqual([429, 429, 201]);
    expect(statuses('k2')).toEqual([503, 503, 201]);
    expect(statuses('k4')).toEqual(['dropped', 'dropped', 201]);
    expect(statuses('k8')).toEqual([201]);
    expect(result.stderr).toMatch(new RegExp(`retrying create secret ${nameOf('k6')} in \\d+ms \\(attempt 2/5\\): request to .* timed out`));
    // Retry-After is honoured: no retry of k1 sooner than the server asked.
    const k1Delays = retryDelays(result.stderr, `create secret ${nameOf('k1')}`);
    expect(k1Delays).toHaveLength(2);
    for (const delay of k1Delays) expect(delay).toBeGreaterThanOrEqual(1000);
    // Persistent faults: a bounded number of attempts, with growing delays, then a failed item.
    for (const kube of ['k3', 'k5', 'k7']) {
      expect(writesOf(kube, 'create'), kube).toHaveLength(ATTEMPTS);
      const delays = retryDelays(result.stderr, `create secret ${nameOf(kube)}`);
      expect(delays, kube).toHaveLength(ATTEMPTS - 1);
      for (let index = 1; index < delays.length; index += 1) expect(delays[index]).toBeGreaterThanOrEqual(delays[index - 1]!);
    }
    const reasons = Object.fromEntries(result.document!.items.filter((item) => item.action === 'fail').map((item) => [item.kubeCluster, item.reason]));
    expect(reasons).toEqual({ k3: expect.stringMatching(/InternalError/), k5: expect.stringMatching(/socket|closed|reset|failed/i), k7: expect.stringMatching(/timed out$/) });
    // One error line per failed cluster, then the summary; no stack trace.
    expect(result.stderr.split('\n').filter((line) => line.startsWith('error:'))).toHaveLength(3);
    expect(result.stderr).toMatch(/^sync: 5 created, 0 updated, 0 unchanged, 0 pruned, 0 skipped, 3 failed$/m);
    expectNoStackTrace(result);

    // The slow originals reach the handler after the client gave up: they must change nothing.
    await sleep(2000);
    const created = KUBES.filter((kube) => result.actions[kube] === 'create');
    expect(storedNames()).toEqual(created.map(nameOf).sort());
    for (const kube of created) expectComplete(world.source.store.get('secrets', 'argocd', nameOf(kube)) as never, kube);

    // The next run completes the batch, and rewrites nothing that is already right.
    world.source.faults.clear();
    world.source.counts.reset();
    const again = await sync();
    expect(again.code, again.stderr).toBe(0);
    expect(again.document!.summary).toMatchObject({ create: 3, unchanged: 5, fail: 0 });
    expect(world.source.counts.filter({ verb: 'create', resource: 'secrets' })).toHaveLength(3);
    for (const kube of KUBES) expectComplete(world.source.store.get('secrets', 'argocd', nameOf(kube)) as never, kube);
  });

  it('backs off exponentially on a 429 without Retry-After, gives up after a bounded number of attempts, and still writes every other cluster', async () => {
    // The stand-in API server always sends Retry-After; the Teleport proxy does not. So here
    // Argo CD runs in kube cluster k1, reached through the proxy, which throttles the first writes.
    const k1 = world.targets.k1!;
    k1.store.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'argocd' } }, 'namespaces');
    world.proxy.clearRequests();
    const isCreate = ({ method, path: target }: { method: string; path: string }) => method === 'POST' && target.includes('/namespaces/argocd/secrets');
    world.proxy.injectFault({ kind: 'status', status: 429, message: 'slow down', count: ATTEMPTS, match: isCreate });
    try {
      const result = await sync(['--context', `${TELEPORT_CLUSTER}-k1`, '--concurrency', '1']);
      expect(result.code).toBe(1);
      const failed = result.document!.items.filter((item) => item.action === 'fail');
      expect(failed).toHaveLength(1);
      expect(failed[0]!.reason).toMatch(/slow down/);
      const throttled = world.proxy.requests.filter((record) => isCreate(record) && record.fault === 'status');
      expect(throttled).toHaveLength(ATTEMPTS);
      const delays = retryDelays(result.stderr, `create secret ${failed[0]!.secret}`);
      expect(delays).toHaveLength(ATTEMPTS - 1);
      for (let index = 1; index < delays.length; index += 1) expect(delays[index]).toBeGreaterThanOrEqual(delays[index - 1]!);
      expect(delays[ATTEMPTS - 2]).toBeGreaterThan(delays[0]!);
      const written = (k1.store.list('secrets', 'argocd') as unknown as SecretObject[]).map((secret) => secret.metadata.name).sort();
      expect(written).toEqual(KUBES.map(nameOf).filter((name) => name !== failed[0]!.secret).sort());
      expect(result.stderr).toMatch(/^sync: 7 created, 0 updated, 0 unchanged, 0 pruned, 0 skipped, 1 failed$/m);
      expect(result.stderr).toMatch(/^error: example\.teleport\.sh-k\d: slow down/m);
      expectNoStackTrace(result);
    } finally {
      world.proxy.clearFaults();
      k1.store.delete('namespaces', undefined, 'argocd');
    }
  });

  it('retries a LIST that fails, and neither writes nor prunes when it never succeeds', async () => {
    world.source.faults.tooManyRequests({ verb: 'list', resource: 'secrets' }, { times: 1, retryAfterSeconds: 1 });
    world.source.faults.serverError({ verb: 'list', resource: 'secrets' }, { times: 1, code: 503 });
    const recovered = await sync();
    expect(recovered.code, recovered.stderr).toBe(0);
    expect(world.source.counts.filter({ verb: 'list', resource: 'secrets' }).map((record) => record.status)).toEqual([429, 503, 200]);
    expect(storedNames()).toEqual(KUBES.map(nameOf).sort());

    // With k1 alone selected, --prune would delete the other seven: but only after a LIST that succeeded.
    world.source.counts.reset();
    world.source.faults.serverError({ verb: 'list', resource: 'secrets' }, { times: 1000, code: 503 });
    const failed = await runPlugin(['sync', 'k1', '--prune', '--kubeconfig', kubeconfigFile, '--request-timeout', '1s']);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toBe('');
    expect(failed.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^error: cannot list the cluster secrets in namespace "argocd" .*ServiceUnavailable/)]);
    expect(world.source.counts.filter({ verb: 'list', resource: 'secrets' })).toHaveLength(ATTEMPTS);
    expect(world.source.counts.filter({ verb: ['create', 'update', 'delete', 'patch'] })).toHaveLength(0);
    expect(storedNames()).toEqual(KUBES.map(nameOf).sort());
  });
});

describe('sync and conflicts', () => {
  it('re-reads and retries when every first update conflicts, and gives up on a secret that always conflicts, leaving it as it was', async () => {
    expect((await sync()).code).toBe(0);
    const live = world.source.store.get('secrets', 'argocd', nameOf('k1'))!;
    live.metadata.labels!['argocd.argoproj.io/kubernetes-version'] = '1.32';
    world.source.store.put(live);
    const before = world.source.store.get('secrets', 'argocd', nameOf('k2'));
    world.source.counts.reset();
    world.source.faults.conflict({ resource: 'secrets', name: nameOf('k2') }, 1000);
    const seen = new Set<string>();
    world.source.faults.conflict({ resource: 'secrets', predicate: (record) => !seen.has(record.name!) && Boolean(seen.add(record.name!)) }, 1000);
    const result = await sync(['--label', 'team=platform']);

    expect(result.code).toBe(1);
    expect(result.document!.summary).toMatchObject({ update: 7, fail: 1 });
    for (const kube of KUBES.filter((kube) => kube !== 'k2')) {
      expect(writesOf(kube, 'update').map((record) => record.status), kube).toEqual([409, 200]);
      expect(world.source.store.get('secrets', 'argocd', nameOf(kube))!.metadata.labels!.team).toBe('platform');
    }
    // Each conflict is followed by one fresh read; the label Argo CD added survives the re-plan.
    expect(world.source.counts.filter({ verb: 'get', resource: 'secrets' }).filter((record) => record.name !== nameOf('k2'))).toHaveLength(7);
    expect(world.source.store.get('secrets', 'argocd', nameOf('k1'))!.metadata.labels!['argocd.argoproj.io/kubernetes-version']).toBe('1.32');
    // The secret that always conflicts: a bounded number of updates, then a failure; untouched.
    expect(result.document!.items.find((item) => item.kubeCluster === 'k2')).toMatchObject({ action: 'fail', reason: expect.stringMatching(/conflict/) });
    expect(writesOf('k2', 'update').length).toBeLessThanOrEqual(6);
    expect(world.source.store.get('secrets', 'argocd', nameOf('k2'))).toEqual(before);
    expect(result.stderr).toMatch(/^sync: 0 created, 7 updated, 0 unchanged, 0 pruned, 0 skipped, 1 failed$/m);
  });
});

describe('sync when the API server goes away halfway through a batch', () => {
  it('finishes what was written, fails the rest after bounded retries, and leaves no half-written secret', async () => {
    // Someone else's secret in the namespace: it must come through untouched.
    const foreign = tbotClusterSecret({ teleportCluster: TELEPORT_CLUSTER, kubeCluster: 'elsewhere', proxyAddr: world.proxy.addr, caPem: 'ca', certPem: 'c', keyPem: 'k', botName: 'argocd' });
    world.source.store.put(foreign as never);
    world.source.faults.latency({ verb: 'create', resource: 'secrets' }, 250);
    const running = sync(['--concurrency', '4']);
    await until(() => world.source.counts.filter({ verb: 'create', resource: 'secrets' }).filter((record) => record.status === 201).length >= 2, 'two creates');
    await world.source.stop();
    const result = await running;
    await world.source.restart();

    expect(result.code).toBe(1);
    const created = result.document!.items.filter((item) => item.action === 'create').map((item) => item.secret).sort();
    const failed = result.document!.items.filter((item) => item.action === 'fail');
    expect(created.length).toBeGreaterThanOrEqual(2);
    expect(created.length + failed.length).toBe(KUBES.length);
    for (const item of failed) expect(item.reason).toMatch(/refused|failed|timed out|socket|closed/i);
    // What the output calls created is exactly what the server holds, each secret complete.
    expect(storedNames()).toEqual([...created, foreign.metadata.name].sort());
    for (const item of result.document!.items.filter((entry) => entry.action === 'create')) expectComplete(world.source.store.get('secrets', 'argocd', item.secret) as never, item.kubeCluster);
    expect(world.source.store.get('secrets', 'argocd', foreign.metadata.name)).toBeDefined();
    // Bounded: at most ATTEMPTS-1 announced retries per secret.
    for (const kube of KUBES) expect(retryDelays(result.stderr, `create secret ${nameOf(kube)}`).length).toBeLessThanOrEqual(ATTEMPTS - 1);
    expect(result.stderr).toMatch(new RegExp(`^sync: ${created.length} created, 0 updated, 0 unchanged, 0 pruned, 0 skipped, ${failed.length} failed$`, 'm'));
    expectNoStackTrace(result);

    // The next run completes the batch and touches nothing that is already right.
    world.source.faults.clear();
    world.source.counts.reset();
    const again = await sync();
    expect(again.code, again.stderr).toBe(0);
    expect(again.document!.summary).toMatchObject({ create: failed.length, unchanged: created.length, fail: 0 });
    for (const kube of KUBES) expectComplete(world.source.store.get('secrets', 'argocd', nameOf(kube)) as never, kube);
  });

  it('rides out a short outage: retries reach the server once it is back', async () => {
    world.source.faults.latency({ verb: 'create', resource: 'secrets' }, 150);
    const running = sync(['--concurrency', '2']);
    await until(() => world.source.counts.filter({ verb: 'create', resource: 'secrets' }).some((record) => record.status === 201), 'a create');
    await world.source.stop();
    await sleep(100);
    await world.source.restart();
    const result = await running;
    expect(result.code, result.stderr).toBe(0);
    expect(result.document!.summary).toMatchObject({ create: KUBES.length, fail: 0 });
    for (const kube of KUBES) expectComplete(world.source.store.get('secrets', 'argocd', nameOf(kube)) as never, kube);
  });
});
