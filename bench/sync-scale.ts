// `sync` at scale: 1,000 Teleport contexts (one path-routing bot certificate serves all, as
// tbot kubernetes/v2 writes them) against the API server stand-in with 2 ms latency per
// request. Prints wall time and request count of a first sync, a no-op re-sync, and a
// re-sync after renewing the certificate. Targets: no-op ≤ 3 requests; first sync
// ≤ 1,003 requests and under 5 s. (tbot spends 2 requests per cluster on every renewal.)
// Prints figures, asserts nothing.
//
//   npm run build && PATH=$PWD/node_modules/.bin:$PATH tsx bench/sync-scale.ts [contexts] [latencyMs]
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { FakeKubeCluster } from '../test/world/apiserver/index.js';
import { mergeKubeconfigs, tbotKubernetesV2Kubeconfig, writeKubeconfig, type Kubeconfig } from '../test/world/fixtures/index.js';
import { createCA, issueTeleportCertificate, type PemPair } from '../test/world/pki.js';

const CONTEXTS = Number(process.argv[2] ?? 1000);
const LATENCY_MS = Number(process.argv[3] ?? 2);
const BINARY = path.resolve('dist/kubectl-teleport-argocd');

function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(BINARY, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

async function main(): Promise<void> {
  const source = await FakeKubeCluster.start({ name: 'bench-source', namespaces: ['argocd'] });
  const hostCA = await createCA('example.teleport.sh');
  const userCA = await createCA('example.teleport.sh');
  const dir = mkdtempSync(path.join(tmpdir(), 'tpa-sync-bench-'));
  const kubes = Array.from({ length: CONTEXTS }, (_, index) => `cluster-${String(index).padStart(4, '0')}`);
  const sourceConfig = source.kubeconfig(source.admin, { context: 'source', namespace: 'argocd' });
  const { parse } = await import('yaml');
  const kubeconfigFor = (identity: PemPair): Kubeconfig =>
    mergeKubeconfigs(
      parse(sourceConfig) as Kubeconfig,
      tbotKubernetesV2Kubeconfig({
        teleportCluster: 'example.teleport.sh',
        proxyAddr: 'example.teleport.sh:443',
        kubeClusters: kubes,
        caPem: hostCA.certPem,
        credentials: { kind: 'static', credentials: identity },
      }),
    );
  const identity = () => issueTeleportCertificate(userCA, { user: 'bot-argocd', roles: ['argocd'], botName: 'argocd', teleportCluster: 'example.teleport.sh' });
  const file = path.join(dir, 'kubeconfig');
  const config = kubeconfigFor(await identity());
  config['current-context'] = 'source';
  await writeKubeconfig(file, config);
  source.faults.latency({}, LATENCY_MS);
  const env = { PATH: process.env.PATH, HOME: dir, KUBECONFIG: file };

  const round = async (label: string) => {
    source.counts.reset();
    const started = performance.now();
    const result = await run(['sync', '-o', 'json', '--concurrency', '16'], env);
    const wallMs = performance.now() - started;
    if (result.code !== 0) throw new Error(`${label}: sync exited ${result.code}: ${result.stderr}`);
    const summary = result.stderr.trim().split('\n').pop();
    process.stdout.write(
      `${label.padEnd(26)} ${String(Math.round(wallMs)).padStart(6)} ms   ${String(source.counts.resourceTotal).padStart(5)} requests   (${summary})\n`,
    );
  };

  process.stdout.write(`sync-scale: ${CONTEXTS} Teleport contexts, ${LATENCY_MS} ms latency per request\n`);
  try {
    await round('first sync');
    await round('no-op re-sync');
    const renewed = kubeconfigFor(await identity());
    renewed['current-context'] = 'source';
    await writeKubeconfig(file, renewed);
    await round('re-sync after renewal');
  } finally {
    await source.close();
  }
}

await main();
