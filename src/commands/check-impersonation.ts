// `check impersonation`: verify Argo CD sync impersonation through Teleport end to end
// (product.md §5.5, §6.3, §7): Argo CD's settings and projects, the bot's Teleport
// identity, and the target clusters' answers. Reads only; key material stays in memory.
import {
  accountsToCheck,
  controlPlaneAccessCheck,
  coverageChecks,
  CONTROL_PLANE_SAMPLE,
  CONTROL_PLANE_VERBS,
  impersonatedUser,
  impersonationCheck,
  impersonationSettings,
  projectCoverage,
  projectTargetsCluster,
  projectValidityChecks,
  projectView,
  serviceAccountExistsCheck,
  settingsChecks,
  ARGOCD_CM,
  type AccessAnswer,
  type ImpersonationSettings,
  type KindAnswer,
  type ProjectView,
  type ReadAnswer,
  type ResourceKind,
  type ServiceAccountRef,
} from '../argocd/impersonation.js';
import type { SecretObject } from '../argocd/cluster-secret.js';
import { buildCheckReport, checkReportFailed, checkSummaryLine, renderCheckReport, type CheckResult } from '../audit/check-report.js';
import type { AuditedCluster } from '../audit/cluster-status.js';
import { argumentValues, type CommandArgs } from '../cli/commands.js';
import { CliError, UsageError } from '../cli/errors.js';
import { globArguments } from '../cli/globs.js';
import { readInputFile } from '../cli/input.js';
import type { Runtime } from '../cli/globals.js';
import { parseOutputFormat, writeStdout } from '../cli/output.js';
import type { KubeClients } from '../kube/client.js';
import {
  botUserName,
  defaultKubeUser,
  kubernetesGroupsCheck,
  kubernetesUsersCheck,
  parseTeleportRoles,
  principalsFromRoles,
  RoleFileError,
  teleportImpersonationDenial,
  SYSTEM_AUTHENTICATED,
  type IdentityUnderCheck,
  type TeleportKubeRole,
} from '../teleport/role-rules.js';
import { mapConcurrently } from '../util/concurrency.js';

const CONCURRENCY = 8;

interface RoleFile {
  source: string;
  roles: TeleportKubeRole[];
}

interface Options {
  output: string;
  matches: (kubeCluster: string) => boolean;
  /** Kube cluster → kubeconfig context with admin access. */
  targetContexts: Map<string, string>;
  roleFiles: RoleFile[];
  strict: boolean;
}

function parseTargetContexts(value: unknown): Map<string, string> {
  const contexts = new Map<string, string>();
  for (const raw of Array.isArray(value) ? value : []) {
    const text = String(raw);
    const equals = text.indexOf('=');
    if (equals <= 0 || equals === text.length - 1) throw new UsageError(`--target-context "${text}": expected KUBE=CONTEXT`);
    const kube = text.slice(0, equals);
    if (contexts.has(kube)) throw new UsageError(`--target-context: kube cluster "${kube}" given twice`);
    contexts.set(kube, text.slice(equals + 1));
  }
  return contexts;
}

function readRoleFile(path: string): RoleFile {
  const { source, text } = readInputFile(path, 'role file');
  try {
    return { source, roles: parseTeleportRoles(text) };
  } catch (error) {
    if (error instanceof RoleFileError) throw new CliError(`role file "${source}": ${error.message}`);
    throw error;
  }
}

function parseOptions(args: CommandArgs, runtime: Runtime): Options {
  const output = parseOutputFormat(runtime.globals.output, ['table', 'json', 'yaml']);
  const matchers = globArguments(args.globs, 'GLOB');
  const targetContexts = parseTargetContexts(args['target-context']);
  const roleFiles = argumentValues(args['role-file']).map(readRoleFile);
  return {
    output,
    matches: (kube) => matchers.length === 0 || matchers.some((match) => match(kube)),
    targetContexts,
    roleFiles,
    strict: Boolean(args.strict),
  };
}

interface SourceFacts {
  /** null: argocd-cm does not exist. */
  settings: ImpersonationSettings | null;
  projects: ProjectView[];
  secrets: SecretObject[];
}

