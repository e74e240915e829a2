// Loads kubeconfig files the way kubectl does (kubectl-plugins.md §2.4): `--kubeconfig`
// alone, else the KUBECONFIG list merged first-wins with missing files skipped, else
// ~/.kube/config; relative paths resolve against the file that holds them.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { loadAll, YAMLException } from 'js-yaml';
import { CliError } from '../cli/errors.js';

export interface KubeCluster {
  server?: string;
  'certificate-authority'?: string;
  'certificate-authority-data'?: string;
  'tls-server-name'?: string;
  'insecure-skip-tls-verify'?: boolean;
  'proxy-url'?: string;
  [key: string]: unknown;
}

export interface ExecConfig {
  apiVersion?: string;
  command: string;
  args?: string[];
  env?: Array<{ name: string; value: string }> | null;
  installHint?: string;
  provideClusterInfo?: boolean;
  interactiveMode?: string;
}

export interface KubeUser {
  'client-certificate'?: string;
  'client-certificate-data'?: string;
  'client-key'?: string;
  'client-key-data'?: string;
  token?: string;
  tokenFile?: string;
  exec?: ExecConfig;
  [key: string]: unknown;
}

export interface KubeContext {
  cluster: string;
  user: string;
  namespace?: string;
  extensions?: Array<{ name: string; extension: unknown }>;
  [key: string]: unknown;
}

export interface Named<T> {
  name: string;
  /** The file this entry came from. */
  source: string;
  value: T;
}

export interface Kubeconfig {
  /** The files read, in order (missing KUBECONFIG entries are not listed). */
  files: string[];
  clusters: Map<string, Named<KubeCluster>>;
  users: Map<string, Named<KubeUser>>;
  contexts: Map<string, Named<KubeContext>>;
  currentContext: string | null;
  /** Set when no file exists and we run inside a pod: use its service account. */
  inCluster: boolean;
}

export interface LoadOptions {
  /** `--kubeconfig`: only this file, which must exist. */
  explicitPath?: string;
  env?: NodeJS.ProcessEnv;
  home?: string;
  cwd?: string;
}

/** The file list kubectl would read, before checking which exist. */
export function kubeconfigPaths(options: LoadOptions = {}): { paths: string[]; explicit: boolean } {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  if (options.explicitPath) return { paths: [path.resolve(cwd, options.explicitPath)], explicit: true };
  const list = env.KUBECONFIG;
  if (list !== undefined && list !== '') {
    const paths = list
      .split(path.delimiter)
      .filter((entry) => entry !== '')
      .map((entry) => path.resolve(cwd, entry));
    return { paths: [...new Set(paths)], explicit: false };
  }
  return { paths: [path.join(options.home ?? env.HOME ?? homedir(), '.kube', 'config')], explicit: false };
}

function parseFile(file: string): Record<string, unknown> {
  const text = readFileSync(file, 'utf8');
  let documents: unknown[];
  try {
    // js-yaml, not the project's `yaml`: on a kubeconfig's long base64 lines it takes a
    // fraction of the time (~5 ms less on every command). `json`: a repeated key, last wins.
    documents = loadAll(text, { json: true });
  } catch (error) {
    if (!(error instanceof YAMLException)) throw error;
    const where = error.mark ? `line ${error.mark.line + 1}, column ${error.mark.column + 1}: ` : '';
    throw new CliError(`error loading kubeconfig "${file}": ${where}${error.reason}`);
  }
  if (documents.length > 1) throw new CliError(`error loading kubeconfig "${file}": it holds ${documents.length} YAML documents, not one`);
  const value = documents[0]; // none in an empty file: an empty config, as kubectl reads it
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new CliError(`error loading kubeconfig "${file}": line 1: expected a mapping with clusters, users and contexts`);
  }
  return value as Record<string, unknown>;
}

function lineOf(file: string, needle: string): number | null {
  try {
    const index = readFileSync(file, 'utf8').split('\n').findIndex((line) => line.includes(needle));
    return index >= 0 ? index + 1 : null;
  } catch {
    return null;
  }
}

function resolvePath(base: string, value: unknown): unknown {
  if (typeof value !== 'string' || value === '' || path.isAbsolute(value)) return value;
  return path.resolve(base, value);
}

