// Finds the kubeconfig contexts that reach Teleport-protected kube clusters and works out
// their Teleport and kube cluster names (product.md §3, teleport.md §4.7).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { hasTeleportIdentity, summarizeCertificate, type CertificateSummary } from '../teleport/identity.js';
import { isTeleportKubeServerName, kubeTlsServerName, parseRoutedServer, proxyBaseUrl, type KubeRoute } from '../teleport/routing.js';
import { describeExecCommand } from './exec-credential.js';
import type { ExecConfig, KubeCluster, KubeContext, KubeUser, Kubeconfig } from './load.js';

export type DetectionRule = 'server-path' | 'exec-args' | 'context-extension' | 'certificate' | 'sni-context-name';

/** Where a context's client credentials come from. */
export type CredentialSource =
  | { kind: 'static'; certPem: string; keyPem: string }
  | { kind: 'exec'; exec: ExecConfig }
  | { kind: 'missing'; reason: string };

export interface TeleportContext {
  contextName: string;
  route: KubeRoute;
  detectedBy: DetectionRule;
  /** `https://host:port` of the proxy (the server without any path). */
  proxyBase: string;
  /** kubeconfig `tls-server-name`, else the SNI rule for the proxy host. */
  serverName: string;
  caPem: string | null;
  credentials: CredentialSource;
  source: string;
}

/**
 * A context whose user runs `tsh`/`tbot kube credentials` without naming its clusters
 * (tbot's v1 `kubernetes` output): only the certificate the plugin returns names them.
 */
export interface ExecNamedContext extends Omit<TeleportContext, 'route' | 'detectedBy'> {
  exec: ExecConfig;
}

export interface UndetectableContext {
  contextName: string;
  reason: string;
}

export interface DetectionResult {
  contexts: TeleportContext[];
  /** Teleport contexts to be named from the certificate their exec plugin returns. */
  namedByExec: ExecNamedContext[];
  /** Contexts that look like Teleport but whose cluster names cannot be worked out. */
  problems: UndetectableContext[];
}

/** Which Teleport tool an exec command runs (`tsh`, `tbot`, with `.exe` on Windows), if any. */
export function teleportTool(command: string): 'tsh' | 'tbot' | null {
  const name = path.basename(command).replace(/\.exe$/, '');
  return name === 'tsh' || name === 'tbot' ? name : null;
}

const KUBE_NAME_EXTENSION = 'teleport.kube.name';

