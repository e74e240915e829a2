// The Argo CD Applications that depend on a registered cluster (product.md §5.2, argocd.md
// "Applications that depend on a cluster"): which namespaces Argo CD reconciles
// Applications in, and which Applications target a cluster by `server` or by `name`.
// Pure: objects as the API returns them in, references out.
import { globMatch } from '../util/glob.js';
import { splitCommaList } from '../util/comma-list.js';
import { normalizeServer } from './cluster-secret.js';

export const ARGOCD_CMD_PARAMS_CM = 'argocd-cmd-params-cm';
/** Apps in any namespace: comma-separated namespace patterns (argocd-cmd-params-cm). */
const APPLICATION_NAMESPACES_KEY = 'application.namespaces';
export const APPLICATIONS = { group: 'argoproj.io', version: 'v1alpha1', plural: 'applications' } as const;

/** An Application, reduced to what says which cluster it deploys to. */
export interface ApplicationRef {
  namespace: string;
  name: string;
  destinationServer: string | null;
  destinationName: string | null;
}

/** The Applications that count, or why they could not be read (403, no CRD, …). */
export type ApplicationsRead = { applications: ApplicationRef[] } | { applications: null; reason: string };

function nonEmptyString(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

/** Reads an Application object defensively: a malformed one targets nothing. */
export function applicationRef(object: unknown): ApplicationRef {
  const app = (object ?? {}) as { metadata?: { namespace?: unknown; name?: unknown }; spec?: { destination?: { server?: unknown; name?: unknown } } };
  const destination = app.spec?.destination ?? {};
  return {
    namespace: String(app.metadata?.namespace ?? ''),
    name: String(app.metadata?.name ?? ''),
    destinationServer: nonEmptyString(destination.server),
    destinationName: nonEmptyString(destination.name),
  };
}

/** `application.namespaces` split as Argo CD splits it (on commas, each entry trimmed). */
export function parseApplicationNamespaces(data: Record<string, string> | undefined): string[] {
  return splitCommaList(data?.[APPLICATION_NAMESPACES_KEY]);
}

/** A `/…/` entry is an unanchored regular expression (Argo CD's regexp2); one that does not compile matches nothing. */
function regexMatch(pattern: string, namespace: string): boolean {
  try {
    return new RegExp(pattern).test(namespace);
  } catch {
    return false;
  }
}

/**
 * Whether Argo CD reconciles Applications in `namespace` (util/security
 * IsNamespaceEnabled): its own namespace always; another one when an entry of
 * `application.namespaces` matches — a `/regexp/`, else a glob (the same dialect as
 * src/util/glob.ts).
 */
export function applicationNamespaceEnabled(namespace: string, argocdNamespace: string, patterns: readonly string[]): boolean {
  if (namespace === argocdNamespace) return true;
  return patterns.some(
    (pattern) =>
      (pattern.length > 1 && pattern.startsWith('/') && pattern.endsWith('/') && regexMatch(pattern.slice(1, -1), namespace)) ||
      globMatch(pattern, namespace),
  );
}

/** `NAMESPACE/NAME`, the way applications[] names them. */
function applicationKey(app: Pick<ApplicationRef, 'namespace' | 'name'>): string {
  return `${app.namespace}/${app.name}`;
}

/** Finds the Applications that target a cluster, for many clusters without rescanning. */
export class ApplicationIndex {
  private readonly byServer = new Map<string, string[]>();
  private readonly byName = new Map<string, string[]>();

  constructor(applications: readonly ApplicationRef[]) {
    const add = (map: Map<string, string[]>, key: string, app: ApplicationRef) => {
      const keys = map.get(key) ?? [];
      keys.push(applicationKey(app));
      map.set(key, keys);
    };
    for (const app of applications) {
      if (app.destinationServer !== null) add(this.byServer, normalizeServer(app.destinationServer), app);
      if (app.destinationName !== null) add(this.byName, app.destinationName, app);
    }
  }

  /** `NAMESPACE/NAME` of every Application whose destination is this server or this cluster name, sorted. */
  targeting(cluster: { server: string | null; name: string | null }): string[] {
    const found = new Set([
      ...(cluster.server !== null ? (this.byServer.get(normalizeServer(cluster.server)) ?? []) : []),
      ...(cluster.name !== null ? (this.byName.get(cluster.name) ?? []) : []),
    ]);
    return [...found].sort();
  }
}
