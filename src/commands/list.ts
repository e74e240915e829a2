// `list`: audit the clusters registered in Argo CD (product.md §5.2, §6.1).
import {
  auditClusterSecrets,
  buildClusterList,
  clusterColumns,
  failsOn,
  parseFailOn,
  type AuditedCluster,
  type FailOn,
} from '../audit/cluster-status.js';
import type { CommandArgs } from '../cli/commands.js';
import { parseDuration } from '../cli/duration.js';
import type { Runtime } from '../cli/globals.js';
import { parseOutputFormat, renderJson, renderTable, writeStdout, type OutputFormat } from '../cli/output.js';
import { firstNames } from '../util/names.js';

const OUTPUTS: OutputFormat[] = ['table', 'wide', 'json', 'yaml', 'name'];

interface ListOptions {
  output: OutputFormat;
  all: boolean;
  probe: boolean;
  staleAfterMs: number;
  expiringWithinMs: number;
  failOn: Set<FailOn>;
}

function parseListOptions(args: CommandArgs, runtime: Runtime): ListOptions {
  const probe = Boolean(args.probe);
  return {
    output: parseOutputFormat(runtime.globals.output, OUTPUTS),
    all: Boolean(args.all),
    probe,
    staleAfterMs: parseDuration(String(args['stale-after'] ?? '1h'), '--stale-after'),
    expiringWithinMs: parseDuration(String(args['expiring-within'] ?? '10m'), '--expiring-within'),
    failOn: parseFailOn(args['fail-on'], probe),
  };
}

async function print(clusters: AuditedCluster[], options: ListOptions, runtime: Runtime, now: Date): Promise<void> {
  const { namespace, noHeaders } = runtime.globals;
  if (options.output === 'json') return writeStdout(renderJson(buildClusterList(clusters)));
  if (options.output === 'yaml') {
    const { renderYaml } = await import('../cli/output-yaml.js');
    return writeStdout(renderYaml(buildClusterList(clusters)));
  }
  if (clusters.length === 0) {
    runtime.log.info(`No resources found in ${namespace} namespace.`);
    return;
  }
  if (options.output === 'name') return writeStdout(clusters.map((cluster) => `secret/${cluster.item.secret.name}\n`).join(''));
  const items = clusters.map((cluster) => cluster.item);
  return writeStdout(renderTable(items, clusterColumns(now, options.probe), { wide: options.output === 'wide', noHeaders }));
}

export async function run(args: CommandArgs, runtime: Runtime): Promise<number> {
  const options = parseListOptions(args, runtime);
  const [{ connectSource }, { readRegistrations }] = await Promise.all([import('../kube/connect.js'), import('../kube/applications.js')]);
  const { namespace } = runtime.globals;
  const source = connectSource(runtime);
  // Dependents never fail the command (§5.2).
  let registrations;
  try {
    registrations = await readRegistrations(source.clients, namespace, runtime.log);
    runtime.log.debug(`${source.clients.requestCount()} request(s) to ${source.clients.server}`);
  } finally {
    await source.clients.close();
  }
  const { secrets, applications } = registrations;
  if (applications.applications === null) runtime.log.warn(`cannot read Argo CD Applications, so APPS and applications[] are unknown: ${applications.reason}`);
  const now = new Date();
  const audited = auditClusterSecrets(secrets, {
    now,
    staleAfterMs: options.staleAfterMs,
    expiringWithinMs: options.expiringWithinMs,
    applications: applications.applications,
  });
  const shown = options.all ? audited : audited.filter((cluster) => cluster.teleportRelated);
  runtime.log.debug(`${secrets.length} cluster secret(s), ${shown.length} shown${options.all ? '' : ' (Teleport-related; -A shows all)'}`);
  if (options.probe) {
    const { probeClusters } = await import('../audit/probe.js');
    await probeClusters(shown, { requestTimeoutMs: runtime.globals.requestTimeoutMs, log: runtime.log });
  }
  await print(shown, options, runtime, now);
  const failing = shown.filter((cluster) => failsOn(cluster, options.failOn));
  if (failing.length > 0) {
    const names = failing.map((cluster) => cluster.item.name ?? cluster.item.secret.name);
    runtime.log.error(`${failing.length} cluster(s) match --fail-on ${[...options.failOn].join(',')}: ${firstNames(names, 10)}`);
    return 1;
  }
  return 0;
}