async function readSourceFacts(clients: KubeClients, namespace: string, runtime: Runtime): Promise<SourceFacts> {
  const [{ describeKubeError, isNotFound, LIST_PAGE_SIZE, listAllPages, withRetry }, { listClusterSecrets }] = await Promise.all([import('../kube/client.js'), import('../kube/cluster-secrets.js')]);
  const fail = (what: string, error: unknown) => new CliError(`cannot read ${what} in namespace ${namespace}: ${describeKubeError(error, clients.server)}`);
  const retry = { log: runtime.log };
  const settings = withRetry(() => clients.core.readNamespacedConfigMap({ name: ARGOCD_CM, namespace }), { ...retry, what: `get configmap ${ARGOCD_CM}` }).then(
    (configMap) => impersonationSettings(configMap.data),
    (error: unknown) => {
      if (isNotFound(error)) return null;
      throw fail(`configmap ${ARGOCD_CM}`, error);
    },
  );
  const projects = listAllPages<unknown>(
    (continueToken) =>
      clients.customObjects.listNamespacedCustomObject({ group: 'argoproj.io', version: 'v1alpha1', namespace, plural: 'appprojects', limit: LIST_PAGE_SIZE, _continue: continueToken }),
    { ...retry, what: 'list appprojects' },
  ).then(
    (items) => items.map(projectView),
    (error: unknown) => {
      throw fail('appprojects', error);
    },
  );
  const secrets = listClusterSecrets(clients, namespace, runtime.log).catch((error: unknown) => {
    throw fail('cluster secrets', error);
  });
  // All three at once: awaiting them one by one would leave a later rejection unhandled (a crash).
  const [argocdSettings, appProjects, clusterSecrets] = await Promise.all([settings, projects, secrets]);
  return { settings: argocdSettings, projects: appProjects, secrets: clusterSecrets };
}

/** One registered Teleport cluster and everything the target side needs for it. */
interface ClusterPlan {
  cluster: AuditedCluster;
  label: string;
  accounts: ServiceAccountRef[];
  /** From the secret's certificate; null when it has no Teleport identity. */
  identity: IdentityUnderCheck | null;
  /** Admin clients from --target-context, instead of the secret's credentials through Teleport. */
  direct: { context: string; clients: KubeClients } | null;
  coverage: CheckResult[];
}

/** Who Teleport runs a request without Impersonate-User as. */
function controlPlaneUser(identity: IdentityUnderCheck | null): string {
  if (identity === null) return "the secret's identity";
  const chosen = defaultKubeUser(identity, identity.teleportUser);
  return 'user' in chosen ? chosen.user : identity.teleportUser;
}

function certificateIdentity(cluster: AuditedCluster, label: string): IdentityUnderCheck | null {
  const teleport = cluster.item.credentials.certificate?.teleport;
  if (teleport === undefined || teleport.user === null) return null;
  return {
    subject: label,
    source: 'certificate',
    users: teleport.kubernetesUsers,
    groups: teleport.kubernetesGroups,
    teleportUser: botUserName(teleport) ?? teleport.user,
  };
}

function teleportIdentityChecks(plan: ClusterPlan): CheckResult[] {
  if (plan.identity === null) {
    const reason = plan.cluster.target === null ? 'the secret is invalid' : 'its credentials carry no Teleport certificate identity';
    return ['teleport.kubernetes-users', 'teleport.kubernetes-groups'].map((id) => ({ id, subject: plan.label, status: 'skip', message: reason }));
  }
  return [kubernetesUsersCheck(plan.identity), kubernetesGroupsCheck(plan.identity)];
}

