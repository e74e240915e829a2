// Faults for `join`, `check join` and `check impersonation`: the built binary against the
// sandbox (source cluster with Argo CD and tbot's service account; two kube clusters
// behind the Teleport proxy, also reachable directly with admin contexts). Transient
// faults must not change a single result (retries absorb them); persistent ones must
// fail only what they touch, with bounded attempts and no stack trace.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CheckReport } from '../../src/audit/check-report.js';
import { isolatedEnv, runPlugin, type RunResult } from '../support/run.js';
import { startSandbox, TELEPORT_CLUSTER, type Sandbox } from '../world/sandbox.js';

const ATTEMPTS = 5;
const BINDING = 'teleport-editor-edit';

let world: Sandbox;
let env: NodeJS.ProcessEnv;

function run(args: string[], requestTimeout = '1s'): Promise<RunResult> {
  return runPlugin([...args, '--request-timeout', requestTimeout], { env });
}

async function report(args: string[], requestTimeout?: string): Promise<RunResult & { report: CheckReport }> {
  const result = await run([...args, '-o', 'json'], requestTimeout);
  expect(result.stderr).not.toMatch(/^\s+at /m);
  return { ...result, report: JSON.parse(result.stdout) as CheckReport };
}

/** Results as comparable rows; messages that embed times or key ids are reduced to status. */
const rows = (checkReport: CheckReport) => checkReport.results.map((result) => `${result.id} ${result.subject} ${result.status}`);

beforeAll(async () => {
  world = await startSandbox({ targets: ['k1', 'k2'] });
  const dir = mkdtempSync(path.join(tmpdir(), 'tpa-faults-checks-'));
  const files = [
    await world.writeKubeconfig(path.join(dir, 'sandbox')),
    await world.targets.k1!.writeKubeconfig(path.join(dir, 'k1')),
    await world.targets.k2!.writeKubeconfig(path.join(dir, 'k2')),
  ];
  env = isolatedEnv({ KUBECONFIG: files.join(path.delimiter) });
  const synced = await runPlugin(['sync'], { env });
  expect(synced.code, synced.stderr).toBe(0);
});

afterAll(async () => {
  await world?.close();
});

beforeEach(() => {
  for (const cluster of [world.source, ...Object.values(world.targets)]) {
    cluster.faults.clear();
    cluster.counts.reset();
    cluster.store.delete('clusterrolebindings', undefined, BINDING);
  }
  world.proxy.clearFaults();
  world.proxy.clearRequests();
});

