// The Argo CD cluster secret: the one place that knows its format, both as tbot writes
// it (render) and as anyone may have written it (parse). product.md §4, teleport.md §1,
// argocd.md §1.
import { createHash } from 'node:crypto';
import { UsageError } from '../cli/errors.js';
import { parseRoutedServer, routedServerUrl, type KubeRoute } from '../teleport/routing.js';
import { parseTemplate, renderTemplate, type TemplateData } from './template.js';

export const SECRET_TYPE_LABEL = 'argocd.argoproj.io/secret-type';
export const SECRET_TYPE_CLUSTER = 'cluster';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_US = 'kubectl-teleport-argocd';
/** Argo CD marks secrets it wrote itself with this annotation. */
export const ARGOCD_MANAGED_BY_ANNOTATION = 'managed-by';
export const ARGOCD_MANAGED_BY_VALUE = 'argocd.argoproj.io';

export const ANNOTATION = {
  teleportCluster: 'teleport.dev/teleport-cluster-name',
  kubeCluster: 'teleport.dev/kubernetes-cluster-name',
  botName: 'teleport.dev/bot-name',
  updated: 'teleport.dev/updated',
  tbotVersion: 'teleport.dev/tbot-version',
  refreshInterval: 'kubectl-teleport-argocd/refresh-interval',
} as const;

export const DEFAULT_SECRET_PREFIX = 'teleport.argocd-cluster';
export const DEFAULT_NAME_TEMPLATE = '{{.ClusterName}}-{{.KubeName}}';

/** A Secret as the Kubernetes API returns it (only the fields this plugin reads). */
export interface SecretObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    resourceVersion?: string;
    creationTimestamp?: string | Date;
  };
  type?: string;
  data?: Record<string, string>;
}

export interface TlsCredentials {
  caPem: string;
  certPem: string;
  keyPem: string;
  /** SNI; omitted from `config` when empty. */
  serverName?: string;
}

export interface ClusterSecretSpec {
  namespace: string;
  prefix: string;
  nameTemplate: string;
  route: KubeRoute;
  /** `https://host:port` of the Teleport proxy. */
  proxyBase: string;
  credentials: TlsCredentials;
  /** From OID 1.3.9999.2.18; only bot identities get the annotation. */
  botName: string | null;
  project?: string;
  namespaces?: string[];
  clusterResources?: boolean;
  /** `--label` values: templates (§4); a value that renders empty is left out. */
  labels?: Record<string, string>;
  /** `--annotation` values: templates, like labels. */
  annotations?: Record<string, string>;
  /** The Teleport kube cluster's labels, `.Labels` in those templates. */
  kubeLabels?: Record<string, string>;
  /** Set by `sync --watch`, so `list` can tell when a refresh is overdue. */
  refreshInterval?: string;
  updated: Date;
}

const DNS1123_LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_SUBDOMAIN = new RegExp(`^${DNS1123_LABEL}(\\.${DNS1123_LABEL})*$`);

export function isDns1123Subdomain(value: string): boolean {
  return value.length <= 253 && DNS1123_SUBDOMAIN.test(value);
}

export function isDns1123Label(value: string): boolean {
  return value.length <= 63 && new RegExp(`^${DNS1123_LABEL}$`).test(value);
}

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/;
export const LABEL_VALUE_RULE = "at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit";

export function isLabelValue(value: string): boolean {
  return LABEL_VALUE.test(value);
}

/** `<prefix>.<first 8 bytes of sha256(teleport + kube), hex>` — tbot's naming. */
export function clusterSecretName(prefix: string, route: KubeRoute): string {
  const digest = createHash('sha256').update(route.teleportCluster).update(route.kubeCluster).digest();
  return `${prefix}.${digest.subarray(0, 8).toString('hex')}`;
}

/** Checks a prefix the way the full name will be checked: any resulting name must be a DNS-1123 subdomain. */
export function validateSecretPrefix(prefix: string): void {
  const sample = `${prefix}.0123456789abcdef`;
  if (!isDns1123Subdomain(sample)) {
    throw new UsageError(
      `invalid --secret-prefix "${prefix}": secret names "${prefix}.<hash>" must be DNS-1123 subdomains (lowercase letters, digits, '-' and '.', each part starting and ending with a letter or digit, at most 253 characters)`,
    );
  }
}

