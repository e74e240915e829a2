// Reads a client certificate: subject, issuer, validity, fingerprint, and the Teleport
// identity Teleport encodes in the subject (teleport.md §3).
// Node's own X.509 reader (OpenSSL): it runs for every secret `list` reads, and a JavaScript
// DER reader cost ~1 ms per certificate (~10 ms for the first) where OpenSSL needs ~0.1 ms.
import { X509Certificate } from 'node:crypto';

const OID = {
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  organizationalUnit: '2.5.4.11',
  streetAddress: '2.5.4.9',
  kubernetesUsers: '1.3.9999.1.1',
  kubernetesGroups: '1.3.9999.1.2',
  kubernetesCluster: '1.3.9999.1.3',
  teleportCluster: '1.3.9999.1.7',
  botName: '1.3.9999.2.18',
} as const;

/** How names print: OpenSSL's short name of an attribute → [its OID, the short name we print]. */
const KNOWN_ATTRIBUTES: Record<string, [oid: string, shown: string]> = {
  CN: [OID.commonName, 'CN'],
  O: [OID.organization, 'O'],
  OU: [OID.organizationalUnit, 'OU'],
  street: [OID.streetAddress, 'STREET'],
  C: ['2.5.4.6', 'C'],
  L: ['2.5.4.7', 'L'],
  ST: ['2.5.4.8', 'ST'],
  postalCode: ['2.5.4.17', 'POSTALCODE'],
};

export interface TeleportIdentity {
  user: string | null;
  botName: string | null;
  roles: string[];
  kubernetesUsers: string[];
  kubernetesGroups: string[];
  /**
   * The Teleport cluster the certificate reaches: RouteToCluster (subject street address,
   * the leaf of a leaf route), else the cluster it came from (OID 1.3.9999.1.7), else the
   * issuer CN (the root cluster).
   */
  teleportCluster: string | null;
  /** The kube cluster route built into the certificate (OID 1.3.9999.1.3), if any. */
  kubernetesCluster: string | null;
}

export interface CertificateSummary {
  subject: string;
  issuer: string;
  notBefore: string;
  notAfter: string;
  sha256Fingerprint: string;
  teleport: TeleportIdentity;
}

/** [OID, or OpenSSL's short name for an attribute it knows that we do not, value], in DER order. */
type Attributes = Array<[oid: string, value: string]>;

/**
 * RFC 2253 escapes as OpenSSL prints them: `\` before a special character, `\XX` for a
 * control byte. Non-ASCII text comes through as UTF-8, so bytes are rebuilt, then decoded.
 */
function unescapeValue(text: string): string {
  if (!text.includes('\\')) return text;
  const bytes: number[] = [];
  for (const [, hex, escaped, plain] of text.matchAll(/\\([0-9A-Fa-f]{2})|\\(.)|([^\\]+)/gsu)) {
    if (hex !== undefined) bytes.push(Number.parseInt(hex, 16));
    else bytes.push(...Buffer.from(escaped ?? plain ?? '', 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}

/**
 * A name as Node prints it (one relative distinguished name per line, ` + ` between the
 * values of a multi-valued one, RFC 2253 escapes: a `+` in a value is always `\+`),
 * flattened in order.
 */
function attributesOf(printed: string): Attributes {
  const attributes: Attributes = [];
  for (const line of printed.split('\n')) {
    if (line === '') continue;
    for (const assertion of line.split(' + ')) {
      const separator = assertion.indexOf('=');
      if (separator <= 0) throw new Error(`unexpected name part "${assertion}"`);
      const type = assertion.slice(0, separator);
      attributes.push([KNOWN_ATTRIBUTES[type]?.[0] ?? type, unescapeValue(assertion.slice(separator + 1))]);
    }
  }
  return attributes;
}

const SHOWN_NAMES = new Map(Object.values(KNOWN_ATTRIBUTES));

function formatName(attributes: Attributes): string {
  return attributes.map(([oid, value]) => `${SHOWN_NAMES.get(oid) ?? oid}=${value}`).join(', ');
}

function all(attributes: Attributes, oid: string): string[] {
  return attributes.filter(([type]) => type === oid).map(([, value]) => value);
}

function first(attributes: Attributes, oid: string): string | null {
  return all(attributes, oid)[0] ?? null;
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/;

/** DER of the first certificate in a PEM text; throws when there is none. */
export function certificateDer(pem: string): Buffer {
  const match = PEM_BLOCK.exec(pem);
  if (!match) throw new Error('no PEM certificate found');
  return Buffer.from(match[1]!.replace(/\s+/g, ''), 'base64');
}

// tbot and tsh put one certificate in many contexts and secrets: parse each text once.
const summaries = new Map<string, CertificateSummary>();
const SUMMARY_CACHE_LIMIT = 10_000;

/** Parses the first certificate of a PEM text. Throws a plain Error when it is not one. */
export function summarizeCertificate(pem: string): CertificateSummary {
  const cached = summaries.get(pem);
  if (cached) return structuredClone(cached);
  const summary = parseCertificate(pem);
  if (summaries.size >= SUMMARY_CACHE_LIMIT) summaries.clear();
  summaries.set(pem, summary);
  return structuredClone(summary);
}

function parseCertificate(pem: string): CertificateSummary {
  const der = certificateDer(pem);
  let certificate: X509Certificate;
  let subject: Attributes;
  let issuer: Attributes;
  try {
    certificate = new X509Certificate(der);
    subject = attributesOf(certificate.subject);
    issuer = attributesOf(certificate.issuer);
  } catch {
    throw new Error('certificate is not valid DER X.509');
  }
  const user = first(subject, OID.commonName);
  const botName = first(subject, OID.botName);
  return {
    subject: formatName(subject),
    issuer: formatName(issuer),
    notBefore: certificate.validFromDate.toISOString(),
    notAfter: certificate.validToDate.toISOString(),
    sha256Fingerprint: certificate.fingerprint256,
    teleport: {
      user,
      botName,
      roles: all(subject, OID.organization),
      kubernetesUsers: all(subject, OID.kubernetesUsers),
      kubernetesGroups: all(subject, OID.kubernetesGroups),
      teleportCluster: [first(subject, OID.streetAddress), first(subject, OID.teleportCluster), first(issuer, OID.commonName)].find(Boolean) ?? null,
      kubernetesCluster: first(subject, OID.kubernetesCluster),
    },
  };
}

/** Whether the subject carries any Teleport identity OID (a Teleport-issued certificate). */
export function hasTeleportIdentity(summary: CertificateSummary): boolean {
  const identity = summary.teleport;
  return (
    identity.botName !== null ||
    identity.kubernetesCluster !== null ||
    identity.kubernetesUsers.length > 0 ||
    identity.kubernetesGroups.length > 0 ||
    summary.subject.includes('1.3.9999.')
  );
}