function namedEntries<T>(file: string, raw: Record<string, unknown>, key: 'clusters' | 'users' | 'contexts', inner: string): Array<Named<T>> {
  const list = raw[key];
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) {
    throw new CliError(`error loading kubeconfig "${file}"${lineSuffix(file, `${key}:`)}: "${key}" must be a list`);
  }
  return list.map((entry, index) => {
    if (typeof entry !== 'object' || entry === null || typeof (entry as { name?: unknown }).name !== 'string') {
      throw new CliError(`error loading kubeconfig "${file}"${lineSuffix(file, `${key}:`)}: ${key}[${index}] has no name`);
    }
    const { name } = entry as { name: string };
    const value = (entry as Record<string, unknown>)[inner];
    if (value !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value))) {
      throw new CliError(`error loading kubeconfig "${file}"${lineSuffix(file, `name: ${name}`)}: ${key} "${name}": "${inner}" must be a mapping`);
    }
    return { name, source: file, value: { ...((value ?? {}) as object) } as T };
  });
}

function lineSuffix(file: string, needle: string): string {
  const line = lineOf(file, needle);
  return line === null ? '' : `: line ${line}`;
}

function absolutize(file: string, config: { clusters: Array<Named<KubeCluster>>; users: Array<Named<KubeUser>> }): void {
  const base = path.dirname(file);
  for (const { value } of config.clusters) {
    value['certificate-authority'] = resolvePath(base, value['certificate-authority']) as string | undefined;
  }
  for (const { value } of config.users) {
    value['client-certificate'] = resolvePath(base, value['client-certificate']) as string | undefined;
    value['client-key'] = resolvePath(base, value['client-key']) as string | undefined;
    value.tokenFile = resolvePath(base, value.tokenFile) as string | undefined;
    // client-go resolves an exec command only when it is a path, not a bare name looked up on PATH.
    if (value.exec && typeof value.exec.command === 'string' && value.exec.command.includes('/')) {
      value.exec = { ...value.exec, command: resolvePath(base, value.exec.command) as string };
    }
  }
}

export function loadKubeconfig(options: LoadOptions = {}): Kubeconfig {
  const env = options.env ?? process.env;
  const { paths, explicit } = kubeconfigPaths(options);
  const merged: Kubeconfig = {
    files: [],
    clusters: new Map(),
    users: new Map(),
    contexts: new Map(),
    currentContext: null,
    inCluster: false,
  };
  for (const file of paths) {
    if (!existsSync(file)) {
      if (explicit) throw new CliError(`kubeconfig "${file}" does not exist`);
      continue;
    }
    const raw = parseFile(file);
    merged.files.push(file);
    const clusters = namedEntries<KubeCluster>(file, raw, 'clusters', 'cluster');
    const users = namedEntries<KubeUser>(file, raw, 'users', 'user');
    const contexts = namedEntries<KubeContext>(file, raw, 'contexts', 'context');
    absolutize(file, { clusters, users });
    // First file that sets a key wins; later files never change it.
    for (const entry of clusters) if (!merged.clusters.has(entry.name)) merged.clusters.set(entry.name, entry);
    for (const entry of users) if (!merged.users.has(entry.name)) merged.users.set(entry.name, entry);
    for (const entry of contexts) if (!merged.contexts.has(entry.name)) merged.contexts.set(entry.name, entry);
    const current = raw['current-context'];
    if (merged.currentContext === null && typeof current === 'string' && current !== '') merged.currentContext = current;
  }
  if (merged.files.length === 0 && env.KUBERNETES_SERVICE_HOST) merged.inCluster = true;
  return merged;
}

export interface ResolvedContext {
  name: string;
  context: KubeContext;
  cluster: KubeCluster;
  user: KubeUser;
  clusterName: string;
  userName: string;
  namespace: string | null;
  source: string;
}

function describeFiles(config: Kubeconfig): string {
  return config.files.length === 0 ? 'no kubeconfig file found' : config.files.map((file) => `"${file}"`).join(', ');
}

/** The context `--context` names, else the current context, with its cluster and user. */
export function resolveContext(config: Kubeconfig, contextName?: string): ResolvedContext {
  const name = contextName || config.currentContext;
  if (!name) {
    if (config.contexts.size === 0) {
      throw new CliError(`no configuration has been provided: ${describeFiles(config)} has no contexts`);
    }
    throw new CliError(`current-context is not set in ${describeFiles(config)}; pass --context`);
  }
  const context = config.contexts.get(name);
  if (!context) throw new CliError(`context "${name}" does not exist in ${describeFiles(config)}`);
  const cluster = config.clusters.get(context.value.cluster);
  if (!cluster) {
    throw new CliError(`context "${name}" in "${context.source}" refers to cluster "${context.value.cluster}", which does not exist`);
  }
  const user = config.users.get(context.value.user);
  if (context.value.user && !user) {
    throw new CliError(`context "${name}" in "${context.source}" refers to user "${context.value.user}", which does not exist`);
  }
  return {
    name,
    context: context.value,
    cluster: cluster.value,
    user: user?.value ?? {},
    clusterName: context.value.cluster,
    userName: context.value.user,
    namespace: context.value.namespace ?? null,
    source: context.source,
  };
}
