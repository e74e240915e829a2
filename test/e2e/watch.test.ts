// `sync --watch` under faults, end to end: the built binary runs in the background against
// the sandbox while the test injects faults, signals it, and samples its open file
// descriptors and memory from /proc. (50 rounds take 50 s at the minimum interval: that
// soak is `bench/watch-soak.ts`; here 7 rounds check the same trend.)
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { clusterSecretName, type SecretObject } from '../../src/argocd/cluster-secret.js';
import { BINARY, isolatedEnv } from '../support/run.js';
import { sampleProcess } from '../support/process.js';
import { writeFakeTbot, type FakeTbot } from '../world/fixtures/index.js';
import { startSandbox, tbotKubeconfig, TELEPORT_CLUSTER, type Sandbox } from '../world/sandbox.js';

const KUBES = ['k1', 'k2', 'k3'];

let world: Sandbox;
let kubeconfigFile: string;
/** The same clusters through tbot's exec plugin. */
let execKubeconfig: string;
let tbot: FakeTbot;

const nameOf = (kube: string) => clusterSecretName('teleport.argocd-cluster', { teleportCluster: TELEPORT_CLUSTER, kubeCluster: kube });
const stored = () => world.source.store.list('secrets', 'argocd') as unknown as SecretObject[];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A `sync --watch` in the background, its output so far, and its exit. */
interface Watcher {
  child: ChildProcessWithoutNullStreams;
  stdout: () => string;
  stderr: () => string;
  /** Summary lines printed so far: one per finished round. */
  rounds: () => number;
  exited: Promise<number | null>;
}

function startWatch(args: string[] = []): Watcher {
  const child = spawn(BINARY, ['sync', '--watch', '--interval', '1s', '--kubeconfig', kubeconfigFile, '--request-timeout', '1s', ...args], { env: isolatedEnv() });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, stdout: () => stdout, stderr: () => stderr, rounds: () => (stderr.match(/^(sync: .* failed|error: round \d+ failed: .*)$/gm) ?? []).length, exited };
}

