// `join`: renders (and checks, and optionally applies the RBAC of) everything tbot's
// Kubernetes join needs — the guide's steps 1–4 — from the live source cluster.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Document, isScalar } from 'yaml';
import { buildCheckReport, checkReportFailed, checkSummaryLine, renderCheckReport } from '../audit/check-report.js';
import type { CommandArgs } from '../cli/commands.js';
import { CliError } from '../cli/errors.js';
import type { Runtime } from '../cli/globals.js';
import { writeStdout } from '../cli/output.js';
import { renderYaml } from '../cli/output-yaml.js';
import type { ConnectedContext } from '../kube/connect.js';
import { parseJoinOptions, type JoinOptions } from '../join/options.js';
import { chooseJoinType, detectProvider, parseJwks } from '../teleport/join-validation.js';
import {
  renderBot,
  renderClusterRoleBinding,
  renderHelmValues,
  renderJoinToken,
  renderRole,
  TBOT_RELEASE,
  type ClusterRoleBinding,
  type JoinSetup,
} from '../teleport/resources.js';
import { runJoinChecks } from './check-join.js';

interface RenderedFile {
  /** File name in --out-dir. */
  name: string;
  /** A comment line before the document in the stream. */
  comment: string | null;
  yaml: string;
}

/** The token, with the JWKS as a block scalar as the guide shows it (the text itself is unchanged). */
function tokenYaml(setup: JoinSetup): string {
  const document = new Document(renderJoinToken(setup));
  const jwks = document.getIn(['spec', 'kubernetes', 'static_jwks', 'jwks'], true);
  if (isScalar(jwks)) jwks.type = 'BLOCK_LITERAL';
  return document.toString({ lineWidth: 0 });
}

/** Context names in file names: anything but letters, digits, `.`, `_`, `-` becomes `_`. */
function fileSafe(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_');
}

