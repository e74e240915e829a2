// How client-node's API classes reach the server: node:http(s) with one keep-alive
// connection pool per client, instead of client-node's default fetch (undici). The
// requests, their paths and bodies, and the parsing of the answers stay client-node's.
// Why: loading undici and its first fetch cost a large part of `list`'s run, and a
// keep-alive pool lets later requests reuse the TLS connection of earlier ones.
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import { ResponseContext, SelfDecodingBody, type PromiseHttpLibrary, type RequestContext } from '@kubernetes/client-node';

/** TLS material and headers for one server, as client-node's `KubeConfig.applyToHTTPSOptions` gives them. */
export interface ConnectionOptions extends https.AgentOptions {
  headers?: http.OutgoingHttpHeaders;
  /** `user:password` of basic authentication. */
  auth?: string;
  /** client-node's own agent: kept only when it goes through the kubeconfig's `proxy-url`. */
  agent?: http.Agent;
}

/** One client's connections to its server. Closed, it takes no request, and ends those in flight. */
export class ConnectionPool {
  private isClosed = false;

  private constructor(readonly agent: http.Agent) {}

  /**
   * Keep-alive connections to `server`, all with one TLS context (built once, not per
   * connection: it parses the CA, the certificate and the key); or, through the kubeconfig's
   * `proxy-url`, the proxy agent client-node made.
   */
  static open(server: string, options: ConnectionOptions, viaProxy: boolean): ConnectionPool {
    if (viaProxy && options.agent) return new ConnectionPool(options.agent);
    if (new URL(server).protocol === 'http:') return new ConnectionPool(new http.Agent({ keepAlive: true }));
    const { ca, cert, key, pfx, passphrase, servername, rejectUnauthorized } = options;
    const secureContext = tls.createSecureContext({ ca, cert, key, pfx, passphrase });
    // No TLS session cache: a client's connections open together, before any session could be reused.
    return new ConnectionPool(new https.Agent({ secureContext, servername, rejectUnauthorized, keepAlive: true, maxCachedSessions: 0 }));
  }

  get closed(): boolean {
    return this.isClosed;
  }

  close(): void {
    this.isClosed = true;
    this.agent.destroy();
  }
}

/** What a request of a closed client fails with: not a network failure, so never retried. */
export class ClientClosedError extends Error {
  constructor() {
    super('the client was closed');
    this.name = 'ClientClosedError';
  }
}

function headerValue(value: string | string[] | undefined): string {
  return Array.isArray(value) ? value.join(', ') : (value ?? '');
}

/** The whole body of a response. */
function readBody(response: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.on('error', reject);
    response.on('end', () => resolve(Buffer.concat(chunks)));
  });
}

/** Decompresses a body the server gzipped (we ask it to: large lists shrink several times). zlib loads only then. */
function decoded(body: Buffer, encoding: string | undefined): Buffer {
  if (encoding !== 'gzip') return body;
  return process.getBuiltinModule('node:zlib').gunzipSync(body);
}

/** Sends each request through the client's pool (awaited per request: the first one may run an exec plugin). */
export class PooledHttpLibrary implements PromiseHttpLibrary {
  constructor(private readonly pool: () => Promise<ConnectionPool>) {}

  async send(request: RequestContext): Promise<ResponseContext> {
    const pool = await this.pool();
    if (pool.closed) throw new ClientClosedError();
    const url = new URL(request.getUrl());
    const body = request.getBody();
    if (body !== undefined && typeof body !== 'string') throw new Error('only JSON request bodies are supported');
    const headers: http.OutgoingHttpHeaders = { 'accept-encoding': 'gzip', ...request.getHeaders() };
    if (body !== undefined) headers['content-length'] = Buffer.byteLength(body);
    const send = url.protocol === 'http:' ? http.request : https.request;
    return new Promise((resolve, reject) => {
      const fail = (error: unknown): void => reject(pool.closed ? new ClientClosedError() : error);
      const outgoing = send(url, { method: request.getHttpMethod(), headers, agent: pool.agent, signal: request.getSignal() }, (response) => {
        readBody(response)
          .then((raw) => decoded(raw, response.headers['content-encoding']))
          .then((data) => {
            const responseHeaders: Record<string, string> = {};
            for (const [name, value] of Object.entries(response.headers)) responseHeaders[name] = headerValue(value);
            resolve(new ResponseContext(response.statusCode ?? 0, responseHeaders, new SelfDecodingBody(Promise.resolve(data))));
          }, fail);
      });
      outgoing.on('error', fail);
      outgoing.end(body);
    });
  }
}