/** Go text/template with `.ClusterName` and `.KubeName`, the only variables tbot offers its name template. */
export function validateNameTemplate(template: string): void {
  let parsed;
  try {
    parsed = parseTemplate(template);
  } catch {
    parsed = null;
  }
  if (parsed === null || parsed.usesLabels) {
    throw new UsageError(`invalid --name-template "${template}": only {{.ClusterName}} and {{.KubeName}} may be used`);
  }
}

/**
 * `--label`/`--annotation` values rendered for one cluster; empty renders are left out, as
 * tbot does. A rendered label value Kubernetes would reject throws (that cluster fails).
 */
function renderMetadataTemplates(values: Record<string, string> | undefined, data: TemplateData, kind: 'label' | 'annotation'): Record<string, string> {
  const rendered: Record<string, string> = {};
  for (const [key, source] of Object.entries(values ?? {})) {
    const value = renderTemplate(parseTemplate(source), data);
    if (value === '') continue;
    if (kind === 'label' && !isLabelValue(value)) {
      throw new Error(`label ${key}="${value}" (rendered from "${source}") is not a valid label value: ${LABEL_VALUE_RULE}`);
    }
    rendered[key] = value;
  }
  return rendered;
}

/** The `config` JSON exactly as tbot marshals it (Go struct order, no `insecure`). */
export function renderClusterConfig(credentials: TlsCredentials): string {
  const tls: Record<string, string> = {
    caData: Buffer.from(credentials.caPem, 'utf8').toString('base64'),
    certData: Buffer.from(credentials.certPem, 'utf8').toString('base64'),
    keyData: Buffer.from(credentials.keyPem, 'utf8').toString('base64'),
  };
  if (credentials.serverName) tls.serverName = credentials.serverName;
  return JSON.stringify({ tlsClientConfig: tls });
}

function base64(value: string): string {
  return Buffer.from(value, 'utf8').toString('base64');
}

/** RFC 3339 in UTC, seconds precision, as Go's time.RFC3339 prints it. */
export function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Renders the desired secret. Pure: same spec, same object. */
export function renderClusterSecret(spec: ClusterSecretSpec): SecretObject {
  const name = clusterSecretName(spec.prefix, spec.route);
  if (!isDns1123Subdomain(name)) {
    throw new UsageError(`secret name "${name}" is not a valid DNS-1123 subdomain`);
  }
  const values: TemplateData = { clusterName: spec.route.teleportCluster, kubeName: spec.route.kubeCluster, labels: spec.kubeLabels ?? {} };
  const labels: Record<string, string> = {
    ...renderMetadataTemplates(spec.labels, values, 'label'),
    [SECRET_TYPE_LABEL]: SECRET_TYPE_CLUSTER,
    [MANAGED_BY_LABEL]: MANAGED_BY_US,
  };
  const annotations: Record<string, string> = {
    ...renderMetadataTemplates(spec.annotations, values, 'annotation'),
    [ANNOTATION.teleportCluster]: spec.route.teleportCluster,
    [ANNOTATION.kubeCluster]: spec.route.kubeCluster,
    [ANNOTATION.updated]: rfc3339(spec.updated),
  };
  if (spec.botName) annotations[ANNOTATION.botName] = spec.botName;
  else delete annotations[ANNOTATION.botName];
  if (spec.refreshInterval) annotations[ANNOTATION.refreshInterval] = spec.refreshInterval;
  delete annotations[ANNOTATION.tbotVersion];

  const data: Record<string, string> = {
    name: base64(renderTemplate(parseTemplate(spec.nameTemplate), values)),
    server: base64(routedServerUrl(spec.proxyBase, spec.route)),
    config: base64(renderClusterConfig(spec.credentials)),
  };
  if (spec.project) data.project = base64(spec.project);
  if (spec.namespaces && spec.namespaces.length > 0) {
    data.namespaces = base64(spec.namespaces.join(','));
    data.clusterResources = base64(spec.clusterResources ? 'true' : 'false');
  }
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace: spec.namespace, labels, annotations },
    type: 'Opaque',
    data,
  };
}

