// A tiny HTTPS "API server" for testing the Teleport proxy stand-in on its own: it
// requires a client certificate from its own admin CA, records every request (method,
// path, headers, client certificate CN, body) and answers JSON. Special paths:
// - `/version`: a Kubernetes version object;
// - `/status/<code>`: a Status error with that code (for pass-through tests);
// - `/stream`: writes a first line, then whatever `pushToStreams()` sends, until `endStreams()`.
import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { type CertificateAuthority, createCA, issueCertificate, issueServingCertificate } from '../pki.js';
import type { UpstreamTarget } from './server.js';

export interface EchoRecord {
  method: string;
  path: string;
  /** Header values by lower-case name (all values, in order). */
  headers: Record<string, string[]>;
  clientCommonName: string | null;
  body: string;
}

export interface EchoUpstream {
  name: string;
  url: string;
  serverCA: CertificateAuthority;
  clientCA: CertificateAuthority;
  /** Ready to be used as a kube cluster upstream of the proxy (admin identity, CN=admin-<name>). */
  target: UpstreamTarget;
  readonly requests: EchoRecord[];
  pushToStreams(line: string): void;
  endStreams(): void;
  /** Open `/stream` responses. */
  openStreams(): number;
  close(): Promise<void>;
}

export const ECHO_VERSION = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2025-01-01T00:00:00Z',
  goVersion: 'go1.23.4',
  compiler: 'gc',
  platform: 'linux/amd64',
};

export async function startEchoUpstream(name = 'echo'): Promise<EchoUpstream> {
  const serverCA = await createCA(`${name}-server-ca`);
  const clientCA = await createCA(`${name}-client-ca`);
  const serving = await issueServingCertificate(serverCA, `${name}-apiserver`);
  const admin = await issueCertificate(clientCA, {
    subject: [
      ['CN', `admin-${name}`],
      ['O', 'system:masters'],
    ],
    usage: 'client',
  });
  const requests: EchoRecord[] = [];
  const streams = new Set<ServerResponse>();
  const sockets = new Set<Socket>();

  const json = (res: ServerResponse, code: number, value: unknown) => {
    const body = JSON.stringify(value) + '\n';
    res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const peer = (req.socket as TLSSocket).getPeerCertificate(false);
      const cn = peer?.subject?.CN;
      const record: EchoRecord = {
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        headers: Object.fromEntries(
          Object.entries(req.headersDistinct).map(([k, v]) => [k, v ?? []] as [string, string[]]),
        ),
        clientCommonName: typeof cn === 'string' ? cn : Array.isArray(cn) ? (cn[0] ?? null) : null,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(record);
      const pathname = record.path.split('?')[0]!;
      if (pathname === '/version') return json(res, 200, ECHO_VERSION);
      const status = /^\/status\/(\d{3})$/.exec(pathname);
      if (status) {
        const code = Number(status[1]);
        return json(res, code, {
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Failure',
          message: `upstream ${name} says ${code}`,
          reason: code === 404 ? 'NotFound' : code === 409 ? 'Conflict' : 'InternalError',
          code,
        });
      }
      if (pathname === '/stream') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write(JSON.stringify({ type: 'ADDED', upstream: name }) + '\n');
        streams.add(res);
        res.once('close', () => streams.delete(res));
        return;
      }
      json(res, 200, {
        upstream: name,
        method: record.method,
        path: record.path,
        impersonateUser: record.headers['impersonate-user'] ?? [],
        impersonateGroup: record.headers['impersonate-group'] ?? [],
        clientCommonName: record.clientCommonName,
        body: record.body,
      });
    });
  };

  const server = https.createServer(
    {
      key: serving.keyPem,
      cert: serving.certPem,
      ca: [clientCA.certPem],
      requestCert: true,
      rejectUnauthorized: true,
    },
    handler,
  );
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('echo upstream: no TCP address');
  const url = `https://127.0.0.1:${address.port}`;

  return {
    name,
    url,
    serverCA,
    clientCA,
    target: { url, caPem: serverCA.certPem, clientCertPem: admin.certPem, clientKeyPem: admin.keyPem },
    requests,
    pushToStreams(line) {
      for (const res of streams) res.write(line.endsWith('\n') ? line : line + '\n');
    },
    endStreams() {
      for (const res of streams) res.end();
      streams.clear();
    },
    openStreams() {
      return streams.size;
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
