// Argo CD sync impersonation, as Argo CD decides it (argocd.md §3): the argocd-cm switches,
// AppProject `destinationServiceAccounts` validation and first-match resolution, and the
// Kubernetes user name a sync would impersonate. Pure: plain objects in, plain values out.
import type { CheckResult } from '../audit/check-report.js';
import { compileGlob, globMatch, isLiteralGlob } from '../util/glob.js';

export const IMPERSONATION_ENABLED_KEY = 'application.sync.impersonation.enabled';
export const IMPERSONATION_ENFORCED_KEY = 'application.sync.impersonation.enforced';
export const ARGOCD_CM = 'argocd-cm';

// ---------------------------------------------------------------------------------------
// argocd-cm

export interface ImpersonationSettings {
  /** Raw values (null: key absent). */
  enabledValue: string | null;
  enforcedValue: string | null;
  /** Only the exact string "true" enables it. */
  enabled: boolean;
  /** Absent or anything but "false" enforces (v3.5+); before v3.5 unmatched always failed. */
  enforced: boolean;
}

export function impersonationSettings(data: Readonly<Record<string, string>> | null | undefined): ImpersonationSettings {
  const enabledValue = data?.[IMPERSONATION_ENABLED_KEY] ?? null;
  const enforcedValue = data?.[IMPERSONATION_ENFORCED_KEY] ?? null;
  return { enabledValue, enforcedValue, enabled: enabledValue === 'true', enforced: enforcedValue !== 'false' };
}

// ---------------------------------------------------------------------------------------
// AppProjects

export interface DestinationServiceAccount {
  server: string;
  namespace: string;
  defaultServiceAccount: string;
}

export interface ProjectDestination {
  server: string;
  name: string;
  namespace: string;
}

export interface ProjectView {
  name: string;
  destinations: ProjectDestination[];
  destinationServiceAccounts: DestinationServiceAccount[];
}

const text = (value: unknown): string => (typeof value === 'string' ? value : '');
const list = (value: unknown): Record<string, unknown>[] =>
  Array.isArray(value) ? value.filter((item): item is Record<string, unknown> => typeof item === 'object' && item !== null) : [];

/** The parts of an AppProject object that matter here; tolerant of missing fields. */
export function projectView(object: unknown): ProjectView {
  const project = (object ?? {}) as { metadata?: { name?: unknown }; spec?: Record<string, unknown> };
  const spec = project.spec ?? {};
  return {
    name: text(project.metadata?.name),
    destinations: list(spec.destinations).map((item) => ({ server: text(item.server), name: text(item.name), namespace: text(item.namespace) })),
    destinationServiceAccounts: list(spec.destinationServiceAccounts).map((item) => ({
      server: text(item.server),
      namespace: text(item.namespace),
      defaultServiceAccount: text(item.defaultServiceAccount),
    })),
  };
}

const SERVICE_ACCOUNT_DISALLOWED = /[!*[\]{}\\/]/;

function globProblem(field: string, pattern: string): string | null {
  if (pattern.includes('!')) return `${field} "${pattern}" contains "!" (negation is not allowed here)`;
  try {
    compileGlob(pattern);
    return null;
  } catch (error) {
    return `${field} "${pattern}" is not a valid glob: ${(error as Error).message}`;
  }
}

/** What Argo CD's ValidateProject rejects in one entry (duplicates aside). */
export function entryProblems(entry: DestinationServiceAccount): string[] {
  const problems = [globProblem('server', entry.server), globProblem('namespace', entry.namespace)].filter((problem): problem is string => problem !== null);
  const account = entry.defaultServiceAccount;
  if (account.trim() === '') problems.push('defaultServiceAccount is blank');
  else if (SERVICE_ACCOUNT_DISALLOWED.test(account)) problems.push(`defaultServiceAccount "${account}" contains one of ! * [ ] { } \\ /`);
  return problems;
}

/** What Argo CD's ValidateProject would reject in `destinationServiceAccounts`, one message each. */
export function validateDestinationServiceAccounts(project: ProjectView): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  project.destinationServiceAccounts.forEach((entry, index) => {
    const where = `entry ${index + 1}`;
    problems.push(...entryProblems(entry).map((problem) => `${where}: ${problem}`));
    const key = `${entry.server}/${entry.namespace}`;
    if (seen.has(key)) problems.push(`${where}: server/namespace pair "${key}" is already used by an earlier entry`);
    seen.add(key);
  });
  return problems;
}

