// Teleport proxy stand-in: Teleport's Kubernetes access through the web proxy port with
// TLS routing (reference/teleport.md §3, §5, §7). It terminates TLS with a serving
// certificate from its host CA, requires SNI `kube-teleport-proxy-alpn.<host>` and a
// client certificate from its user CA, routes by path (`/v1/teleport/<b64>/<b64>/…`) or by
// the certificate's kube cluster, recomputes the allowed kube users/groups from the roles
// it was configured with, applies the impersonation rules and forwards the request to the
// target API server as an impersonating admin, streaming both bodies.
import { once } from 'node:events';
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import tls, { type TLSSocket } from 'node:tls';
import {
  type CertificateAuthority,
  type PemPair,
  type TeleportIdentity,
  createCA,
  issueCertificate,
  issueTeleportCertificate,
} from '../pki.js';
import {
  KUBE_SNI_PREFIX,
  TELEPORT_API_DOMAIN,
  goJson,
  kubeTlsServerName,
  pathRoutedServer,
} from '../fixtures/encoding.js';
import { type ParsedTeleportIdentity, parseTeleportIdentity } from './identity.js';
import {
  type LabelSelector,
  type TeleportRole,
  TeleportProxyError,
  allowedKubePrincipals,
  computeImpersonation,
  connectionProblem,
  ensureRouteNotOverwritten,
  internalError,
  notFound,
  parsePathRoute,
} from './rules.js';

export type { TeleportRole, LabelSelector };

/** Any HTTPS Kubernetes API endpoint plus an admin identity that may impersonate. */
export interface UpstreamTarget {
  url: string;
  caPem: string;
  clientCertPem: string;
  clientKeyPem: string;
  /** TLS server name to verify, if not the URL host. */
  serverName?: string;
}

export interface KubeClusterSpec {
  upstream: UpstreamTarget;
  labels?: Record<string, string>;
  /**
   * The Teleport cluster it is enrolled in: a leaf cluster trusted by this root when set,
   * reached as `/v1/teleport/<leaf>/<kube>` or by a certificate routed to the leaf.
   * Kube cluster names are unique across root and leaves here.
   */
  teleportCluster?: string;
}

export interface TeleportProxyOptions {
  /** Teleport cluster name (root cluster). */
  clusterName: string;
  hostCA?: CertificateAuthority;
  userCA?: CertificateAuthority;
  kubeClusters?: Record<string, KubeClusterSpec>;
  roles?: Record<string, TeleportRole>;
  /**
   * Public proxy host names whose `kube-teleport-proxy-alpn.<host>` SNI is accepted, in
   * addition to `teleport.cluster.local` and the cluster name.
   */
  publicHosts?: string[];
  /**
   * How an untrusted, expired or missing client certificate is refused. Real Teleport (Go
   * crypto/tls) fails the handshake with an alert for bad certificates; Node cannot send
   * that alert, so the choice is an HTTP Status (`status`, default: 401 for bad certificates,
   * 403 `[00] access denied` for none) or closing the connection without an answer (`hangup`).
   */
  clientCertFailure?: 'status' | 'hangup';
}

export interface ProxyRequestRecord {
  id: number;
  method: string;
  /** Request target as received (path + query). */
  path: string;
  /** `path`: /v1/teleport/… prefix; `identity`: the certificate's kube cluster route. */
  route: 'path' | 'identity' | null;
  teleportUser: string | null;
  roles: string[];
  botName: string | null;
  teleportCluster: string | null;
  kubeCluster: string | null;
  /** Path + query sent upstream. */
  upstreamPath: string | null;
  requestedUser: string | null;
  requestedGroups: string[];
  impersonateUser: string | null;
  impersonateGroups: string[];
  /** HTTP status answered (null while pending, or when the connection was dropped). */
  status: number | null;
  /** Error message answered by the proxy itself (not upstream errors passed through). */
  error: string | null;
  fault: 'drop' | 'status' | null;
}

