// The command registry: names, flags and help for every command, and where its
// implementation lives. Help and completion read this without loading any command.
import type { OutputFormat } from './output.js';
import type { Runtime } from './globals.js';

export interface FlagSpec {
  name: string;
  alias?: string;
  type: 'string' | 'boolean' | 'number' | 'array';
  describe: string;
  default?: string | number | boolean;
  choices?: string[];
  /** Completion candidates for the flag's value: a fixed list or a source. */
  complete?: string[] | 'contexts' | 'files';
  demand?: boolean;
}

export type CommandArgs = Record<string, unknown> & { _: Array<string | number> };

/** A repeatable flag's or argument's values as strings: none, one or many. */
export function argumentValues(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  return (Array.isArray(value) ? value : [value]).map(String);
}

export interface CommandModule {
  run(args: CommandArgs, runtime: Runtime): Promise<number>;
}

export interface CommandSpec {
  /** Words after the binary name: ['check', 'join']. */
  path: string[];
  positional?: { name: string; describe: string };
  describe: string;
  examples?: Array<[string, string]>;
  flags: FlagSpec[];
  outputs: OutputFormat[];
  load: () => Promise<CommandModule>;
}

export const GLOBAL_FLAGS: FlagSpec[] = [
  { name: 'kubeconfig', type: 'string', describe: 'Path to the kubeconfig file (only this file; default: KUBECONFIG, then ~/.kube/config)', complete: 'files' },
  { name: 'context', type: 'string', describe: 'The source context: the cluster where Argo CD runs (default: current context)', complete: 'contexts' },
  { name: 'namespace', alias: 'n', type: 'string', describe: 'The Argo CD namespace', default: 'argocd' },
  { name: 'output', alias: 'o', type: 'string', describe: 'Output format: table, wide, json, yaml or name (per command)', default: 'table', complete: ['table', 'wide', 'json', 'yaml', 'name'] },
  { name: 'no-headers', type: 'boolean', describe: 'Print tables without the header row' },
  { name: 'request-timeout', type: 'string', describe: 'Timeout per API request (10, 5s, 2m)', default: '30s' },
  { name: 'verbose', alias: 'v', type: 'boolean', describe: 'Log requests and decisions to stderr (never secret values)' },
  { name: 'color', type: 'string', describe: 'Colour on stderr: auto, always or never', default: 'auto', complete: ['auto', 'always', 'never'] },
];

const GLOB = { name: 'globs', describe: 'Only kube clusters or contexts matching these globs (default: all)' };