export type SecretOwner = 'kubectl-teleport-argocd' | 'tbot' | 'argocd' | 'unknown';

/** Who wrote a cluster secret, from the marks each writer leaves. */
export function secretOwner(secret: SecretObject): SecretOwner {
  const labels = secret.metadata.labels ?? {};
  const annotations = secret.metadata.annotations ?? {};
  if (labels[MANAGED_BY_LABEL] === MANAGED_BY_US) return 'kubectl-teleport-argocd';
  if (annotations[ANNOTATION.tbotVersion] !== undefined) return 'tbot';
  if (annotations[ARGOCD_MANAGED_BY_ANNOTATION] === ARGOCD_MANAGED_BY_VALUE) return 'argocd';
  return 'unknown';
}

/** Decodes a `data` value; null when absent, throws when it is not base64. */
export function decodeDataField(secret: SecretObject, key: string): string | null {
  const value = secret.data?.[key];
  if (value === undefined) return null;
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 !== 0) {
    throw new Error(`data.${key} is not valid base64`);
  }
  return Buffer.from(value, 'base64').toString('utf8');
}

export type CredentialType = 'client-certificate' | 'bearer-token' | 'exec' | 'aws' | 'basic' | 'none';

/** What a `config` JSON holds, with byte fields decoded. Secret values stay in here only. */
export interface ClusterConfig {
  credentialType: CredentialType;
  serverName: string | null;
  insecure: boolean;
  caPem: string | null;
  certPem: string | null;
  keyPem: string | null;
  bearerToken: string | null;
}

function decodeBytesField(value: unknown, path: string): string | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 !== 0) {
    throw new Error(`config ${path} is not valid base64`);
  }
  return Buffer.from(value, 'base64').toString('utf8');
}

/** Parses `config` as Argo CD does (argocd.md §1.3); throws a message naming the bad part. */
export function parseClusterConfig(text: string | null): ClusterConfig {
  let raw: unknown = {};
  if (text !== null && text.trim() !== '') {
    try {
      raw = JSON.parse(text);
    } catch {
      throw new Error('config is not valid JSON');
    }
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error('config is not a JSON object');
  const config = raw as Record<string, unknown>;
  const tls = (config.tlsClientConfig ?? {}) as Record<string, unknown>;
  if (typeof tls !== 'object' || tls === null) throw new Error('config tlsClientConfig is not an object');
  const caPem = decodeBytesField(tls.caData, 'tlsClientConfig.caData');
  const certPem = decodeBytesField(tls.certData, 'tlsClientConfig.certData');
  const keyPem = decodeBytesField(tls.keyData, 'tlsClientConfig.keyData');
  const bearerToken = typeof config.bearerToken === 'string' && config.bearerToken !== '' ? config.bearerToken : null;
  let credentialType: CredentialType = 'none';
  if (config.awsAuthConfig) credentialType = 'aws';
  else if (config.execProviderConfig) credentialType = 'exec';
  else if (bearerToken) credentialType = 'bearer-token';
  else if (certPem && keyPem) credentialType = 'client-certificate';
  else if (config.username || config.password) credentialType = 'basic';
  return {
    credentialType,
    serverName: typeof tls.serverName === 'string' && tls.serverName !== '' ? tls.serverName : null,
    insecure: tls.insecure === true,
    caPem,
    certPem,
    keyPem,
    bearerToken,
  };
}

/** The Teleport route of a registered cluster: from the server path, else the annotations. */
export function secretRoute(server: string | null, annotations: Record<string, string>): KubeRoute | null {
  const fromPath = server ? parseRoutedServer(server) : null;
  if (fromPath) return fromPath;
  const teleportCluster = annotations[ANNOTATION.teleportCluster];
  const kubeCluster = annotations[ANNOTATION.kubeCluster];
  if (teleportCluster && kubeCluster) return { teleportCluster, kubeCluster };
  return null;
}

/** Argo CD compares servers as exact strings after stripping one trailing `/`. */
export function normalizeServer(server: string): string {
  return server.replace(/\/$/, '');
}