/** The first entry (in list order) whose server and namespace globs both match, as Argo CD picks it. */
export function matchDestinationServiceAccount(
  entries: readonly DestinationServiceAccount[],
  server: string,
  namespace: string,
): { index: number; entry: DestinationServiceAccount } | null {
  const index = entries.findIndex((entry) => globMatch(entry.server, server) && globMatch(entry.namespace, namespace));
  return index < 0 ? null : { index, entry: entries[index]! };
}

export interface ServiceAccountRef {
  namespace: string;
  name: string;
}

/** `ns:name` names its namespace; a bare name lives in the Application's destination namespace. */
export function serviceAccountRef(defaultServiceAccount: string, destinationNamespace: string): ServiceAccountRef {
  const colon = defaultServiceAccount.indexOf(':');
  if (colon >= 0) return { namespace: defaultServiceAccount.slice(0, colon), name: defaultServiceAccount.slice(colon + 1) };
  return { namespace: destinationNamespace, name: defaultServiceAccount };
}

/** The user name Argo CD puts in `Impersonate-User` (DeriveServiceAccountToImpersonate). */
export function impersonatedUser(defaultServiceAccount: string, destinationNamespace: string): string {
  if (defaultServiceAccount.includes(':')) return `system:serviceaccount:${defaultServiceAccount}`;
  return `system:serviceaccount:${destinationNamespace}:${defaultServiceAccount}`;
}

const CATCH_ALL = /^\*+$/;

/**
 * The earlier entry (index) that leaves entry `index` unused for `server`: it matches the
 * server and every namespace the later one does, and Argo CD takes the first match. A
 * literal namespace is tested exactly; a glob only against the same glob or a catch-all,
 * so an entry Argo CD may still pick is never called shadowed.
 */
function shadowingEntry(entries: readonly DestinationServiceAccount[], index: number, server: string): number | null {
  const namespace = entries[index]!.namespace;
  const covers = (earlier: string) => (isLiteralGlob(namespace) ? globMatch(earlier, namespace) : earlier === namespace || CATCH_ALL.test(earlier));
  const found = entries.slice(0, index).findIndex((earlier) => globMatch(earlier.server, server) && covers(earlier.namespace));
  return found < 0 ? null : found;
}

export interface RegisteredCluster {
  /** Argo CD cluster name (`data.name`). */
  name: string;
  server: string;
}

/**
 * Whether the project may deploy to the cluster at all: one of its destinations matches the
 * server or the cluster name. Deny (`!`) destinations are not evaluated: a project they
 * would exclude is still checked, which errs on the side of reporting.
 */
export function projectTargetsCluster(project: ProjectView, cluster: RegisteredCluster): boolean {
  return project.destinations.some(
    (destination) =>
      (destination.server !== '' && !destination.server.startsWith('!') && globMatch(destination.server, cluster.server)) ||
      (destination.name !== '' && !destination.name.startsWith('!') && globMatch(destination.name, cluster.name)),
  );
}

export interface CoverageEntry {
  index: number;
  entry: DestinationServiceAccount;
  /** Impersonated user, with `<destination namespace>` where the Application decides it. */
  user: string;
  /** Service accounts this entry resolves to for the project's known destination namespaces. */
  accounts: ServiceAccountRef[];
  /** True when the account's namespace depends on each Application's destination namespace. */
  dependsOnApplication: boolean;
  /** Argo CD would reject the entry; syncs it matches fail (or it never matches). */
  invalid: boolean;
  /** Index of the earlier entry that matches whatever this one does: Argo CD never picks this one. */
  shadowedBy: number | null;
}

export interface ProjectCoverage {
  project: string;
  cluster: RegisteredCluster;
  /** Entries whose server glob matches the cluster, in list order (shadowed ones included). */
  entries: CoverageEntry[];
  /** The project has no destinationServiceAccounts at all. */
  unconfigured: boolean;
}

