// meta.k8s.io/v1 Table responses (what `kubectl get` asks for with
// `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`), with the columns of
// pkg/printers/internalversion for the kinds served here.
import type { KubeObject } from './store.js';
import type { ResourceType } from './resources.js';

interface Column {
  name: string;
  type: string;
  format?: string;
  description: string;
  priority: number;
}

/** duration.HumanDuration, as the AGE column renders. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.floor(ms / 60000);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.floor(ms / 3600_000);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const dy = Math.floor(hours / 24) % 365;
    const y = Math.floor(hours / 24 / 365);
    return dy === 0 ? `${y}y` : `${y}y${dy}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

function age(obj: KubeObject): string {
  const ts = obj.metadata.creationTimestamp;
  return ts ? humanDuration(Date.now() - Date.parse(ts)) : '<unknown>';
}

const NAME: Column = {
  name: 'Name',
  type: 'string',
  format: 'name',
  description: 'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names',
  priority: 0,
};
const AGE: Column = {
  name: 'Age',
  type: 'string',
  description: 'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.',
  priority: 0,
};
const col = (name: string, type: string, description: string, priority = 0): Column => ({ name, type, description, priority });

function subjectNames(obj: KubeObject, kind: string): string {
  const subjects = (obj.subjects as Array<{ kind: string; name: string; namespace?: string }> | undefined) ?? [];
  return subjects
    .filter((s) => s.kind === kind)
    .map((s) => (kind === 'ServiceAccount' ? `${s.namespace ?? ''}/${s.name}` : s.name))
    .join(', ');
}

function columnsFor(t: ResourceType): { columns: Column[]; cells: (o: KubeObject) => unknown[] } {
  switch (t.kind) {
    case 'Secret':
      return {
        columns: [NAME, col('Type', 'string', 'The type of the secret'), col('Data', 'string', 'The number of entries in the secret'), AGE],
        cells: (o) => [o.metadata.name, o.type ?? 'Opaque', Object.keys((o.data as object) ?? {}).length, age(o)],
      };
    case 'ConfigMap':
      return {
        columns: [NAME, col('Data', 'string', 'Number of data in configmap'), AGE],
        cells: (o) => [o.metadata.name, Object.keys((o.data as object) ?? {}).length + Object.keys((o.binaryData as object) ?? {}).length, age(o)],
      };
    case 'Namespace':
      return {
        columns: [NAME, col('Status', 'string', 'The status of the namespace'), AGE],
        cells: (o) => [o.metadata.name, (o.status as { phase?: string } | undefined)?.phase ?? 'Active', age(o)],
      };
    case 'ServiceAccount':
      return {
        columns: [NAME, col('Secrets', 'string', 'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.'), AGE],
        cells: (o) => [o.metadata.name, ((o.secrets as unknown[]) ?? []).length, age(o)],
      };
    case 'Pod':
      return {
        columns: [
          NAME,
          col('Ready', 'string', 'The aggregate readiness state of this pod for accepting traffic.'),
          col('Status', 'string', 'The aggregate status of the containers in this pod.'),
          col('Restarts', 'string', 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
          AGE,
          col('IP', 'string', 'IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.', 1),
          col('Node', 'string', "Name of the Node this pod is scheduled on", 1),
        ],
        cells: (o) => {
          const spec = (o.spec as { containers?: unknown[]; nodeName?: string }) ?? {};
          const status = (o.status as { phase?: string; podIP?: string }) ?? {};
          const total = spec.containers?.length ?? 0;
          const ready = status.phase === 'Running' ? total : 0;
          return [o.metadata.name, `${ready}/${total}`, status.phase ?? 'Pending', '0', age(o), status.podIP ?? '<none>', spec.nodeName ?? '<none>'];
        },
      };
    case 'Role':
    case 'ClusterRole':
      return {
        columns: [NAME, col('Created At', 'date', 'CreationTimestamp is a timestamp representing the server time when this object was created.')],
        cells: (o) => [o.metadata.name, o.metadata.creationTimestamp],
      };
    case 'RoleBinding':
    case 'ClusterRoleBinding':
      return {
        columns: [
          NAME,
          col('Role', 'string', 'Role of the binding'),
          AGE,
          col('Users', 'string', 'Users in the binding', 1),
          col('Groups', 'string', 'Groups in the binding', 1),
          col('ServiceAccounts', 'string', 'ServiceAccounts in the binding', 1),
        ],
        cells: (o) => {
          const ref = o.roleRef as { kind: string; name: string };
          return [o.metadata.name, `${ref.kind}/${ref.name}`, age(o), subjectNames(o, 'User'), subjectNames(o, 'Group'), subjectNames(o, 'ServiceAccount')];
        },
      };
    case 'Application': {
      // The additionalPrinterColumns of Argo CD's Application CRD (no Age column).
      const status = (o: KubeObject) => (o.status ?? {}) as { sync?: { status?: string; revision?: string }; health?: { status?: string } };
      return {
        columns: [
          NAME,
          col('Sync Status', 'string', ''),
          col('Health Status', 'string', ''),
          col('Revision', 'string', '', 10),
          col('Project', 'string', '', 10),
        ],
        cells: (o) => [o.metadata.name, status(o).sync?.status ?? null, status(o).health?.status ?? null, status(o).sync?.revision ?? null, (o.spec as { project?: string } | undefined)?.project ?? null],
      };
    }
    default:
      return { columns: [NAME, AGE], cells: (o) => [o.metadata.name, age(o)] };
  }
}

/** Whether the Accept header asks for a Table first. */
export function wantsTable(accept: string | undefined): boolean {
  const first = (accept ?? '').split(',')[0] ?? '';
  const params = first.split(';').map((p) => p.trim());
  return params.includes('as=Table') && params.includes('g=meta.k8s.io');
}

export function toTable(
  t: ResourceType,
  objects: KubeObject[],
  listMeta: Record<string, unknown>,
  includeObject: string | null,
): Record<string, unknown> {
  const { columns, cells } = columnsFor(t);
  const rows = objects.map((o) => {
    let object: unknown;
    if (includeObject === 'None') object = undefined;
    else if (includeObject === 'Object') object = o;
    else object = { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata };
    const row: Record<string, unknown> = { cells: cells(o) };
    if (object !== undefined) row.object = object;
    return row;
  });
  return { kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: listMeta, columnDefinitions: columns, rows };
}
