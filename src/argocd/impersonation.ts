// Argo CD sync impersonation, as Argo CD decides it (argocd.md §3): the argocd-cm switches,
// AppProject `destinationServiceAccounts` validation and first-match resolution, and the
// Kubernetes user name a sync would impersonate. Pure: plain objects in, plain values out.
import type { CheckResult } from '../audit/check-report.js';

export const IMPERSONATION_ENABLED_KEY = 'application.sync.impersonation.enabled';
export const IMPERSONATION_ENFORCED_KEY = 'application.sync.impersonation.enforced';
export const ARGOCD_CM = 'argocd-cm';

// ---------------------------------------------------------------------------------------
// Globs exactly as gobwas/glob v0.2.3 compiles them without separators (what Argo CD's
// glob util uses): `*`/`**` match any run of characters including `/` and `:`, `?` one
// character, `[abc]`/`[!abc]` one of (not) the listed characters, `[a-z]`/`[!a-z]` ONE
// range (no mix of ranges and characters), `{a,b}` alternatives (nestable; a group left
// open is closed at the end), `\` escapes the next character (a trailing one is dropped),
// `}` and `,` are literal outside a group. Empty or unterminated classes do not compile.
// src/util/glob.ts is a friendlier dialect for CLI filters; this one must be exact.

export class ArgoGlobError extends Error {}

type GlobNode =
  | { kind: 'text'; text: string }
  | { kind: 'any' }
  | { kind: 'single' }
  | { kind: 'class'; not: boolean; chars: string }
  | { kind: 'range'; not: boolean; lo: string; hi: string }
  | { kind: 'anyOf'; patterns: GlobNode[][] };

const TEXT_BREAKERS = ['?', '*', '[', '{'];
const TERMS_BREAKERS = [...TEXT_BREAKERS, '}', ','];

function parseArgoGlob(pattern: string): GlobNode[] {
  const runes = Array.from(pattern);
  let pos = 0;
  const readText = (breakers: readonly string[]): string => {
    let text = '';
    let escaped = false;
    while (pos < runes.length) {
      const rune = runes[pos]!;
      pos += 1;
      if (!escaped) {
        if (rune === '\\') {
          escaped = true;
          continue;
        }
        if (breakers.includes(rune)) {
          pos -= 1;
          break;
        }
      }
      escaped = false;
      text += rune;
    }
    return text;
  };
  const readClass = (): GlobNode => {
    let not = false;
    if (runes[pos] === '!') {
      not = true;
      pos += 1;
    }
    if (pos >= runes.length) throw new ArgoGlobError('unexpected end of input in a character class');
    let node: GlobNode;
    if (runes[pos + 1] === '-') {
      const lo = runes[pos]!;
      const hi = runes[pos + 2];
      if (hi === undefined) throw new ArgoGlobError('unexpected end of input in a character class');
      if (hi.codePointAt(0)! < lo.codePointAt(0)!) throw new ArgoGlobError(`range ${lo}-${hi} is reversed`);
      pos += 3;
      node = { kind: 'range', not, lo, hi };
    } else {
      const chars = readText([']']);
      node = { kind: 'class', not, chars };
    }
    if (pos >= runes.length) throw new ArgoGlobError('unexpected end of input in a character class');
    if (runes[pos] !== ']') throw new ArgoGlobError('a character class holds one range or a list of characters, then "]"');
    pos += 1;
    if (node.kind === 'class' && node.chars === '') throw new ArgoGlobError('empty character class');
    return node;
  };

  const root: GlobNode[] = [];
  // Open groups, innermost last: the group and the pattern that holds it.
  const groups: Array<{ group: Extract<GlobNode, { kind: 'anyOf' }>; outer: GlobNode[] }> = [];
  let current = root;
  while (pos < runes.length) {
    const rune = runes[pos]!;
    if (rune === '{') {
      pos += 1;
      const alternative: GlobNode[] = [];
      const group: Extract<GlobNode, { kind: 'anyOf' }> = { kind: 'anyOf', patterns: [alternative] };
      current.push(group);
      groups.push({ group, outer: current });
      current = alternative;
    } else if (rune === ',' && groups.length > 0) {
      pos += 1;
      const alternative: GlobNode[] = [];
      groups.at(-1)!.group.patterns.push(alternative);
      current = alternative;
    } else if (rune === '}' && groups.length > 0) {
      pos += 1;
      current = groups.pop()!.outer;
    } else if (rune === '[') {
      pos += 1;
      current.push(readClass());
    } else if (rune === '?') {
      pos += 1;
      current.push({ kind: 'single' });
    } else if (rune === '*') {
      pos += runes[pos + 1] === '*' ? 2 : 1;
      current.push({ kind: 'any' });
    } else {
      const text = readText(groups.length > 0 ? TERMS_BREAKERS : TEXT_BREAKERS);
      if (text !== '') current.push({ kind: 'text', text });
    }
  }
  return root;
}

