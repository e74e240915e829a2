// `sync`: register and refresh Teleport kube clusters as Argo CD cluster secrets.
import type { CommandArgs } from '../cli/commands.js';
import { CliError, errorMessage } from '../cli/errors.js';
import type { Runtime } from '../cli/globals.js';
import { renderJson, renderTable, writeStdout } from '../cli/output.js';
import { renderYaml } from '../cli/output-yaml.js';
import { loadKubeconfig } from '../kubeconfig/load.js';
import { detectTeleportContexts, type TeleportContext } from '../kubeconfig/teleport-contexts.js';
import { desiredCluster, ExecCache, nameByExec, type DesiredOptions } from '../sync/desired.js';
import { DRY_RUN_DEPRECATED, parseSyncOptions, selected, type SyncOptions } from '../sync/options.js';
import { planSync, type DesiredCluster } from '../sync/plan.js';
import { buildSyncResult, renderDiff, summaryLine, SYNC_COLUMNS, type SyncResult } from '../sync/result.js';
import { KubeLabelsLookup, tshKubeLsCommand } from '../teleport/kube-labels.js';
import { firstNames } from '../util/names.js';

/** `.Labels` for templates that read them, from tsh; the contexts tsh cannot serve get one warning. */
function teleportLabels(options: SyncOptions, contexts: TeleportContext[], runtime: Runtime): DesiredOptions['kubeLabels'] {
  if (!options.templatesUseLabels) return undefined;
  const withoutTsh = contexts.filter((context) => tshKubeLsCommand(context) === null).map((context) => context.contextName);
  if (withoutTsh.length > 0) {
    runtime.log.warn(`templates read .Labels, which only tsh can list: it is empty for ${withoutTsh.length} context(s) whose credentials do not come from tsh (${firstNames(withoutTsh, 3)})`);
  }
  const lookup = new KubeLabelsLookup(options.execTimeoutMs);
  return (context) => lookup.labelsOf(context);
}

/** Contexts → desired secrets, re-reading the kubeconfig and re-running exec plugins. */
async function collectDesired(options: SyncOptions, runtime: Runtime): Promise<DesiredCluster[]> {
  const kubeconfig = loadKubeconfig({ explicitPath: options.sourceKubeconfig ?? runtime.globals.kubeconfig });
  const detected = detectTeleportContexts(kubeconfig);
  const exec = new ExecCache(options.execTimeoutMs);
  const now = new Date();
  // tbot's v1 output is named by the certificate its plugin returns (run once: ExecCache). Only
  // --exclude can rule such a context out unrun; one whose plugin fails may be any cluster.
  const notExcluded = (contextName: string) => selected({ include: [], exclude: options.exclude }, [contextName]);
  const namedByExec = await Promise.all(
    detected.namedByExec
      .filter((context) => notExcluded(context.contextName))
      .map((context) => nameByExec(context, exec).catch((error: unknown) => ({ contextName: context.contextName, reason: errorMessage(error) }))),
  );
  const contexts = [...detected.contexts];
  const problems = detected.problems.filter((problem) => selected(options, [problem.contextName]));
  for (const named of namedByExec) {
    if ('route' in named) contexts.push(named);
    else problems.push(named);
  }
  const chosen = contexts.filter((context) => selected(options, [context.route.kubeCluster, context.contextName]));
  runtime.log.debug(`found ${contexts.length} Teleport context(s), ${chosen.length} selected`);
  const kubeLabels = teleportLabels(options, chosen, runtime);
  const rendered = await Promise.all(chosen.map((context) => desiredCluster(context, exec, { settings: options.settings, execTimeoutMs: options.execTimeoutMs, now, kubeLabels })));
  const undetectable: DesiredCluster[] = problems.map((problem) => ({ contextName: problem.contextName, route: null, server: null, error: problem.reason }));
  return [...rendered, ...undetectable];
}