export interface TlsRejection {
  /** SNI the client sent (null: none). */
  servername: string | null;
  /** `sni`: handshake aborted for SNI; `tls`: other handshake failure; `client-certificate`: refused certificate. */
  reason: 'sni' | 'tls' | 'client-certificate';
  message: string;
}

export interface ProxyFault {
  /** `drop`: destroy the connection without answering; `status`: answer a Status error. */
  kind: 'drop' | 'status';
  /** How many matching requests it applies to (default 1). */
  count?: number;
  /** For `status`: HTTP code (default 500). */
  status?: number;
  message?: string;
  match?: (request: { method: string; path: string }) => boolean;
}

export interface TeleportProxy {
  /** `https://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** `127.0.0.1:<port>` — the proxy address tools put in kubeconfigs. */
  addr: string;
  clusterName: string;
  hostCA: CertificateAuthority;
  userCA: CertificateAuthority;
  /** SNI a client computes for this proxy's address: kube-teleport-proxy-alpn.teleport.cluster.local. */
  sni: string;
  /** Every SNI accepted (all are in the serving certificate). */
  allowedServerNames: string[];
  /** Client certificate in Teleport's encoding, signed by the user CA (teleportCluster defaults to clusterName; '' omits it). */
  issueIdentity(identity: TeleportIdentity, validity?: { notBefore?: Date; notAfter?: Date }): Promise<PemPair>;
  /** Path-routed server URL for a kube cluster (tbot `kubernetes/v2` / Argo secret form). */
  kubeServerUrl(kubeCluster: string, teleportCluster?: string): string;
  readonly requests: ProxyRequestRecord[];
  readonly tlsRejections: TlsRejection[];
  requestCount(filter?: (record: ProxyRequestRecord) => boolean): number;
  clearRequests(): void;
  setRole(name: string, role: TeleportRole | undefined): void;
  setKubeCluster(name: string, spec: KubeClusterSpec | undefined): void;
  injectFault(fault: ProxyFault): void;
  clearFaults(): void;
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

function statusBody(code: number, message: string, reason: string): string {
  const status: Record<string, unknown> = {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
  };
  if (reason) status.reason = reason;
  status.code = code;
  return goJson(status) + '\n';
}

function sendStatus(res: ServerResponse, error: TeleportProxyError): void {
  const body = statusBody(error.code, error.message, error.reason);
  res.writeHead(error.code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** Go x509 wording for Node/OpenSSL verification error codes. */
function certErrorText(code: string): string {
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
    return `x509: certificate has expired or is not yet valid (${code})`;
  }
  return `x509: certificate signed by unknown authority (${code})`;
}

interface ClusterState {
  spec: KubeClusterSpec;
  agent: https.Agent;
}

/** Starts the proxy on 127.0.0.1 with an OS-assigned port. */
export async function startTeleportProxy(options: TeleportProxyOptions): Promise<TeleportProxy> {
  const { clusterName } = options;
  const hostCA = options.hostCA ?? (await createCA(clusterName));
  const userCA = options.userCA ?? (await createCA(clusterName));
  const hosts = [TELEPORT_API_DOMAIN, clusterName, ...(options.publicHosts ?? [])];
  const allowedServerNames = [...new Set(hosts.map((h) => KUBE_SNI_PREFIX + h))];
  const serving = await issueCertificate(hostCA, {
    // Not the CA's own subject (CN=O=cluster name), or the leaf would look self-signed.
    subject: [
      ['CN', `proxy.${clusterName}`],
      ['O', 'Proxy'],
    ],
    dnsNames: [...allowedServerNames, 'localhost'],
    ipAddresses: ['127.0.0.1'],
    usage: 'server',
    notAfter: new Date(Date.now() + 365 * 86400_000),
  });

  const roles: Record<string, TeleportRole> = { ...options.roles };
  const clientCertFailure = options.clientCertFailure ?? 'status';
  const clusters = new Map<string, ClusterState>();
  const agentFor = (spec: KubeClusterSpec) =>
    new https.Agent({
      keepAlive: true,
      ca: spec.upstream.caPem,
      cert: spec.upstream.clientCertPem,
      key: spec.upstream.clientKeyPem,
      ...(spec.upstream.serverName ? { servername: spec.upstream.serverName } : {}),
    });
  const setKubeCluster = (name: string, spec: KubeClusterSpec | undefined) => {
    clusters.get(name)?.agent.destroy();
    clusters.delete(name);
    if (spec) clusters.set(name, { spec, agent: agentFor(spec) });
  };
  for (const [name, spec] of Object.entries(options.kubeClusters ?? {})) setKubeCluster(name, spec);

  const requests: ProxyRequestRecord[] = [];
  const tlsRejections: TlsRejection[] = [];
  const faults: Array<ProxyFault & { remaining: number }> = [];
  const sockets = new Set<Socket>();
  const identities = new WeakMap<object, ParsedTeleportIdentity>();
  let nextId = 1;

  const secureContext = tls.createSecureContext({ key: serving.keyPem, cert: serving.certPem, ca: [userCA.certPem] });

  const server = https.createServer(
    {
      key: serving.keyPem,
      cert: serving.certPem,
      ca: [userCA.certPem],
      requestCert: true,
      // Checked per request (see clientCertFailure): Node cannot send Go's handshake alerts.
      rejectUnauthorized: false,
      minVersion: 'TLSv1.2',
      SNICallback: (servername, callback) => {
        if (allowedServerNames.includes(servername)) callback(null, secureContext);
        else callback(new Error(`SNI ${JSON.stringify(servername)} is not a Teleport Kubernetes proxy name`));
      },
    },
    (req, res) => {
      handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) sendStatus(res, internalError(err instanceof Error ? err.message : String(err)));
        else res.destroy();
      });
    },
  );

  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('secureConnection', (socket: TLSSocket) => {
    const servername = typeof socket.servername === 'string' ? socket.servername : null;
    if (servername === null || !allowedServerNames.includes(servername)) {
      // SNI missing (SNICallback is not called then) or not ours: abort before any HTTP.
      tlsRejections.push({ servername, reason: 'sni', message: 'missing or unknown SNI' });
      socket.destroy();
    }
  });
  server.on('tlsClientError', (err: Error, socket: TLSSocket) => {
    const servername = typeof socket.servername === 'string' ? socket.servername : null;
    const isSni = err.message.includes('Teleport Kubernetes proxy name');
    tlsRejections.push({ servername, reason: isSni ? 'sni' : 'tls', message: err.message });
    socket.destroy();
  });
  // Upgrade requests (exec/attach/port-forward) are not supported by the stand-in.
  server.on('upgrade', (_req: IncomingMessage, socket: Socket) => socket.destroy());

  function identityOf(socket: TLSSocket): ParsedTeleportIdentity {
    let identity = identities.get(socket);
    if (!identity) {
      const peer = socket.getPeerCertificate(false);
      if (!peer || !peer.raw) throw new TeleportProxyError(403, 'access denied: only mutual TLS authentication is supported', 'Forbidden');
      identity = parseTeleportIdentity(peer.raw);
      identities.set(socket, identity);
    }
    return identity;
  }

  function takeFault(method: string, path: string): ProxyFault | undefined {
    for (const fault of faults) {
      if (fault.remaining > 0 && (!fault.match || fault.match({ method, path }))) {
        fault.remaining--;
        if (fault.remaining === 0) faults.splice(faults.indexOf(fault), 1);
        return fault;
      }
    }
    return undefined;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const target = req.url ?? '/';
    const record: ProxyRequestRecord = {
      id: nextId++,
      method,
      path: target,
      route: null,
      teleportUser: null,
      roles: [],
      botName: null,
      teleportCluster: null,
      kubeCluster: null,
      upstreamPath: null,
      requestedUser: null,
      requestedGroups: [],
      impersonateUser: null,
      impersonateGroups: [],
      status: null,
      error: null,
      fault: null,
    };
    const socket = req.socket as TLSSocket;
    const servername = typeof socket.servername === 'string' ? socket.servername : null;
    if (servername === null || !allowedServerNames.includes(servername)) {
      // Raced past the secureConnection check: never answer without the right SNI.
      if (!tlsRejections.some((r) => r.servername === servername && r.reason === 'sni')) {
        tlsRejections.push({ servername, reason: 'sni', message: 'missing or unknown SNI' });
      }
      socket.destroy();
      return;
    }
    requests.push(record);
    const fail = (error: TeleportProxyError) => {
      record.status = error.code;
      record.error = error.message;
      sendStatus(res, error);
    };

    const fault = takeFault(method, target);
    if (fault) {
      record.fault = fault.kind;
      if (fault.kind === 'drop') {
        req.socket.destroy();
        return;
      }
      const code = fault.status ?? 500;
      fail(new TeleportProxyError(code, fault.message ?? 'injected failure', code === 500 ? 'InternalError' : ''));
      return;
    }

    if (!socket.authorized) {
      const hasCert = Boolean(socket.getPeerCertificate(false)?.raw);
      const reason = String(socket.authorizationError ?? 'no certificate');
      tlsRejections.push({ servername, reason: 'client-certificate', message: reason });
      if (clientCertFailure === 'hangup') {
        record.error = `client certificate rejected: ${reason}`;
        socket.destroy();
        return;
      }
      fail(
        hasCert
          ? new TeleportProxyError(401, `access denied: client certificate rejected: ${certErrorText(reason)}`, 'Unauthorized')
          : new TeleportProxyError(403, '[00] access denied', 'Forbidden'),
      );
      return;
    }

    try {
      const identity = identityOf(socket);
      record.teleportUser = identity.user;
      record.roles = identity.roles;
      record.botName = identity.botName || null;

      const queryIndex = target.indexOf('?');
      const pathname = queryIndex >= 0 ? target.slice(0, queryIndex) : target;
      const query = queryIndex >= 0 ? target.slice(queryIndex) : '';

      let teleportCluster: string;
      let kubeCluster: string;
      let rest: string;
      const route = parsePathRoute(pathname);
      if (route) {
        ensureRouteNotOverwritten(identity, route.teleportCluster, route.kubeCluster);
        record.route = 'path';
        teleportCluster = route.teleportCluster;
        kubeCluster = route.kubeCluster;
        rest = route.rest;
      } else {
        record.route = 'identity';
        teleportCluster = identity.routeToCluster || clusterName;
        kubeCluster = identity.kubernetesCluster;
        rest = pathname;
      }
      record.teleportCluster = teleportCluster;
      record.kubeCluster = kubeCluster;
      const enrolledIn = (state: ClusterState) => state.spec.teleportCluster ?? clusterName;
      if (teleportCluster !== clusterName && ![...clusters.values()].some((state) => enrolledIn(state) === teleportCluster)) {
        throw notFound(`cluster ${JSON.stringify(teleportCluster)} is not found`);
      }
      const cluster = clusters.get(kubeCluster);
      if (!cluster || enrolledIn(cluster) !== teleportCluster) throw notFound(`Kubernetes cluster ${JSON.stringify(kubeCluster)} not found`);

      const allowed = allowedKubePrincipals(identity.roles, roles, cluster.spec.labels ?? {}, identity.user);
      const rawPairs: Array<[string, string]> = [];
      for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) rawPairs.push([req.rawHeaders[i]!, req.rawHeaders[i + 1]!]);
      const chosen = computeImpersonation(allowed, rawPairs, identity.user);
      record.requestedUser = chosen.requestedUser;
      record.requestedGroups = chosen.requestedGroups;
      record.impersonateUser = chosen.user;
      record.impersonateGroups = chosen.groups;

      const upstreamPath = rest + query;
      record.upstreamPath = upstreamPath;
      forward(req, res, record, cluster, upstreamPath, rest, chosen.user, chosen.groups);
    } catch (err) {
      if (err instanceof TeleportProxyError) fail(err);
      else throw err;
    }
  }

  function forward(
    req: IncomingMessage,
    res: ServerResponse,
    record: ProxyRequestRecord,
    cluster: ClusterState,
    upstreamPath: string,
    forwardedPath: string,
    user: string,
    groups: string[],
  ): void {
    const headers: OutgoingHttpHeaders = {};
    const incoming = req.headersDistinct as Record<string, string[] | undefined>;
    for (const [name, values] of Object.entries(incoming)) {
      if (!values || HOP_BY_HOP.has(name) || name === 'host' || name === 'authorization' || name === 'expect') continue;
      if (name.startsWith('impersonate-') || name.startsWith('x-forwarded-')) continue;
      headers[name] = values.length === 1 ? values[0]! : values;
    }
    if (/\bchunked\b/i.test(req.headers['transfer-encoding'] ?? '')) headers['transfer-encoding'] = 'chunked';
    headers['impersonate-user'] = user;
    if (groups.length > 0) headers['impersonate-group'] = groups;
    headers['x-forwarded-proto'] = 'https';
    if (req.headers.host) headers['x-forwarded-host'] = req.headers.host;
    headers['x-forwarded-path'] = forwardedPath;
    if (req.socket.remoteAddress) headers['x-forwarded-for'] = req.socket.remoteAddress;

    const base = new URL(cluster.spec.upstream.url);
    const basePath = base.pathname.replace(/\/+$/, '');
    const upstream = https.request({
      protocol: 'https:',
      hostname: base.hostname.replace(/^\[|\]$/g, ''),
      port: base.port || 443,
      path: basePath + upstreamPath,
      method: req.method,
      headers,
      agent: cluster.agent,
    });

    let finished = false;
    res.once('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    upstream.on('response', (upRes) => {
      const out: OutgoingHttpHeaders = {};
      for (const [name, values] of Object.entries(upRes.headersDistinct as IncomingHttpHeaders as Record<string, string[] | undefined>)) {
        if (!values || HOP_BY_HOP.has(name)) continue;
        out[name] = values.length === 1 ? values[0]! : values;
      }
      record.status = upRes.statusCode ?? 502;
      res.writeHead(record.status, out);
      res.flushHeaders();
      upRes.on('error', () => res.destroy());
      upRes.on('aborted', () => res.destroy());
      upRes.on('end', () => {
        finished = true;
      });
      upRes.pipe(res);
      upRes.once('close', () => {
        if (!finished) res.destroy();
      });
    });
    upstream.on('error', (err) => {
      if (!res.headersSent) {
        const error = connectionProblem(err.message);
        record.status = error.code;
        record.error = error.message;
        sendStatus(res, error);
      } else {
        res.destroy();
      }
    });
    req.pipe(upstream);
  }

  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('teleport proxy: no TCP address');
  const port = address.port;

  return {
    url: `https://127.0.0.1:${port}`,
    port,
    addr: `127.0.0.1:${port}`,
    clusterName,
    hostCA,
    userCA,
    sni: kubeTlsServerName('127.0.0.1'),
    allowedServerNames,
    issueIdentity(identity, validity = {}) {
      return issueTeleportCertificate(userCA, { ...identity, teleportCluster: identity.teleportCluster ?? clusterName }, validity);
    },
    kubeServerUrl(kubeCluster, teleportCluster = clusterName) {
      return pathRoutedServer(`127.0.0.1:${port}`, teleportCluster, kubeCluster);
    },
    requests,
    tlsRejections,
    requestCount(filter) {
      return filter ? requests.filter(filter).length : requests.length;
    },
    clearRequests() {
      requests.length = 0;
      tlsRejections.length = 0;
    },
    setRole(name, role) {
      if (role) roles[name] = role;
      else delete roles[name];
    },
    setKubeCluster,
    injectFault(fault) {
      faults.push({ ...fault, remaining: fault.count ?? 1 });
    },
    clearFaults() {
      faults.length = 0;
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      for (const state of clusters.values()) state.agent.destroy();
      await closed;
    },
  };
}
