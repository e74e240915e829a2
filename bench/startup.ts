// `npm run bench:startup [-- --runs N] [-- --kubeconfig FILE [--context NAME] [-n NS]]`:
// median wall time of the built binary next to kubectl, measured alternately in one run so
// that machine load hits every command alike:
// - the entry-script paths (--version, help, __complete) and a usage error (loads the app
//   chunk and parses with yargs, sends nothing), each against `kubectl version --client`;
// - the everyday path, `list`, against `kubectl get secrets` on the same server: the local
//   sandbox (started here, its clusters registered with `sync` first), or --kubeconfig's.
// - for scale, the same reads made by Node alone (bench/node-floor.cjs: node:https, no
//   argument parser, no Kubernetes client, no audit), against the same kubectl baseline.
// Also the peak RSS of one run of each. Prints figures and ratios; asserts nothing.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startSandbox, type Sandbox } from '../test/world/sandbox.js';

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

interface Case {
  name: string;
  command: string;
  args: string[];
  status?: number;
  baseline?: Case;
}

/**
 * Runs a command to its end and returns its wall time. Asynchronously: the sandbox's servers
 * run in this process and must keep answering.
 */
function timeOnce({ command, args, status = 0 }: Case): Promise<number> {
  const start = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
      if (code !== status) reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${stderr.trim()}`));
      else resolve(elapsed);
    });
  });
}

/** Peak resident memory of one run, from GNU time. */
async function peakRssMb(item: Case): Promise<string> {
  const dir = mkdtempSync(path.join(tmpdir(), 'tpa-startup-'));
  try {
    const file = path.join(dir, 'rss');
    await timeOnce({ ...item, command: '/usr/bin/time', args: ['-f', '%M', '-o', file, item.command, ...item.args] });
    return `${(Number(readFileSync(file, 'utf8').trim().split('\n').pop()) / 1024).toFixed(0)}MB`;
  } catch {
    return '-'; // no GNU time on this machine
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

let sandbox: Sandbox | undefined;
const work = mkdtempSync(path.join(tmpdir(), 'tpa-startup-'));
let context: string[];
let where: string;
if (options.kubeconfig) {
  context = [...(options.context ? ['--context', options.context] : []), '--kubeconfig', options.kubeconfig];
  where = options.kubeconfig;
} else {
  sandbox = await startSandbox();
  context = ['--kubeconfig', await sandbox.writeKubeconfig(path.join(work, 'kubeconfig'))];
  await timeOnce({ name: 'sync', command: BINARY, args: ['sync', ...context, '-n', 'argocd'] });
  where = 'the sandbox';
}
const server = [...context, '-n', options.namespace!];
// The floor reads the context as JSON (a YAML parser alone would cost it ~13 ms to load).
const floorConfig = path.join(work, 'context.json');
writeFileSync(floorConfig, execFileSync('kubectl', ['config', 'view', '--raw', '--minify', '-o', 'json', ...context]), { mode: 0o600 });

try {
  const VERSION: Case = { name: 'kubectl version --client', command: 'kubectl', args: ['version', '--client'] };
  const GET_SECRETS: Case = {
    name: 'kubectl get secrets (cluster secrets)',
    command: 'kubectl',
    args: ['get', 'secrets', '-l', 'argocd.argoproj.io/secret-type=cluster', ...server],
  };
  const ours = (name: string, args: string[], baseline: Case, status = 0): Case => ({ name: `kubectl-teleport-argocd ${name}`, command: BINARY, args, status, baseline });
  const cases: Case[] = [
    VERSION,
    ours('--version', ['--version'], VERSION),
    ours('--help', ['--help'], VERSION),
    ours("__complete ''", ['__complete', ''], VERSION),
    ours('sync --help', ['sync', '--help'], VERSION),
    ours('sync --bogus (exit 2)', ['sync', '--bogus'], VERSION, 2),
    GET_SECRETS,
    ours('list', ['list', ...server], GET_SECRETS),
    { name: 'node + https, the same reads (floor)', command: process.execPath, args: [path.resolve('bench/node-floor.cjs'), floorConfig, options.namespace!], baseline: GET_SECRETS },
  ];

  for (const item of cases) await timeOnce(item); // warm the page cache; not counted
  const samples = new Map(cases.map((item) => [item, [] as number[]]));
  for (let run = 0; run < runs; run += 1) {
    for (const item of cases) samples.get(item)!.push(await timeOnce(item));
  }

  const medians = new Map(cases.map((item) => [item, median(samples.get(item)!)]));
  const width = Math.max(...cases.map((item) => item.name.length));
  const line = (cells: string[]): string => cells.join('   ');
  console.log(`startup, ${runs} runs each, alternating; list against ${where}; load average ${loadavg().map((n) => n.toFixed(2)).join(' ')}`);
  console.log(line(['COMMAND'.padEnd(width), 'MEDIAN'.padStart(9), 'MIN'.padStart(9), 'MAX'.padStart(9), 'PEAK RSS', 'RATIO', 'TO']));
  for (const item of cases) {
    const values = samples.get(item)!;
    const rss = await peakRssMb(item);
    const baseline = item.baseline;
    console.log(
      line([
        item.name.padEnd(width),
        `${medians.get(item)!.toFixed(1)}ms`.padStart(9),
        `${Math.min(...values).toFixed(1)}ms`.padStart(9),
        `${Math.max(...values).toFixed(1)}ms`.padStart(9),
        rss.padStart(8),
        baseline ? (medians.get(item)! / medians.get(baseline)!).toFixed(2).padStart(5) : '    -',
        baseline ? baseline.name : '-',
      ]),
    );
  }
} finally {
  await sandbox?.close();
  rmSync(work, { recursive: true, force: true });
}
