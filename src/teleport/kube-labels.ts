// The Teleport labels of kube clusters, `.Labels` in label and annotation templates
// (product.md §4). Only `tsh` can list them for a kubeconfig context: `tsh kube ls
// --format=json` with the context's own tsh, environment and profile (teleport.md,
// "tsh kube ls"). Other contexts (tbot, static certificates) have no labels to offer.
import { describeExecCommand, runExecCommand } from '../kubeconfig/exec-credential.js';
import type { ExecConfig } from '../kubeconfig/load.js';
import { flagValue, teleportTool, type TeleportContext } from '../kubeconfig/teleport-contexts.js';
import { PromiseMemo } from '../util/memo.js';

export type KubeLabels = Record<string, string>;

/**
 * The `tsh kube ls` that sees what the context's `tsh kube credentials` sees: same
 * executable and environment, same profile (`--proxy`, `--user`, `--insecure`), listing
 * the context's Teleport cluster (`--cluster`, a leaf for leaf routes). Null for contexts
 * whose credentials do not come from tsh.
 */
export function tshKubeLsCommand(context: TeleportContext): ExecConfig | null {
  if (context.credentials.kind !== 'exec') return null;
  const exec = context.credentials.exec;
  if (teleportTool(exec.command) !== 'tsh') return null;
  const execArgs = exec.args ?? [];
  const args = ['kube', 'ls', '--format=json', `--cluster=${context.route.teleportCluster}`];
  for (const flag of ['--proxy', '--user']) {
    const value = flagValue(execArgs, flag);
    if (value !== null) args.push(`${flag}=${value}`);
  }
  // tsh kube login writes --insecure when the proxy's certificate is not trusted; listing needs it as well.
  if (execArgs.includes('--insecure')) args.push('--insecure');
  return { command: exec.command, args, env: exec.env ?? null, installHint: exec.installHint };
}

function isStringRecord(value: unknown): value is KubeLabels {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((entry) => typeof entry === 'string');
}

/** `tsh kube ls --format=json` output → labels per kube cluster name (`labels: null` means none). */
export function parseKubeClusterListing(stdout: string, what: string): Map<string, KubeLabels> {
  const invalid = new Error(`${what} did not print a kube cluster list (expected a JSON array of {"kube_cluster_name", "labels"})`);
  let document: unknown;
  try {
    document = JSON.parse(stdout);
  } catch {
    throw invalid;
  }
  if (!Array.isArray(document)) throw invalid;
  const listing = new Map<string, KubeLabels>();
  for (const entry of document as Array<{ kube_cluster_name?: unknown; labels?: unknown }>) {
    if (typeof entry?.kube_cluster_name !== 'string') throw invalid;
    if (entry.labels !== null && entry.labels !== undefined && !isStringRecord(entry.labels)) throw invalid;
    listing.set(entry.kube_cluster_name, { ...(entry.labels ?? {}) });
  }
  return listing;
}

/** Looks labels up with `tsh kube ls`, running each distinct listing once per sync round. */
export class KubeLabelsLookup {
  private readonly listings = new PromiseMemo<Map<string, KubeLabels>>();
  constructor(private readonly timeoutMs: number) {}

  /** The context's kube cluster labels; `{}` for contexts whose credentials do not come from tsh. */
  async labelsOf(context: TeleportContext): Promise<KubeLabels> {
    const command = tshKubeLsCommand(context);
    if (!command) return {};
    const what = `"${describeExecCommand(command)}"`;
    const key = JSON.stringify([command.command, command.args, command.env ?? []]);
    const listing = this.listings.get(key, () => runExecCommand(command, this.timeoutMs, what).then((stdout) => parseKubeClusterListing(stdout, what)));
    const prefix = 'cannot read the Teleport labels for .Labels';
    let clusters: Map<string, KubeLabels>;
    try {
      clusters = await listing;
    } catch (error) {
      throw new Error(`${prefix}: ${error instanceof Error ? error.message : String(error)}`);
    }
    const labels = clusters.get(context.route.kubeCluster);
    if (!labels) throw new Error(`${prefix}: ${what} does not list kube cluster "${context.route.kubeCluster}"`);
    return labels;
  }
}