const DESTINATION_PLACEHOLDER = '<destination namespace>';

/**
 * Which service accounts syncs of `project` to `cluster` would impersonate. Namespaces come
 * from the entry (a literal namespace, or `ns:name`), else from the project's literal
 * destination namespaces for which this entry is the first match; an entry whose namespace
 * is empty matches Applications without a destination namespace, whose own namespace
 * (`appNamespace`, normally Argo CD's) is used.
 */
export function projectCoverage(project: ProjectView, cluster: RegisteredCluster, appNamespace: string): ProjectCoverage {
  const entries = project.destinationServiceAccounts;
  const destinationNamespaces = [
    ...new Set(
      project.destinations
        .filter((destination) => projectTargetsCluster({ ...project, destinations: [destination] }, cluster))
        .map((destination) => destination.namespace)
        .filter((namespace) => namespace !== '' && isLiteralGlob(namespace)),
    ),
  ];
  const covered: CoverageEntry[] = [];
  entries.forEach((entry, index) => {
    if (!globMatch(entry.server, cluster.server)) return;
    const account = entry.defaultServiceAccount;
    let namespaces: string[];
    let dependsOnApplication = false;
    if (account.includes(':')) namespaces = [serviceAccountRef(account, '').namespace];
    else if (entry.namespace === '') namespaces = [appNamespace];
    else if (isLiteralGlob(entry.namespace)) namespaces = [entry.namespace];
    else {
      namespaces = destinationNamespaces.filter((namespace) => matchDestinationServiceAccount(entries, cluster.server, namespace)?.index === index);
      dependsOnApplication = true;
    }
    const invalid = entryProblems(entry).length > 0;
    const shadowedBy = shadowingEntry(entries, index, cluster.server);
    covered.push({
      index,
      entry,
      user: impersonatedUser(account, isLiteralGlob(entry.namespace) ? entry.namespace || appNamespace : DESTINATION_PLACEHOLDER),
      // Only accounts Argo CD can pick are checked on the target.
      accounts: invalid || shadowedBy !== null ? [] : namespaces.map((namespace) => serviceAccountRef(account, namespace)),
      dependsOnApplication,
      invalid,
      shadowedBy,
    });
  });
  return { project: project.name, cluster, entries: covered, unconfigured: entries.length === 0 };
}

// ---------------------------------------------------------------------------------------
// Checks (product.md §5.5)

const ENABLE_FIX = `kubectl -n <namespace> patch configmap ${ARGOCD_CM} --type merge -p '{"data":{"${IMPERSONATION_ENABLED_KEY}":"true"}}'`;

/** `argocd.impersonation-enabled` and `argocd.impersonation-enforced`; `settings` null = no argocd-cm. */
export function settingsChecks(settings: ImpersonationSettings | null, namespace: string): CheckResult[] {
  const subject = `configmap/${ARGOCD_CM}`;
  const fix = ENABLE_FIX.replace('<namespace>', namespace);
  if (settings === null) {
    return [
      {
        id: 'argocd.impersonation-enabled',
        subject,
        status: 'fail',
        message: `configmap ${ARGOCD_CM} not found in namespace ${namespace}: is Argo CD installed there (-n)? Without it impersonation is off`,
      },
      { id: 'argocd.impersonation-enforced', subject, status: 'skip', message: `configmap ${ARGOCD_CM} not found` },
    ];
  }
  const results: CheckResult[] = [];
  if (settings.enabled) {
    results.push({ id: 'argocd.impersonation-enabled', subject, status: 'pass', message: `${IMPERSONATION_ENABLED_KEY} is "true"` });
  } else {
    const current = settings.enabledValue === null ? 'is not set' : `is "${settings.enabledValue}", and only the exact string "true" enables it`;
    results.push({
      id: 'argocd.impersonation-enabled',
      subject,
      status: 'fail',
      message:
        `${IMPERSONATION_ENABLED_KEY} ${current}: syncs run with the cluster secret's own credentials, ` +
        `so destinationServiceAccounts are ignored and projects are not isolated; fix: ${fix}`,
    });
  }
  if (!settings.enabled) {
    results.push({ id: 'argocd.impersonation-enforced', subject, status: 'skip', message: 'impersonation is not enabled' });
  } else if (settings.enforced) {
    const how = settings.enforcedValue === null ? 'not set (enforced by default)' : `"${settings.enforcedValue}" (enforced)`;
    results.push({
      id: 'argocd.impersonation-enforced',
      subject,
      status: 'pass',
      message: `${IMPERSONATION_ENFORCED_KEY} is ${how}: a sync with no matching destinationServiceAccounts entry fails instead of using the control-plane credential`,
    });
  } else {
    results.push({
      id: 'argocd.impersonation-enforced',
      subject,
      status: 'warn',
      message:
        `${IMPERSONATION_ENFORCED_KEY} is "false": a sync with no matching destinationServiceAccounts entry silently uses ` +
        `the control-plane credential (bot-<name>), bypassing project isolation; remove the key to enforce (Argo CD v3.5+)`,
    });
  }
  return results;
}

