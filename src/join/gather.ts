// The I/O half of `check join`: reads the issuer discovery document, the JWKS, the
// service account and a running pod of it from the source cluster, and requests a
// token through the TokenRequest API. The token stays in memory; it is never logged.
import type { AuthenticationV1TokenRequest, V1Pod } from '@kubernetes/client-node';
import type { Log } from '../cli/log.js';
import { describeKubeError, isNotFound, withRetry, type KubeClients } from '../kube/client.js';
import type { ServiceAccountRef } from '../teleport/resources.js';
import type { Fetched, JoinFacts, ParsedTokenFile } from './check.js';

/** tbot's Helm chart projects the join token with this lifetime (teleport.md §2). */
export const TOKEN_EXPIRATION_SECONDS = 600;
const PAGE_SIZE = 500;

export interface GatherOptions {
  clusterName: string;
  serviceAccount: ServiceAccountRef;
  tokenFile: ParsedTokenFile | null;
}

/** client-node parses JSON bodies (also `application/jwk-set+json`); keep text as text. */
function asText(body: unknown): string {
  return typeof body === 'string' ? body : JSON.stringify(body);
}

export async function fetchDiscovery(clients: KubeClients, log: Log): Promise<Fetched<string | null>> {
  try {
    const body: unknown = await withRetry(() => clients.wellKnown.getServiceAccountIssuerOpenIDConfiguration(), { log, what: 'get issuer discovery' });
    const document: unknown = typeof body === 'string' ? JSON.parse(body) : body;
    const issuer = (document as { issuer?: unknown } | null)?.issuer;
    return { ok: true, value: typeof issuer === 'string' && issuer !== '' ? issuer : null };
  } catch (error) {
    if (error instanceof SyntaxError) return { ok: false, error: '/.well-known/openid-configuration is not JSON' };
    if (isNotFound(error)) {
      return { ok: false, error: 'the API server does not serve /.well-known/openid-configuration (service account issuer discovery is off or not permitted)' };
    }
    return { ok: false, error: describeKubeError(error, clients.server) };
  }
}

export async function fetchJwks(clients: KubeClients, log: Log): Promise<JoinFacts['jwks']> {
  try {
    const body: unknown = await withRetry(() => clients.openid.getServiceAccountIssuerOpenIDKeyset(), { log, what: 'get JWKS' });
    return { ok: true, value: asText(body) };
  } catch (error) {
    if (error instanceof SyntaxError) return { ok: false, error: `the JWKS is not JSON (${error.message})`, answered: true };
    if (isNotFound(error)) return { ok: false, error: 'the API server does not serve /openid/v1/jwks (service account issuer discovery is off)' };
    return { ok: false, error: describeKubeError(error, clients.server) };
  }
}

async function readServiceAccount(clients: KubeClients, account: ServiceAccountRef, log: Log): Promise<Fetched<boolean>> {
  try {
    await withRetry(() => clients.core.readNamespacedServiceAccount({ name: account.name, namespace: account.namespace }), {
      log,
      what: `get serviceaccount ${account.namespace}/${account.name}`,
    });
    return { ok: true, value: true };
  } catch (error) {
    if (isNotFound(error)) return { ok: true, value: false };
    return { ok: false, error: describeKubeError(error, clients.server) };
  }
}

/** A running pod of the service account (first by name), to bind the token to as tbot's would be. */
async function findRunningPod(clients: KubeClients, account: ServiceAccountRef, log: Log): Promise<Fetched<V1Pod | null>> {
  const running: V1Pod[] = [];
  let continueToken: string | undefined;
  try {
    do {
      const page = await withRetry(() => clients.core.listNamespacedPod({ namespace: account.namespace, limit: PAGE_SIZE, _continue: continueToken }), {
        log,
        what: `list pods in ${account.namespace}`,
      });
      for (const pod of page.items) {
        const serviceAccount = pod.spec?.serviceAccountName ?? pod.spec?.serviceAccount ?? 'default';
        if (serviceAccount === account.name && pod.status?.phase === 'Running' && !pod.metadata?.deletionTimestamp) running.push(pod);
      }
      continueToken = page.metadata?._continue || undefined;
    } while (continueToken);
  } catch (error) {
    return { ok: false, error: describeKubeError(error, clients.server) };
  }
  running.sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
  return { ok: true, value: running[0] ?? null };
}

async function requestToken(clients: KubeClients, account: ServiceAccountRef, clusterName: string, pod: V1Pod | null, log: Log): Promise<Fetched<string>> {
  const body: AuthenticationV1TokenRequest = {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    spec: {
      audiences: [clusterName],
      expirationSeconds: TOKEN_EXPIRATION_SECONDS,
      ...(pod ? { boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata?.name, uid: pod.metadata?.uid } } : {}),
    },
  };
  try {
    // A TokenRequest is not idempotent in effect, but a retried one only mints another short-lived token.
    const response = await withRetry(
      () => clients.core.createNamespacedServiceAccountToken({ name: account.name, namespace: account.namespace, body }),
      { log, what: `create token for ${account.namespace}/${account.name}` },
    );
    const token = response.status?.token;
    if (!token) return { ok: false, error: 'the TokenRequest answer holds no token' };
    return { ok: true, value: token };
  } catch (error) {
    return { ok: false, error: describeKubeError(error, clients.server) };
  }
}

export async function gatherJoinFacts(source: { contextName: string; clients: KubeClients }, options: GatherOptions, log: Log): Promise<JoinFacts> {
  const { clients } = source;
  const [discovery, jwks, serviceAccount, pod] = await Promise.all([
    fetchDiscovery(clients, log),
    fetchJwks(clients, log),
    readServiceAccount(clients, options.serviceAccount, log),
    findRunningPod(clients, options.serviceAccount, log),
  ]);
  const missing = serviceAccount.ok && !serviceAccount.value;
  const boundTo = pod.ok ? pod.value : null;
  if (!missing) log.debug(`requesting a token for ${options.serviceAccount.namespace}:${options.serviceAccount.name}${boundTo ? ` bound to pod ${boundTo.metadata?.name}` : ' (no running pod: unbound)'}`);
  const token = missing ? null : await requestToken(clients, options.serviceAccount, options.clusterName, boundTo, log);
  return {
    source: source.contextName,
    discovery,
    jwks,
    serviceAccount,
    pod: pod.ok ? { ok: true, value: pod.value?.metadata?.name ?? null } : pod,
    token,
    tokenFile: options.tokenFile,
  };
}
