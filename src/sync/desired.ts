// From kubeconfig contexts to the secrets that should exist: credentials are read (or
// fetched from exec plugins) and rendered into the tbot secret format. One context's
// failure becomes a `fail` item and never stops the others.
import { renderClusterSecret, type ClusterSecretSpec } from '../argocd/cluster-secret.js';
import { runExecCredential, type ExecCredentialResult } from '../kubeconfig/exec-credential.js';
import type { ExecConfig } from '../kubeconfig/load.js';
import { nameFromCertificate, type ExecNamedContext, type TeleportContext } from '../kubeconfig/teleport-contexts.js';
import { summarizeCertificate } from '../teleport/identity.js';
import { routedServerUrl } from '../teleport/routing.js';
import { PromiseMemo } from '../util/memo.js';
import type { DesiredCluster } from './plan.js';

/** The settings every rendered secret shares (from flags). */
export type SecretSettings = Omit<ClusterSecretSpec, 'route' | 'proxyBase' | 'credentials' | 'botName' | 'kubeLabels' | 'updated'>;

export interface DesiredOptions {
  settings: SecretSettings;
  execTimeoutMs: number;
  now: Date;
  /** `.Labels` for label and annotation templates; absent when no template reads them. */
  kubeLabels?: (context: TeleportContext) => Promise<Record<string, string>>;
}

/** Runs each distinct exec plugin once per round, even when several contexts share it (tbot). */
export class ExecCache {
  private readonly runs = new PromiseMemo<ExecCredentialResult>();
  constructor(private readonly timeoutMs: number) {}

  get(exec: ExecConfig): Promise<ExecCredentialResult> {
    const key = JSON.stringify([exec.command, exec.args ?? [], exec.env ?? [], exec.apiVersion ?? '']);
    return this.runs.get(key, () => runExecCredential(exec, this.timeoutMs));
  }
}

/** The client certificate and key an exec plugin returns (run once per round, see ExecCache). */
async function execClientCertificate(plugin: ExecConfig, exec: ExecCache): Promise<{ certPem: string; keyPem: string }> {
  const result = await exec.get(plugin);
  if (!result.certPem || !result.keyPem) {
    throw new Error('the exec plugin returned a token, but Teleport needs a client certificate');
  }
  return { certPem: result.certPem, keyPem: result.keyPem };
}

async function clientCertificate(context: TeleportContext, exec: ExecCache): Promise<{ certPem: string; keyPem: string }> {
  const credentials = context.credentials;
  if (credentials.kind === 'static') return credentials;
  if (credentials.kind === 'missing') throw new Error(credentials.reason);
  return execClientCertificate(credentials.exec, exec);
}

/**
 * Names a context from the certificate its tsh/tbot exec plugin returns (tbot's v1 output).
 * The run is cached, so loading the credentials later does not run the plugin again.
 */
export async function nameByExec(context: ExecNamedContext, exec: ExecCache): Promise<TeleportContext> {
  const { certPem } = await execClientCertificate(context.exec, exec);
  return nameFromCertificate(context, summarizeCertificate(certPem));
}

export async function desiredCluster(context: TeleportContext, exec: ExecCache, options: DesiredOptions): Promise<DesiredCluster> {
  const server = routedServerUrl(context.proxyBase, context.route);
  const fail = (error: string): DesiredCluster => ({ contextName: context.contextName, route: context.route, server, error });
  try {
    if (!context.caPem) return fail(`cluster of context "${context.contextName}" has no certificate-authority(-data); Argo CD needs the Teleport CA`);
    const { certPem, keyPem } = await clientCertificate(context, exec);
    const certificate = summarizeCertificate(certPem);
    if (Date.parse(certificate.notAfter) <= options.now.getTime()) {
      return fail(`client certificate expired at ${certificate.notAfter}; log in again (tsh kube login) or check tbot`);
    }
    const secret = renderClusterSecret({
      ...options.settings,
      route: context.route,
      proxyBase: context.proxyBase,
      credentials: { caPem: context.caPem, certPem, keyPem, serverName: context.serverName },
      botName: certificate.teleport.botName,
      kubeLabels: options.kubeLabels ? await options.kubeLabels(context) : {},
      updated: options.now,
    });
    // Flag keys whose templates rendered empty: an update removes them, as tbot's would.
    const omitted = {
      labels: Object.keys(options.settings.labels ?? {}).filter((key) => !Object.hasOwn(secret.metadata.labels ?? {}, key)),
      annotations: Object.keys(options.settings.annotations ?? {}).filter((key) => !Object.hasOwn(secret.metadata.annotations ?? {}, key)),
    };
    return { contextName: context.contextName, route: context.route, server, secret, omitted };
  } catch (error) {
    return fail(error instanceof Error ? error.message : String(error));
  }
}
