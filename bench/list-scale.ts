// `list` at scale: 5,000 cluster secrets (as tbot writes them) in the API server stand-in.
// Measures `kubectl teleport-argocd list -o json` against `kubectl get secrets -l … -o json`
// on the same server, alternately, and prints wall time, requests and peak memory of each
// and the ratio. Target: ratio ≤ 1.5. Prints figures, asserts nothing.
//
//   npm run build && PATH=$PWD/node_modules/.bin:$PATH tsx bench/list-scale.ts [secrets] [rounds]
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { startKubeApiServer, type KubeObject } from '../test/world/apiserver/index.js';
import { tbotClusterSecret } from '../test/world/fixtures/index.js';
import { startTeleportProxy } from '../test/world/teleport-proxy/index.js';

const SECRETS = Number(process.argv[2] ?? 5_000);
const ROUNDS = Number(process.argv[3] ?? 5);
const BINARY = path.resolve('dist/kubectl-teleport-argocd');
const TIME = '/usr/bin/time';

interface Sample {
  wallMs: number;
  requests: number;
  peakRssKb: number;
  stdoutBytes: number;
}

/** Runs a command under GNU time for its peak RSS; stdout is counted, not kept. */
function measure(command: string, args: string[], env: NodeJS.ProcessEnv, requests: () => number): Promise<Sample> {
  const dir = mkdtempSync(path.join(tmpdir(), 'tpa-bench-'));
  const timeFile = path.join(dir, 'time');
  const before = requests();
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(TIME, ['-f', '%M', '-o', timeFile, command, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdoutBytes = 0;
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdoutBytes += chunk.length));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const wallMs = performance.now() - started;
      if (code !== 0) return reject(new Error(`${path.basename(command)} exited ${code}: ${stderr.trim()}`));
      const peakRssKb = Number(readFileSync(timeFile, 'utf8').trim().split('\n').pop());
      rmSync(dir, { recursive: true, force: true });
      resolve({ wallMs, requests: requests() - before, peakRssKb, stdoutBytes });
    });
  });
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

async function main(): Promise<void> {
  const source = await startKubeApiServer({ name: 'bench-source', namespaces: ['argocd'] });
  const proxy = await startTeleportProxy({ clusterName: 'example.teleport.sh' });
  try {
    // tbot writes one bot identity into every secret; each secret has its own route.
    const bot = await proxy.issueIdentity({ user: 'bot-argocd', roles: ['bot-argocd'], kubernetesGroups: ['viewers'], botName: 'argocd' });
    const updated = new Date();
    for (let index = 0; index < SECRETS; index += 1) {
      const secret = tbotClusterSecret({
        teleportCluster: 'example.teleport.sh',
        kubeCluster: `kube-${String(index).padStart(5, '0')}`,
        proxyAddr: proxy.addr,
        caPem: proxy.hostCA.certPem,
        certPem: bot.certPem,
        keyPem: bot.keyPem,
        botName: 'argocd',
        updated,
      });
      source.store.put(secret as unknown as KubeObject, 'secrets');
    }
    const home = mkdtempSync(path.join(tmpdir(), 'tpa-bench-home-'));
    const kubeconfig = await source.writeKubeconfig(path.join(home, 'kubeconfig'));
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: home, NO_COLOR: '1' };
    const contenders = {
      'list -o json': () => measure(BINARY, ['list', '--kubeconfig', kubeconfig, '-o', 'json'], env, () => source.counts.total),
      'kubectl get secrets': () =>
        measure('kubectl', ['get', 'secrets', '--kubeconfig', kubeconfig, '-n', 'argocd', '-l', 'argocd.argoproj.io/secret-type=cluster', '-o', 'json'], env, () => source.counts.total),
    };
    type Name = keyof typeof contenders;
    const samples: Record<Name, Sample[]> = { 'list -o json': [], 'kubectl get secrets': [] };
    // One warm-up each (kubectl fills its discovery cache in HOME, as on a user's machine).
    for (const run of Object.values(contenders)) await run();
    for (let round = 0; round < ROUNDS; round += 1) {
      const order = (round % 2 === 0 ? ['list -o json', 'kubectl get secrets'] : ['kubectl get secrets', 'list -o json']) as Name[];
      for (const name of order) samples[name].push(await contenders[name]());
    }

    console.log(`${SECRETS} cluster secrets, ${ROUNDS} alternating rounds after one warm-up each (medians)`);
    const rows = (Object.keys(samples) as Name[]).map((name) => {
      const runs = samples[name];
      return {
        name,
        wallMs: median(runs.map((run) => run.wallMs)),
        requests: median(runs.map((run) => run.requests)),
        peakMb: median(runs.map((run) => run.peakRssKb)) / 1024,
        outputMb: median(runs.map((run) => run.stdoutBytes)) / 1024 / 1024,
      };
    });
    console.log(`${'COMMAND'.padEnd(22)}${'WALL'.padStart(10)}${'REQUESTS'.padStart(10)}${'PEAK RSS'.padStart(11)}${'STDOUT'.padStart(10)}`);
    for (const row of rows) {
      console.log(
        `${row.name.padEnd(22)}${`${row.wallMs.toFixed(0)}ms`.padStart(10)}${String(row.requests).padStart(10)}${`${row.peakMb.toFixed(0)}MB`.padStart(11)}${`${row.outputMb.toFixed(1)}MB`.padStart(10)}`,
      );
    }
    const [ours, kubectl] = rows as [(typeof rows)[0], (typeof rows)[0]];
    console.log(`ratio list/kubectl: wall ${(ours.wallMs / kubectl.wallMs).toFixed(2)} (target ≤ 1.5), requests ${(ours.requests / kubectl.requests).toFixed(2)}, peak memory ${(ours.peakMb / kubectl.peakMb).toFixed(2)}`);
  } finally {
    await Promise.all([proxy.close(), source.close()]);
  }
}

await main();
