// Test PKI: certificate authorities and certificates for the stand-in API servers and
// the Teleport proxy, including Teleport's identity encoding in the subject.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as never);

type CryptoKeyPair = webcrypto.CryptoKeyPair;

const KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** Teleport's subject OIDs (lib/tlsca/ca.go). */
export const TELEPORT_OID = {
  kubernetesUsers: '1.3.9999.1.1',
  kubernetesGroups: '1.3.9999.1.2',
  kubernetesCluster: '1.3.9999.1.3',
  teleportCluster: '1.3.9999.1.7',
  botName: '1.3.9999.2.18',
  botInstanceId: '1.3.9999.2.20',
} as const;

export interface PemPair {
  certPem: string;
  keyPem: string;
}

export interface CertificateAuthority extends PemPair {
  commonName: string;
  cert: x509.X509Certificate;
  keys: CryptoKeyPair;
}

/** One relative distinguished name per entry: [oid or short name, value]. */
export type SubjectAttributes = Array<[string, string]>;

export interface IssueOptions {
  subject: SubjectAttributes;
  dnsNames?: string[];
  ipAddresses?: string[];
  notBefore?: Date;
  notAfter?: Date;
  usage?: 'server' | 'client' | 'both';
}

export interface TeleportIdentity {
  /** CN: the Teleport user, `bot-<name>` for bots. */
  user: string;
  /** O: Teleport role names. */
  roles?: string[];
  kubernetesUsers?: string[];
  kubernetesGroups?: string[];
  /** Kube cluster route built into the certificate (tsh / tctl certificates). */
  kubernetesCluster?: string;
  /** RouteToCluster (StreetAddress). */
  routeToCluster?: string;
  teleportCluster?: string;
  botName?: string;
}

function toPem(label: string, der: ArrayBuffer): string {
  const b64 = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

async function exportKeyPem(key: webcrypto.CryptoKey): Promise<string> {
  return toPem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', key));
}

function serialNumber(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(12));
  bytes[0] = bytes[0]! & 0x7f;
  return Buffer.from(bytes).toString('hex');
}

/**
 * Values as they are. @peculiar/x509 reads quotes, backslashes and a leading '#' in a plain
 * string as DN syntax, so such values go in as a UTF8String, which is also what Go picks for
 * text that is not a PrintableString.
 */
function nameOf(subject: SubjectAttributes): x509.Name {
  return new x509.Name(subject.map(([type, value]) => ({ [type]: [/["\\]|^#/.test(value) ? { utf8String: value } : value] })));
}

export async function createCA(commonName: string, lifetimeDays = 3650): Promise<CertificateAuthority> {
  const keys = (await webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
  const notBefore = new Date(Date.now() - 3600_000);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: nameOf([['CN', commonName], ['O', commonName]]),
    notBefore,
    notAfter: new Date(notBefore.getTime() + lifetimeDays * 86400_000),
    signingAlgorithm: KEY_ALGORITHM,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { commonName, cert, keys, certPem: cert.toString('pem') + '\n', keyPem: await exportKeyPem(keys.privateKey) };
}

export async function issueCertificate(ca: CertificateAuthority, options: IssueOptions): Promise<PemPair> {
  const keys = (await webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
  const notBefore = options.notBefore ?? new Date(Date.now() - 60_000);
  const notAfter = options.notAfter ?? new Date(notBefore.getTime() + 24 * 3600_000);
  const usage = options.usage ?? 'client';
  const ekus: string[] = [];
  if (usage !== 'client') ekus.push(x509.ExtendedKeyUsage.serverAuth);
  if (usage !== 'server') ekus.push(x509.ExtendedKeyUsage.clientAuth);
  const altNames: x509.JsonGeneralName[] = [
    ...(options.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(options.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
    new x509.ExtendedKeyUsageExtension(ekus, false),
    await x509.AuthorityKeyIdentifierExtension.create(ca.keys.publicKey),
  ];
  if (altNames.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(altNames, false));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: nameOf(options.subject),
    issuer: ca.cert.subjectName,
    notBefore,
    notAfter,
    signingAlgorithm: KEY_ALGORITHM,
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    extensions,
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: await exportKeyPem(keys.privateKey) };
}

/** Subject attributes in Teleport's encoding (lib/tlsca Identity.Subject). */
export function teleportSubject(identity: TeleportIdentity): SubjectAttributes {
  const subject: SubjectAttributes = [['CN', identity.user]];
  for (const role of identity.roles ?? []) subject.push(['O', role]);
  if (identity.routeToCluster) subject.push(['2.5.4.9', identity.routeToCluster]);
  for (const user of identity.kubernetesUsers ?? []) subject.push([TELEPORT_OID.kubernetesUsers, user]);
  for (const group of identity.kubernetesGroups ?? []) subject.push([TELEPORT_OID.kubernetesGroups, group]);
  if (identity.kubernetesCluster) subject.push([TELEPORT_OID.kubernetesCluster, identity.kubernetesCluster]);
  if (identity.teleportCluster) subject.push([TELEPORT_OID.teleportCluster, identity.teleportCluster]);
  if (identity.botName) subject.push([TELEPORT_OID.botName, identity.botName]);
  return subject;
}

/** A Teleport user (or bot) client certificate signed by the Teleport user CA. */
export function issueTeleportCertificate(
  userCA: CertificateAuthority,
  identity: TeleportIdentity,
  validity: { notBefore?: Date; notAfter?: Date } = {},
): Promise<PemPair> {
  return issueCertificate(userCA, { subject: teleportSubject(identity), usage: 'client', ...validity });
}

/** A serving certificate for 127.0.0.1 and the given DNS names. */
export function issueServingCertificate(ca: CertificateAuthority, commonName: string, dnsNames: string[] = []): Promise<PemPair> {
  return issueCertificate(ca, {
    subject: [['CN', commonName]],
    dnsNames: ['localhost', ...dnsNames],
    ipAddresses: ['127.0.0.1'],
    usage: 'server',
    notAfter: new Date(Date.now() + 365 * 86400_000),
  });
}
