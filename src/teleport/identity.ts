// Reads a client certificate: subject, issuer, validity, fingerprint, and the Teleport
// identity Teleport encodes in the subject (teleport.md §3).
// Plain asn1js rather than a schema library: this runs on `list`'s every start, and the
// schema libraries' decorators cost more at load than the whole parse.
import { createHash } from 'node:crypto';
import { BaseStringBlock, Constructed, fromBER, ObjectIdentifier, UTCTime, type BaseBlock } from 'asn1js';

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

type Attributes = Array<[oid: string, value: string]>;

/** The elements of a SEQUENCE or SET; throws when `block` is neither. */
function elements(block: BaseBlock | undefined, what: string): BaseBlock[] {
  if (!(block instanceof Constructed)) throw new Error(`${what} is not a SEQUENCE or SET`);
  return block.valueBlock.value;
}

/** An attribute value as text: strings as they are, anything else as RFC 4514's #hex. */
function attributeValue(value: BaseBlock | undefined): string {
  if (value instanceof BaseStringBlock) return value.getValue();
  return `#${Buffer.from(value?.toBER() ?? new ArrayBuffer(0)).toString('hex')}`;
}

/** Name ::= SEQUENCE OF SET OF AttributeTypeAndValue, flattened in order. */
function attributesOf(name: BaseBlock | undefined): Attributes {
  const attributes: Attributes = [];
  for (const rdn of elements(name, 'Name')) {
    for (const attribute of elements(rdn, 'RelativeDistinguishedName')) {
      const [type, value] = elements(attribute, 'AttributeTypeAndValue');
      if (!(type instanceof ObjectIdentifier)) throw new Error('attribute type is not an OID');
      attributes.push([type.getValue(), attributeValue(value)]);
    }
  }
  return attributes;
}

function time(block: BaseBlock | undefined, what: string): string {
  // GeneralizedTime is a UTCTime in asn1js
  if (!(block instanceof UTCTime)) throw new Error(`${what} is not a time`);
  return block.toDate().toISOString();
}

interface TbsFields {
  issuer: Attributes;
  subject: Attributes;
  notBefore: string;
  notAfter: string;
}

/** The fields we read from Certificate ::= SEQUENCE { tbsCertificate, … } (RFC 5280 §4.1). */
function tbsFields(der: Buffer): TbsFields {
  const { offset, result } = fromBER(der);
  if (offset === -1) throw new Error('not DER');
  const tbs = elements(elements(result, 'Certificate')[0], 'TBSCertificate');
  // [0] EXPLICIT version is optional (absent means v1)
  const hasVersion = tbs[0]?.idBlock.tagClass === 3 && tbs[0]?.idBlock.tagNumber === 0;
  const [, , issuer, validity, subject] = hasVersion ? tbs.slice(1) : tbs;
  const [notBefore, notAfter] = elements(validity, 'Validity');
  return { issuer: attributesOf(issuer), subject: attributesOf(subject), notBefore: time(notBefore, 'notBefore'), notAfter: time(notAfter, 'notAfter') };
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
  let fields: TbsFields;
  try {
    fields = tbsFields(der);
  } catch {
    throw new Error('certificate is not valid DER X.509');
  }
  const { subject, issuer } = fields;
  const user = first(subject, OID.commonName);
  const botName = first(subject, OID.botName);
  return {
    subject: formatName(subject),
    issuer: formatName(issuer),
    notBefore: fields.notBefore,
    notAfter: fields.notAfter,
    sha256Fingerprint: createHash('sha256').update(der).digest('hex').replace(/(..)(?!$)/g, '$1:').toUpperCase(),
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
