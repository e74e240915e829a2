// Test client for the Teleport proxy stand-in: HTTPS requests with explicit SNI,
// CA and client certificate, as a Go client configured from a kubeconfig would send them.
import https from 'node:https';
import { type PeerCertificate, checkServerIdentity } from 'node:tls';
import type { PemPair } from '../pki.js';
import type { TeleportProxy } from './server.js';

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface CallOptions {
  method?: string;
  headers?: Record<string, string | string[]>;
  body?: string;
  /** SNI; default the proxy's `sni`. `null` sends none. */
  servername?: string | null;
  credentials?: PemPair | null;
  ca?: string;
}

export function call(proxy: TeleportProxy, credentials: PemPair | null, path: string, options: CallOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const servername = options.servername === undefined ? proxy.sni : options.servername;
    const req = https.request(
      {
        host: '127.0.0.1',
        port: proxy.port,
        path,
        method: options.method ?? 'GET',
        headers: options.headers,
        ca: options.ca ?? proxy.hostCA.certPem,
        ...(servername === null ? {} : { servername }),
        // The proxy's serving certificate is for the SNI names; verify against the SNI like Go does.
        checkServerIdentity: (_host, cert) => tlsCheck(servername ?? '127.0.0.1', cert),
        ...(credentials ? { cert: credentials.certPem, key: credentials.keyPem } : {}),
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

function tlsCheck(name: string, cert: PeerCertificate): Error | undefined {
  return checkServerIdentity(name, cert);
}

/** The routed path prefix for a kube cluster on this proxy. */
export function routedPath(proxy: TeleportProxy, kubeCluster: string, teleportCluster?: string): string {
  return new URL(proxy.kubeServerUrl(kubeCluster, teleportCluster)).pathname;
}

export function statusOf(reply: Reply): { kind: string; status: string; message: string; reason?: string; code: number } {
  return JSON.parse(reply.body) as { kind: string; status: string; message: string; reason?: string; code: number };
}