async function until(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Stops the watcher; it must exit by itself, which also proves no handle keeps it alive. */
async function stop(watcher: Watcher): Promise<number | null> {
  watcher.child.kill('SIGTERM');
  const timer = setTimeout(() => watcher.child.kill('SIGKILL'), 15_000);
  const code = await watcher.exited;
  clearTimeout(timer);
  return code;
}

function expectComplete(kube: string): void {
  const secret = world.source.store.get('secrets', 'argocd', nameOf(kube)) as unknown as SecretObject | undefined;
  expect(secret, kube).toBeDefined();
  const data = Object.fromEntries(Object.entries(secret!.data ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64').toString('utf8')]));
  expect(data.server).toBe(world.proxy.kubeServerUrl(kube));
  const tls = JSON.parse(data.config!).tlsClientConfig;
  expect(Buffer.from(tls.certData, 'base64').toString('utf8')).toBe(world.botIdentity.certPem);
  expect(Buffer.from(tls.keyData, 'base64').toString('utf8')).toBe(world.botIdentity.keyPem);
  expect(secret!.metadata.annotations?.['kubectl-teleport-argocd/refresh-interval']).toBe('1s');
}

beforeAll(async () => {
  world = await startSandbox({ targets: KUBES });
  const dir = mkdtempSync(path.join(tmpdir(), 'tpa-watch-'));
  kubeconfigFile = await world.writeKubeconfig(path.join(dir, 'kubeconfig'));
  tbot = await writeFakeTbot(path.join(dir, 'tools'), { credentials: world.botIdentity });
  execKubeconfig = await world.writeKubeconfig(
    path.join(dir, 'exec-kubeconfig'),
    tbotKubeconfig(world.proxy, KUBES, tbot),
  );
});

afterAll(async () => {
  await world?.close();
});

beforeEach(() => world.resetSource());

describe('sync --watch under faults', () => {
  it('logs a failed round and retries it the next round', async () => {
    // Round 1: every LIST attempt fails (5 attempts), so the round fails; round 2 is clean.
    const outage = world.source.faults.serverError({ verb: 'list', resource: 'secrets' }, { times: 5, code: 503 });
    const watcher = startWatch();
    await until(() => watcher.rounds() >= 2, 'two rounds');
    const code = await stop(watcher);

    expect(outage.hits).toBe(5);
    expect(watcher.stderr()).toMatch(/^error: round 1 failed: cannot list the cluster secrets in namespace "argocd" .*ServiceUnavailable.*; retrying in 1s$/m);
    expect(watcher.stderr()).toMatch(/^sync: 3 created, 0 updated, 0 unchanged, 0 pruned, 0 skipped, 0 failed$/m);
    expect(watcher.stderr()).not.toMatch(/^\s+at /m);
    expect(code).toBe(0);
    for (const kube of KUBES) expectComplete(kube);
    expect(world.source.counts.filter({ verb: 'create', resource: 'secrets' })).toHaveLength(3);
  });

  it('on SIGTERM mid-round finishes the write in flight, starts no other, and exits 0', async () => {
    world.source.faults.latency({ verb: 'create', resource: 'secrets' }, 800);
    const watcher = startWatch(['--concurrency', '1', '-o', 'json']);
    await until(() => world.source.counts.filter({ verb: 'create', resource: 'secrets' }).length === 1, 'the first create to reach the server');
    watcher.child.kill('SIGTERM');
    const code = await watcher.exited;

    expect(code, watcher.stderr()).toBe(0);
    expect(watcher.stderr()).toMatch(/^received SIGTERM: finishing the writes in flight, then exiting$/m);
    // The write in flight completed; nothing else was started.
    const creates = world.source.counts.filter({ verb: 'create', resource: 'secrets' });
    expect(creates.map((record) => record.status)).toEqual([201]);
    const written = stored();
    expect(written).toHaveLength(1);
    const kube = KUBES.find((name) => nameOf(name) === written[0]!.metadata.name)!;
    expectComplete(kube);
    const result = JSON.parse(watcher.stdout());
    expect(result.summary).toMatchObject({ create: 1, skip: 2, fail: 0 });
    expect(result.items.filter((item: { action: string }) => item.action === 'skip').map((item: { reason: string }) => item.reason)).toEqual([
      'interrupted before writing',
      'interrupted before writing',
    ]);
  });

  it('keeps file descriptors and memory flat over many rounds', async () => {
    // Each round runs tbot's exec plugin (a child process and its pipes) and meets a throttled
    // or dropped LIST (retries: timers and new connections).
    let lists = 0;
    world.source.faults.tooManyRequests({ verb: 'list', resource: 'secrets', predicate: () => lists++ % 3 === 0 }, { times: 1000, retryAfterSeconds: 0 });
    world.source.faults.dropConnection({ verb: 'list', resource: 'secrets', predicate: () => lists % 3 === 2 }, 1000);
    const watcher = startWatch(['--source-kubeconfig', execKubeconfig]);
    const pid = watcher.child.pid!;
    const samples: Array<{ round: number; fds: number; sockets: number; rssKb: number }> = [];
    const ROUNDS = 10;
    for (let round = 2; round <= ROUNDS; round += 1) {
      await until(() => watcher.rounds() >= round, `round ${round}`);
      samples.push({ round, ...sampleProcess(pid) });
    }
    const code = await stop(watcher);
    expect(code, watcher.stderr()).toBe(0);
    expect(watcher.stderr()).not.toMatch(/^\s+at /m);

    // Between rounds every connection of the round is closed: descriptors do not grow.
    const settled = samples.slice(1);
    const fdCounts = settled.map((sample) => sample.fds);
    expect(Math.max(...fdCounts) - Math.min(...fdCounts), JSON.stringify(samples)).toBeLessThanOrEqual(2);
    expect(Math.max(...settled.map((sample) => sample.sockets)), JSON.stringify(samples)).toBeLessThanOrEqual(settled[0]!.sockets + 1);
    // Memory: no steady climb (a leak of a round's clients would add megabytes per round). The
    // first rounds fill the young generation (16 MB semi-spaces, scripts/build-binary.mjs)
    // before its first collection: judge the rounds after that.
    const first = samples.find((sample) => sample.round === 6)!.rssKb;
    const last = settled[settled.length - 1]!.rssKb;
    expect(last - first, JSON.stringify(samples)).toBeLessThan(16 * 1024);
    for (const kube of KUBES) expectComplete(kube);
    // Every round ran the exec plugin again (once for the three contexts that share it).
    expect((await tbot.invocations()).length).toBeGreaterThanOrEqual(ROUNDS);
  });
});
