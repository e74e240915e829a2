// The edge to the Kubernetes API: client-node clients for one kubeconfig context, with
// a per-request timeout, request accounting, verbose tracing and one connection pool
// (src/kube/transport.ts).
// Heavy module: commands import it lazily.
import {
  ApiException,
  AuthorizationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  OpenidApi,
  RbacAuthorizationV1Api,
  VersionApi,
  WellKnownApi,
  createConfiguration,
  ServerConfiguration,
  wrapHttpLibrary,
  type RequestContext,
  type ResponseContext,
  type SecurityAuthentication,
  type Cluster,
  type Context,
  type User,
} from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import { CliError } from '../cli/errors.js';
import type { Log } from '../cli/log.js';
import { runExecCredential } from '../kubeconfig/exec-credential.js';
import type { ExecConfig, ResolvedContext } from '../kubeconfig/load.js';
import { ClientClosedError, ConnectionPool, PooledHttpLibrary, type ConnectionOptions } from './transport.js';

export interface KubeClientOptions {
  requestTimeoutMs: number;
  log: Log;
  /** Extra headers on every request, e.g. `Impersonate-User` for impersonation checks. */
  headers?: Record<string, string>;
}

export interface KubeClients {
  /** Where requests go, for messages. */
  server: string;
  core: CoreV1Api;
  rbac: RbacAuthorizationV1Api;
  authorization: AuthorizationV1Api;
  customObjects: CustomObjectsApi;
  openid: OpenidApi;
  wellKnown: WellKnownApi;
  version: VersionApi;
  /** Requests sent so far (every attempt counts). */
  requestCount(): number;
  close(): Promise<void>;
}

const BASE64 = /^[A-Za-z0-9+/=\s]*$/;

/**
 * What client-node would only stumble on at the first request (and then report without
 * naming the kubeconfig entry): a missing or relative server URL, unreadable credential
 * files, `-data` fields that are not base64.
 */
function checkContext(resolved: ResolvedContext): void {
  const where = `context "${resolved.name}" (${resolved.source})`;
  const { server } = resolved.cluster;
  if (typeof server !== 'string' || server === '') throw new CliError(`${where}: cluster "${resolved.clusterName}" has no server`);
  if (!URL.canParse(server) || !/^https?:$/.test(new URL(server).protocol)) {
    throw new CliError(`${where}: cluster "${resolved.clusterName}" has an invalid server "${server}" (expected https://HOST[:PORT])`);
  }
  const files: Array<[string, unknown]> = [
    ['certificate-authority', resolved.cluster['certificate-authority']],
    ['client-certificate', resolved.user['client-certificate']],
    ['client-key', resolved.user['client-key']],
    ['tokenFile', resolved.user.tokenFile],
  ];
  for (const [field, file] of files) {
    if (typeof file !== 'string' || file === '') continue;
    try {
      readFileSync(file);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new CliError(`${where}: unable to read ${field} "${file}": ${code === 'ENOENT' ? 'no such file' : (code ?? (error as Error).message)}`);
    }
  }
  const data: Array<[string, unknown]> = [
    ['certificate-authority-data', resolved.cluster['certificate-authority-data']],
    ['client-certificate-data', resolved.user['client-certificate-data']],
    ['client-key-data', resolved.user['client-key-data']],
  ];
  for (const [field, value] of data) {
    if (value !== undefined && (typeof value !== 'string' || !BASE64.test(value))) throw new CliError(`${where}: ${field} is not base64`);
  }
}

const optionalString = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/**
 * The context in client-node's own terms (its `config_types`: what `loadFromString` makes of a
 * kubeconfig), built directly: handing it text would load a second YAML parser on every run.
 * `tokenFile` is read here as kubectl reads it (client-node only knows a `token-file` key).
 */
export function kubeConfigForContext(resolved: ResolvedContext): KubeConfig {
  checkContext(resolved);
  const { cluster, user } = resolved;
  const userName = resolved.userName || 'user';
  const tokenFile = optionalString(user.tokenFile);
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [
      {
        name: resolved.clusterName,
        server: String(cluster.server).replace(/\/$/, ''),
        caData: cluster['certificate-authority-data'],
        caFile: cluster['certificate-authority'],
        skipTLSVerify: cluster['insecure-skip-tls-verify'] === true,
        tlsServerName: cluster['tls-server-name'],
        proxyUrl: cluster['proxy-url'],
      },
    ] satisfies Cluster[],
    users: [
      {
        name: userName,
        authProvider: user['auth-provider'],
        certData: user['client-certificate-data'],
        certFile: user['client-certificate'],
        keyData: user['client-key-data'],
        keyFile: user['client-key'],
        exec: user.exec,
        token: user.token ?? (tokenFile ? readFileSync(tokenFile, 'utf8').trim() : undefined),
        username: optionalString(user.username),
        password: optionalString(user.password),
        impersonateUser: optionalString(user.as),
      },
    ] satisfies User[],
    contexts: [{ name: resolved.name, cluster: resolved.clusterName, user: userName, namespace: resolved.namespace ?? undefined }] satisfies Context[],
    currentContext: resolved.name,
  });
  return config;
}

