// Reading the Argo CD Applications that count for dependents (product.md §5.2): one GET of
// argocd-cmd-params-cm, then one paged LIST of Applications — in the Argo CD namespace, or
// cluster-wide when apps in any namespace are on. Never throws: Applications that cannot
// be read are an answer (`null` with the reason), since commands decide what that means.
// Also both reads `list` and `clean` make together.
import {
  APPLICATIONS,
  ARGOCD_CMD_PARAMS_CM,
  applicationNamespaceEnabled,
  applicationRef,
  parseApplicationNamespaces,
  type ApplicationsRead,
} from '../argocd/applications.js';
import type { SecretObject } from '../argocd/cluster-secret.js';
import { CliError } from '../cli/errors.js';
import type { Log } from '../cli/log.js';
import { describeKubeError, isNotFound, LIST_PAGE_SIZE, listAllPages, withRetry, type KubeClients } from './client.js';
import { listClusterSecrets } from './cluster-secrets.js';

/** The namespace patterns of apps in any namespace; [] when argocd-cmd-params-cm or its key is absent. */
async function applicationNamespaces(clients: KubeClients, namespace: string, log: Log): Promise<string[]> {
  try {
    const configMap = await withRetry(() => clients.core.readNamespacedConfigMap({ name: ARGOCD_CMD_PARAMS_CM, namespace }), {
      log,
      what: `get configmap ${ARGOCD_CMD_PARAMS_CM}`,
    });
    return parseApplicationNamespaces(configMap.data);
  } catch (error) {
    if (isNotFound(error)) return [];
    throw new Error(`cannot read configmap ${ARGOCD_CMD_PARAMS_CM} (it says which namespaces hold Applications): ${describeKubeError(error, clients.server)}`);
  }
}

export async function readApplications(clients: KubeClients, namespace: string, log: Log): Promise<ApplicationsRead> {
  try {
    const patterns = await applicationNamespaces(clients, namespace, log);
    const clusterWide = patterns.length > 0;
    const what = `list ${APPLICATIONS.plural}.${APPLICATIONS.group}${clusterWide ? ' in all namespaces' : ` in ${namespace}`}`;
    const objects = await listAllPages<unknown>(
      (continueToken) =>
        clusterWide
          ? clients.customObjects.listClusterCustomObject({ ...APPLICATIONS, limit: LIST_PAGE_SIZE, _continue: continueToken })
          : clients.customObjects.listNamespacedCustomObject({ ...APPLICATIONS, namespace, limit: LIST_PAGE_SIZE, _continue: continueToken }),
      { log, what },
    ).catch((error: unknown) => {
      if (isNotFound(error)) throw new Error(`the Application CRD (${APPLICATIONS.plural}.${APPLICATIONS.group}) is not installed`);
      throw new Error(describeKubeError(error, clients.server));
    });
    const applications = objects.map(applicationRef).filter((app) => applicationNamespaceEnabled(app.namespace, namespace, patterns));
    log.debug(
      `${applications.length} Application(s) count${clusterWide ? ` (${objects.length} listed; application.namespaces: ${patterns.join(',')})` : ''}`,
    );
    return { applications };
  } catch (error) {
    return { applications: null, reason: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * The namespace's cluster secrets and the Applications that target them, read side by side
 * (`list`, `clean`). Only the secrets can fail the read.
 */
export async function readRegistrations(
  clients: KubeClients,
  namespace: string,
  log: Log,
): Promise<{ secrets: SecretObject[]; applications: ApplicationsRead }> {
  const applications = readApplications(clients, namespace, log);
  const secrets = await listClusterSecrets(clients, namespace, log).catch((error: unknown) => {
    throw new CliError(`cannot list cluster secrets in namespace ${namespace}: ${describeKubeError(error, clients.server)}`);
  });
  return { secrets, applications: await applications };
}