export const COMMANDS: CommandSpec[] = [
  {
    path: ['sync'],
    positional: GLOB,
    describe: 'Register and refresh Teleport kube clusters as Argo CD cluster secrets',
    examples: [
      ['$0 sync', 'register every Teleport context of the kubeconfig in Argo CD'],
      ['$0 sync --dry-run=client --diff', 'show what would change, without writing'],
      ['$0 sync "prod-*" --prune', 'register prod clusters and remove ones that disappeared'],
      ['$0 sync --source-kubeconfig /opt/machine-id/kubeconfig.yaml --watch', 'keep credentials fresh next to tbot'],
      ['$0 sync --label \'region={{index .Labels "region"}}\'', 'copy a Teleport label for ApplicationSet cluster selectors'],
    ],
    flags: [
      { name: 'exclude', type: 'array', describe: 'Skip kube clusters or contexts matching this glob (repeatable)' },
      { name: 'source-kubeconfig', type: 'string', describe: 'Read Teleport contexts from this kubeconfig (default: the same kubeconfig)', complete: 'files' },
      { name: 'secret-prefix', type: 'string', describe: 'Prefix of secret names', default: 'teleport.argocd-cluster' },
      { name: 'name-template', type: 'string', describe: 'Argo CD cluster name template', default: '{{.ClusterName}}-{{.KubeName}}' },
      { name: 'label', type: 'array', describe: 'Extra secret label k=v (repeatable); v is a template: {{.ClusterName}}, {{.KubeName}}, {{index .Labels "KEY"}} (Teleport labels, via tsh); empty omits it' },
      { name: 'annotation', type: 'array', describe: 'Extra secret annotation k=v (repeatable); v is a template, as for --label' },
      { name: 'project', type: 'string', describe: 'Argo CD project the clusters belong to' },
      { name: 'namespaces', type: 'array', describe: 'Namespaces Argo CD may manage in each cluster (comma-separated or repeatable)' },
      { name: 'cluster-resources', type: 'boolean', describe: 'With --namespaces: also manage cluster-scoped resources' },
      { name: 'take-over', type: 'boolean', describe: 'Take over secrets of the same name written by tbot, Argo CD or by hand' },
      { name: 'prune', type: 'boolean', describe: 'Delete our secrets for clusters no longer in the kubeconfig' },
      { name: 'allow-empty', type: 'boolean', describe: 'With --prune: allow pruning when no Teleport context was found' },
      { name: 'dry-run', type: 'string', describe: 'none, client (print the plan) or server (send writes with dryRun=All)', complete: ['none', 'client', 'server'] },
      { name: 'diff', type: 'boolean', describe: 'Show the changed fields of each update (secret values as fingerprints)' },
      { name: 'watch', type: 'boolean', describe: 'Repeat every --interval until interrupted' },
      { name: 'interval', type: 'string', describe: 'Time between rounds with --watch', default: '20m' },
      { name: 'concurrency', type: 'number', describe: 'Writes in flight at once', default: 8 },
      { name: 'exec-timeout', type: 'string', describe: 'Timeout for kubeconfig exec credential plugins and tsh kube ls', default: '30s' },
    ],
    outputs: ['table', 'json', 'yaml'],
    load: () => import('../commands/sync.js'),
  },
  {
    path: ['list'],
    describe: 'Audit the clusters registered in Argo CD',
    examples: [
      ['$0 list', 'Teleport-routed clusters with owner, identity, expiry and status'],
      ['$0 list -o wide --probe', 'also call /version through each secret\'s own credentials'],
      ['$0 list --fail-on expired,stale,invalid', 'exit 1 in CI when any cluster is broken'],
    ],
    flags: [
      { name: 'all', alias: 'A', type: 'boolean', describe: 'Show every cluster secret, not only Teleport-routed ones' },
      { name: 'stale-after', type: 'string', describe: 'A tbot secret not updated for this long is Stale', default: '1h' },
      { name: 'expiring-within', type: 'string', describe: 'A certificate ending within this is Expiring', default: '10m' },
      { name: 'probe', type: 'boolean', describe: 'Call GET /version through each cluster\'s stored credentials' },
      { name: 'fail-on', type: 'string', describe: 'Exit 1 when a row has one of: expired,stale,invalid,duplicate,expiring,unreachable' },
    ],
    outputs: ['table', 'wide', 'json', 'yaml', 'name'],
    load: () => import('../commands/list.js'),
  },
  {
    path: ['clean'],
    positional: { name: 'globs', describe: 'Only kube clusters or Argo CD cluster names matching these globs (default: all)' },
    describe: 'Remove dead registrations: expired cluster secrets that tbot or sync stopped refreshing',
    examples: [
      ['$0 clean --dry-run=client', 'show which dead registrations would be deleted, and which Applications keep one'],
      ['$0 clean', 'delete expired, abandoned secrets of tbot and kubectl-teleport-argocd'],
      ['$0 clean "legacy-*" --owner tbot --include-targeted', "also delete ones that Applications still target (they will fail to sync)"],
    ],
    flags: [
      { name: 'owner', type: 'string', describe: 'Only secrets written by tbot or kubectl-teleport-argocd (default: both)', complete: ['tbot', 'kubectl-teleport-argocd'] },
      { name: 'stale-after', type: 'string', describe: 'A tbot or one-shot sync secret not updated for this long is no longer refreshed (sync --watch secrets: three of their intervals)', default: '1h' },
      { name: 'include-targeted', type: 'boolean', describe: 'Also delete secrets that Applications still target (or when Applications cannot be read)' },
      { name: 'dry-run', type: 'string', describe: 'none, client (print the plan) or server (send deletes with dryRun=All)', complete: ['none', 'client', 'server'] },
    ],
    outputs: ['table', 'json', 'yaml'],
    load: () => import('../commands/clean.js'),
  },
  {
    path: ['join'],
    describe: "Render (and verify) everything tbot's Kubernetes join needs",
    examples: [
      ['$0 join --cluster-name example.teleport.sh --proxy example.teleport.sh:443 --selector env=prod --out-dir tbot/', 'write role, bot, token, RBAC and Helm values'],
      ['$0 join --cluster-name example.teleport.sh --proxy example.teleport.sh:443 --kube-cluster prod-eu --impersonation --apply-rbac', 'impersonation-ready role, and bind RBAC for bot-argocd'],
    ],
    flags: [
      { name: 'cluster-name', type: 'string', describe: 'Teleport cluster name (tctl status)', demand: true },
      { name: 'proxy', type: 'string', describe: 'Teleport proxy address HOST:PORT', demand: true },
      { name: 'bot', type: 'string', describe: 'Bot name', default: 'argocd' },
      { name: 'role', type: 'string', describe: 'Teleport role name (default <bot>-kube-access)' },
      { name: 'token', type: 'string', describe: 'Join token name (default <bot>-join)' },
      { name: 'service-account', type: 'string', describe: "tbot's service account NS:NAME (default <namespace>:tbot)" },
      { name: 'join-type', type: 'string', describe: 'auto, static_jwks or oidc', default: 'auto', complete: ['auto', 'static_jwks', 'oidc'] },
      { name: 'kubernetes-group', type: 'string', describe: 'Kubernetes group in the role and bindings', default: 'editor' },
      { name: 'cluster-role', type: 'string', describe: 'ClusterRole bound to the group (or bot user)', default: 'edit' },
      { name: 'kube-labels', type: 'array', describe: "Role kubernetes_labels k=v (repeatable; default '*'='*')" },
      { name: 'selector', type: 'array', describe: 'Helm argocd.clusterSelectors labels k=v (repeatable)' },
      { name: 'kube-cluster', type: 'array', describe: 'Helm argocd.clusterSelectors name (repeatable)' },
      { name: 'impersonation', type: 'boolean', describe: "Role for Argo CD impersonation: kubernetes_users ['*'], no groups" },
      { name: 'target-context', type: 'array', describe: 'Also bind RBAC in this target context (repeatable)', complete: 'contexts' },
      { name: 'apply-rbac', type: 'boolean', describe: 'Create the ClusterRoleBindings through the API (idempotent)' },
      { name: 'out-dir', type: 'string', describe: 'Write files here instead of a YAML stream on stdout', complete: 'files' },
      { name: 'skip-checks', type: 'boolean', describe: "Do not run 'check join' first" },
    ],
    outputs: ['table', 'yaml'],
    load: () => import('../commands/join.js'),
  },
  {
    path: ['check', 'join'],
    describe: "Verify that Teleport's Auth Service will accept tbot's Kubernetes join",
    examples: [
      ['$0 check join --cluster-name example.teleport.sh', 'request a token for argocd:tbot and judge it as Teleport will'],
      ['tctl get token/argocd-join | $0 check join --cluster-name example.teleport.sh --token-file -', 'also detect JWKS drift after key rotation'],
    ],
    flags: [
      { name: 'cluster-name', type: 'string', describe: 'Teleport cluster name (the token audience)', demand: true },
      { name: 'service-account', type: 'string', describe: "tbot's service account NS:NAME (default <namespace>:tbot)" },
      { name: 'bot', type: 'string', describe: 'Expected bot name of the token', default: 'argocd' },
      { name: 'token-file', type: 'string', describe: "Token YAML (tctl get token/NAME, or the rendered file, or '-')", complete: 'files' },
    ],
    outputs: ['table', 'json', 'yaml'],
    load: () => import('../commands/check-join.js'),
  },
  {
    path: ['check', 'impersonation'],
    positional: GLOB,
    describe: 'Verify an Argo CD sync-impersonation setup through Teleport',
    examples: [
      ['$0 check impersonation', 'every registered Teleport cluster, through its own credentials'],
      ['$0 check impersonation "prod-*" --role-file roles.yaml --strict', 'also judge the role files; warnings fail too'],
    ],
    flags: [
      { name: 'role-file', type: 'array', describe: 'Teleport role YAML (tctl get roles) to check (repeatable)', complete: 'files' },
      { name: 'target-context', type: 'array', describe: 'KUBE=CTX: check kube cluster KUBE directly through context CTX (repeatable)' },
      { name: 'strict', type: 'boolean', describe: 'Exit 1 on warnings too' },
    ],
    outputs: ['table', 'json', 'yaml'],
    load: () => import('../commands/check-impersonation.js'),
  },
];