export function inClusterKubeConfig(): KubeConfig {
  const config = new KubeConfig();
  config.loadFromCluster();
  return config;
}

const base64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');

/**
 * The config with the user's exec plugin already run, its answer inline. client-node would
 * run the plugin itself, with no timeout and an error that does not name the command.
 */
async function withExecCredentials(config: KubeConfig, timeoutMs: number): Promise<KubeConfig> {
  const user = config.getCurrentUser();
  if (!user?.exec) return config;
  const answer = await runExecCredential(user.exec as ExecConfig, timeoutMs);
  const inline = new KubeConfig();
  inline.loadFromOptions({
    clusters: config.clusters,
    contexts: config.contexts,
    currentContext: config.currentContext,
    users: config.users.map((entry) =>
      entry.name !== user.name
        ? entry
        : {
            name: user.name,
            certData: answer.certPem ? base64(answer.certPem) : undefined,
            keyData: answer.keyPem ? base64(answer.keyPem) : undefined,
            token: answer.token ?? undefined,
          },
    ),
  });
  return inline;
}

/**
 * The kubeconfig's credentials and connection pool, worked out once per client (an exec
 * plugin runs once, shared by concurrent requests): client-node's `applyToHTTPSOptions`
 * gives the TLS material, headers and any proxy agent; requests carry the headers and go
 * through the pool.
 */
class KubeconfigConnection implements SecurityAuthentication {
  private resolved: Promise<{ options: ConnectionOptions; pool: ConnectionPool }> | undefined;

  constructor(
    private readonly config: KubeConfig,
    private readonly server: string,
    private readonly headers: Record<string, string>,
    private readonly execTimeoutMs: number,
  ) {}

  getName(): string {
    return 'kubeconfig authentication';
  }

  private resolve(): Promise<{ options: ConnectionOptions; pool: ConnectionPool }> {
    this.resolved ??= (async () => {
      const config = await withExecCredentials(this.config, this.execTimeoutMs);
      const options: ConnectionOptions = {};
      await config.applyToHTTPSOptions(options);
      return { options, pool: ConnectionPool.open(this.server, options, Boolean(config.getCurrentCluster()?.proxyUrl)) };
    })();
    return this.resolved;
  }

  readonly pool = async (): Promise<ConnectionPool> => (await this.resolve()).pool;

  async applySecurityAuthentication(context: RequestContext): Promise<void> {
    const { options } = await this.resolve();
    for (const [key, value] of Object.entries(options.headers ?? {})) if (value !== undefined) context.setHeaderParam(key, String(value));
    if (options.auth) context.setHeaderParam('Authorization', `Basic ${Buffer.from(options.auth).toString('base64')}`);
    for (const [key, value] of Object.entries(this.headers)) context.setHeaderParam(key, value);
  }

  /** Ends the pool; later requests fail with ClientClosedError instead of connecting again. */
  async close(): Promise<void> {
    this.resolved ??= Promise.reject(new ClientClosedError());
    (await this.resolved.catch(() => undefined))?.pool.close();
  }
}

const DEFAULT_EXEC_TIMEOUT_MS = 30_000;

export function createKubeClients(config: KubeConfig, options: KubeClientOptions): KubeClients {
  const cluster = config.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig context has no cluster');
  // An exec plugin is part of the request: it gets the request timeout (30 s when that is 0, no timeout).
  const execTimeoutMs = options.requestTimeoutMs > 0 ? options.requestTimeoutMs : DEFAULT_EXEC_TIMEOUT_MS;
  const connection = new KubeconfigConnection(config, cluster.server, options.headers ?? {}, execTimeoutMs);
  let requests = 0;
  const { log } = options;
  const configuration = createConfiguration({
    baseServer: new ServerConfiguration(cluster.server, {}),
    httpApi: wrapHttpLibrary(new PooledHttpLibrary(connection.pool)),
    authMethods: { default: connection },
    promiseMiddleware: [
      {
        pre: async (context: RequestContext) => {
          requests += 1;
          if (options.requestTimeoutMs > 0) context.setSignal(AbortSignal.timeout(options.requestTimeoutMs));
          log.debug(`${context.getHttpMethod()} ${context.getUrl()}`);
          return context;
        },
        post: async (response: ResponseContext) => {
          log.debug(`  → ${response.httpStatusCode}`);
          return response;
        },
      },
    ],
  });
  return {
    server: cluster.server,
    core: new CoreV1Api(configuration),
    rbac: new RbacAuthorizationV1Api(configuration),
    authorization: new AuthorizationV1Api(configuration),
    customObjects: new CustomObjectsApi(configuration),
    openid: new OpenidApi(configuration),
    wellKnown: new WellKnownApi(configuration),
    version: new VersionApi(configuration),
    requestCount: () => requests,
    close: () => connection.close(),
  };
}