async function syncRound(options: SyncOptions, runtime: Runtime, stopped: () => boolean): Promise<SyncResult> {
  const desired = await collectDesired(options, runtime);
  if (options.prune && desired.length === 0 && !options.allowEmpty) {
    throw new CliError('refusing to prune: no Teleport context was found, so every registered cluster would be deleted (check the kubeconfig, or pass --allow-empty)');
  }
  const [{ connectSource }, { applyPlan }, { listClusterSecrets }, { describeKubeError }] = await Promise.all([
    import('../kube/connect.js'),
    import('../sync/apply.js'),
    import('../kube/cluster-secrets.js'),
    import('../kube/client.js'),
  ]);
  const source = connectSource(runtime);
  try {
    const existing = await listClusterSecrets(source.clients, runtime.globals.namespace, runtime.log).catch((error: unknown) => {
      throw new CliError(`cannot list the cluster secrets in namespace "${runtime.globals.namespace}" (context ${source.contextName}): ${describeKubeError(error, source.clients.server)}`);
    });
    const plan = planSync(desired, existing, {
      prefix: options.settings.prefix,
      takeOver: options.takeOver,
      prune: options.prune,
      prunable: (route) => route !== null && selected(options, [route.kubeCluster]),
    });
    const items = await applyPlan(plan, desired, {
      clients: source.clients,
      namespace: runtime.globals.namespace,
      dryRun: options.dryRun,
      concurrency: options.concurrency,
      takeOver: options.takeOver,
      log: runtime.log,
      onProgress: (done, total) => runtime.log.progress(`sync: ${done}/${total} written`),
      stopped,
    });
    runtime.log.clearProgress();
    runtime.log.debug(`${source.clients.requestCount()} request(s) to ${source.clients.server}`);
    return buildSyncResult(items, options.dryRun);
  } finally {
    await source.clients.close();
  }
}

async function print(result: SyncResult, options: SyncOptions, runtime: Runtime): Promise<void> {
  const { output, noHeaders } = runtime.globals;
  if (output === 'json') await writeStdout(renderJson(result));
  else if (output === 'yaml') await writeStdout(`${runtime.globals.output === 'yaml' && options.watch ? '---\n' : ''}${renderYaml(result)}`);
  else {
    if (result.items.length === 0) runtime.log.info('No Teleport contexts found.');
    else await writeStdout(renderTable(result.items, SYNC_COLUMNS, { noHeaders }));
    if (options.diff) await writeStdout(renderDiff(result));
  }
  for (const item of result.items) {
    if (item.action === 'fail') runtime.log.error(`${item.context ?? item.secret}: ${item.reason}`);
  }
  runtime.log.info(summaryLine(result));
}

/** Resolves after `ms`, or as soon as a signal arrives. */
function pause(ms: number, stop: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))), stop]).finally(() => clearTimeout(timer));
}

export async function run(args: CommandArgs, runtime: Runtime): Promise<number> {
  const options = parseSyncOptions(args, runtime.globals.namespace);
  if (options.dryRunDeprecated) runtime.log.warn(DRY_RUN_DEPRECATED);
  let stopped = false;
  let wake: () => void = () => {};
  const stop = new Promise<void>((resolve) => (wake = resolve));
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopped) return;
    stopped = true;
    runtime.log.info(`received ${signal}: finishing the writes in flight, then exiting`);
    wake();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    if (!options.watch) {
      const result = await syncRound(options, runtime, () => stopped);
      await print(result, options, runtime);
      if (stopped) throw new CliError('interrupted');
      return result.summary.fail > 0 ? 1 : 0;
    }
    for (let round = 1; !stopped; round += 1) {
      try {
        const result = await syncRound(options, runtime, () => stopped);
        await print(result, options, runtime);
      } catch (error) {
        runtime.log.error(`round ${round} failed: ${errorMessage(error)}; retrying in ${String(args.interval ?? '20m')}`);
      }
      if (!stopped) await pause(options.intervalMs, stop);
    }
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
