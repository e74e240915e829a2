// `clean` (and `list`'s dependents) at scale: 5,000 cluster secrets as tbot writes them —
// most healthy, some dead (expired, not refreshed for hours), some of those still targeted
// by Applications — and 1,200 Applications, with apps in any namespace on (so one
// cluster-wide LIST). Prints the requests each command sends, by verb and resource, and
// wall time. Expected shape: list = secret LIST pages + 1 GET configmap + Application LIST
// pages; clean = the same + one DELETE per deleted candidate. Prints figures, asserts nothing.
//
//   npm run build && PATH=$PWD/node_modules/.bin:$PATH tsx bench/clean-scale.ts [secrets] [dead]
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { startKubeApiServer, type FakeKubeCluster, type KubeObject } from '../test/world/apiserver/index.js';
import { application, argocdCmdParamsCm, tbotClusterSecret } from '../test/world/fixtures/index.js';
import { startTeleportProxy } from '../test/world/teleport-proxy/index.js';

const SECRETS = Number(process.argv[2] ?? 5_000);
const DEAD = Number(process.argv[3] ?? 500);
const TARGETED_DEAD = Math.floor(DEAD / 5);
const APPLICATIONS = 1_200;
const BINARY = path.resolve('dist/kubectl-teleport-argocd');
const HOUR = 3_600_000;
const TELEPORT = 'example.teleport.sh';

function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; wallMs: number; stderr: string }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(BINARY, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, wallMs: performance.now() - started, stderr }));
  });
}

/** Requests by `verb resource` (discovery and other non-resource paths left out). */
function requests(source: FakeKubeCluster): string {
  return source.counts
    .entries()
    .filter(([key]) => !key.includes(' /'))
    .map(([key, count]) => `${key} ${count}`)
    .join(', ');
}

async function main(): Promise<void> {
  const source = await startKubeApiServer({ name: 'bench-clean', namespaces: ['argocd'] });
  const proxy = await startTeleportProxy({ clusterName: TELEPORT });
  try {
    const identity = { user: 'bot-argocd', roles: ['bot-argocd'], kubernetesGroups: ['viewers'], botName: 'argocd' };
    const now = Date.now();
    const [live, expired] = await Promise.all([
      proxy.issueIdentity(identity),
      proxy.issueIdentity(identity, { notBefore: new Date(now - 5 * HOUR), notAfter: new Date(now - 3 * HOUR) }),
    ]);
    const kube = (index: number) => `kube-${String(index).padStart(5, '0')}`;
    for (let index = 0; index < SECRETS; index += 1) {
      const dead = index < DEAD;
      const secret = tbotClusterSecret({
        teleportCluster: TELEPORT,
        kubeCluster: kube(index),
        proxyAddr: proxy.addr,
        caPem: proxy.hostCA.certPem,
        certPem: (dead ? expired : live).certPem,
        keyPem: (dead ? expired : live).keyPem,
        botName: 'argocd',
        updated: new Date(dead ? now - 4 * HOUR : now),
      });
      source.store.put(secret as unknown as KubeObject, 'secrets');
    }
    source.store.put(argocdCmdParamsCm({ applicationNamespaces: ['team-*'] }) as unknown as KubeObject);
    // The first TARGETED_DEAD dead clusters keep an Application each; the rest target live clusters.
    for (let index = 0; index < APPLICATIONS; index += 1) {
      const target = index < TARGETED_DEAD ? index : DEAD + (index % (SECRETS - DEAD));
      const app = application({
        name: `app-${String(index).padStart(5, '0')}`,
        namespace: index % 2 === 0 ? 'argocd' : `team-${index % 7}`,
        destination: index % 3 === 0 ? { server: proxy.kubeServerUrl(kube(target)) } : { name: `${TELEPORT}-${kube(target)}` },
      });
      source.store.put(app as unknown as KubeObject);
    }
    const home = mkdtempSync(path.join(tmpdir(), 'tpa-bench-clean-'));
    const kubeconfig = await source.writeKubeconfig(path.join(home, 'kubeconfig'));
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: home, NO_COLOR: '1' };

    console.log(`${SECRETS} cluster secrets (${DEAD} dead, ${TARGETED_DEAD} of them targeted), ${APPLICATIONS} Applications, apps in any namespace on`);
    for (const args of [
      ['list', '-o', 'json'],
      ['clean', '--dry-run=client', '-o', 'json'],
      ['clean', '--dry-run=server', '-o', 'json'],
      ['clean', '-o', 'json'],
      ['clean', '-o', 'json'],
    ]) {
      source.counts.reset();
      const result = await run([...args, '--kubeconfig', kubeconfig], env);
      const summary = result.stderr.trim().split('\n').pop();
      console.log(`${args.join(' ').padEnd(36)} exit ${result.code}  ${result.wallMs.toFixed(0).padStart(6)}ms  ${requests(source)}${args[0] === 'clean' ? `  (${summary})` : ''}`);
    }
  } finally {
    await Promise.all([proxy.close(), source.close()]);
  }
}

await main();
