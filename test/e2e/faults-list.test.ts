// Faults for `list` (and `list --probe`): the built binary against the sandbox while the
// source API server throttles, fails, drops or stalls the LIST, and while a cluster
// behind the Teleport proxy is down. `list` only reads: every run must also leave the
// secrets exactly as they were.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { clusterSecretName } from '../../src/argocd/cluster-secret.js';
import { runPlugin } from '../support/run.js';
import { startSandbox, TELEPORT_CLUSTER, type Sandbox } from '../world/sandbox.js';

const KUBES = ['k1', 'k2', 'k3'];
const ATTEMPTS = 5;

let world: Sandbox;
let kubeconfigFile: string;
let snapshot: string;

const nameOf = (kube: string) => clusterSecretName('teleport.argocd-cluster', { teleportCluster: TELEPORT_CLUSTER, kubeCluster: kube });
const storeState = () => JSON.stringify(world.source.store.list('secrets', 'argocd'));
const list = (args: string[], requestTimeout = '1s') => runPlugin(['list', '--kubeconfig', kubeconfigFile, '--request-timeout', requestTimeout, ...args]);
const listRequests = () => world.source.counts.filter({ verb: 'list', resource: 'secrets' });

beforeAll(async () => {
  world = await startSandbox({ targets: KUBES });
  kubeconfigFile = await world.writeKubeconfig(path.join(mkdtempSync(path.join(tmpdir(), 'tpa-faults-list-')), 'kubeconfig'));
  const synced = await runPlugin(['sync', '--kubeconfig', kubeconfigFile]);
  expect(synced.code, synced.stderr).toBe(0);
  snapshot = storeState();
});

afterAll(async () => {
  await world?.close();
});

beforeEach(() => {
  world.source.faults.clear();
  world.source.counts.reset();
  return () => {
    // A read-only command never changes a secret, whatever happened on the way.
    expect(storeState()).toBe(snapshot);
    expect(world.source.counts.filter({ verb: ['create', 'update', 'patch', 'delete'] })).toHaveLength(0);
  };
});

describe('list under faults', () => {
  it('retries a LIST that is throttled (with and without Retry-After), fails, or drops, and shows every cluster', async () => {
    world.source.faults.tooManyRequests({ verb: 'list', resource: 'secrets' }, { times: 1, retryAfterSeconds: 1 });
    world.source.faults.add({ match: { verb: 'list', resource: 'secrets' }, action: { kind: 'status', code: 503 }, times: 1 });
    world.source.faults.serverError({ verb: 'list', resource: 'secrets' }, { times: 1, code: 500 });
    world.source.faults.dropConnection({ verb: 'list', resource: 'secrets' }, 1);
    const result = await list(['-o', 'json', '-v']);
    expect(result.code, result.stderr).toBe(0);
    expect(listRequests().map((record) => record.status ?? 'dropped')).toEqual([429, 503, 500, 'dropped', 200]);
    const delays = [...result.stderr.matchAll(/^retrying list secrets in argocd in (\d+)ms/gm)].map((match) => Number(match[1]));
    expect(delays).toHaveLength(4);
    expect(delays[0]).toBeGreaterThanOrEqual(1000);
    expect(JSON.parse(result.stdout).items.map((item: { secret: { name: string } }) => item.secret.name).sort()).toEqual(KUBES.map(nameOf).sort());
  });

  it('gives up after bounded attempts with one error line when the LIST always times out', async () => {
    world.source.faults.latency({ verb: 'list', resource: 'secrets' }, 3000);
    const result = await list([], '300ms');
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^error: cannot list cluster secrets in namespace argocd: request to https:\/\/127\.0\.0\.1:\d+ timed out$/)]);
    expect(listRequests()).toHaveLength(ATTEMPTS);
  });

  it('reports a cluster the proxy cannot reach as unreachable, probes the others, and fails only with --fail-on', async () => {
    const upstream = world.targets.k2!;
    await upstream.stop();
    try {
      const result = await list(['--probe', '-o', 'json']);
      expect(result.code, result.stderr).toBe(0);
      const probes = Object.fromEntries(
        JSON.parse(result.stdout).items.map((item: { kubeCluster: string; probe: { reachable: boolean } }) => [item.kubeCluster, item.probe.reachable]),
      );
      expect(probes).toEqual({ k1: true, k2: false, k3: true });
      const gated = await list(['--probe', '--fail-on', 'unreachable']);
      expect(gated.code).toBe(1);
      expect(gated.stdout).toMatch(/example\.teleport\.sh-k1\s/);
      expect(gated.stderr).toMatch(/^error: 1 cluster\(s\) match --fail-on unreachable: example\.teleport\.sh-k2$/m);
      expect(gated.stderr).not.toMatch(/^\s+at /m);
    } finally {
      await upstream.restart();
    }
  });
});
