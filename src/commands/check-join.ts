// `check join`: preflight for tbot's Kubernetes join, as Teleport's Auth Service will judge it.
import { buildCheckReport, checkReportFailed, checkSummaryLine, renderCheckReport } from '../audit/check-report.js';
import type { CommandArgs } from '../cli/commands.js';
import { CliError } from '../cli/errors.js';
import { readInputFile } from '../cli/input.js';
import type { Runtime } from '../cli/globals.js';
import { writeStdout } from '../cli/output.js';
import { judgeJoin, type JoinJudgement, type ParsedTokenFile } from '../join/check.js';
import { parseCheckJoinOptions, type CheckJoinOptions } from '../join/options.js';
import { findTokenResource, TokenFileError } from '../teleport/join-validation.js';

/** Reads `--token-file` (a path, or `-` for stdin) before any request; a bad file is an error. */
export function readTokenFile(path: string, bot: string): ParsedTokenFile {
  const { source, text } = readInputFile(path, 'token file');
  try {
    return { source, ...findTokenResource(text, bot) };
  } catch (error) {
    if (error instanceof TokenFileError) throw new CliError(`token file "${source}": ${error.message}`);
    throw error;
  }
}

/** Reads the cluster (lazily loaded client) and judges the join. */
export async function runJoinChecks(options: CheckJoinOptions, tokenFile: ParsedTokenFile | null, runtime: Runtime): Promise<JoinJudgement> {
  const [{ connectSource }, { gatherJoinFacts }] = await Promise.all([import('../kube/connect.js'), import('../join/gather.js')]);
  const source = connectSource(runtime);
  try {
    const facts = await gatherJoinFacts(source, { clusterName: options.clusterName, serviceAccount: options.serviceAccount, tokenFile }, runtime.log);
    runtime.log.debug(`${source.clients.requestCount()} request(s) to ${source.clients.server}`);
    return await judgeJoin(facts, { clusterName: options.clusterName, bot: options.bot, serviceAccount: options.serviceAccount, now: new Date() });
  } finally {
    await source.clients.close();
  }
}

export async function run(args: CommandArgs, runtime: Runtime): Promise<number> {
  const options = parseCheckJoinOptions(args, runtime.globals.namespace);
  const tokenFile = options.tokenFile ? readTokenFile(options.tokenFile, options.bot) : null;
  const judgement = await runJoinChecks(options, tokenFile, runtime);
  const report = buildCheckReport('join', judgement.results);
  await writeStdout(renderCheckReport(report, runtime.globals.output, runtime.globals.noHeaders));
  runtime.log.info(`check join: ${checkSummaryLine(report)}`);
  return checkReportFailed(report) ? 1 : 0;
}