/** The role files judged for the bot's role set from the certificates (every role when none is known). */
function roleFileChecks(roleFiles: readonly RoleFile[], plans: readonly ClusterPlan[]): CheckResult[] {
  if (roleFiles.length === 0) return [];
  const roles = roleFiles.flatMap((file) => file.roles);
  const sources = roleFiles.map((file) => file.source).join(', ');
  const roleSets = new Map<string, string[] | null>();
  for (const plan of plans) {
    const names = plan.cluster.item.credentials.certificate?.teleport.roles;
    if (names && names.length > 0) roleSets.set([...names].sort().join(','), [...names].sort());
  }
  if (roleSets.size === 0) roleSets.set('', null);
  const teleportUsers = [...new Set(plans.map((plan) => plan.identity?.teleportUser).filter((user): user is string => Boolean(user)))];
  const teleportUser = teleportUsers.length === 1 ? teleportUsers[0]! : 'bot-<name>';
  const results: CheckResult[] = [];
  for (const names of roleSets.values()) {
    const principals = principalsFromRoles(roles, names);
    const subject = names === null ? `role-file ${sources}` : `roles ${names.join(',')}`;
    if (principals.used.length === 0) {
      const why =
        names === null
          ? 'none of its roles grants a kube cluster (no kubernetes_labels)'
          : `it defines none of the bot's roles that grant a kube cluster (${names.join(', ')}${principals.missing.length > 0 ? `; missing: ${principals.missing.join(', ')}` : ''})`;
      results.push({ id: 'teleport.kubernetes-users', subject, status: 'warn', message: `nothing to check in ${sources}: ${why}` });
      continue;
    }
    const notes = [
      principals.missing.length > 0 ? `not in the file: ${principals.missing.join(', ')}` : '',
      principals.ignored.length > 0 ? `granting no cluster: ${principals.ignored.join(', ')}` : '',
    ].filter(Boolean);
    const identity: IdentityUnderCheck = {
      subject,
      source: `roles ${principals.used.join(', ')}${notes.length > 0 ? `; ${notes.join('; ')}` : ''}`,
      users: principals.users,
      groups: principals.groups,
      teleportUser,
    };
    results.push(kubernetesUsersCheck(identity), kubernetesGroupsCheck(identity));
  }
  return results;
}

interface TargetSide {
  /** Who the control plane's requests run as, for messages. */
  controlPlaneUser: string;
  review(kind: ResourceKind & { verb: string; namespace?: string; name?: string }): Promise<AccessAnswer>;
  readServiceAccount(account: ServiceAccountRef): Promise<ReadAnswer>;
  /** Null when a request impersonating `user` is accepted, else the refusal. */
  impersonate(user: string, namespace: string): Promise<string | null>;
  reader: string;
  close(): Promise<void>;
}

/** Whether a service account exists, read through `clients`; `where` prefixes errors. */
async function readServiceAccount(
  clients: KubeClients,
  account: ServiceAccountRef,
  runtime: Runtime,
  options: { where: string | null; forbiddenIsAnswer: boolean },
): Promise<ReadAnswer> {
  const { describeKubeError, isForbidden, isNotFound, withRetry } = await import('../kube/client.js');
  try {
    await withRetry(() => clients.core.readNamespacedServiceAccount(account), {
      attempts: 3,
      log: runtime.log,
      what: `get serviceaccount ${account.namespace}/${account.name}`,
    });
    return { found: true };
  } catch (error) {
    if (isNotFound(error)) return { found: false };
    const message = describeKubeError(error, clients.server);
    return { error: options.where ? `${options.where}: ${message}` : message, forbidden: options.forbiddenIsAnswer && isForbidden(error) };
  }
}

/** Through the secret's own credentials and the Teleport proxy, as Argo CD connects. */
async function teleportTargetSide(plan: ClusterPlan, runtime: Runtime): Promise<TargetSide | string> {
  const [{ probeKubeConfig }, { createKubeClients, describeKubeError, withRetry }] = await Promise.all([
    import('../audit/probe.js'),
    import('../kube/client.js'),
  ]);
  if (plan.cluster.target === null) return 'the secret is invalid';
  const kubeconfig = probeKubeConfig(plan.cluster.target);
  if (typeof kubeconfig === 'string') return kubeconfig;
  const options = { requestTimeoutMs: runtime.globals.requestTimeoutMs, log: runtime.log };
  const clients = createKubeClients(kubeconfig, options);
  const server = plan.cluster.target.server;
  const retry = { attempts: 3, log: runtime.log };
  const review = async (
    client: KubeClients,
    attributes: { verb: string; group: string; resource: string; namespace?: string; name?: string },
  ): Promise<AccessAnswer> => {
    try {
      const answer = await withRetry(
        () =>
          client.authorization.createSelfSubjectAccessReview({
            body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: attributes } },
          }),
        { ...retry, what: `selfsubjectaccessreview ${attributes.verb} ${attributes.resource}` },
      );
      return { allowed: answer.status?.allowed === true };
    } catch (error) {
      return { error: describeKubeError(error, server) };
    }
  };
  return {
    controlPlaneUser: controlPlaneUser(plan.identity),
    reader: plan.identity?.teleportUser ?? "the secret's identity",
    review: (attributes) => review(clients, attributes),
    readServiceAccount: (account) => readServiceAccount(clients, account, runtime, { where: null, forbiddenIsAnswer: true }),
    async impersonate(user, namespace) {
      const impersonating = createKubeClients(kubeconfig, { ...options, headers: { 'Impersonate-User': user } });
      try {
        const answer = await review(impersonating, { verb: 'get', group: '', resource: 'pods', namespace });
        return answer.error ?? null;
      } finally {
        await impersonating.close();
      }
    },
    close: () => clients.close(),
  };
}