/** `appproject.valid`, one row per project that has destinationServiceAccounts. */
export function projectValidityChecks(projects: readonly ProjectView[]): CheckResult[] {
  return projects
    .filter((project) => project.destinationServiceAccounts.length > 0)
    .map((project) => {
      const problems = validateDestinationServiceAccounts(project);
      const subject = `appproject/${project.name}`;
      if (problems.length === 0) {
        return { id: 'appproject.valid', subject, status: 'pass', message: `${project.destinationServiceAccounts.length} destinationServiceAccounts entr${project.destinationServiceAccounts.length === 1 ? 'y' : 'ies'} valid` };
      }
      return {
        id: 'appproject.valid',
        subject,
        status: 'fail',
        message:
          `${problems.join('; ')}. Argo CD's API would refuse this project; applied with kubectl, the bad entries ` +
          `make syncs fail at sync time. Fix them with argocd proj add-destination-service-account / remove-destination-service-account`,
      } satisfies CheckResult;
    });
}

function describeEntries(entries: readonly CoverageEntry[]): string {
  return entries.map((covered) => `namespace "${covered.entry.namespace}" → ${covered.user}`).join(', ');
}

/**
 * `appproject.coverage` for one cluster, over the projects that may deploy to it. A project
 * with entries but none for this server fails (its syncs to the cluster fail when
 * enforced, or silently use the control-plane credential); a project without any entries
 * is a warning (it may simply not be used for this cluster); no covering project at all fails.
 */
