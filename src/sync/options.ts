// `sync` flags → validated options. Every usage error is raised here, before any request.
import {
  DEFAULT_SECRET_PREFIX,
  DEFAULT_NAME_TEMPLATE,
  MANAGED_BY_LABEL,
  SECRET_TYPE_LABEL,
  LABEL_VALUE_RULE,
  isDns1123Label,
  isLabelValue,
  validateNameTemplate,
  validateSecretPrefix,
} from '../argocd/cluster-secret.js';
import { parseTemplate, TemplateSyntaxError } from '../argocd/template.js';
import { argumentValues, type CommandArgs } from '../cli/commands.js';
import { formatDuration, parseDuration } from '../cli/duration.js';
import { UsageError } from '../cli/errors.js';
import { globArguments } from '../cli/globs.js';
import { splitCommaList } from '../util/comma-list.js';
import type { DryRun } from './apply.js';
import type { SecretSettings } from './desired.js';

export interface SyncOptions {
  include: Array<(value: string) => boolean>;
  exclude: Array<(value: string) => boolean>;
  sourceKubeconfig?: string;
  settings: SecretSettings;
  takeOver: boolean;
  prune: boolean;
  allowEmpty: boolean;
  dryRun: DryRun;
  /** `--dry-run` given the deprecated way (bare, true or false). */
  dryRunDeprecated: boolean;
  diff: boolean;
  watch: boolean;
  intervalMs: number;
  concurrency: number;
  execTimeoutMs: number;
  /** Some --label/--annotation template reads `.Labels`: Teleport labels must be looked up. */
  templatesUseLabels: boolean;
}

const QUALIFIED_NAME = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const RESERVED_LABELS = new Set([SECRET_TYPE_LABEL, MANAGED_BY_LABEL]);

/**
 * `--label`/`--annotation` k=v; values are templates (§4), checked here so a bad one fails
 * before any request. `usesLabels`: some value reads `.Labels`.
 */
function keyValues(values: string[], flag: string, checkValue: boolean): { values: Record<string, string>; usesLabels: boolean } {
  const result: Record<string, string> = {};
  let usesLabels = false;
  for (const entry of values) {
    const index = entry.indexOf('=');
    if (index <= 0) throw new UsageError(`invalid ${flag} "${entry}": expected key=value`);
    const key = entry.slice(0, index);
    const value = entry.slice(index + 1);
    if (!QUALIFIED_NAME.test(key)) throw new UsageError(`invalid ${flag} key "${key}": must be a qualified name such as example.com/team`);
    let template;
    try {
      template = parseTemplate(value);
    } catch (error) {
      if (error instanceof TemplateSyntaxError) throw new UsageError(`invalid ${flag} value for "${key}": ${error.message}`);
      throw error;
    }
    // A value without template actions is known now; a rendered one is checked per cluster.
    if (checkValue && template.pieces.every((piece) => piece.kind === 'text') && !isLabelValue(value)) {
      throw new UsageError(`invalid ${flag} value "${value}" for "${key}": ${LABEL_VALUE_RULE}`);
    }
    if (flag === '--label' && RESERVED_LABELS.has(key)) throw new UsageError(`--label cannot set "${key}": the plugin sets it`);
    result[key] = value;
    usesLabels ||= template.usesLabels;
  }
  return { values: result, usesLabels };
}

/** The warning for a --dry-run given the deprecated way, as kubectl words it. */
export const DRY_RUN_DEPRECATED = '--dry-run without a value (or true/false) is deprecated; use --dry-run=client, server or none';

/** kubectl's --dry-run: none|client|server; bare means client (deprecated), true/false too. */
export function parseDryRun(value: unknown): { dryRun: DryRun; deprecated: boolean } {
  if (value === undefined) return { dryRun: 'none', deprecated: false };
  const text = String(value);
  if (text === '' || text === 'true') return { dryRun: 'client', deprecated: true };
  if (text === 'false') return { dryRun: 'none', deprecated: true };
  if (text === 'none' || text === 'client' || text === 'server') return { dryRun: text, deprecated: false };
  throw new UsageError(`Invalid dry-run value (${text}). Must be "none", "server", or "client".`);
}

export function parseSyncOptions(args: CommandArgs, namespace: string): SyncOptions {
  const prefix = String(args['secret-prefix'] ?? DEFAULT_SECRET_PREFIX);
  validateSecretPrefix(prefix);
  const nameTemplate = String(args['name-template'] ?? DEFAULT_NAME_TEMPLATE);
  validateNameTemplate(nameTemplate);
  const namespaces = argumentValues(args.namespaces).flatMap(splitCommaList);
  for (const name of namespaces) {
    if (!isDns1123Label(name)) throw new UsageError(`invalid --namespaces entry "${name}": must be a valid namespace name`);
  }
  if (args['cluster-resources'] && namespaces.length === 0) {
    throw new UsageError('--cluster-resources is only applicable together with --namespaces');
  }
  const project = args.project === undefined ? undefined : String(args.project);
  if (project !== undefined && project.trim() === '') throw new UsageError('--project cannot be empty');
  const intervalMs = parseDuration(String(args.interval ?? '20m'), '--interval');
  if (intervalMs < 1000) throw new UsageError('--interval must be at least 1s');
  const concurrency = Number(args.concurrency ?? 8);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new UsageError('--concurrency must be a whole number of at least 1');
  const execTimeoutMs = parseDuration(String(args['exec-timeout'] ?? '30s'), '--exec-timeout');
  const { dryRun, deprecated: dryRunDeprecated } = parseDryRun(args['dry-run']);
  const watch = Boolean(args.watch);
  if (watch && dryRun !== 'none') throw new UsageError('--watch cannot be combined with --dry-run');
  if (args['allow-empty'] && !args.prune) throw new UsageError('--allow-empty only applies together with --prune');
  const labels = keyValues(argumentValues(args.label), '--label', true);
  const annotations = keyValues(argumentValues(args.annotation), '--annotation', false);
  return {
    include: globArguments(args.globs, 'GLOB'),
    exclude: globArguments(args.exclude, '--exclude'),
    sourceKubeconfig: args['source-kubeconfig'] === undefined ? undefined : String(args['source-kubeconfig']),
    settings: {
      namespace,
      prefix,
      nameTemplate,
      project,
      namespaces,
      clusterResources: Boolean(args['cluster-resources']),
      labels: labels.values,
      annotations: annotations.values,
      refreshInterval: watch ? formatDuration(intervalMs) : undefined,
    },
    takeOver: Boolean(args['take-over']),
    prune: Boolean(args.prune),
    allowEmpty: Boolean(args['allow-empty']),
    dryRun,
    dryRunDeprecated,
    diff: Boolean(args.diff),
    watch,
    intervalMs,
    concurrency,
    execTimeoutMs,
    templatesUseLabels: labels.usesLabels || annotations.usesLabels,
  };
}

/** GLOB/--exclude over a kube cluster name and (when known) a context name. */
export function selected(options: Pick<SyncOptions, 'include' | 'exclude'>, names: Array<string | null | undefined>): boolean {
  const candidates = names.filter((name): name is string => Boolean(name));
  const matches = (patterns: Array<(value: string) => boolean>) => patterns.some((match) => candidates.some(match));
  return (options.include.length === 0 || matches(options.include)) && !matches(options.exclude);
}
