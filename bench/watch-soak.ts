// `sync --watch` soak: 50 rounds at the minimum interval (1 s) against the sandbox, each
// round running tbot's exec plugin and meeting a throttled or dropped LIST, while the
// binary's open file descriptors, sockets and RSS are sampled from /proc after every round.
// A leak of a round's connections, pipes or timers shows as a climb. Prints the samples and
// the spread; exits 1 when descriptors grow by more than 2 or RSS by more than 32 MiB
// between round 5 and the last round. (test/e2e/watch.test.ts checks the same over 10.)
//
//   npm run build && PATH=$PWD/node_modules/.bin:$PATH tsx bench/watch-soak.ts [rounds]
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeFakeTbot } from '../test/world/fixtures/index.js';
import { startSandbox, tbotKubeconfig } from '../test/world/sandbox.js';
import { sampleProcess } from '../test/support/process.js';

const ROUNDS = Number(process.argv[2] ?? 50);
const BINARY = path.resolve('dist/kubectl-teleport-argocd');
const KUBES = ['k1', 'k2', 'k3'];

async function main(): Promise<number> {
  const world = await startSandbox({ targets: KUBES });
  const dir = mkdtempSync(path.join(tmpdir(), 'tpa-watch-soak-'));
  const kubeconfig = await world.writeKubeconfig(path.join(dir, 'kubeconfig'));
  const tbot = await writeFakeTbot(path.join(dir, 'tools'), { credentials: world.botIdentity });
  const execKubeconfig = await world.writeKubeconfig(
    path.join(dir, 'exec-kubeconfig'),
    tbotKubeconfig(world.proxy, KUBES, tbot),
  );
  let lists = 0;
  world.source.faults.tooManyRequests({ verb: 'list', resource: 'secrets', predicate: () => lists++ % 3 === 0 }, { times: 1e6, retryAfterSeconds: 0 });
  world.source.faults.dropConnection({ verb: 'list', resource: 'secrets', predicate: () => lists % 3 === 2 }, 1e6);

  const child = spawn(BINARY, ['sync', '--watch', '--interval', '1s', '--request-timeout', '2s', '--kubeconfig', kubeconfig, '--source-kubeconfig', execKubeconfig], {
    env: { PATH: process.env.PATH, HOME: dir, NO_COLOR: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  let rounds = 0;
  const samples: Array<{ round: number; fds: number; sockets: number; rssKb: number }> = [];
  let onRound: () => void = () => {};
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    const finished = chunk.match(/^(sync: .* failed|error: round \d+ failed: .*)$/gm)?.length ?? 0;
    for (let index = 0; index < finished; index += 1) {
      rounds += 1;
      samples.push({ round: rounds, ...sampleProcess(child.pid!) });
      onRound();
    }
  });
  const started = Date.now();
  await new Promise<void>((resolve) => {
    onRound = () => rounds >= ROUNDS && resolve();
  });
  child.kill('SIGTERM');
  const code = await exited;
  await world.close();

  for (const entry of samples) console.log(`round ${String(entry.round).padStart(3)}  fds ${entry.fds}  sockets ${entry.sockets}  rss ${(entry.rssKb / 1024).toFixed(1)} MiB`);
  const settled = samples.slice(4);
  const fds = settled.map((entry) => entry.fds);
  const rssGrowthKb = settled[settled.length - 1]!.rssKb - settled[0]!.rssKb;
  console.log(`\n${ROUNDS} rounds in ${((Date.now() - started) / 1000).toFixed(1)} s; exit ${code} after SIGTERM`);
  console.log(`fds ${Math.min(...fds)}..${Math.max(...fds)}; rss growth from round 5: ${(rssGrowthKb / 1024).toFixed(1)} MiB`);
  const flat = code === 0 && Math.max(...fds) - Math.min(...fds) <= 2 && rssGrowthKb < 32 * 1024;
  console.log(flat ? 'flat' : 'NOT FLAT');
  return flat ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