export function coverageChecks(coverages: readonly ProjectCoverage[], cluster: RegisteredCluster, settings: ImpersonationSettings | null): CheckResult[] {
  const enforced = settings?.enforced ?? true;
  const consequence = enforced
    ? `syncs fail with "no matching service account found for destination server ${cluster.server} and namespace <ns>"`
    : 'syncs fall back to the control-plane credential (no isolation)';
  const addFix = (project: string) => `argocd proj add-destination-service-account ${project} '${cluster.server}' '*' <service-account>`;
  const results: CheckResult[] = [];
  for (const coverage of coverages) {
    const subject = `${coverage.project} -> ${cluster.name}`;
    // Argo CD never reaches a shadowed entry: it neither maps syncs nor fails them.
    const usable = coverage.entries.filter((covered) => covered.shadowedBy === null);
    const invalid = usable.filter((covered) => covered.invalid);
    if (invalid.length > 0) {
      results.push({
        id: 'appproject.coverage',
        subject,
        status: 'fail',
        message:
          `invalid destinationServiceAccounts entr${invalid.length === 1 ? 'y' : 'ies'} ${invalid.map((covered) => covered.index + 1).join(', ')} of project ` +
          `${coverage.project} match${invalid.length === 1 ? 'es' : ''} this server: syncs matched by ${invalid.length === 1 ? 'it' : 'them'} fail (see appproject.valid)` +
          `${usable.length > invalid.length ? `; valid: ${describeEntries(usable.filter((covered) => !covered.invalid))}` : ''}`,
      });
    } else if (usable.length > 0) {
      const hidden = usable.some((covered) => covered.dependsOnApplication && covered.accounts.length === 0);
      results.push({
        id: 'appproject.coverage',
        subject,
        status: 'pass',
        message: `syncs impersonate (first match wins): ${describeEntries(usable)}${hidden ? '; accounts in <destination namespace> are checked only for the project\'s literal destination namespaces' : ''}`,
      });
    } else if (coverage.unconfigured) {
      results.push({
        id: 'appproject.coverage',
        subject,
        status: 'warn',
        message: `project ${coverage.project} may deploy to ${cluster.name} but has no destinationServiceAccounts: its ${consequence}; add an entry (${addFix(coverage.project)}) or narrow the project's destinations`,
      });
    } else {
      results.push({
        id: 'appproject.coverage',
        subject,
        status: enforced ? 'fail' : 'warn',
        message: `no destinationServiceAccounts entry of project ${coverage.project} matches server ${cluster.server}: ${consequence}; fix: ${addFix(coverage.project)}`,
      });
    }
    for (const covered of coverage.entries) {
      if (covered.shadowedBy === null) continue;
      const earlier = coverage.entries.find((entry) => entry.index === covered.shadowedBy)!;
      results.push({
        id: 'appproject.coverage',
        subject,
        status: 'warn',
        message:
          `entry ${covered.index + 1} (namespace "${covered.entry.namespace}" → ${covered.user}) is shadowed by entry ${earlier.index + 1} ` +
          `(namespace "${earlier.entry.namespace}"): Argo CD takes the first entry that matches, so it never uses entry ${covered.index + 1} ` +
          `for this server and its service account is not checked; remove it, or move it above entry ${earlier.index + 1} if it should win`,
      });
    }
  }
  // A cluster-level verdict only when no project row already says it.
  if (!results.some((result) => result.status !== 'warn')) {
    results.push({
      id: 'appproject.coverage',
      subject: cluster.name,
      status: 'fail',
      message:
        coverages.length === 0
          ? `no AppProject may deploy to ${cluster.server} (check the projects' destinations)`
          : `no AppProject maps server ${cluster.server} to a service account: ${consequence}`,
    });
  }
  return results;
}

/** Every service account the covering entries resolve to, without repeats. */
export function accountsToCheck(coverages: readonly ProjectCoverage[]): ServiceAccountRef[] {
  const seen = new Map<string, ServiceAccountRef>();
  for (const coverage of coverages) {
    for (const covered of coverage.entries) {
      for (const account of covered.accounts) seen.set(`${account.namespace}/${account.name}`, account);
    }
  }
  return [...seen.values()];
}

// ---------------------------------------------------------------------------------------
// Target side: what the answers of the target cluster (through Teleport, or an admin
// context) mean for Argo CD.

/** An access review's answer, or why the review itself was refused. */
export type AccessAnswer = { allowed: boolean; error?: undefined } | { allowed?: undefined; error: string };

export interface ResourceKind {
  group: string;
  resource: string;
}

/** Kinds every Argo CD cluster cache lists and watches; probed when `*` is not granted. */
export const CONTROL_PLANE_SAMPLE: readonly ResourceKind[] = [
  { group: '', resource: 'namespaces' },
  { group: '', resource: 'pods' },
  { group: '', resource: 'services' },
  { group: '', resource: 'configmaps' },
  { group: '', resource: 'secrets' },
  { group: '', resource: 'serviceaccounts' },
  { group: 'apps', resource: 'deployments' },
];

export const CONTROL_PLANE_VERBS = ['list', 'watch'] as const;

export interface KindAnswer extends ResourceKind {
  verb: string;
  answer: AccessAnswer;
}

const kindName = (kind: ResourceKind): string => (kind.group === '' ? kind.resource : `${kind.resource}.${kind.group}`);

function bindEdit(user: string): string {
  return `kubectl create clusterrolebinding ${user.replace(/^bot-/, '')}-edit --clusterrole=edit --user=${user}`;
}

/**
 * `target.control-plane-access`: Argo CD's cluster cache lists and watches every kind
 * without an impersonation header. `wildcard` answers list/watch on `*` cluster-wide;
 * `sample` (asked only when `*` is not granted) the common kinds.
 */
