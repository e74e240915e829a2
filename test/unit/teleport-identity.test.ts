// Which Teleport cluster a certificate reaches (product.md §3 rule 3): RouteToCluster (the
// subject's street address), else OID 1.3.9999.1.7, else the issuer CN.
import 'reflect-metadata'; // @peculiar/x509 needs it loaded first
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as x509 from '@peculiar/x509';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { summarizeCertificate } from '../../src/teleport/identity.js';
import { createCA, issueTeleportCertificate, type CertificateAuthority } from '../world/pki.js';

// A real tbot certificate: gravitational/teleport
// lib/tbot/services/k8s/testdata/TestKubernetesOutputService_render/exec_plugin_disabled/kubeconfig.yaml.golden
// @ 0a870bdee2815465ea982eabf84c093af1103ac5 (tbot's v1 `kubernetes` output, copied verbatim).
// Its subject routes to tele.blackmesa.gov (street address) while its issuer is the test CA.
const TBOT_V1_GOLDEN = new URL('../fixtures/tbot-kubernetes-v1/exec_plugin_disabled.kubeconfig.yaml.golden', import.meta.url);
const goldenUser = (parseYaml(readFileSync(TBOT_V1_GOLDEN, 'utf8')) as { users: Array<{ user: Record<string, string> }> }).users[0]!.user;
const TBOT_V1_CERT = Buffer.from(goldenUser['client-certificate-data']!, 'base64').toString('utf8');

let rootCA: CertificateAuthority;

beforeAll(async () => {
  rootCA = await createCA('root.example.com');
});

describe('the Teleport cluster of a certificate', () => {
  it("is tbot's RouteToCluster, not its issuer (upstream golden)", () => {
    const summary = summarizeCertificate(TBOT_V1_CERT);
    expect(summary.issuer).toBe('O=Teleport OSS, CN=teleport.localhost.localdomain');
    expect(summary.teleport).toEqual({
      user: 'bot-test',
      botName: null,
      roles: [],
      kubernetesUsers: ['foo'],
      kubernetesGroups: ['bar'],
      teleportCluster: 'tele.blackmesa.gov',
      kubernetesCluster: 'example',
    });
  });

  it('is the leaf a leaf-routed certificate routes to, then the origin OID, then the issuer CN', async () => {
    const identity = { user: 'alice', roles: ['access'], kubernetesCluster: 'prod' };
    const leafRouted = await issueTeleportCertificate(rootCA, { ...identity, routeToCluster: 'leaf.example.com', teleportCluster: 'root.example.com' });
    const fromOrigin = await issueTeleportCertificate(rootCA, { ...identity, teleportCluster: 'origin.example.com' });
    const issuerOnly = await issueTeleportCertificate(rootCA, identity);
    expect(summarizeCertificate(leafRouted.certPem).teleport.teleportCluster).toBe('leaf.example.com');
    expect(summarizeCertificate(fromOrigin.certPem).teleport.teleportCluster).toBe('origin.example.com');
    expect(summarizeCertificate(issuerOnly.certPem).teleport.teleportCluster).toBe('root.example.com');
  });
});

describe('the certificate reader', () => {
  // Seeded, so a failure can be replayed.
  function randomText(seed: number): string {
    // RFC 2253's special characters, control characters and multi-byte UTF-8 among plain text.
    const alphabet = ['a', 'Z', '0', '-', '.', ' ', 'é', 'ß', '日', '本', '🚀', ',', '=', '+', ' + ', '"', '\\', '<', '>', ';', '#', '\n', '\t', '\u0001'];
    let state = seed;
    const next = (): number => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) >>> 16;
    return Array.from({ length: 1 + (next() % 24) }, () => alphabet[next() % alphabet.length]).join('');
  }

  it('reads what two independent X.509 readers read (Node/OpenSSL and @peculiar/x509)', async () => {
    for (let seed = 1; seed <= 24; seed += 1) {
      const list = (count: number, salt: number): string[] => Array.from({ length: count }, (_, index) => randomText(seed * 100 + salt * 10 + index));
      const notBefore = new Date(Date.UTC(2000 + (seed % 60), seed % 12, 1 + (seed % 27), seed % 24, seed % 60, seed % 60));
      const certificate = await issueTeleportCertificate(
        rootCA,
        {
          user: randomText(seed),
          roles: list(seed % 3, 1),
          kubernetesUsers: list(seed % 4, 2),
          kubernetesGroups: list((seed + 1) % 3, 3),
          ...(seed % 2 ? { kubernetesCluster: randomText(seed + 7) } : {}),
          ...(seed % 3 ? { routeToCluster: randomText(seed + 8) } : {}),
          ...(seed % 5 ? { teleportCluster: randomText(seed + 9) } : {}),
          ...(seed % 4 ? { botName: randomText(seed + 10) } : {}),
        },
        // UTCTime before 2050, GeneralizedTime after
        { notBefore, notAfter: new Date(notBefore.getTime() + (seed % 2 ? 40 : 1) * 365 * 86400_000) },
      );
      const ours = summarizeCertificate(certificate.certPem);
      const node = new X509Certificate(certificate.certPem);
      const peculiar = new x509.X509Certificate(certificate.certPem);
      const field = (oid: string): string[] => peculiar.subjectName.getField(oid);
      expect(ours.notBefore).toBe(node.validFromDate.toISOString());
      expect(ours.notAfter).toBe(node.validToDate.toISOString());
      expect(ours.sha256Fingerprint).toBe(node.fingerprint256);
      expect(ours.teleport).toEqual({
        user: field('2.5.4.3')[0] ?? null,
        botName: field('1.3.9999.2.18')[0] ?? null,
        roles: field('2.5.4.10'),
        kubernetesUsers: field('1.3.9999.1.1'),
        kubernetesGroups: field('1.3.9999.1.2'),
        teleportCluster: field('2.5.4.9')[0] || field('1.3.9999.1.7')[0] || peculiar.issuerName.getField('2.5.4.3')[0] || null,
        kubernetesCluster: field('1.3.9999.1.3')[0] ?? null,
      });
    }
  });

  it('refuses what is not a DER certificate', () => {
    const pem = (der: Buffer): string => `-----BEGIN CERTIFICATE-----\n${der.toString('base64')}\n-----END CERTIFICATE-----\n`;
    expect(() => summarizeCertificate(pem(Buffer.from('not a certificate')))).toThrow('certificate is not valid DER X.509');
    expect(() => summarizeCertificate(pem(Buffer.from([0x30, 0x03, 0x02, 0x01, 0x01])))).toThrow('certificate is not valid DER X.509');
  });
});
