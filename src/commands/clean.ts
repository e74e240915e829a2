// `clean`: remove dead registrations — cluster secrets tbot or we wrote whose certificate
// expired and that nothing refreshes any more (product.md §5.6, §6.4).
import type { CommandArgs } from '../cli/commands.js';
import { CliError } from '../cli/errors.js';
import type { Runtime } from '../cli/globals.js';
import { renderJson, renderTable, writeStdout } from '../cli/output.js';
import { renderYaml } from '../cli/output-yaml.js';
import { parseCleanOptions, type CleanOptions } from '../clean/options.js';
import { planClean } from '../clean/plan.js';
import { buildCleanResult, cleanSummaryLine, CLEAN_COLUMNS, type CleanResult } from '../clean/result.js';
import { DRY_RUN_DEPRECATED } from '../sync/options.js';

async function print(result: CleanResult, options: CleanOptions, runtime: Runtime): Promise<void> {
  if (options.output === 'json') await writeStdout(renderJson(result));
  else if (options.output === 'yaml') await writeStdout(renderYaml(result));
  else if (result.items.length === 0) runtime.log.info(`No dead registrations found in ${runtime.globals.namespace} namespace.`);
  else await writeStdout(renderTable(result.items, CLEAN_COLUMNS, { noHeaders: runtime.globals.noHeaders }));
  for (const item of result.items) {
    if (item.action === 'fail') runtime.log.error(`secret/${item.secret}: ${item.reason}`);
  }
  runtime.log.info(cleanSummaryLine(result));
}

export async function run(args: CommandArgs, runtime: Runtime): Promise<number> {
  const options = parseCleanOptions(args, runtime.globals.output);
  if (options.dryRunDeprecated) runtime.log.warn(DRY_RUN_DEPRECATED);
  const [{ connectSource }, { readRegistrations }, { applyClean }] = await Promise.all([
    import('../kube/connect.js'),
    import('../kube/applications.js'),
    import('../clean/apply.js'),
  ]);
  const { namespace } = runtime.globals;
  const source = connectSource(runtime);
  try {
    const { secrets, applications } = await readRegistrations(source.clients, namespace, runtime.log);
    const rules = { now: new Date(), staleAfterMs: options.staleAfterMs, owners: options.owners, selects: options.selects, includeTargeted: options.includeTargeted, applications };
    const plan = planClean(secrets, rules);
    for (const kept of plan.kept) runtime.log.debug(`keep secret/${kept.secret}: ${kept.reason}`);
    if (plan.refusal !== null) throw new CliError(plan.refusal);
    if (rules.applications.applications === null) runtime.log.warn(`cannot read Argo CD Applications, so applications[] are unknown: ${rules.applications.reason}`);
    const items = await applyClean(plan.items, rules, { clients: source.clients, namespace, dryRun: options.dryRun, log: runtime.log });
    runtime.log.debug(`${source.clients.requestCount()} request(s) to ${source.clients.server}`);
    const result = buildCleanResult(items, options.dryRun);
    await print(result, options, runtime);
    return result.summary.fail > 0 ? 1 : 0;
  } finally {
    await source.clients.close();
  }
}
