// `list`: what each registered cluster secret says, and what is wrong with it
// (product.md §5.2, §6.1). Pure: secrets and a clock in, rows out. A broken secret
// becomes an Invalid row; nothing here throws on bad input.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { ApplicationIndex, type ApplicationRef } from '../argocd/applications.js';
import {
  ANNOTATION,
  MANAGED_BY_LABEL,
  MANAGED_BY_US,
  decodeDataField,
  normalizeServer,
  parseClusterConfig,
  rfc3339,
  secretOwner,
  secretRoute,
  type ClusterConfig,
  type CredentialType,
  type SecretObject,
  type SecretOwner,
} from '../argocd/cluster-secret.js';
import { formatDuration, humanDuration, parseDuration } from '../cli/duration.js';
import { UsageError } from '../cli/errors.js';
import { API_VERSION, type Column } from '../cli/output.js';
import { summarizeCertificate, type CertificateSummary } from '../teleport/identity.js';
import { parseRoutedServer } from '../teleport/routing.js';
import { splitCommaList } from '../util/comma-list.js';

/** Most severe first: a row's status is its most severe condition. */
export const CONDITIONS = ['invalid', 'expired', 'stale', 'duplicate', 'expiring'] as const;
export type Condition = (typeof CONDITIONS)[number];
export type ClusterStatus = 'Invalid' | 'Expired' | 'Stale' | 'Duplicate' | 'Expiring' | 'Healthy';

const STATUS_OF: Record<Condition, ClusterStatus> = {
  invalid: 'Invalid',
  expired: 'Expired',
  stale: 'Stale',
  duplicate: 'Duplicate',
  expiring: 'Expiring',
};

/** `--fail-on` words: the conditions, and `unreachable` from `--probe`. */
export const FAIL_ON_WORDS = [...CONDITIONS, 'unreachable'] as const;
export type FailOn = (typeof FAIL_ON_WORDS)[number];

/** tbot's default renewal is 20m; ours are judged against their own interval times this. */
export const MISSED_REFRESHES_BEFORE_STALE = 3;

export interface ProbeResult {
  /** null when the cluster could not be probed at all (invalid secret, exec credentials). */
  reachable: boolean | null;
  serverVersion: string | null;
  error: string | null;
}

/** One `items[]` entry of `kind: ClusterList` (§6.1): every key present, null when unknown. */
export interface ClusterListItem {
  secret: { name: string; namespace: string | null };
  name: string | null;
  server: string | null;
  teleportCluster: string | null;
  kubeCluster: string | null;
  owner: SecretOwner;
  project: string | null;
  namespaces: string[];
  clusterResources: boolean;
  updated: string | null;
  /** `NAMESPACE/NAME` of the Applications that target the cluster, sorted; null when they could not be read. */
  applications: string[] | null;
  credentials: {
    type: CredentialType | null;
    serverName: string | null;
    /** null when the secret holds no parsable client certificate (bearer token, exec, garbage). */
    certificate: CertificateSummary | null;
  };
  status: ClusterStatus;
  problems: string[];
  /** null unless `--probe`. */
  probe: ProbeResult | null;
}

export interface ClusterList {
  apiVersion: typeof API_VERSION;
  kind: 'ClusterList';
  items: ClusterListItem[];
}

/** What `--probe` needs to connect as Argo CD would. Holds secret material: never printed. */
export interface ProbeTarget {
  server: string;
  config: ClusterConfig;
}

export interface AuditedCluster {
  item: ClusterListItem;
  conditions: Condition[];
  /** Shown without `-A`: path-routed, or `teleport.dev/*` annotations, or our label. */
  teleportRelated: boolean;
  /**
   * Why nothing refreshes it any more: `teleport.dev/updated` is known and older than its
   * writer's refresh rule allows; null otherwise. (An unknown update time proves nothing.)
   */
  refreshOverdue: string | null;
  /** null when the secret is too broken to connect with. */
  target: ProbeTarget | null;
}

export interface AuditOptions {
  now: Date;
  staleAfterMs: number;
  expiringWithinMs: number;
  /** The Applications that count (§5.2); null or absent when they could not be read. */
  applications?: readonly ApplicationRef[] | null;
}

interface Problem {
  condition: Condition;
  message: string;
}

