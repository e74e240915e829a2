// The global flags every command shares (product.md §2), parsed into plain values.
import { parseDuration } from './duration.js';
import { UsageError } from './errors.js';
import { colorEnabled, Log, type ColorMode } from './log.js';

export interface GlobalOptions {
  kubeconfig?: string;
  context?: string;
  namespace: string;
  /** `-o` as given; each command checks it against the formats it supports. */
  output: string;
  noHeaders: boolean;
  requestTimeoutMs: number;
  verbose: boolean;
  color: ColorMode;
}

/** What a command gets besides its own flags. */
export interface Runtime {
  globals: GlobalOptions;
  log: Log;
  /** How the user invoked us: `kubectl teleport-argocd` or `kubectl-teleport-argocd`. */
  commandName: string;
}

export interface RawGlobalArgs {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  output?: string;
  'no-headers'?: boolean;
  'request-timeout'?: string;
  verbose?: boolean;
  color?: string;
}

const COLOR_MODES: readonly ColorMode[] = ['auto', 'always', 'never'];
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function parseGlobalOptions(args: RawGlobalArgs): GlobalOptions {
  const color = (args.color ?? 'auto') as ColorMode;
  if (!COLOR_MODES.includes(color)) {
    throw new UsageError(`invalid value "${args.color}" for --color: must be one of auto, always, never`);
  }
  const namespace = args.namespace ?? 'argocd';
  if (namespace.length > 63 || !DNS1123_LABEL.test(namespace)) {
    throw new UsageError(`invalid namespace "${namespace}": must be a DNS-1123 label (lowercase letters, digits and '-')`);
  }
  return {
    kubeconfig: args.kubeconfig || undefined,
    context: args.context || undefined,
    namespace,
    output: args.output ?? 'table',
    noHeaders: Boolean(args['no-headers']),
    requestTimeoutMs: parseDuration(args['request-timeout'] ?? '30s', '--request-timeout'),
    verbose: Boolean(args.verbose),
    color,
  };
}

export function createRuntime(globals: GlobalOptions, commandName: string): Runtime {
  return { globals, log: new Log(globals.verbose, colorEnabled(globals.color)), commandName };
}
