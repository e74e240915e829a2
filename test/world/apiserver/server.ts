// FakeKubeCluster: one stand-in kube-apiserver on its own 127.0.0.1 port with its own CA.
// Request path: record → faults → authenticate → impersonate → authorize → handler,
// the order kube-apiserver's filter chain uses, so counts include failed requests.
import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { gzipSync } from 'node:zlib';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { stringify as toYaml } from 'yaml';
import { createCA, issueCertificate, issueServingCertificate, type CertificateAuthority, type PemPair } from '../pki.js';
import { kubeRequest, type KubeRequestOptions, type KubeResponse } from './client.js';
import { Api, type Body, type Reply, type RequestContext } from './api.js';
import { Authenticator, impersonate, type StaticToken } from './auth.js';
import {
  aggregatedDiscovery,
  aggregatedVersion,
  AGGREGATED_V2,
  AGGREGATED_V2BETA1,
  apiGroup,
  apiGroupList,
  apiResourceList,
  apiVersions,
  openApiGroupVersionDoc,
  openApiRoot,
  versionDocument,
  type VersionInfo,
} from './discovery.js';
import { ApiError, badRequest, forbidden, forbiddenPath, internalError, methodNotSupported, pathNotFound, statusBody, type Status } from './errors.js';
import { Faults, RequestCounts, requestKey, type RequestRecord } from './faults.js';
import { authorize, bootstrapPolicy, forbiddenReason, type Attributes } from './rbac.js';
import { findByPath, isCustomResource, resolveType, RESOURCE_TYPES, type ResourceType } from './resources.js';
import { ObjectStore, timestamp } from './store.js';
import { DEFAULT_ISSUER, TokenIssuer } from './tokens.js';

export interface FakeKubeClusterOptions {
  /** Cluster name: kubeconfig cluster/context name and CA common name. Default `cluster-N`. */
  name?: string;
  /** Reported by /version (kubectl's dispatcher picks its binary from it). Default 1.32. */
  version?: Partial<VersionInfo>;
  /** Service account token issuer (`--service-account-issuer`). */
  issuer?: string;
  /** `jwks_uri` in the discovery document. Default `<url>/openid/v1/jwks`. */
  jwksUri?: string;
  /** Serve /.well-known/openid-configuration and /openid/v1/jwks (default true). */
  issuerDiscovery?: boolean;
  /** Unauthenticated requests become system:anonymous instead of 401 (default false). */
  anonymousAuth?: boolean;
  /** Static bearer tokens (`--token-auth-file`). */
  tokens?: Record<string, StaticToken>;
  /** Namespaces besides default, kube-system, kube-public, kube-node-lease. */
  namespaces?: string[];
  /** Seed the bootstrap ClusterRoles/Bindings (cluster-admin, edit, view, system:basic-user …). Default true. */
  bootstrapRbac?: boolean;
  /** Every namespace gets ServiceAccount `default` and ConfigMap `kube-root-ca.crt`, as controllers do. Default true. */
  namespaceDefaults?: boolean;
  /** Fixed port (default: any free port). */
  port?: number;
}

/** A client identity for kubeconfigs and requests: certificate + key, or a bearer token. */
export type ClientIdentity = PemPair | { token: string };

export interface KubeconfigOptions {
  context?: string;
  cluster?: string;
  user?: string;
  namespace?: string;
  /** Server URL to write (default the cluster's URL). */
  server?: string;
  tlsServerName?: string;
}

const MAX_BODY = 3 * 1024 * 1024;
/**
 * kube-apiserver gzips large responses for clients that accept it (APIResponseCompression);
 * 128 KiB is its threshold as we remember it (not checked against its source here).
 */
const GZIP_THRESHOLD_BYTES = 128 * 1024;
let clusterCounter = 0;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

interface RequestInfo {
  resourceRequest: boolean;
  verb: string;
  path: string;
  group?: string;
  version?: string;
  resource?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  /** Discovery shapes: `/api`, `/apis`, `/apis/G`, `/api/v1`, `/apis/G/V` */
  discovery?: { kind: 'api' | 'apis' | 'group' | 'groupVersion'; group?: string; version?: string };
  extraParts?: boolean;
}