function shellQuote(word: string): string {
  return /^[A-Za-z0-9@%+=:,./_-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

function helmInstallCommand(source: string, namespace: string, valuesFile: string): string {
  const context = source === 'in-cluster' ? '' : ` --kube-context ${shellQuote(source)}`;
  return `helm install ${TBOT_RELEASE} teleport/tbot${context} --namespace ${namespace} --values ${shellQuote(valuesFile)}`;
}

/** The discovery issuer and JWKS only, for `--skip-checks`. */
async function readIssuerAndJwks(source: ConnectedContext, runtime: Runtime): Promise<{ issuer: string | null; jwksText: string | null }> {
  const { fetchDiscovery, fetchJwks } = await import('../join/gather.js');
  const [discovery, jwks] = await Promise.all([fetchDiscovery(source.clients, runtime.log), fetchJwks(source.clients, runtime.log)]);
  if (!discovery.ok) runtime.log.warn(`service account issuer discovery failed: ${discovery.error}`);
  if (!jwks.ok) return { issuer: discovery.ok ? discovery.value : null, jwksText: null };
  const parsed = await parseJwks(jwks.value);
  if (!parsed.jwks) throw new CliError(`the source cluster's JWKS is unusable: ${parsed.problem}`);
  return { issuer: discovery.ok ? discovery.value : null, jwksText: jwks.value };
}

/** Runs `check join`; stops with the report on stderr when something failed. */
async function preflight(options: JoinOptions, runtime: Runtime): Promise<{ issuer: string | null; jwksText: string | null }> {
  const judgement = await runJoinChecks(options, null, runtime);
  const report = buildCheckReport('join', judgement.results);
  if (checkReportFailed(report)) {
    process.stderr.write(renderCheckReport(report, 'table', false));
    throw new CliError(`check join: ${checkSummaryLine(report)}; nothing was written (fix the failures, or pass --skip-checks)`);
  }
  for (const result of report.results) {
    if (result.status === 'warn') runtime.log.warn(`${result.id} (${result.subject}): ${result.message}`);
  }
  runtime.log.info(`check join: ${checkSummaryLine(report)}`);
  return { issuer: judgement.issuer, jwksText: judgement.jwksText };
}

function buildSetup(options: JoinOptions, issuer: string | null, jwksText: string | null, runtime: Runtime): JoinSetup {
  const joinType = chooseJoinType(options.joinType, issuer);
  const provider = issuer ? detectProvider(issuer) : null;
  runtime.log.debug(`issuer ${issuer ?? '<none>'}: ${provider ? provider.name : 'self-managed'}; join type ${joinType}`);
  if (joinType === 'oidc') {
    if (!issuer) throw new CliError('join type oidc needs the service account issuer, and the source cluster did not name one');
    if (!issuer.startsWith('https://')) throw new CliError(`join type oidc needs an https issuer (Teleport rejects ${issuer}); use --join-type static_jwks`);
    if (!provider) runtime.log.warn(`join type oidc: Teleport's Auth Service must reach ${issuer}/.well-known/openid-configuration and its JWKS`);
  } else {
    if (!jwksText) throw new CliError("join type static_jwks needs the source cluster's JWKS, which could not be read");
    if (provider?.name === 'EKS') {
      runtime.log.warn('EKS rotates its service account signing keys: a static_jwks token stops working after a rotation; use --join-type oidc (or auto)');
    }
  }
  if (options.serviceAccount.namespace !== runtime.globals.namespace) {
    runtime.log.warn(
      `tbot runs in namespace ${options.serviceAccount.namespace} and writes Argo CD cluster secrets there, but Argo CD is in ${runtime.globals.namespace}`,
    );
  }
  return {
    clusterName: options.clusterName,
    proxy: options.proxy,
    bot: options.bot,
    role: options.role,
    token: options.token,
    serviceAccount: options.serviceAccount,
    joinType,
    jwks: joinType === 'static_jwks' ? jwksText : null,
    issuer: joinType === 'oidc' ? issuer : null,
    kubernetesGroup: options.kubernetesGroup,
    clusterRole: options.clusterRole,
    kubeLabels: options.kubeLabels,
    clusterSelectors: options.clusterSelectors,
    impersonation: options.impersonation,
  };
}

function renderFiles(setup: JoinSetup, contexts: string[], source: string): RenderedFile[] {
  const binding = renderYaml(renderClusterRoleBinding(setup));
  return [
    { name: 'role.yaml', comment: null, yaml: renderYaml(renderRole(setup)) },
    { name: 'bot.yaml', comment: null, yaml: renderYaml(renderBot(setup)) },
    { name: 'join-token.yaml', comment: null, yaml: tokenYaml(setup) },
    ...contexts.map((context) => ({
      name: `rbac-${fileSafe(context)}.yaml`,
      comment: `# ClusterRoleBinding for context ${context}: kubectl --context ${shellQuote(context)} apply -f -`,
      yaml: binding,
    })),
    { name: 'tbot-values.yaml', comment: `# tbot Helm values: ${helmInstallCommand(source, setup.serviceAccount.namespace, 'tbot-values.yaml')}`, yaml: renderYaml(renderHelmValues(setup)) },
  ];
}

function writeOutDir(dir: string, files: RenderedFile[]): void {
  try {
    mkdirSync(dir, { recursive: true });
    for (const file of files) {
      const target = path.join(dir, file.name);
      writeFileSync(target, file.yaml, { mode: 0o600 });
      chmodSync(target, 0o600);
    }
  } catch (error) {
    throw new CliError(`cannot write to --out-dir ${dir}: ${(error as Error).message}`);
  }
}

function nextSteps(options: JoinOptions, setup: JoinSetup, contexts: string[], source: string, rbacApplied: boolean): string {
  const file = (name: string) => (options.outDir ? path.join(options.outDir, name) : name);
  const lines = ['Next steps:'];
  if (!options.outDir) lines.push('  (save the documents above as the files named below, or run again with --out-dir DIR)');
  lines.push('  1. Create the role, bot and join token in Teleport:');
  for (const name of ['role.yaml', 'bot.yaml', 'join-token.yaml']) lines.push(`       tctl create -f ${shellQuote(file(name))}`);
  if (rbacApplied) {
    lines.push(`  2. Kubernetes RBAC: applied (${contexts.join(', ')})`);
  } else {
    lines.push('  2. Bind the Kubernetes RBAC in the source and every target cluster (or run again with --apply-rbac):');
    for (const context of contexts) {
      lines.push(`       kubectl${context === 'in-cluster' ? '' : ` --context ${shellQuote(context)}`} apply -f ${shellQuote(file(`rbac-${fileSafe(context)}.yaml`))}`);
    }
  }
  lines.push('  3. Deploy tbot next to Argo CD:');
  lines.push('       helm repo add teleport https://charts.releases.teleport.dev && helm repo update');
  lines.push(`       ${helmInstallCommand(source, setup.serviceAccount.namespace, file('tbot-values.yaml'))}`);
  return `${lines.join('\n')}\n`;
}

async function applyRbac(binding: ClusterRoleBinding, connected: ConnectedContext[], runtime: Runtime): Promise<boolean> {
  const { applyClusterRoleBinding } = await import('../join/rbac.js');
  let ok = true;
  for (const { contextName, clients } of connected) {
    const outcome = await applyClusterRoleBinding(clients, binding, runtime.log);
    if (outcome.action === 'failed') {
      ok = false;
      runtime.log.error(`context ${contextName}: ${outcome.reason}`);
    } else {
      runtime.log.info(`clusterrolebinding.rbac.authorization.k8s.io/${binding.metadata.name} ${outcome.action} (context ${contextName})`);
    }
  }
  return ok;
}

export async function run(args: CommandArgs, runtime: Runtime): Promise<number> {
  const options = parseJoinOptions(args, runtime.globals.namespace);
  const { connectContext, connectSource, loadUserKubeconfig } = await import('../kube/connect.js');
  const kubeconfig = loadUserKubeconfig(runtime);
  // Every context is resolved before the first request, so a typo fails fast.
  const source = connectSource(runtime, kubeconfig);
  const targets = options.targetContexts
    .filter((name) => name !== source.contextName)
    .map((name) => connectContext(kubeconfig, runtime, name));
  const connected = [source, ...targets];
  try {
    const { issuer, jwksText } = options.skipChecks ? await readIssuerAndJwks(source, runtime) : await preflight(options, runtime);
    const setup = buildSetup(options, issuer, jwksText, runtime);
    const contexts = connected.map((context) => context.contextName);
    const files = renderFiles(setup, contexts, source.contextName);
    if (options.outDir) {
      writeOutDir(options.outDir, files);
      runtime.log.info(`wrote ${files.map((file) => file.name).join(', ')} to ${options.outDir}`);
    } else {
      await writeStdout(files.map((file) => `---\n${file.comment ? `${file.comment}\n` : ''}${file.yaml}`).join(''));
    }
    const rbacOk = options.applyRbac ? await applyRbac(renderClusterRoleBinding(setup), connected, runtime) : true;
    process.stderr.write(nextSteps(options, setup, contexts, source.contextName, options.applyRbac && rbacOk));
    return rbacOk ? 0 : 1;
  } finally {
    await Promise.all(connected.map((context) => context.clients.close()));
  }
}