/** A row's own copy of a certificate summary (shared by every secret holding that certificate). */
function certificateView(summary: CertificateSummary): CertificateSummary {
  return {
    subject: summary.subject,
    issuer: summary.issuer,
    notBefore: summary.notBefore,
    notAfter: summary.notAfter,
    sha256Fingerprint: summary.sha256Fingerprint,
    // Own arrays per row: a summary is shared by every secret holding that certificate.
    teleport: {
      ...summary.teleport,
      roles: [...summary.teleport.roles],
      kubernetesUsers: [...summary.teleport.kubernetesUsers],
      kubernetesGroups: [...summary.teleport.kubernetesGroups],
    },
  };
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** An RFC 3339 time (tbot writes local time with an offset), or null. */
function parseRfc3339(value: string | undefined): Date | null {
  if (value === undefined || !RFC3339.test(value)) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Parsing the same certificate and key thousands of times is the cost of a large list:
 * tbot writes one bot identity into every secret, so results are shared by PEM text.
 */
class CredentialCache {
  private readonly certificates = new Map<string, CertificateSummary | Error>();
  private readonly keyChecks = new Map<string, string | null>();

  certificate(pem: string): CertificateSummary | Error {
    let summary = this.certificates.get(pem);
    if (summary === undefined) {
      try {
        summary = summarizeCertificate(pem);
      } catch (error) {
        summary = error instanceof Error ? error : new Error(String(error));
      }
      this.certificates.set(pem, summary);
    }
    return summary;
  }

  /** Why the key cannot be used with the certificate, or null. Never echoes key material. */
  keyProblem(certPem: string, keyPem: string): string | null {
    const cacheKey = `${certPem}\u0000${keyPem}`;
    let problem = this.keyChecks.get(cacheKey);
    if (problem === undefined) {
      problem = checkKeyPair(certPem, keyPem);
      this.keyChecks.set(cacheKey, problem);
    }
    return problem;
  }
}

function checkKeyPair(certPem: string, keyPem: string): string | null {
  let key;
  try {
    key = createPrivateKey(keyPem);
  } catch {
    return 'config tlsClientConfig.keyData is not a PEM private key';
  }
  try {
    return new X509Certificate(certPem).checkPrivateKey(key) ? null : 'config tlsClientConfig.keyData does not belong to the certificate in certData';
  } catch {
    return null; // the certificate itself is reported unparsable elsewhere
  }
}

/** Decodes one `data` field, recording bad base64 as a problem instead of throwing. */
function readField(secret: SecretObject, key: string, problems: Problem[]): string | null {
  try {
    return decodeDataField(secret, key);
  } catch (error) {
    problems.push({ condition: 'invalid', message: message(error) });
    return null;
  }
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}

function isTeleportRelated(secret: SecretObject, server: string | null): boolean {
  if (server !== null && parseRoutedServer(server) !== null) return true;
  if (secret.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY_US) return true;
  return Object.keys(secret.metadata.annotations ?? {}).some((key) => key.startsWith('teleport.dev/'));
}

/**
 * How long a secret may go without an update before nothing refreshes it any more: tbot
 * renews every renewal interval (`--stale-after` stands for it); `sync --watch` records its
 * own interval and gets three of them; a one-shot `sync` records none, so `--stale-after`.
 * `listedStale`: whether `list` reports crossing it as Stale (§5.2 does for tbot and
 * `--watch` only: a one-shot registration is not expected to be refreshed by anyone).
 */
function refreshLimit(owner: SecretOwner, annotations: Record<string, string>, options: AuditOptions): { limitMs: number; rule: string; listedStale: boolean } | null {
  const interval = annotations[ANNOTATION.refreshInterval];
  if (owner === 'kubectl-teleport-argocd' && interval !== undefined) {
    try {
      const limitMs = MISSED_REFRESHES_BEFORE_STALE * parseDuration(interval, ANNOTATION.refreshInterval);
      return { limitMs, rule: `${MISSED_REFRESHES_BEFORE_STALE} refresh intervals of ${interval}`, listedStale: true };
    } catch {
      return null; // no usable interval: nothing to judge freshness by
    }
  }
  if (owner !== 'tbot' && owner !== 'kubectl-teleport-argocd') return null;
  return { limitMs: options.staleAfterMs, rule: `--stale-after ${formatDuration(options.staleAfterMs)}`, listedStale: owner === 'tbot' };
}

interface Freshness {
  /** `list`'s Stale problem, if any. */
  stale: Problem | null;
  /** The update time is known and older than the refresh limit: why nothing refreshes it. */
  overdue: string | null;
}

/** The one rule for both `list`'s Stale and `clean`'s "nothing refreshes it" (§5.2, §5.6). */
function freshness(owner: SecretOwner, annotations: Record<string, string>, updated: Date | null, options: AuditOptions): Freshness {
  const limit = refreshLimit(owner, annotations, options);
  if (limit === null) return { stale: null, overdue: null };
  if (updated === null) {
    const raw = annotations[ANNOTATION.updated];
    const why = raw === undefined ? 'is missing' : `"${raw}" is not an RFC 3339 time`;
    const message = `annotation ${ANNOTATION.updated} ${why}, so freshness is unknown`;
    return { stale: limit.listedStale ? { condition: 'stale', message } : null, overdue: null };
  }
  const ageMs = options.now.getTime() - updated.getTime();
  if (ageMs <= limit.limitMs) return { stale: null, overdue: null };
  const message = `not updated for ${humanDuration(ageMs)} (more than ${limit.rule})`;
  return { stale: limit.listedStale ? { condition: 'stale', message } : null, overdue: message };
}

function expiry(certificate: CertificateSummary, options: AuditOptions): Problem | null {
  const remainingMs = Date.parse(certificate.notAfter) - options.now.getTime();
  if (remainingMs <= 0) {
    return { condition: 'expired', message: `certificate expired ${humanDuration(-remainingMs)} ago (${certificate.notAfter})` };
  }
  if (remainingMs <= options.expiringWithinMs) {
    return { condition: 'expiring', message: `certificate expires in ${humanDuration(remainingMs)} (${certificate.notAfter})` };
  }
  return null;
}

interface CredentialsAudit {
  type: CredentialType | null;
  serverName: string | null;
  certificate: CertificateSummary | null;
  config: ClusterConfig | null;
}

function auditCredentials(configText: string, problems: Problem[], cache: CredentialCache): CredentialsAudit {
  let config: ClusterConfig;
  try {
    config = parseClusterConfig(configText);
  } catch (error) {
    problems.push({ condition: 'invalid', message: message(error) });
    return { type: null, serverName: null, certificate: null, config: null };
  }
  let certificate: CertificateSummary | null = null;
  if (config.certPem !== null) {
    const summary = cache.certificate(config.certPem);
    if (summary instanceof Error) {
      problems.push({ condition: 'invalid', message: `config tlsClientConfig.certData is not a certificate: ${summary.message}` });
    } else {
      certificate = summary;
    }
    if (config.keyPem === null) {
      problems.push({ condition: 'invalid', message: 'config tlsClientConfig.certData has no keyData' });
    } else if (certificate !== null) {
      const keyProblem = cache.keyProblem(config.certPem, config.keyPem);
      if (keyProblem !== null) problems.push({ condition: 'invalid', message: keyProblem });
    }
  } else if (config.keyPem !== null) {
    problems.push({ condition: 'invalid', message: 'config tlsClientConfig.keyData has no certData' });
  }
  if (config.caPem !== null && cache.certificate(config.caPem) instanceof Error) {
    problems.push({ condition: 'invalid', message: 'config tlsClientConfig.caData holds no valid CA certificate' });
  }
  return { type: config.credentialType, serverName: config.serverName, certificate, config };
}

interface SecretAudit {
  audited: AuditedCluster;
  problems: Problem[];
  /** Normalized server for the duplicate check, when there is one. */
  duplicateKey: string | null;
}

function auditSecret(secret: SecretObject, options: AuditOptions, cache: CredentialCache, dependents: ApplicationIndex | null): SecretAudit {
  const problems: Problem[] = [];
  const annotations = secret.metadata.annotations ?? {};
  const owner = secretOwner(secret);

  const name = readField(secret, 'name', problems);
  if (secret.data?.name === undefined) problems.push({ condition: 'invalid', message: 'data.name is missing' });
  else if (name === '') problems.push({ condition: 'invalid', message: 'data.name is empty' });

  // `server` is shown as written, even when it is unusable, so the row says what is wrong.
  const shownServer = readField(secret, 'server', problems);
  let server: string | null = null;
  if (secret.data?.server === undefined) {
    problems.push({ condition: 'invalid', message: 'data.server is missing' });
  } else if (shownServer !== null && shownServer.trim() === '') {
    problems.push({ condition: 'invalid', message: 'data.server is empty' });
  } else if (shownServer !== null && !isHttpUrl(shownServer)) {
    problems.push({ condition: 'invalid', message: `data.server "${shownServer}" is not an http(s) URL` });
  } else {
    server = shownServer;
  }

  const configText = readField(secret, 'config', problems);
  if (secret.data?.config === undefined) problems.push({ condition: 'invalid', message: 'data.config is missing' });
  const credentials: CredentialsAudit =
    configText !== null ? auditCredentials(configText, problems, cache) : { type: null, serverName: null, certificate: null, config: null };

  const project = readField(secret, 'project', problems);
  const namespaces = splitCommaList(readField(secret, 'namespaces', problems));
  const clusterResources = readField(secret, 'clusterResources', problems) === 'true';

  const updated = parseRfc3339(annotations[ANNOTATION.updated]);
  const fresh = freshness(owner, annotations, updated, options);
  if (fresh.stale) problems.push(fresh.stale);
  if (credentials.certificate) {
    const expiring = expiry(credentials.certificate, options);
    if (expiring) problems.push(expiring);
  }

  const route = secretRoute(shownServer, annotations);
  const argoName = name === '' ? null : name;
  const shown = shownServer === '' ? null : shownServer;
  const item: ClusterListItem = {
    secret: { name: secret.metadata.name, namespace: secret.metadata.namespace ?? null },
    name: argoName,
    server: shown,
    teleportCluster: route?.teleportCluster ?? null,
    kubeCluster: route?.kubeCluster ?? null,
    owner,
    project: project === '' ? null : project,
    namespaces,
    clusterResources,
    updated: updated ? rfc3339(updated) : null,
    applications: dependents ? dependents.targeting({ server: shown, name: argoName }) : null,
    credentials: {
      type: credentials.type,
      serverName: credentials.serverName,
      certificate: credentials.certificate ? certificateView(credentials.certificate) : null,
    },
    status: 'Healthy',
    problems: [],
    probe: null,
  };
  return {
    audited: {
      item,
      conditions: [],
      teleportRelated: isTeleportRelated(secret, item.server),
      refreshOverdue: fresh.overdue,
      target: server !== null && credentials.config !== null ? { server, config: credentials.config } : null,
    },
    problems,
    duplicateKey: server === null ? null : normalizeServer(server),
  };
}

function byName(a: AuditedCluster, b: AuditedCluster): number {
  const left = a.item.name ?? '';
  const right = b.item.name ?? '';
  if (left !== right) return left < right ? -1 : 1;
  return a.item.secret.name < b.item.secret.name ? -1 : a.item.secret.name > b.item.secret.name ? 1 : 0;
}

/**
 * Audits every cluster secret of a namespace. Duplicates are judged across all of them,
 * including the ones the default view hides. Rows come back sorted by Argo cluster name.
 */
export function auditClusterSecrets(secrets: readonly SecretObject[], options: AuditOptions): AuditedCluster[] {
  const cache = new CredentialCache();
  const dependents = options.applications ? new ApplicationIndex(options.applications) : null;
  const audits = secrets.map((secret) => auditSecret(secret, options, cache, dependents));

  const byServer = new Map<string, string[]>();
  for (const audit of audits) {
    if (audit.duplicateKey === null) continue;
    const names = byServer.get(audit.duplicateKey) ?? [];
    names.push(audit.audited.item.secret.name);
    byServer.set(audit.duplicateKey, names);
  }
  for (const audit of audits) {
    const others = audit.duplicateKey === null ? [] : byServer.get(audit.duplicateKey)!.filter((name) => name !== audit.audited.item.secret.name);
    if (others.length > 0) {
      audit.problems.push({
        condition: 'duplicate',
        message: `server is also registered by ${others.sort().map((name) => `secret/${name}`).join(', ')}`,
      });
    }
  }

  for (const { audited, problems } of audits) {
    problems.sort((a, b) => CONDITIONS.indexOf(a.condition) - CONDITIONS.indexOf(b.condition));
    audited.conditions = [...new Set(problems.map((problem) => problem.condition))];
    audited.item.status = audited.conditions.length > 0 ? STATUS_OF[audited.conditions[0]!] : 'Healthy';
    audited.item.problems = problems.map((problem) => `${problem.condition}: ${problem.message}`);
  }
  return audits.map((audit) => audit.audited).sort(byName);
}

/** Whether a row trips `--fail-on`: any of its conditions, or an unreachable probe. */
export function failsOn(cluster: AuditedCluster, failOn: ReadonlySet<FailOn>): boolean {
  if (cluster.conditions.some((condition) => failOn.has(condition))) return true;
  return failOn.has('unreachable') && cluster.item.probe?.reachable === false;
}

/** Parses `--fail-on expired,stale,…`; unknown words are a usage error. */
export function parseFailOn(value: unknown, probe: boolean): Set<FailOn> {
  const words = String(value ?? '')
    .split(',')
    .map((word) => word.trim())
    .filter((word) => word !== '');
  for (const word of words) {
    if (!(FAIL_ON_WORDS as readonly string[]).includes(word)) {
      throw new UsageError(`invalid value "${word}" for --fail-on: must be a comma-separated list of ${FAIL_ON_WORDS.join(', ')}`);
    }
  }
  if (words.includes('unreachable') && !probe) throw new UsageError('--fail-on unreachable needs --probe');
  return new Set(words as FailOn[]);
}

export function buildClusterList(clusters: readonly AuditedCluster[]): ClusterList {
  return { apiVersion: API_VERSION, kind: 'ClusterList', items: clusters.map((cluster) => cluster.item) };
}

/** kubectl short form: `45m` ahead, `expired 3h ago` behind (like kubectl's `2 (3h ago)`). */
export function expiresCell(notAfter: string | null, now: Date): string | null {
  if (notAfter === null) return null;
  const remainingMs = Date.parse(notAfter) - now.getTime();
  return remainingMs > 0 ? humanDuration(remainingMs) : `expired ${humanDuration(-remainingMs)} ago`;
}

function joined(values: string[] | null): string | null {
  return values && values.length > 0 ? values.join(',') : null;
}

function reachableCell(probe: ProbeResult | null): string | null {
  if (probe === null) return null;
  if (probe.reachable === null) return 'unknown';
  return probe.reachable ? 'yes' : 'no';
}

/** Table columns; REACHABLE only when probed. */
export function clusterColumns(now: Date, probed: boolean): Column<ClusterListItem>[] {
  const columns: Column<ClusterListItem>[] = [
    { header: 'NAME', value: (item) => item.name },
    { header: 'TELEPORT CLUSTER', value: (item) => item.teleportCluster },
    { header: 'KUBE CLUSTER', value: (item) => item.kubeCluster },
    { header: 'OWNER', value: (item) => item.owner },
    { header: 'IDENTITY', value: (item) => item.credentials.certificate?.teleport.user ?? item.credentials.type },
    { header: 'EXPIRES', value: (item) => expiresCell(item.credentials.certificate?.notAfter ?? null, now) },
    { header: 'STATUS', value: (item) => item.status },
    { header: 'SECRET', value: (item) => item.secret.name, wide: true },
    { header: 'SERVER', value: (item) => item.server, wide: true },
    { header: 'PROJECT', value: (item) => item.project, wide: true },
    { header: 'UPDATED', value: (item) => (item.updated ? humanDuration(now.getTime() - Date.parse(item.updated)) : null), wide: true },
    { header: 'KUBE USERS', value: (item) => joined(item.credentials.certificate?.teleport.kubernetesUsers ?? null), wide: true },
    { header: 'KUBE GROUPS', value: (item) => joined(item.credentials.certificate?.teleport.kubernetesGroups ?? null), wide: true },
    { header: 'APPS', value: (item) => (item.applications === null ? '<unknown>' : item.applications.length), wide: true },
  ];
  if (probed) columns.push({ header: 'REACHABLE', value: (item) => reachableCell(item.probe) });
  return columns;
}