/** k8s.io/apiserver RequestInfoFactory, for the URL shapes served here. */
function resolveRequest(method: string, path: string, query: URLSearchParams): RequestInfo {
  const parts = path.split('/').filter(Boolean);
  const nonResource = (discovery?: RequestInfo['discovery']): RequestInfo => ({ resourceRequest: false, verb: method.toLowerCase(), path, discovery });
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === 'api') {
    if (parts.length === 1) return nonResource({ kind: 'api' });
    if (parts.length === 2) return nonResource({ kind: 'groupVersion', group: '', version: parts[1] });
    group = '';
    version = parts[1]!;
    rest = parts.slice(2);
  } else if (parts[0] === 'apis') {
    if (parts.length === 1) return nonResource({ kind: 'apis' });
    if (parts.length === 2) return nonResource({ kind: 'group', group: parts[1] });
    if (parts.length === 3) return nonResource({ kind: 'groupVersion', group: parts[1], version: parts[2] });
    group = parts[1]!;
    version = parts[2]!;
    rest = parts.slice(3);
  } else {
    return nonResource();
  }
  const info: RequestInfo = { resourceRequest: true, verb: '', path, group, version };
  if (rest[0] === 'namespaces' && rest.length > 1) {
    info.namespace = rest[1];
    if (rest.length > 2 && !['status', 'finalize'].includes(rest[2]!)) rest = rest.slice(2);
  }
  info.resource = rest[0];
  info.name = rest[1];
  info.subresource = rest[2];
  info.extraParts = rest.length > 3;
  const watch = query.get('watch') === 'true' || query.get('watch') === '1';
  switch (method) {
    case 'GET':
    case 'HEAD':
      info.verb = info.name ? 'get' : watch ? 'watch' : 'list';
      break;
    case 'POST':
      info.verb = 'create';
      break;
    case 'PUT':
      info.verb = 'update';
      break;
    case 'PATCH':
      info.verb = 'patch';
      break;
    case 'DELETE':
      info.verb = info.name ? 'delete' : 'deletecollection';
      break;
    default:
      info.verb = method.toLowerCase();
  }
  return info;
}

export class FakeKubeCluster {
  readonly name: string;
  readonly store = new ObjectStore();
  readonly faults = new Faults();
  readonly counts = new RequestCounts();
  /** Static bearer tokens; add or remove at will. */
  readonly tokens = new Map<string, StaticToken>();
  readonly version: VersionInfo;
  /** The cluster's issuer discovery switch (404 for both documents when false). */
  issuerDiscovery: boolean;
  anonymousAuth: boolean;
  jwksUri: string | undefined;

  private server: https.Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly watches = new Set<() => void>();
  private readonly api: Api;
  private readonly authenticator: Authenticator;
  private boundPort = 0;
  /** Custom resource types whose CRD a test deleted. */
  private readonly uninstalled = new Set<ResourceType>();

  private constructor(
    options: FakeKubeClusterOptions,
    /** The cluster CA: signs the serving certificate and the client certificates it trusts (kubeadm's ca.crt). */
    readonly ca: CertificateAuthority,
    private readonly serving: PemPair,
    /** `kubernetes-admin`, group `system:masters`. */
    readonly admin: PemPair,
    readonly issuer: TokenIssuer,
  ) {
    this.name = options.name ?? `cluster-${clusterCounter}`;
    this.version = {
      major: options.version?.major ?? '1',
      minor: options.version?.minor ?? '32',
      gitVersion: options.version?.gitVersion ?? `v${options.version?.major ?? '1'}.${options.version?.minor ?? '32'}.4`,
    };
    this.issuerDiscovery = options.issuerDiscovery ?? true;
    this.anonymousAuth = options.anonymousAuth ?? false;
    this.jwksUri = options.jwksUri;
    for (const [token, user] of Object.entries(options.tokens ?? {})) this.tokens.set(token, user);
    this.api = new Api({ store: this.store, issuer: this.issuer, faults: this.faults });
    this.authenticator = new Authenticator({ store: this.store, issuer: this.issuer, tokens: this.tokens, anonymous: () => this.anonymousAuth });
    if (options.namespaceDefaults ?? true) this.store.onNamespaceAdded = (ns) => this.addNamespaceDefaults(ns);
    for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease', ...(options.namespaces ?? [])]) this.store.ensureNamespace(ns);
    if (options.bootstrapRbac ?? true) this.store.seed(bootstrapPolicy());
  }

