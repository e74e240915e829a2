// Reads Teleport's identity encoding back out of an X.509 client certificate (lib/tlsca
// FromSubject): CN user, O roles, StreetAddress route-to-cluster and the 1.3.9999 OIDs.
import * as x509 from '@peculiar/x509';
import { TELEPORT_OID } from '../pki.js';

const STREET_ADDRESS_OID = '2.5.4.9';

export interface ParsedTeleportIdentity {
  user: string;
  roles: string[];
  kubernetesUsers: string[];
  kubernetesGroups: string[];
  /** Kube cluster route (1.3.9999.1.3), '' when absent. */
  kubernetesCluster: string;
  /** RouteToCluster (StreetAddress), '' when absent. */
  routeToCluster: string;
  /** Teleport cluster the identity came from (1.3.9999.1.7), '' when absent. */
  teleportCluster: string;
  /** Bot name (1.3.9999.2.18), '' when not a bot. */
  botName: string;
  /** Issuer CN: the root Teleport cluster name. */
  issuerCommonName: string;
  notBefore: Date;
  notAfter: Date;
  serialNumber: string;
}

function first(name: x509.Name, oid: string): string {
  return name.getField(oid)[0] ?? '';
}

/** Parses a DER buffer or PEM text. */
export function parseTeleportIdentity(certificate: Buffer | string): ParsedTeleportIdentity {
  const cert =
    typeof certificate === 'string'
      ? new x509.X509Certificate(certificate)
      : new x509.X509Certificate(new Uint8Array(certificate));
  const subject = cert.subjectName;
  return {
    user: first(subject, 'CN'),
    roles: subject.getField('O'),
    kubernetesUsers: subject.getField(TELEPORT_OID.kubernetesUsers),
    kubernetesGroups: subject.getField(TELEPORT_OID.kubernetesGroups),
    kubernetesCluster: first(subject, TELEPORT_OID.kubernetesCluster),
    routeToCluster: first(subject, STREET_ADDRESS_OID),
    teleportCluster: first(subject, TELEPORT_OID.teleportCluster),
    botName: first(subject, TELEPORT_OID.botName),
    issuerCommonName: first(cert.issuerName, 'CN'),
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    serialNumber: cert.serialNumber,
  };
}