function readInlineOrFile(data: unknown, file: unknown, what: string): string | null {
  if (typeof data === 'string' && data !== '') {
    const text = Buffer.from(data, 'base64').toString('utf8');
    if (!text.includes('-----BEGIN')) throw new Error(`${what} data is not base64-encoded PEM`);
    return text;
  }
  if (typeof file === 'string' && file !== '') {
    try {
      return readFileSync(file, 'utf8');
    } catch (error) {
      throw new Error(`cannot read ${what} file "${file}": ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
  }
  return null;
}

/** The value of `--flag=value` or `--flag value` in an exec plugin's args. */
export function flagValue(args: string[], flag: string): string | null {
  for (let index = 0; index < args.length; index += 1) {
    const arg = args[index]!;
    if (arg.startsWith(`${flag}=`)) return arg.slice(flag.length + 1);
    if (arg === flag && index + 1 < args.length) return args[index + 1]!;
  }
  return null;
}

function isTeleportExec(exec: ExecConfig | undefined): exec is ExecConfig {
  if (!exec || typeof exec.command !== 'string') return false;
  const args = exec.args ?? [];
  return teleportTool(exec.command) !== null && args.includes('kube') && args.includes('credentials');
}

function extensionValue(context: KubeContext, name: string): string | null {
  const entry = (context.extensions ?? []).find((extension) => extension?.name === name);
  if (!entry) return null;
  const value = entry.extension;
  if (typeof value === 'string') return value.replace(/^"(.*)"$/, '$1');
  return value === null || value === undefined ? null : String(value);
}

interface Candidate {
  route: Partial<KubeRoute>;
  rule: DetectionRule;
}

/** Rule 3: the kube cluster route and the Teleport cluster (RouteToCluster first) a certificate names. */
function certificateRoute(certificate: CertificateSummary): Partial<KubeRoute> {
  return { teleportCluster: certificate.teleport.teleportCluster ?? undefined, kubeCluster: certificate.teleport.kubernetesCluster ?? undefined };
}

function staticCertificate(user: KubeUser): { certPem: string; keyPem: string | null } | null {
  const certPem = readInlineOrFile(user['client-certificate-data'], user['client-certificate'], 'client certificate');
  if (!certPem) return null;
  return { certPem, keyPem: readInlineOrFile(user['client-key-data'], user['client-key'], 'client key') };
}

/** Every rule that says something about this context, in the contract's order. */
function candidates(contextName: string, context: KubeContext, cluster: KubeCluster, user: KubeUser, certificate: CertificateSummary | null): Candidate[] {
  const found: Candidate[] = [];
  const routed = cluster.server ? parseRoutedServer(cluster.server) : null;
  if (routed) found.push({ route: routed, rule: 'server-path' });
  if (isTeleportExec(user.exec)) {
    const args = user.exec.args ?? [];
    const teleportCluster = flagValue(args, '--teleport-cluster') ?? undefined;
    const kubeCluster = flagValue(args, '--kube-cluster') ?? undefined;
    if (teleportCluster || kubeCluster) found.push({ route: { teleportCluster, kubeCluster }, rule: 'exec-args' });
  }
  const kubeName = extensionValue(context, KUBE_NAME_EXTENSION);
  if (kubeName) found.push({ route: { teleportCluster: context.cluster, kubeCluster: kubeName }, rule: 'context-extension' });
  if (certificate && hasTeleportIdentity(certificate)) found.push({ route: certificateRoute(certificate), rule: 'certificate' });
  const serverName = cluster['tls-server-name'];
  if (isTeleportKubeServerName(serverName)) {
    const prefix = `${context.cluster}-`;
    found.push({
      route: contextName.startsWith(prefix) && contextName.length > prefix.length
        ? { teleportCluster: context.cluster, kubeCluster: contextName.slice(prefix.length) }
        : {},
      rule: 'sni-context-name',
    });
  }
  return found;
}

function caOf(cluster: KubeCluster): string | null {
  return readInlineOrFile(cluster['certificate-authority-data'], cluster['certificate-authority'], 'certificate authority');
}

/** Finds Teleport contexts in a merged kubeconfig. Never throws for one bad context. */
export function detectTeleportContexts(kubeconfig: Kubeconfig): DetectionResult {
  const result: DetectionResult = { contexts: [], namedByExec: [], problems: [] };
  for (const [contextName, entry] of kubeconfig.contexts) {
    const context = entry.value;
    const cluster = kubeconfig.clusters.get(context.cluster)?.value;
    const user = kubeconfig.users.get(context.user)?.value ?? {};
    if (!cluster) continue;
    try {
      let certificate: CertificateSummary | null = null;
      let staticPair: { certPem: string; keyPem: string | null } | null = null;
      let certificateProblem: string | null = null;
      try {
        staticPair = staticCertificate(user);
        if (staticPair) certificate = summarizeCertificate(staticPair.certPem);
      } catch (error) {
        certificateProblem = (error as Error).message;
      }
      const found = candidates(contextName, context, cluster, user, certificate);
      const complete = found.find((candidate) => candidate.route.teleportCluster && candidate.route.kubeCluster);
      // No rule names it, but its tsh/tbot plugin returns a certificate that will (tbot's v1 output).
      const execToName = !complete && !staticPair?.keyPem && isTeleportExec(user.exec) ? user.exec : null;
      if (found.length === 0 && !execToName) continue;
      if (!complete && !execToName) {
        result.problems.push({
          contextName,
          reason: `looks like a Teleport context (${found.map((candidate) => candidate.rule).join(', ')}) but its Teleport and kube cluster names cannot be worked out`,
        });
        continue;
      }
      if (!cluster.server) {
        result.problems.push({ contextName, reason: `cluster "${context.cluster}" has no server` });
        continue;
      }
      const proxyBase = proxyBaseUrl(cluster.server);
      let credentials: CredentialSource;
      if (staticPair?.keyPem) credentials = { kind: 'static', certPem: staticPair.certPem, keyPem: staticPair.keyPem };
      else if (user.exec) credentials = { kind: 'exec', exec: user.exec };
      else if (certificateProblem) credentials = { kind: 'missing', reason: certificateProblem };
      else if (staticPair) credentials = { kind: 'missing', reason: `user "${context.user}" has a client certificate but no client key` };
      else credentials = { kind: 'missing', reason: `user "${context.user}" has no client certificate and no exec plugin (Teleport needs a client certificate)` };
      let caPem: string | null = null;
      try {
        caPem = caOf(cluster);
      } catch (error) {
        credentials = { kind: 'missing', reason: (error as Error).message };
      }
      const named = {
        contextName,
        proxyBase,
        serverName: cluster['tls-server-name'] || kubeTlsServerName(new URL(proxyBase).hostname),
        caPem,
        credentials,
        source: entry.source,
      };
      if (complete) result.contexts.push({ ...named, route: complete.route as KubeRoute, detectedBy: complete.rule });
      else result.namedByExec.push({ ...named, exec: execToName! });
    } catch (error) {
      result.problems.push({ contextName, reason: (error as Error).message });
    }
  }
  return result;
}

/** Names a context from the certificate its exec plugin returned (rule 3); throws when it names no cluster. */
export function nameFromCertificate(context: ExecNamedContext, certificate: CertificateSummary): TeleportContext {
  const route = certificateRoute(certificate);
  if (!route.teleportCluster || !route.kubeCluster) {
    const missing = [route.teleportCluster ? null : 'Teleport cluster', route.kubeCluster ? null : 'kube cluster'].filter(Boolean).join(' and no ');
    throw new Error(
      `looks like a Teleport context, but the certificate its exec plugin "${describeExecCommand(context.exec)}" returned names no ${missing} ` +
        `(subject ${certificate.subject}), so its Teleport and kube cluster names cannot be worked out`,
    );
  }
  const { exec, ...named } = context;
  return { ...named, route: route as KubeRoute, detectedBy: 'certificate' };
}
