// `node scripts/chunk-cache.mjs APP_CHUNK OUT_DIR`: warm V8 code caches for the bundle's
// chunks (OUT_DIR/<chunk>.cache). A cache made right after compiling holds only the top
// level: every function would still be compiled at run time. So this loads the app chunk the
// way the SEA does (scripts/sea-chunks.cjs), evaluates all its modules (`warmUp`), then runs
// the everyday path for real — `list`, in every output format, against a local HTTPS API
// server that serves one cluster secret — so that the kube chunk is loaded and the TLS
// connection, the requests, the audit and the printers have run (a run that fails fails the
// build: it would have warmed less). Then it saves each chunk's cache with all the code that
// ran. Run it in a child process of the same Node as the binary: V8 only accepts a cache
// made with the same version and flags.
import { createServer } from 'node:https';
import { webcrypto } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import 'reflect-metadata'; // @peculiar/x509 needs it loaded first
import * as x509 from '@peculiar/x509';

const require = createRequire(import.meta.url);
const { chunkAssets, compileChunk, runChunk, COMPILED_CHUNKS } = require('./sea-chunks.cjs');

const NAMESPACE = 'argocd';

const b64 = (text) => Buffer.from(text).toString('base64');

/**
 * A throw-away self-signed Teleport-style identity for 127.0.0.1: the API server's serving
 * certificate, its CA, the client certificate of the kubeconfig and of the cluster secret.
 */
async function identity() {
  x509.cryptoProvider.set(webcrypto);
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=bot-warm-up, O=warm-up-role, 1.3.9999.1.3=warm-up, 1.3.9999.1.7=warm-up.example.com, 1.3.9999.2.18=warm-up',
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 3_600_000),
    keys,
    signingAlgorithm: algorithm,
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'ip', value: '127.0.0.1' }])],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)).toString('base64');
  return { certPem: cert.toString('pem'), keyPem: `-----BEGIN PRIVATE KEY-----\n${pkcs8.match(/.{1,64}/g).join('\n')}\n-----END PRIVATE KEY-----\n` };
}

/** A tbot-style cluster secret holding `identity`. */
function clusterSecret({ certPem, keyPem }) {
  const server = 'https://proxy.example.com:443/v1/teleport/d2FybS11cC5leGFtcGxlLmNvbQ/d2FybS11cA';
  const config = { tlsClientConfig: { caData: b64(certPem), certData: b64(certPem), keyData: b64(keyPem), serverName: 'kube-teleport-proxy-alpn.proxy.example.com' } };
  return {
    metadata: {
      name: 'teleport.argocd-cluster.0123456789abcdef',
      namespace: NAMESPACE,
      resourceVersion: '1',
      labels: { 'argocd.argoproj.io/secret-type': 'cluster' },
      annotations: { 'teleport.dev/teleport-cluster-name': 'warm-up.example.com', 'teleport.dev/kubernetes-cluster-name': 'warm-up', 'teleport.dev/updated': new Date().toISOString() },
    },
    type: 'Opaque',
    data: { name: b64('warm-up.example.com-warm-up'), server: b64(server), config: b64(JSON.stringify(config)) },
  };
}

/** Answers every GET with a list holding `secret` (or an empty list of other kinds). */
function startApiServer({ certPem, keyPem }, secret) {
  const server = createServer({ cert: certPem, key: keyPem }, (request, response) => {
    const isSecrets = request.url.startsWith(`/api/v1/namespaces/${NAMESPACE}/secrets`);
    const body = { kind: isSecrets ? 'SecretList' : 'List', apiVersion: 'v1', metadata: { resourceVersion: '1' }, items: isSecrets ? [secret] : [] };
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function kubeconfigFor(port, { certPem, keyPem }) {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'warm-up', cluster: { server: `https://127.0.0.1:${port}`, 'certificate-authority-data': b64(certPem) } }],
    users: [{ name: 'warm-up', user: { 'client-certificate-data': b64(certPem), 'client-key-data': b64(keyPem) } }],
    contexts: [{ name: 'warm-up', context: { cluster: 'warm-up', user: 'warm-up', namespace: NAMESPACE } }],
    'current-context': 'warm-up',
  });
}

/** Runs `args` through the CLI with stdout and stderr discarded; throws with its stderr when it fails. */
async function runQuietly(runCli, args) {
  const writes = [process.stdout.write, process.stderr.write];
  let stderr = '';
  // Writers may wait for the write's callback (src/cli/output.ts writeStdout).
  const discard = (onWritten) => (chunk, encoding, callback) => {
    onWritten(chunk);
    (typeof encoding === 'function' ? encoding : callback)?.();
    return true;
  };
  process.stdout.write = discard(() => {});
  process.stderr.write = discard((chunk) => (stderr += chunk));
  let code;
  try {
    code = await runCli(args, 'kubectl-teleport-argocd');
  } finally {
    [process.stdout.write, process.stderr.write] = writes;
  }
  if (code !== 0) throw new Error(`warm-up run ${args.join(' ')} exited ${code}: ${stderr}`);
}

const [appChunk, outDir] = process.argv.slice(2);
const appFile = path.resolve(appChunk);
const appScript = compileChunk(readFileSync(appFile, 'latin1'), chunkAssets('app').source);
COMPILED_CHUNKS.set('app', appScript);
const app = runChunk(appScript, createRequire(appFile), appFile, path.dirname(appFile));
await app.warmUp();
const warmUpIdentity = await identity();
const server = await startApiServer(warmUpIdentity, clusterSecret(warmUpIdentity));
const work = mkdtempSync(path.join(tmpdir(), 'chunk-cache-'));
try {
  const kubeconfig = path.join(work, 'kubeconfig');
  writeFileSync(kubeconfig, kubeconfigFor(server.address().port, warmUpIdentity));
  for (const output of ['table', 'wide', 'json', 'yaml', 'name']) await runQuietly(app.runCli, ['list', '--kubeconfig', kubeconfig, '-o', output]);
} finally {
  server.close();
  rmSync(work, { recursive: true, force: true });
}
for (const [name, script] of COMPILED_CHUNKS) writeFileSync(path.join(outDir, chunkAssets(name).cache), script.createCachedData());