describe('check join under faults', () => {
  const CHECK = ['check', 'join', '--cluster-name', TELEPORT_CLUSTER];

  it('gives the same verdict when every read and the TokenRequest first fail transiently', async () => {
    const baseline = await report(CHECK);
    expect(baseline.code, baseline.stderr).toBe(0);
    world.source.counts.reset();
    const faults = world.source.faults;
    faults.serverError({ path: '/.well-known/openid-configuration' }, { times: 1, code: 503 });
    faults.tooManyRequests({ path: '/openid/v1/jwks' }, { times: 1, retryAfterSeconds: 1 });
    faults.dropConnection({ verb: 'get', resource: 'serviceaccounts' }, 1);
    faults.serverError({ verb: 'list', resource: 'pods' }, { times: 2, code: 500 });
    faults.serverError({ verb: 'create', resource: 'serviceaccounts/token' }, { times: 1, code: 503 });
    const faulted = await report(CHECK);
    expect(faulted.code, faulted.stderr).toBe(0);
    expect(rows(faulted.report)).toEqual(rows(baseline.report));
    const statuses = (match: Parameters<typeof world.source.counts.filter>[0]) => world.source.counts.filter(match).map((record) => record.status ?? 'dropped');
    expect(statuses({ path: '/.well-known/openid-configuration' })).toEqual([503, 200]);
    expect(statuses({ path: '/openid/v1/jwks' })).toEqual([429, 200]);
    expect(statuses({ verb: 'get', resource: 'serviceaccounts' })).toEqual(['dropped', 200]);
    expect(statuses({ verb: 'list', resource: 'pods' })).toEqual([500, 500, 200]);
    expect(statuses({ verb: 'create', resource: 'serviceaccounts/token' })).toEqual([503, 201]);
  });

  it('fails the JWKS checks when the JWKS never comes, after bounded attempts, and still runs every other check', async () => {
    world.source.faults.serverError({ path: '/openid/v1/jwks' }, { times: 1000, code: 500 });
    const result = await report(CHECK);
    expect(result.code).toBe(1);
    const status = (id: string) => result.report.results.find((entry) => entry.id === id)?.status;
    expect(status('jwks.fetch')).toBe('fail');
    expect(result.report.results.find((entry) => entry.id === 'jwks.fetch')!.message).toMatch(/InternalError/);
    expect(status('issuer.discovery')).toBe('pass');
    expect(status('serviceaccount.exists')).toBe('pass');
    expect(status('token.request')).toBe('pass');
    expect(world.source.counts.filter({ path: '/openid/v1/jwks' })).toHaveLength(ATTEMPTS);
    expect(result.stderr).toMatch(/^check join: \d+ passed, \d+ warnings, [1-9]\d* failed, \d+ skipped$/m);
  });

  it('fails the token checks when the TokenRequest times out every time, with one clear message', async () => {
    world.source.faults.latency({ verb: 'create', resource: 'serviceaccounts/token' }, 3000);
    const result = await report(CHECK, '300ms');
    expect(result.code).toBe(1);
    const request = result.report.results.find((entry) => entry.id === 'token.request')!;
    expect(request.status).toBe('fail');
    expect(request.message).toMatch(/timed out/);
    expect(world.source.counts.filter({ verb: 'create', resource: 'serviceaccounts/token' })).toHaveLength(ATTEMPTS);
    expect(result.report.results.find((entry) => entry.id === 'jwks.wellformed')!.status).toBe('pass');
  });
});

describe('join --apply-rbac under faults', () => {
  const JOIN = ['join', '--cluster-name', TELEPORT_CLUSTER, '--proxy', 'teleport.example.com:443', '--kube-cluster', 'k1', '--kube-cluster', 'k2', '--apply-rbac'];

  it('retries a throttled create, fails only the context that keeps failing, and leaves the others bound', async () => {
    world.source.faults.tooManyRequests({ verb: 'create', resource: 'clusterrolebindings' }, { times: 2, retryAfterSeconds: 1 });
    world.targets.k1!.faults.serverError({ verb: 'create', resource: 'clusterrolebindings' }, { times: 1000, code: 503 });
    world.targets.k2!.faults.dropConnection({ verb: 'create', resource: 'clusterrolebindings' }, 1);
    const result = await run([...JOIN, '--target-context', 'k1', '--target-context', 'k2']);
    expect(result.code).toBe(1);
    expect(result.stderr).not.toMatch(/^\s+at /m);
    // The documents are complete even though one context failed.
    expect(result.stdout).toMatch(/kind: ClusterRoleBinding/);
    expect(result.stdout).toMatch(/kind: token/);
    expect(result.stderr).toMatch(/^clusterrolebinding\.rbac\.authorization\.k8s\.io\/teleport-editor-edit created \(context source\)$/m);
    expect(result.stderr).toMatch(/^clusterrolebinding\.rbac\.authorization\.k8s\.io\/teleport-editor-edit created \(context k2\)$/m);
    expect(result.stderr).toMatch(/^error: context k1: .*ServiceUnavailable/m);
    expect(world.source.counts.filter({ verb: 'create', resource: 'clusterrolebindings' }).map((record) => record.status)).toEqual([429, 429, 201]);
    expect(world.targets.k1!.counts.filter({ verb: 'create', resource: 'clusterrolebindings' })).toHaveLength(ATTEMPTS);
    expect(world.targets.k2!.counts.filter({ verb: 'create', resource: 'clusterrolebindings' }).map((record) => record.status ?? 'dropped')).toEqual(['dropped', 201]);
    expect(world.source.store.get('clusterrolebindings', undefined, BINDING)).toBeDefined();
    expect(world.targets.k2!.store.get('clusterrolebindings', undefined, BINDING)).toBeDefined();
    expect(world.targets.k1!.store.get('clusterrolebindings', undefined, BINDING)).toBeUndefined();

    // Run again when the fault is gone: idempotent where bound, created where it failed.
    world.targets.k1!.faults.clear();
    const again = await run([...JOIN, '--target-context', 'k1', '--target-context', 'k2']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/teleport-editor-edit unchanged \(context source\)/);
    expect(again.stderr).toMatch(/teleport-editor-edit created \(context k1\)/);
  });

  it('writes nothing when its preflight cannot reach the source cluster', async () => {
    await world.source.stop();
    try {
      const result = await run([...JOIN], '300ms');
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).not.toMatch(/^\s+at /m);
      expect(result.stderr).toMatch(/^error: check join: .*nothing was written/m);
    } finally {
      await world.source.restart();
    }
    expect(world.source.store.get('clusterrolebindings', undefined, BINDING)).toBeUndefined();
  });
});

