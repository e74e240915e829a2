// Reads a client certificate: subject, issuer, validity, fingerprint, and the Teleport
// identity Teleport encodes in the subject (teleport.md §3).
import { createHash } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate, type Name } from '@peculiar/asn1-x509';

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

const SHORT_NAMES: Record<string, string> = {
  [OID.commonName]: 'CN',
  [OID.organization]: 'O',
  [OID.organizationalUnit]: 'OU',
  [OID.streetAddress]: 'STREET',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.17': 'POSTALCODE',
};

export interface TeleportIdentity {
  user: string | null;
  botName: string | null;
  roles: string[];
  kubernetesUsers: string[];
  kubernetesGroups: string[];
  /** The cluster the identity came from (OID 1.3.9999.1.7), else the issuer CN (root cluster). */
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

type Attributes = Array<[oid: string, value: string]>;

function attributesOf(name: Name): Attributes {
  const attributes: Attributes = [];
  for (const rdn of name) {
    for (const attribute of rdn) {
      attributes.push([attribute.type, attribute.value.toString()]);
    }
  }
  return attributes;
}

function formatName(attributes: Attributes): string {
  return attributes.map(([oid, value]) => `${SHORT_NAMES[oid] ?? oid}=${value}`).join(', ');
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
  let certificate: Certificate;
  try {
    certificate = AsnConvert.parse(der, Certificate);
  } catch {
    throw new Error('certificate is not valid DER X.509');
  }
  const tbs = certificate.tbsCertificate;
  const subject = attributesOf(tbs.subject);
  const issuer = attributesOf(tbs.issuer);
  const user = first(subject, OID.commonName);
  const botName = first(subject, OID.botName);
  return {
    subject: formatName(subject),
    issuer: formatName(issuer),
    notBefore: tbs.validity.notBefore.getTime().toISOString(),
    notAfter: tbs.validity.notAfter.getTime().toISOString(),
    sha256Fingerprint: createHash('sha256').update(der).digest('hex').replace(/(..)(?!$)/g, '$1:').toUpperCase(),
    teleport: {
      user,
      botName,
      roles: all(subject, OID.organization),
      kubernetesUsers: all(subject, OID.kubernetesUsers),
      kubernetesGroups: all(subject, OID.kubernetesGroups),
      teleportCluster: first(subject, OID.teleportCluster) ?? first(issuer, OID.commonName),
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