  /** Creates the cluster's keys and starts serving on 127.0.0.1. */
  static async start(options: FakeKubeClusterOptions = {}): Promise<FakeKubeCluster> {
    clusterCounter++;
    const name = options.name ?? `cluster-${clusterCounter}`;
    const [ca, issuer] = await Promise.all([createCA(`${name}-ca`), TokenIssuer.create(options.issuer ?? DEFAULT_ISSUER)]);
    const [serving, admin] = await Promise.all([
      issueServingCertificate(ca, 'kube-apiserver', ['kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local']),
      issueCertificate(ca, { subject: [['CN', 'kubernetes-admin'], ['O', 'system:masters']], usage: 'client' }),
    ]);
    const cluster = new FakeKubeCluster({ ...options, name }, ca, serving, admin, issuer);
    await cluster.listen(options.port ?? 0);
    return cluster;
  }

  get port(): number {
    return this.boundPort;
  }

  get url(): string {
    return `https://127.0.0.1:${this.boundPort}`;
  }

  get caPem(): string {
    return this.ca.certPem;
  }

  get running(): boolean {
    return this.server !== undefined;
  }

  private listen(port: number): Promise<void> {
    const server = https.createServer({
      key: this.serving.keyPem,
      cert: this.serving.certPem,
      ca: this.ca.certPem,
      requestCert: true,
      rejectUnauthorized: false,
      minVersion: 'TLSv1.2',
    });
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      this.handle(req, res).catch((e: unknown) => {
        if (!res.headersSent) this.sendStatus(res, internalError(String(e)).status);
        else res.destroy();
      });
    });
    // Go's client speaks HTTP/1.1 here (no h2 via ALPN): fine, it is what it falls back to
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        this.boundPort = (server.address() as { port: number }).port;
        this.server = server;
        resolve();
      });
    });
  }

  /** Stops serving: open connections are destroyed, watches end. State is kept. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const end of this.watches) end();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    server.closeAllConnections();
    await closed;
  }

  /** Serves again on the same port after stop(). */
  async restart(): Promise<void> {
    if (this.server) return;
    await this.listen(this.boundPort);
  }

  /** Same as stop(); for `afterAll(() => cluster.close())`. */
  close(): Promise<void> {
    return this.stop();
  }

  // ---- custom resource definitions ----

  /**
   * As `kubectl delete crd NAME` (e.g. `applications.argoproj.io`): its objects are gone,
   * discovery stops listing it, and requests for it get 404 (after authorization, as on a
   * real server).
   */
  uninstallCrd(name: string): void {
    const t = this.customResource(name);
    for (const obj of this.store.scan(t)) this.store.remove(t, obj.metadata.namespace, obj.metadata.name!);
    this.uninstalled.add(t);
  }

  /** Serves a CRD removed by uninstallCrd again (empty). */
  installCrd(name: string): void {
    this.uninstalled.delete(this.customResource(name));
  }

  private customResource(name: string): ResourceType {
    const t = resolveType(name);
    if (!isCustomResource(t)) throw new Error(`${name} is a built-in type, not a custom resource`);
    return t;
  }

  /** The types this cluster serves right now. */
  private served(): ResourceType[] {
    return RESOURCE_TYPES.filter((t) => !this.uninstalled.has(t));
  }

  // ---- identities ----

  /** A client certificate from the cluster CA: CN = user, O = groups. */
  issueClientCertificate(user: string, groups: string[] = [], validity: { notBefore?: Date; notAfter?: Date } = {}): Promise<PemPair> {
    return issueCertificate(this.ca, { subject: [['CN', user], ...groups.map((g): [string, string] => ['O', g])], usage: 'client', ...validity });
  }

  /** Registers a static bearer token for a user and returns it. */
  addToken(user: string, groups: string[] = [], token = `token-${randomUUID()}`): string {
    this.tokens.set(token, { user, groups });
    return token;
  }

  /**
   * Issues a service account token as the TokenRequest API would (the service account must
   * exist in the store). For tests that need a token without going through HTTP.
   */
  async serviceAccountToken(
    namespace: string,
    name: string,
    options: { audiences?: string[]; expirationSeconds?: number; pod?: string; now?: Date } = {},
  ): Promise<string> {
    const sa = this.store.get('serviceaccounts', namespace, name);
    if (!sa) throw new Error(`serviceaccount ${namespace}/${name} not found`);
    let pod: { name: string; uid: string } | undefined;
    if (options.pod) {
      const p = this.store.get('pods', namespace, options.pod);
      if (!p) throw new Error(`pod ${namespace}/${options.pod} not found`);
      pod = { name: options.pod, uid: p.metadata.uid! };
    }
    const issued = await this.issuer.issue({
      namespace,
      name,
      serviceAccountUid: sa.metadata.uid!,
      audiences: options.audiences ?? this.issuer.apiAudiences,
      expirationSeconds: options.expirationSeconds ?? 3600,
      pod,
      now: options.now,
    });
    return issued.token;
  }

  /** New service account signing key (new kid); old keys stay published with `keepOld`. */
  rotateSigningKey(options: { keepOld?: boolean } = {}): Promise<string> {
    return this.issuer.rotate(options);
  }

  /** Changes the issuer (tokens minted before stop authenticating, as on a real reconfiguration). */
  setIssuer(issuer: string): void {
    this.issuer.issuer = issuer;
  }

  kubeconfig(identity: ClientIdentity = this.admin, options: KubeconfigOptions = {}): string {
    const cluster = options.cluster ?? this.name;
    const user = options.user ?? `${this.name}-user`;
    const context = options.context ?? this.name;
    const clusterEntry: Record<string, unknown> = {
      server: options.server ?? this.url,
      'certificate-authority-data': Buffer.from(this.ca.certPem).toString('base64'),
    };
    if (options.tlsServerName) clusterEntry['tls-server-name'] = options.tlsServerName;
    const userEntry: Record<string, unknown> =
      'token' in identity
        ? { token: identity.token }
        : {
            'client-certificate-data': Buffer.from(identity.certPem).toString('base64'),
            'client-key-data': Buffer.from(identity.keyPem).toString('base64'),
          };
    const ctx: Record<string, unknown> = { cluster, user };
    if (options.namespace) ctx.namespace = options.namespace;
    return toYaml({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: cluster, cluster: clusterEntry }],
      users: [{ name: user, user: userEntry }],
      contexts: [{ name: context, context: ctx }],
      'current-context': context,
      preferences: {},
    });
  }

  /** Writes kubeconfig() to a file (mode 0600, parent directories created). */
  async writeKubeconfig(path: string, identity: ClientIdentity = this.admin, options: KubeconfigOptions = {}): Promise<string> {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, this.kubeconfig(identity, options), { mode: 0o600 });
    return path;
  }

  /** An HTTPS request to this cluster, as the admin unless `identity` says otherwise (null: none). */
  request<T = any>(method: string, path: string, options: Omit<KubeRequestOptions, 'caPem'> = {}): Promise<KubeResponse<T>> {
    const identity = options.identity === undefined ? this.admin : options.identity;
    return kubeRequest<T>(this.url, method, path, { ...options, identity, caPem: this.ca.certPem });
  }

  // ---- internals ----

  private addNamespaceDefaults(ns: string): void {
    const sa = RESOURCE_TYPES.find((t) => t.resource === 'serviceaccounts')!;
    const cm = RESOURCE_TYPES.find((t) => t.resource === 'configmaps')!;
    const meta = (name: string) => ({ name, namespace: ns, uid: randomUUID(), creationTimestamp: timestamp() });
    if (!this.store.peek(sa, ns, 'default')) this.store.write(sa, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta('default') }, 'ADDED');
    if (!this.store.peek(cm, ns, 'kube-root-ca.crt')) {
      this.store.write(
        cm,
        {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { ...meta('kube-root-ca.crt'), annotations: { 'kubernetes.io/description': 'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.' } },
          data: { 'ca.crt': this.ca.certPem },
        },
        'ADDED',
      );
    }
  }

  private readBody(req: IncomingMessage): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY) {
          reject(new ApiError(statusBody(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${MAX_BODY}`)));
          req.destroy();
          return;
        }
        chunks.push(c);
      });
      req.on('end', () => resolve(Buffer.concat(chunks)));
      req.on('error', reject);
    });
  }

  private send(res: ServerResponse, status: number, body: unknown, contentType = 'application/json', headers: Record<string, string> = {}, warnings: string[] = []): void {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    // Like kube-apiserver: large responses gzipped when the client accepts it.
    const gzip = Buffer.byteLength(text) >= GZIP_THRESHOLD_BYTES && /\bgzip\b/.test(String(res.req.headers['accept-encoding'] ?? ''));
    const payload = gzip ? gzipSync(text) : Buffer.from(text);
    const h: Record<string, string | string[]> = {
      'Audit-Id': randomUUID(),
      'Cache-Control': 'no-cache, private',
      'Content-Type': contentType,
      'Content-Length': String(payload.length),
      ...(gzip ? { 'Content-Encoding': 'gzip' } : {}),
      ...headers,
    };
    if (warnings.length) h.Warning = warnings.map((w) => `299 - ${JSON.stringify(w)}`);
    res.writeHead(status, h);
    res.end(payload);
  }

  private sendStatus(res: ServerResponse, status: Status, headers: Record<string, string> = {}): void {
    this.send(res, status.code, status, 'application/json', headers);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://localhost');
    const method = req.method ?? 'GET';
    const info = resolveRequest(method, url.pathname, url.searchParams);
    const record: RequestRecord = {
      method,
      path: url.pathname,
      query: url.searchParams,
      verb: info.verb,
      resourceRequest: info.resourceRequest,
      group: info.group,
      resource: info.resource,
      subresource: info.subresource,
      namespace: info.namespace,
      name: info.name,
      key: '',
      headers: req.headers,
    };
    record.key = requestKey(record);
    this.counts.record(record);
    res.on('finish', () => (record.status = res.statusCode));
    let raw: Buffer;
    try {
      raw = await this.readBody(req);
      record.body = raw;
    } catch (e) {
      if (e instanceof ApiError) this.sendStatus(res, e.status);
      return;
    }
    const { latencyMs, action } = this.faults.onRequest(record);
    if (latencyMs > 0) await sleep(latencyMs);
    if (action?.kind === 'drop') {
      req.socket.destroy();
      return;
    }
    if (action?.kind === 'status') {
      const headers: Record<string, string> = {};
      let status: Status;
      if (action.code === 429) {
        const seconds = action.retryAfterSeconds ?? 1;
        headers['Retry-After'] = String(seconds);
        status = statusBody(429, 'TooManyRequests', action.message ?? 'Too many requests, please try again later.', { retryAfterSeconds: seconds });
      } else if (action.code === 503) {
        status = statusBody(503, 'ServiceUnavailable', action.message ?? 'The server is currently unable to handle the request');
        if (action.retryAfterSeconds !== undefined) headers['Retry-After'] = String(action.retryAfterSeconds);
      } else if (action.code === 504) {
        status = statusBody(504, 'Timeout', action.message ?? 'The server was unable to return a response in the time allotted, but may still be processing the request');
      } else {
        const message = action.message ?? 'an error on the server ("injected fault") has prevented the request from succeeding';
        status = statusBody(action.code, 'InternalError', message, { causes: [{ reason: 'UnexpectedServerResponse', message: 'injected fault' }] });
      }
      this.sendStatus(res, status, headers);
      return;
    }
    let warnings: string[] = [];
    try {
      const caller = await this.authenticator.authenticate(req);
      const user = impersonate(this.store, req, caller);
      record.user = user.username;
      const ctx: RequestContext = {
        user,
        query: url.searchParams,
        accept: req.headers.accept,
        userAgent: req.headers['user-agent'],
        record,
        warnings: [],
      };
      warnings = ctx.warnings;
      const body: Body = { contentType: req.headers['content-type'] ?? '', raw };
      if (info.resourceRequest) {
        this.authorizeOrThrow({
          user,
          verb: info.verb,
          resourceRequest: true,
          namespace: info.namespace,
          apiGroup: info.group,
          apiVersion: info.version,
          resource: info.resource,
          subresource: info.subresource,
          name: info.name,
        });
        const reply = await this.resource(info, body, ctx);
        this.reply(req, res, reply, ctx.warnings);
      } else {
        this.authorizeOrThrow({ user, verb: info.verb, resourceRequest: false, path: url.pathname });
        this.nonResource(info, url, req, res);
      }
    } catch (e) {
      if (e instanceof ApiError) {
        this.send(res, e.status.code, e.status, 'application/json', e.headers, warnings);
        return;
      }
      throw e;
    }
  }

  private authorizeOrThrow(a: Attributes): void {
    const decision = authorize(this.store, a);
    if (decision.allowed) return;
    const reason = forbiddenReason(a) + (decision.reason ? `: ${decision.reason}` : '');
    if (!a.resourceRequest) throw forbiddenPath(reason);
    throw forbidden({ group: a.apiGroup ?? '', resource: a.subresource ? `${a.resource}/${a.subresource}` : a.resource! }, a.name, reason);
  }

  private reply(req: IncomingMessage, res: ServerResponse, reply: Reply, warnings: string[]): void {
    if ('status' in reply) {
      this.send(res, reply.status, reply.body, reply.contentType, {}, warnings);
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    let ended = false;
    let unsubscribe: () => void = () => {};
    let timer: NodeJS.Timeout | undefined;
    const end = () => {
      if (ended) return;
      ended = true;
      unsubscribe();
      if (timer) clearTimeout(timer);
      this.watches.delete(end);
      res.end();
    };
    this.watches.add(end);
    unsubscribe = reply.watch((event) => {
      if (!ended) res.write(JSON.stringify(event) + '\n');
    }, end);
    if (reply.timeoutSeconds) timer = setTimeout(end, reply.timeoutSeconds * 1000);
    req.on('close', end);
  }

  private async resource(info: RequestInfo, body: Body, ctx: RequestContext): Promise<Reply> {
    const t = findByPath(info.group!, info.version!, info.resource ?? '');
    if (!t || this.uninstalled.has(t) || info.extraParts) throw pathNotFound();
    if (info.namespace !== undefined && !t.namespaced && t.kind !== 'Namespace') throw pathNotFound();
    const ns = t.namespaced ? info.namespace : undefined;
    if (info.subresource) {
      if (t.resource === 'serviceaccounts' && info.subresource === 'token' && info.verb === 'create') {
        return this.api.tokenRequest(ns!, info.name!, body, ctx);
      }
      throw pathNotFound();
    }
    if (!t.verbs.includes(info.verb)) throw methodNotSupported(t, info.verb);
    if (t.namespaced && !ns && !['list', 'watch'].includes(info.verb)) throw pathNotFound();
    switch (info.verb) {
      case 'get':
        return this.api.get(t, ns, info.name!, ctx);
      case 'list':
        return this.api.list(t, ns, ctx);
      case 'watch':
        return this.api.watch(t, ns, ctx);
      case 'create':
        if (t.kind === 'TokenReview') return this.tokenReview(body);
        return this.api.create(t, ns, body, ctx);
      case 'update':
        return this.api.update(t, ns, info.name!, body, ctx);
      case 'patch':
        return this.api.patch(t, ns, info.name!, body, ctx);
      case 'delete':
        return this.api.delete(t, ns, info.name!, body, ctx);
      case 'deletecollection':
        return this.api.deleteCollection(t, ns, body, ctx);
      default:
        throw methodNotSupported(t, info.verb);
    }
  }

  private async tokenReview(body: Body): Promise<Reply> {
    let review: { metadata?: unknown; spec?: { token?: string; audiences?: string[] } };
    try {
      review = JSON.parse(body.raw.toString('utf8'));
    } catch (e) {
      throw badRequest((e as Error).message);
    }
    const spec = review.spec ?? {};
    const found = spec.token ? await this.authenticator.fromToken(spec.token, spec.audiences?.length ? spec.audiences : undefined) : undefined;
    const status: Record<string, unknown> = found
      ? {
          authenticated: true,
          user: { username: found.user.username, ...(found.user.uid ? { uid: found.user.uid } : {}), groups: found.user.groups, ...(found.user.extra ? { extra: found.user.extra } : {}) },
          audiences: found.audiences,
        }
      : { user: {}, error: '[invalid bearer token, token lookup failed]' };
    return { status: 201, body: { kind: 'TokenReview', apiVersion: 'authentication.k8s.io/v1', metadata: { creationTimestamp: null }, spec, status } };
  }

  private nonResource(info: RequestInfo, url: URL, req: IncomingMessage, res: ServerResponse): void {
    const path = url.pathname.replace(/\/+$/, '') || '/';
    if (info.verb !== 'get' && info.verb !== 'head') throw new ApiError(statusBody(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource'));
    const d = info.discovery;
    if (d) {
      const aggregated = aggregatedVersion(req.headers.accept);
      if ((d.kind === 'api' || d.kind === 'apis') && aggregated) {
        const contentType = aggregated === 'v2' ? AGGREGATED_V2 : AGGREGATED_V2BETA1;
        this.send(res, 200, aggregatedDiscovery(d.kind === 'api', aggregated, this.served()), contentType, { Vary: 'Accept' });
        return;
      }
      let doc: unknown;
      if (d.kind === 'api') doc = apiVersions(`127.0.0.1:${this.port}`);
      else if (d.kind === 'apis') doc = apiGroupList(this.served());
      else if (d.kind === 'group') doc = apiGroup(d.group!, this.served());
      else doc = apiResourceList(d.group!, d.version!, this.served());
      if (!doc) throw pathNotFound();
      this.send(res, 200, doc);
      return;
    }
    switch (path) {
      case '/version':
        this.send(res, 200, versionDocument(this.version));
        return;
      case '/healthz':
      case '/livez':
      case '/readyz':
        this.send(res, 200, 'ok', 'text/plain; charset=utf-8');
        return;
      case '/openapi/v3':
        this.send(res, 200, openApiRoot(this.version.gitVersion, this.served()));
        return;
      case '/.well-known/openid-configuration':
        if (!this.issuerDiscovery) throw pathNotFound();
        this.send(res, 200, this.issuer.discovery(this.jwksUri ?? `${this.url}/openid/v1/jwks`));
        return;
      case '/openid/v1/jwks':
        if (!this.issuerDiscovery) throw pathNotFound();
        this.send(res, 200, this.issuer.jwks(), 'application/jwk-set+json');
        return;
    }
    const m = path.match(/^\/openapi\/v3\/(apis?\/.+)$/);
    if (m) {
      const segs = m[1]!.split('/');
      const [group, version] = segs[0] === 'api' ? ['', segs[1] ?? ''] : [segs[1] ?? '', segs[2] ?? ''];
      const doc = openApiGroupVersionDoc(group, version, this.version.gitVersion, this.served());
      if (!doc) throw pathNotFound();
      this.send(res, 200, doc);
      return;
    }
    throw pathNotFound();
  }
}

/** Starts a cluster (same as FakeKubeCluster.start). */
export function startKubeApiServer(options: FakeKubeClusterOptions = {}): Promise<FakeKubeCluster> {
  return FakeKubeCluster.start(options);
}

export type { ResourceType };