const codePoint = (rune: string): string => `\\u{${rune.codePointAt(0)!.toString(16)}}`;

function toRegExp(nodes: readonly GlobNode[]): string {
  return nodes
    .map((node) => {
      switch (node.kind) {
        case 'text':
          return Array.from(node.text, codePoint).join('');
        case 'any':
          return '.*';
        case 'single':
          return '.';
        case 'class':
          return `[${node.not ? '^' : ''}${Array.from(node.chars, codePoint).join('')}]`;
        case 'range':
          return `[${node.not ? '^' : ''}${codePoint(node.lo)}-${codePoint(node.hi)}]`;
        case 'anyOf':
          return `(?:${node.patterns.map(toRegExp).join('|')})`;
      }
    })
    .join('');
}

/** Compiles an Argo CD glob; throws ArgoGlobError when Argo CD could not compile it either. */
export function compileArgoGlob(pattern: string): (value: string) => boolean {
  const expression = new RegExp(`^${toRegExp(parseArgoGlob(pattern))}$`, 'su');
  return (value) => expression.test(value);
}

/** Argo CD's glob.Match: a pattern that does not compile matches nothing. */
export function argoGlobMatch(pattern: string, value: string): boolean {
  try {
    return compileArgoGlob(pattern)(value);
  } catch {
    return false;
  }
}

const GLOB_META = /[*?[\]{}\\]/;

/** A pattern without glob syntax matches exactly itself. */
export function isLiteralGlob(pattern: string): boolean {
  return !GLOB_META.test(pattern);
}

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
    compileArgoGlob(pattern);
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
  const index = entries.findIndex((entry) => argoGlobMatch(entry.server, server) && argoGlobMatch(entry.namespace, namespace));
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
      (destination.server !== '' && !destination.server.startsWith('!') && argoGlobMatch(destination.server, cluster.server)) ||
      (destination.name !== '' && !destination.name.startsWith('!') && argoGlobMatch(destination.name, cluster.name)),
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
}

export interface ProjectCoverage {
  project: string;
  cluster: RegisteredCluster;
  /** Entries whose server glob matches the cluster, in list order. */
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
    if (!argoGlobMatch(entry.server, cluster.server)) return;
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
    covered.push({
      index,
      entry,
      user: impersonatedUser(account, isLiteralGlob(entry.namespace) ? entry.namespace || appNamespace : DESTINATION_PLACEHOLDER),
      accounts: invalid ? [] : namespaces.map((namespace) => serviceAccountRef(account, namespace)),
      dependsOnApplication,
      invalid,
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
    const invalid = coverage.entries.filter((covered) => covered.invalid);
    if (invalid.length > 0) {
      results.push({
        id: 'appproject.coverage',
        subject,
        status: 'fail',
        message:
          `invalid destinationServiceAccounts entr${invalid.length === 1 ? 'y' : 'ies'} ${invalid.map((covered) => covered.index + 1).join(', ')} of project ` +
          `${coverage.project} match${invalid.length === 1 ? 'es' : ''} this server: syncs matched by ${invalid.length === 1 ? 'it' : 'them'} fail (see appproject.valid)` +
          `${coverage.entries.length > invalid.length ? `; valid: ${describeEntries(coverage.entries.filter((covered) => !covered.invalid))}` : ''}`,
      });
    } else if (coverage.entries.length > 0) {
      const hidden = coverage.entries.some((covered) => covered.dependsOnApplication && covered.accounts.length === 0);
      results.push({
        id: 'appproject.coverage',
        subject,
        status: 'pass',
        message: `syncs impersonate (first match wins): ${describeEntries(coverage.entries)}${hidden ? '; accounts in <destination namespace> are checked only for the project\'s literal destination namespaces' : ''}`,
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