describe('check impersonation under faults', () => {
  const CHECK = ['check', 'impersonation'];

  it('gives the same report when the source reads and the requests through Teleport first fail transiently', async () => {
    const baseline = await report(CHECK);
    world.source.counts.reset();
    world.proxy.clearRequests();
    world.source.faults.serverError({ verb: 'get', resource: 'configmaps', name: 'argocd-cm' }, { times: 1, code: 503 });
    world.source.faults.tooManyRequests({ verb: 'list', resource: 'appprojects' }, { times: 1, retryAfterSeconds: 1 });
    world.source.faults.dropConnection({ verb: 'list', resource: 'secrets' }, 1);
    world.proxy.injectFault({ kind: 'drop', count: 1, match: ({ path: target }) => target.includes('selfsubjectaccessreviews') });
    world.proxy.injectFault({ kind: 'status', status: 429, count: 1, match: ({ path: target }) => target.includes('selfsubjectaccessreviews') });
    const faulted = await report(CHECK);
    expect(faulted.code).toBe(baseline.code);
    expect(rows(faulted.report)).toEqual(rows(baseline.report));
    expect(world.source.counts.filter({ verb: 'get', resource: 'configmaps', name: 'argocd-cm' }).map((record) => record.status)).toEqual([503, 200]);
    expect(world.source.counts.filter({ verb: 'list', resource: 'appprojects' }).map((record) => record.status)).toEqual([429, 200]);
    expect(world.source.counts.filter({ verb: 'list', resource: 'secrets' }).map((record) => record.status ?? 'dropped')).toEqual(['dropped', 200]);
    expect(world.proxy.requests.filter((record) => record.fault !== null)).toHaveLength(2);
  });

  it('stops with one error line when argocd-cm cannot be read at all', async () => {
    world.source.faults.serverError({ verb: 'get', resource: 'configmaps', name: 'argocd-cm' }, { times: 1000, code: 500 });
    const result = await run(CHECK);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^error: cannot read configmap argocd-cm in namespace argocd: .*InternalError/)]);
    expect(world.source.counts.filter({ verb: 'get', resource: 'configmaps', name: 'argocd-cm' })).toHaveLength(ATTEMPTS);
  });

  it('reports a cluster Teleport cannot reach as not checked, and checks the other one as usual', async () => {
    const baseline = await report(CHECK);
    const upstream = world.targets.k1!;
    await upstream.stop();
    let faulted;
    try {
      faulted = await report(CHECK);
    } finally {
      await upstream.restart();
    }
    expect(faulted.code).toBe(1);
    const of = (checkReport: CheckReport, subject: string) => rows(checkReport).filter((row) => row.includes(` ${subject} `));
    expect(of(faulted.report, 'k2')).toEqual(of(baseline.report, 'k2'));
    const access = faulted.report.results.find((entry) => entry.id === 'target.control-plane-access' && entry.subject === 'k1')!;
    expect(access.status).not.toBe('pass');
    expect(access.message).toMatch(/refused/);
  });
});