/**
 * Through an admin context: SubjectAccessReviews for the user Teleport would send, and
 * Teleport's impersonation rules applied to the secret's identity (Teleport impersonates
 * upstream with its own credentials, so the bot needs no Kubernetes `impersonate`).
 */
async function directTargetSide(plan: ClusterPlan, runtime: Runtime): Promise<TargetSide | string> {
  const { describeKubeError, withRetry } = await import('../kube/client.js');
  const { clients, context } = plan.direct!;
  if (plan.identity === null) return 'the secret carries no Teleport identity to check with --target-context';
  const identity = plan.identity;
  const chosen = defaultKubeUser(identity, identity.teleportUser);
  const groups = [...new Set([...identity.groups, SYSTEM_AUTHENTICATED])];
  const retry = { attempts: 3, log: runtime.log };
  return {
    controlPlaneUser: controlPlaneUser(identity),
    reader: `context ${context}`,
    async review(attributes) {
      if ('error' in chosen) return { error: chosen.error };
      try {
        const answer = await withRetry(
          () =>
            clients.authorization.createSubjectAccessReview({
              body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec: { user: chosen.user, groups, resourceAttributes: attributes } },
            }),
          { ...retry, what: `subjectaccessreview ${attributes.verb} ${attributes.resource} for ${chosen.user}` },
        );
        return { allowed: answer.status?.allowed === true };
      } catch (error) {
        return { error: `context ${context}: ${describeKubeError(error, clients.server)}` };
      }
    },
    // An admin context that may not read is broken, not an answer about the bot.
    readServiceAccount: (account) => readServiceAccount(clients, account, runtime, { where: `context ${context}`, forbiddenIsAnswer: false }),
    impersonate: async (user) => teleportImpersonationDenial(identity, user, identity.teleportUser),
    close: async () => undefined,
  };
}

async function targetChecks(plan: ClusterPlan, runtime: Runtime): Promise<CheckResult[]> {
  const side = plan.direct ? await directTargetSide(plan, runtime) : await teleportTargetSide(plan, runtime);
  const ids = ['target.control-plane-access', 'target.service-account-exists', 'target.impersonation'];
  if (typeof side === 'string') return ids.map((id) => ({ id, subject: plan.label, status: 'skip', message: `not checked: ${side}` }));
  try {
    const ask = (kinds: readonly ResourceKind[]) =>
      Promise.all(kinds.flatMap((kind) => CONTROL_PLANE_VERBS.map(async (verb): Promise<KindAnswer> => ({ ...kind, verb, answer: await side.review({ ...kind, verb }) }))));
    const wildcard = await ask([{ group: '*', resource: '*' }]);
    const granted = wildcard.every((item) => item.answer.allowed || item.answer.error !== undefined);
    const sample = granted ? [] : await ask(CONTROL_PLANE_SAMPLE);
    const results = [controlPlaneAccessCheck(plan.label, side.controlPlaneUser, wildcard, sample)];
    if (plan.accounts.length === 0) {
      results.push(
        { id: 'target.service-account-exists', subject: plan.label, status: 'skip', message: 'no destinationServiceAccounts entry resolves to a service account for this cluster' },
        { id: 'target.impersonation', subject: plan.label, status: 'skip', message: 'no service account to impersonate' },
      );
      return results;
    }
    for (const account of plan.accounts) {
      const subject = `${plan.label} ${account.namespace}/${account.name}`;
      const user = impersonatedUser(`${account.namespace}:${account.name}`, account.namespace);
      const [exists, refusal] = await Promise.all([side.readServiceAccount(account), side.impersonate(user, account.namespace)]);
      results.push(serviceAccountExistsCheck(subject, account, exists, side.reader), impersonationCheck(subject, user, refusal));
    }
    return results;
  } finally {
    await side.close();
  }
}

