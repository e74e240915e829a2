// A minimal HTTPS client for tests that talk to a stand-in cluster directly.
// Bodies always carry Content-Length (Node would otherwise send DELETE bodies unframed).
import https from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import type { PemPair } from '../pki.js';

export type RequestIdentity = PemPair | { token: string } | null;

export interface KubeRequestOptions {
  /** Client certificate or bearer token; null for none. */
  identity?: RequestIdentity;
  /** JSON-encoded unless a Buffer/string (then sent as is). */
  body?: unknown;
  contentType?: string;
  accept?: string;
  headers?: Record<string, string | string[]>;
  /** CA to trust (the cluster's). */
  caPem: string;
}

export interface KubeResponse<T = any> {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** Parsed JSON body (undefined when not JSON). */
  body: T;
}

export function kubeRequest<T = any>(baseUrl: string, method: string, path: string, options: KubeRequestOptions): Promise<KubeResponse<T>> {
  const url = new URL(path, baseUrl);
  let payload: Buffer | undefined;
  if (options.body !== undefined) {
    payload = Buffer.isBuffer(options.body)
      ? options.body
      : typeof options.body === 'string'
        ? Buffer.from(options.body)
        : Buffer.from(JSON.stringify(options.body));
  }
  const headers: Record<string, string | string[]> = { Accept: options.accept ?? 'application/json', ...(options.headers ?? {}) };
  if (payload) {
    headers['Content-Type'] = options.contentType ?? 'application/json';
    headers['Content-Length'] = String(payload.length);
  }
  const id = options.identity;
  if (id && 'token' in id) headers.Authorization = `Bearer ${id.token}`;
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method,
        headers,
        ca: options.caPem,
        cert: id && 'certPem' in id ? id.certPem : undefined,
        key: id && 'keyPem' in id ? id.keyPem : undefined,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: any;
          try {
            body = JSON.parse(text);
          } catch {
            body = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (payload) req.write(payload);
    req.end();
  });
}
