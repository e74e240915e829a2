// `join` and `check join` flags → validated options. Every usage error is raised here,
// before any request.
import { argumentValues, type CommandArgs } from '../cli/commands.js';
import { UsageError } from '../cli/errors.js';
import type { ClusterSelector, JoinType, ServiceAccountRef, TeleportLabels } from '../teleport/resources.js';

export interface CheckJoinOptions {
  clusterName: string;
  bot: string;
  serviceAccount: ServiceAccountRef;
  /** A path, `-` for stdin, or null. */
  tokenFile: string | null;
}

export interface JoinOptions extends CheckJoinOptions {
  proxy: string;
  role: string;
  token: string;
  joinType: 'auto' | JoinType;
  kubernetesGroup: string;
  clusterRole: string;
  kubeLabels: TeleportLabels;
  clusterSelectors: ClusterSelector[];
  impersonation: boolean;
  targetContexts: string[];
  applyRbac: boolean;
  outDir: string | null;
  skipChecks: boolean;
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function text(args: CommandArgs, flag: string, fallback?: string): string {
  const value = args[flag];
  const given = value === undefined || value === null ? undefined : String(value).trim();
  const result = given === undefined || given === '' ? fallback : given;
  if (result === undefined || result === '') throw new UsageError(`--${flag} must not be empty`);
  return result;
}

/** A Teleport resource name: used in `metadata.name` and as a path segment by tctl. */
function resourceName(value: string, flag: string): string {
  if (/[\s/\\]/.test(value)) throw new UsageError(`invalid value "${value}" for --${flag}: no spaces or slashes`);
  return value;
}

/** A `KEY=VALUE` pair; the key may be `*` (Teleport's label wildcard). */
function keyValue(entry: string, flag: string): [string, string] {
  const index = entry.indexOf('=');
  if (index <= 0) throw new UsageError(`invalid value "${entry}" for --${flag}: expected KEY=VALUE`);
  return [entry.slice(0, index).trim(), entry.slice(index + 1).trim()];
}

/** `NS:NAME`, as Teleport's allow rule spells it. */
export function parseServiceAccount(value: string): ServiceAccountRef {
  const parts = value.split(':');
  if (parts.length !== 2 || !DNS1123_LABEL.test(parts[0]!) || parts[1]!.length > 253 || !DNS1123_SUBDOMAIN.test(parts[1]!)) {
    throw new UsageError(`invalid value "${value}" for --service-account: expected NAMESPACE:NAME, for example argocd:tbot`);
  }
  return { namespace: parts[0]!, name: parts[1]! };
}

/** `--kube-labels k=v` (repeatable): a key given twice gets a list of values. Default `'*': '*'`. */
export function parseKubeLabels(values: readonly string[]): TeleportLabels {
  if (values.length === 0) return { '*': '*' };
  const labels: TeleportLabels = {};
  for (const value of values) {
    const [key, label] = keyValue(value, 'kube-labels');
    const previous = labels[key];
    labels[key] = previous === undefined ? label : [...(Array.isArray(previous) ? previous : [previous]), label];
  }
  return labels;
}

/**
 * tbot's `argocd.clusterSelectors`: each `--selector k=v[,k2=v2]` is one label selector
 * (all its pairs must match), each `--kube-cluster NAME` a name selector. tbot needs at
 * least one, and its label selectors match exactly (no wildcards), so with neither flag
 * the role's `--kube-labels` are used when they are exact; the default `'*': '*'` cannot
 * be a selector, so that is a usage error naming the flags to pass.
 */
export function parseClusterSelectors(selectors: readonly string[], kubeClusters: readonly string[], kubeLabels: TeleportLabels): ClusterSelector[] {
  const result: ClusterSelector[] = [];
  for (const selector of selectors) {
    const labels: Record<string, string> = {};
    for (const pair of selector.split(',').filter((part) => part.trim() !== '')) {
      const [key, value] = keyValue(pair, 'selector');
      if (key.includes('*') || value.includes('*')) {
        throw new UsageError(`invalid value "${selector}" for --selector: tbot's label selectors match exactly, without wildcards`);
      }
      labels[key] = value;
    }
    if (Object.keys(labels).length === 0) throw new UsageError(`invalid value "${selector}" for --selector: expected KEY=VALUE`);
    result.push({ labels });
  }
  for (const name of kubeClusters) {
    if (name.trim() === '') throw new UsageError('invalid value "" for --kube-cluster: expected a kube cluster name');
    result.push({ name: name.trim() });
  }
  if (result.length > 0) return result;
  const exact: Record<string, string> = {};
  for (const [key, value] of Object.entries(kubeLabels)) {
    if (key.includes('*') || typeof value !== 'string' || /[*^$]/.test(value)) {
      throw new UsageError(
        "tbot needs a cluster selector, and label selectors take no wildcards: pass --selector KEY=VALUE or --kube-cluster NAME (or exact --kube-labels, which are then used as the selector)",
      );
    }
    exact[key] = value;
  }
  return [{ labels: exact }];
}

/** `HOST:PORT`, as the Helm chart's `teleportProxyAddress` wants it. */
function parseProxy(value: string): string {
  const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(value);
  if (!match || Number(match[2]) < 1 || Number(match[2]) > 65535) {
    throw new UsageError(`invalid value "${value}" for --proxy: expected HOST:PORT, for example example.teleport.sh:443`);
  }
  return value;
}

/** A ClusterRoleBinding name must be a valid path segment (RBAC's own rule). */
function checkBindingNamePart(value: string, flag: string): string {
  if (value === '.' || value === '..' || /[/%\s]/.test(value)) {
    throw new UsageError(`invalid value "${value}" for --${flag}: it names a ClusterRoleBinding; no '/', '%' or spaces`);
  }
  return value;
}

export function parseCheckJoinOptions(args: CommandArgs, namespace: string): CheckJoinOptions {
  const tokenFile = args['token-file'] === undefined ? null : text(args, 'token-file');
  return {
    clusterName: text(args, 'cluster-name'),
    bot: resourceName(text(args, 'bot', 'argocd'), 'bot'),
    serviceAccount: parseServiceAccount(text(args, 'service-account', `${namespace}:tbot`)),
    tokenFile,
  };
}

export function parseJoinOptions(args: CommandArgs, namespace: string): JoinOptions {
  const base = parseCheckJoinOptions({ ...args, 'token-file': undefined }, namespace);
  const joinType = text(args, 'join-type', 'auto');
  if (joinType !== 'auto' && joinType !== 'static_jwks' && joinType !== 'oidc') {
    throw new UsageError(`invalid value "${joinType}" for --join-type: must be one of auto, static_jwks, oidc`);
  }
  const kubeLabels = parseKubeLabels(argumentValues(args['kube-labels']));
  const targetContexts = argumentValues(args['target-context']);
  if (targetContexts.some((context) => context.trim() === '')) throw new UsageError('--target-context must not be empty');
  return {
    ...base,
    proxy: parseProxy(text(args, 'proxy')),
    role: resourceName(text(args, 'role', `${base.bot}-kube-access`), 'role'),
    token: resourceName(text(args, 'token', `${base.bot}-join`), 'token'),
    joinType,
    kubernetesGroup: checkBindingNamePart(text(args, 'kubernetes-group', 'editor'), 'kubernetes-group'),
    clusterRole: checkBindingNamePart(text(args, 'cluster-role', 'edit'), 'cluster-role'),
    kubeLabels,
    clusterSelectors: parseClusterSelectors(argumentValues(args.selector), argumentValues(args['kube-cluster']), kubeLabels),
    impersonation: Boolean(args.impersonation),
    targetContexts: [...new Set(targetContexts)],
    applyRbac: Boolean(args['apply-rbac']),
    outDir: args['out-dir'] === undefined ? null : text(args, 'out-dir'),
    skipChecks: Boolean(args['skip-checks']),
  };
}