/** The Status body of a failed request, when the server sent one. */
function statusOf(error: ApiException<unknown>): { message?: string; reason?: string } {
  const body = error.body;
  if (typeof body === 'object' && body !== null) return body as { message?: string; reason?: string };
  if (typeof body === 'string') {
    try {
      return JSON.parse(body) as { message?: string; reason?: string };
    } catch {
      return { message: body.trim() || undefined };
    }
  }
  return {};
}

export function httpStatus(error: unknown): number | null {
  return error instanceof ApiException ? error.code : null;
}

export const isNotFound = (error: unknown): boolean => httpStatus(error) === 404;
export const isConflict = (error: unknown): boolean => httpStatus(error) === 409 && statusReason(error) !== 'AlreadyExists';
export const isAlreadyExists = (error: unknown): boolean => httpStatus(error) === 409 && statusReason(error) === 'AlreadyExists';
export const isForbidden = (error: unknown): boolean => httpStatus(error) === 403;

export function statusReason(error: unknown): string | null {
  return error instanceof ApiException ? (statusOf(error).reason ?? null) : null;
}

function causeCode(error: unknown): string | null {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return null;
}

function isTimeout(error: unknown): boolean {
  const name = (error as { name?: string })?.name;
  return name === 'TimeoutError' || name === 'AbortError';
}

/** One line a person can act on, like kubectl's messages; never a body with secret data. */
export function describeKubeError(error: unknown, server?: string): string {
  if (error instanceof ApiException) {
    const status = statusOf(error);
    const reason = status.reason ?? (error.code === 401 ? 'Unauthorized' : `HTTP ${error.code}`);
    if (error.code === 401) return `you must be logged in to the server (Unauthorized)${server ? `: ${server}` : ''}`;
    return `${status.message ?? `the server answered HTTP ${error.code}`} (${reason})`;
  }
  if (isTimeout(error)) return `request to ${server ?? 'the server'} timed out`;
  const code = causeCode(error);
  if (code === 'ECONNREFUSED') return `the connection to the server ${server ?? ''} was refused - did you specify the right host or port?`.replace('  ', ' ');
  if (code && /CERT|SELF_SIGNED|ERR_TLS|UNABLE_TO_VERIFY|HOSTNAME/.test(code)) {
    return `TLS verification of ${server ?? 'the server'} failed (${code})`;
  }
  if (code) return `request to ${server ?? 'the server'} failed (${code})`;
  return error instanceof Error ? error.message : String(error);
}

export interface RetryOptions {
  attempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  log?: Log;
  /** Says what is being retried, in verbose output. */
  what?: string;
}

/** Connection failures that another attempt may not meet: the server restarted, a proxy dropped us. */
const TRANSIENT_NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
]);

/** Whether a failed request is worth sending again, and after how long at least (Retry-After). */
export function retryDelayHint(error: unknown): { retry: boolean; afterMs: number | null } {
  if (error instanceof ApiException) {
    if (error.code === 429 || error.code === 500 || error.code === 502 || error.code === 503 || error.code === 504) {
      const header = error.headers?.['retry-after'];
      const seconds = header !== undefined ? Number(header) : NaN;
      return { retry: true, afterMs: Number.isFinite(seconds) ? seconds * 1000 : null };
    }
    return { retry: false, afterMs: null };
  }
  // Timeouts and dropped connections, yes; a failed exec plugin, an unreadable file or an
  // untrusted certificate would fail the same way again.
  const code = causeCode(error);
  return { retry: isTimeout(error) || (code !== null && TRANSIENT_NETWORK_CODES.has(code)), afterMs: null };
}

/** Items per LIST page: large namespaces cost few requests, and no response is huge. */
export const LIST_PAGE_SIZE = 500;

/** One page of a LIST as client-node returns it: typed lists call the token `_continue`, custom objects `continue`. */
export interface ListPage<T> {
  items?: T[];
  metadata?: { _continue?: string; continue?: string };
}

/** Every item of a paged LIST: `fetchPage` gets each continue token in turn; each page is retried. */
export async function listAllPages<T>(fetchPage: (continueToken: string | undefined) => Promise<ListPage<T>>, options: RetryOptions): Promise<T[]> {
  const items: T[] = [];
  let continueToken: string | undefined;
  do {
    const token = continueToken;
    const page = await withRetry(() => fetchPage(token), options);
    items.push(...(page.items ?? []));
    continueToken = page.metadata?._continue || page.metadata?.continue || undefined;
  } while (continueToken);
  return items;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Retries 429, 5xx and network failures with exponential backoff and jitter, honouring Retry-After. */
export async function withRetry<T>(operation: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 5;
  const base = options.baseDelayMs ?? 200;
  const max = options.maxDelayMs ?? 5000;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await operation();
    } catch (error) {
      const hint = retryDelayHint(error);
      if (!hint.retry || attempt >= attempts) throw error;
      const backoff = Math.min(max, base * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
      const delay = Math.min(30_000, Math.max(backoff, hint.afterMs ?? 0));
      options.log?.debug(`retrying ${options.what ?? 'request'} in ${Math.round(delay)}ms (attempt ${attempt + 1}/${attempts}): ${describeKubeError(error)}`);
      await sleep(delay);
    }
  }
}
