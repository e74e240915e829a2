// `npm run bench:startup [-- --runs N] [-- --kubeconfig FILE [--context NAME] [-n NS]]`:
// median wall time of the built binary's cheapest paths next to `kubectl version --client`,
// measured alternately in one run so that machine load hits every command alike: the
// entry-script paths (--version, help, __complete) and a usage error, which loads the app
// chunk and parses with yargs but sends nothing. With a kubeconfig it also times `list`
// against `kubectl get secrets` on the same server. Prints figures and ratios; asserts nothing.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const BINARY = path.resolve('dist/kubectl-teleport-argocd');
const { values: options } = parseArgs({
  options: {
    runs: { type: 'string', default: '21' },
    kubeconfig: { type: 'string' },
    context: { type: 'string' },
    namespace: { type: 'string', short: 'n', default: 'argocd' },
  },
});
const runs = Number(options.runs);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer, not ${options.runs}`);
if (!existsSync(BINARY)) throw new Error(`${BINARY} is missing: run npm run build first`);

const BASELINE = { name: 'kubectl version --client', command: 'kubectl', args: ['version', '--client'] };
const cases = [
  BASELINE,
  { name: 'kubectl-teleport-argocd --version', command: BINARY, args: ['--version'] },
  { name: 'kubectl-teleport-argocd --help', command: BINARY, args: ['--help'] },
  { name: "kubectl-teleport-argocd __complete ''", command: BINARY, args: ['__complete', ''] },
  { name: 'kubectl-teleport-argocd sync --help', command: BINARY, args: ['sync', '--help'] },
  { name: 'kubectl-teleport-argocd sync --bogus (exit 2)', command: BINARY, args: ['sync', '--bogus'], status: 2 },
];
const server = options.kubeconfig
  ? [...(options.context ? ['--context', options.context] : []), '--kubeconfig', options.kubeconfig, '-n', options.namespace]
  : undefined;
const GET_SECRETS = server && {
  name: 'kubectl get secrets (cluster secrets)',
  command: 'kubectl',
  args: ['get', 'secrets', '-l', 'argocd.argoproj.io/secret-type=cluster', ...server],
};
if (server) cases.push(GET_SECRETS, { name: 'kubectl-teleport-argocd list -A', command: BINARY, args: ['list', '-A', ...server] });

function timeOnce({ command, args, status = 0 }) {
  const start = process.hrtime.bigint();
  const result = spawnSync(command, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== status) throw new Error(`${command} ${args.join(' ')} exited ${result.status}: ${String(result.stderr).trim()}`);
  return elapsed;
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

for (const item of cases) timeOnce(item); // warm the page cache; not counted
const samples = new Map(cases.map((item) => [item, []]));
for (let run = 0; run < runs; run += 1) {
  for (const item of cases) samples.get(item).push(timeOnce(item));
}

const medians = new Map(cases.map((item) => [item, median(samples.get(item))]));
const ratioTo = (item) => (item.args[0] === 'list' ? GET_SECRETS : BASELINE);
const width = Math.max(...cases.map((item) => item.name.length));
const line = (cells) => cells.join('   ');
console.log(`startup, ${runs} runs each, alternating; load average ${loadavg().map((n) => n.toFixed(2)).join(' ')}`);
console.log(line(['COMMAND'.padEnd(width), 'MEDIAN'.padStart(9), 'MIN'.padStart(9), 'MAX'.padStart(9), 'RATIO', 'TO']));
for (const item of cases) {
  const values = samples.get(item);
  const baseline = ratioTo(item);
  console.log(
    line([
      item.name.padEnd(width),
      `${medians.get(item).toFixed(1)}ms`.padStart(9),
      `${Math.min(...values).toFixed(1)}ms`.padStart(9),
      `${Math.max(...values).toFixed(1)}ms`.padStart(9),
      (medians.get(item) / medians.get(baseline)).toFixed(2).padStart(5),
      baseline === item ? '-' : baseline.name,
    ]),
  );
}