export function controlPlaneAccessCheck(subject: string, user: string, wildcard: readonly KindAnswer[], sample: readonly KindAnswer[]): CheckResult {
  const base = { id: 'target.control-plane-access', subject };
  const refused = [...wildcard, ...sample].find((item) => item.answer.error !== undefined);
  if (refused) {
    return {
      ...base,
      status: 'fail',
      message: `the control plane's requests (no Impersonate-User) are refused: ${refused.answer.error}; Argo CD cannot build its cluster cache, so every Application on this cluster is Unknown`,
    };
  }
  if (wildcard.every((item) => item.answer.allowed)) {
    return { ...base, status: 'pass', message: `${user} may list and watch every resource type cluster-wide` };
  }
  // `list/watch pods, services, list namespaces`: kinds grouped by the verbs denied on them.
  const deniedVerbs = new Map<string, string[]>();
  for (const item of sample.filter((entry) => !entry.answer.allowed)) {
    deniedVerbs.set(kindName(item), [...(deniedVerbs.get(kindName(item)) ?? []), item.verb]);
  }
  const byVerbs = new Map<string, string[]>();
  for (const [kind, verbs] of deniedVerbs) byVerbs.set(verbs.join('/'), [...(byVerbs.get(verbs.join('/')) ?? []), kind]);
  const denied = [...byVerbs].map(([verbs, kinds]) => `${verbs} ${kinds.join(', ')}`);
  if (denied.length > 0) {
    return {
      ...base,
      status: 'fail',
      message:
        `${user} cannot ${denied.join(', ')} cluster-wide: requests without Impersonate-User run as ${user}, and Argo CD's cluster cache ` +
        `fails without list/watch; fix (in the target cluster): ${bindEdit(user)}, plus cluster-wide get/list/watch on every kind Argo CD manages`,
    };
  }
  return {
    ...base,
    status: 'warn',
    message:
      `${user} may list and watch ${CONTROL_PLANE_SAMPLE.map(kindName).join(', ')} but not every resource type ("*"): Argo CD's cluster cache ` +
      `lists and watches every discovered kind, and a forbidden one fails the cache sync unless argocd-cm sets resource.respectRBAC; ` +
      `fix: bind ${user} to a ClusterRole allowing get/list/watch on apiGroups ["*"], resources ["*"]`,
  };
}

export type ReadAnswer = { found: boolean; error?: undefined; forbidden?: undefined } | { found?: undefined; error: string; forbidden: boolean };

/** `target.service-account-exists` for one account Argo CD would impersonate. */
export function serviceAccountExistsCheck(subject: string, account: ServiceAccountRef, answer: ReadAnswer, reader: string): CheckResult {
  const base = { id: 'target.service-account-exists', subject };
  const ref = `${account.namespace}/${account.name}`;
  if (answer.error !== undefined) {
    return {
      ...base,
      status: 'warn',
      message: `cannot verify that service account ${ref} exists: reading it ${answer.forbidden ? `as ${reader} was refused` : 'failed'} (${answer.error})`,
    };
  }
  if (answer.found) return { ...base, status: 'pass', message: `service account ${ref} exists` };
  return {
    ...base,
    status: 'fail',
    message:
      `service account ${ref} does not exist: impersonated syncs run as a user without any RBAC binding and fail with forbidden; ` +
      `fix (in the target cluster): kubectl create serviceaccount ${account.name} -n ${account.namespace}, and bind it the roles its Applications need`,
  };
}

/**
 * `target.impersonation`: a request carrying `Impersonate-User: <user>` through Teleport is
 * accepted (`refusal` null). Teleport itself impersonates upstream, so what can refuse it
 * is the bot's Teleport role (or the connection).
 */
export function impersonationCheck(subject: string, user: string, refusal: string | null): CheckResult {
  const base = { id: 'target.impersonation', subject };
  if (refusal === null) return { ...base, status: 'pass', message: `Teleport accepts requests impersonating ${user}` };
  const byTeleport = /not allowed in roles|please select a user|does not allow Kubernetes access/.test(refusal);
  return {
    ...base,
    status: 'fail',
    message:
      `a request impersonating ${user} is refused: ${refusal}; syncs of the Applications using it fail` +
      (byTeleport ? "; fix: set kubernetes_users: ['*'] in the bot's Teleport role" : ''),
  };
}