export async function run(args: CommandArgs, runtime: Runtime): Promise<number> {
  const options = parseOptions(args, runtime);
  const [{ connectContext, connectSource, loadUserKubeconfig }, { auditClusterSecrets }] = await Promise.all([
    import('../kube/connect.js'),
    import('../audit/cluster-status.js'),
  ]);
  const { namespace } = runtime.globals;
  const kubeconfig = loadUserKubeconfig(runtime);
  // Resolve every named context before the first request: a typo is reported at once.
  const direct = new Map([...options.targetContexts].map(([kube, context]) => [kube, { context, clients: connectContext(kubeconfig, runtime, context).clients }]));
  const source = connectSource(runtime, kubeconfig);
  try {
    const facts = await readSourceFacts(source.clients, namespace, runtime);
    runtime.log.debug(`${source.clients.requestCount()} request(s) to ${source.clients.server}`);
    // Staleness thresholds are `list`'s defaults; only validity and expiry matter here.
    const audited = auditClusterSecrets(facts.secrets, { now: new Date(), staleAfterMs: 3_600_000, expiringWithinMs: 600_000 });
    const selected = audited.filter((cluster) => cluster.teleportRelated && cluster.item.kubeCluster !== null && options.matches(cluster.item.kubeCluster));
    for (const kube of options.targetContexts.keys()) {
      if (!selected.some((cluster) => cluster.item.kubeCluster === kube)) runtime.log.warn(`--target-context ${kube}=…: no registered Teleport cluster "${kube}" is checked`);
    }

    const results: CheckResult[] = [...settingsChecks(facts.settings, namespace), ...projectValidityChecks(facts.projects)];
    if (selected.length === 0) {
      results.push({
        id: 'argocd.clusters',
        subject: `namespace/${namespace}`,
        status: 'fail',
        message: `no registered Teleport cluster${(Array.isArray(args.globs) && args.globs.length > 0) ? ' matches the GLOBs' : ''} in namespace ${namespace}: register them with 'kubectl teleport-argocd sync' (or tbot)`,
      });
    }
    const plans: ClusterPlan[] = selected.map((cluster) => {
      const label = cluster.item.kubeCluster!;
      const registered = { name: cluster.item.name ?? cluster.item.secret.name, server: cluster.item.server ?? '' };
      const coverages = facts.projects.filter((project) => projectTargetsCluster(project, registered)).map((project) => projectCoverage(project, registered, namespace));
      return {
        cluster,
        label,
        accounts: accountsToCheck(coverages),
        identity: certificateIdentity(cluster, label),
        direct: direct.get(label) ?? null,
        coverage: coverageChecks(coverages, { ...registered, name: label }, facts.settings),
      };
    });
    const perCluster = await mapConcurrently(plans, CONCURRENCY, async (plan) => {
      const { item, conditions } = plan.cluster;
      const broken = plan.cluster.target === null || conditions.includes('expired');
      const secretCheck: CheckResult[] = broken
        ? [{ id: 'argocd.cluster-secret', subject: plan.label, status: 'fail', message: `secret ${item.secret.name}: ${item.problems.join('; ')}; Argo CD cannot reach this cluster with it (renew it: kubectl teleport-argocd sync, or tbot)` }]
        : [];
      return [...secretCheck, ...plan.coverage, ...teleportIdentityChecks(plan), ...(await targetChecks(plan, runtime))];
    });
    results.push(...perCluster.flat(), ...roleFileChecks(options.roleFiles, plans));

    const report = buildCheckReport('impersonation', results);
    await writeStdout(renderCheckReport(report, options.output, runtime.globals.noHeaders));
    runtime.log.info(`check impersonation: ${checkSummaryLine(report)}`);
    return checkReportFailed(report, options.strict) ? 1 : 0;
  } finally {
    await Promise.all([source.clients.close(), ...[...direct.values()].map((entry) => entry.clients.close())]);
  }
}
