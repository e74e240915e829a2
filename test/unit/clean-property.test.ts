// Clean safety as a property: thousands of random namespaces (secrets of tbot, of sync and
// sync --watch, of `argocd cluster add`, by hand, broken ones, look-alikes, non-Teleport
// servers; valid, expiring and expired certificates; fresh, old and unknown update times)
// with random Applications (by server or name, in enabled namespaces or not, or unreadable)
// and random flags. Whatever the mix, planClean may only plan a delete for a dead
// registration — owned by tbot or us (as --owner allows), Teleport-routed, not broken,
// certificate expired, and not refreshed within its writer's rule — that the GLOB selects
// and that no Application targets (unless --include-targeted); it refuses when
// Applications are unknown; it must also find every such secret (so the property is not
// vacuous). And the judgement at delete time (stillDead) agrees for a changed secret.
// The facts are recorded by the generator, not read back through src: an independent oracle.
// A seeded generator makes every failure reproducible: the message names the seed.
import { beforeAll, describe, expect, it } from 'vitest';
import type { ApplicationRef } from '../../src/argocd/applications.js';
import { ANNOTATION, MANAGED_BY_LABEL, renderClusterSecret, type SecretObject } from '../../src/argocd/cluster-secret.js';
import { CLEAN_OWNERS, planClean, stillDead, type CleanOwner, type CleanRules } from '../../src/clean/plan.js';
import { routedServerUrl } from '../../src/teleport/routing.js';
import { argocdClusterAddSecret, declarativeClusterSecret, tbotClusterSecret } from '../world/fixtures/index.js';
import { createCA, issueTeleportCertificate, type PemPair } from '../world/pki.js';
import { seeded, type Random } from '../support/random.js';

const ITERATIONS = 1500;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const TELEPORT = 'example.teleport.sh';
const PROXY_ADDR = 'teleport.example.com:443';
const PROXY = `https://${PROXY_ADDR}`;
const NOW = new Date();
const AGES = [5 * MINUTE, 40 * MINUTE, 2 * HOUR, 5 * HOUR];
const STALE_AFTER = [30 * MINUTE, HOUR, 3 * HOUR];
const INTERVALS: Array<[string, number]> = [['1m', MINUTE], ['5m', 5 * MINUTE], ['20m', 20 * MINUTE]];
const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

type CertKind = 'valid' | 'expiring' | 'expired';
let certificates: Record<CertKind, PemPair>;
let caPem: string;

beforeAll(async () => {
  const ca = await createCA(TELEPORT);
  caPem = ca.certPem;
  const identity = { user: 'bot-argocd', roles: ['bot-argocd'], botName: 'argocd' };
  const at = (offset: number) => new Date(NOW.getTime() + offset);
  const [valid, expiring, expired] = await Promise.all([
    issueTeleportCertificate(ca, identity, { notBefore: at(-HOUR), notAfter: at(HOUR) }),
    issueTeleportCertificate(ca, identity, { notBefore: at(-HOUR), notAfter: at(5 * MINUTE) }),
    issueTeleportCertificate(ca, identity, { notBefore: at(-5 * HOUR), notAfter: at(-3 * HOUR) }),
  ]);
  certificates = { valid, expiring, expired };
});

/** What the generator knows about a secret it wrote: the oracle's inputs. */
interface Facts {
  secret: SecretObject;
  kube: string;
  argoName: string;
  server: string;
  owner: 'tbot' | 'kubectl-teleport-argocd' | 'argocd' | 'unknown';
  routed: boolean;
  broken: boolean;
  cert: CertKind;
  /** Age of teleport.dev/updated; null when missing or unparsable. */
  ageMs: number | null;
  /** sync --watch refresh interval. */
  intervalMs: number | null;
}

function ours(kube: string, cert: PemPair, updated: Date, refreshInterval?: string): SecretObject {
  return renderClusterSecret({
    namespace: 'argocd',
    prefix: 'teleport.argocd-cluster',
    nameTemplate: '{{.ClusterName}}-{{.KubeName}}',
    route: { teleportCluster: TELEPORT, kubeCluster: kube },
    proxyBase: PROXY,
    credentials: { caPem, certPem: cert.certPem, keyPem: cert.keyPem, serverName: 'kube-teleport-proxy-alpn.teleport.example.com' },
    botName: 'argocd',
    updated,
    refreshInterval,
  });
}

function tbot(kube: string, cert: PemPair, updated: Date | string): SecretObject {
  return tbotClusterSecret({ teleportCluster: TELEPORT, kubeCluster: kube, proxyAddr: PROXY_ADDR, caPem, certPem: cert.certPem, keyPem: cert.keyPem, botName: 'argocd', updated }) as SecretObject;
}

const tlsConfig = (cert: PemPair, keyPem = cert.keyPem) => ({ tlsClientConfig: { caData: b64(caPem), certData: b64(cert.certPem), keyData: b64(keyPem) } });

function randomSecret(w: Random, index: number): Facts {
  const kube = `kube-${index}`;
  const cert = w.pick(['valid', 'expiring', 'expired', 'expired', 'expired'] as const);
  const pair = certificates[cert];
  const age = w.pick(AGES);
  const updated = new Date(NOW.getTime() - age);
  const server = routedServerUrl(PROXY, { teleportCluster: TELEPORT, kubeCluster: kube });
  const argoName = `${TELEPORT}-${kube}`;
  const base = { kube, argoName, server, routed: true, broken: false, cert, ageMs: age as number | null, intervalMs: null as number | null };
  switch (w.pick(['tbot', 'tbot', 'watch', 'watch', 'one-shot', 'argocd', 'hand', 'broken', 'lookalike', 'unrouted', 'no-updated'] as const)) {
    case 'tbot':
      return { ...base, secret: tbot(kube, pair, updated), owner: 'tbot' };
    case 'watch': {
      const [interval, intervalMs] = w.pick(INTERVALS);
      return { ...base, secret: ours(kube, pair, updated, interval), owner: 'kubectl-teleport-argocd', intervalMs };
    }
    case 'one-shot':
      return { ...base, secret: ours(kube, pair, updated), owner: 'kubectl-teleport-argocd' };
    case 'argocd':
      return { ...base, secret: argocdClusterAddSecret({ server, name: argoName, certPem: pair.certPem, keyPem: pair.keyPem, caPem }) as SecretObject, owner: 'argocd' };
    case 'hand':
      return {
        ...base,
        secret: declarativeClusterSecret({ secretName: `hand-${index}`, server, name: argoName, config: tlsConfig(pair), annotations: { [ANNOTATION.updated]: updated.toISOString() } }) as SecretObject,
        owner: 'unknown',
      };
    case 'broken': {
      // Dead in every other way, but its config is garbled or its key belongs to another certificate.
      const secret = tbot(kube, pair, updated);
      const other = certificates[cert === 'valid' ? 'expired' : 'valid'];
      secret.data!.config = b64(w.chance(0.5) ? '{"tlsClientConfig":' : JSON.stringify(tlsConfig(pair, other.keyPem)));
      return { ...base, secret, owner: 'tbot', broken: true };
    }
    case 'lookalike': {
      // Our name and prefix, but a managed-by label that is not ours: written by someone else.
      const secret = ours(kube, pair, updated, '5m');
      secret.metadata.labels = { ...secret.metadata.labels, [MANAGED_BY_LABEL]: w.pick(['Kubectl-Teleport-Argocd', 'helm', '']) };
      return { ...base, secret, owner: 'unknown', intervalMs: null };
    }
    case 'unrouted': {
      const secret = tbot(kube, pair, updated);
      const plain = `https://${kube}.example.com:6443`;
      secret.data!.server = b64(plain);
      return { ...base, secret, owner: 'tbot', server: plain, routed: false };
    }
    case 'no-updated': {
      const secret = tbot(kube, pair, w.chance(0.5) ? 'yesterday' : updated);
      if (secret.metadata.annotations![ANNOTATION.updated] !== 'yesterday') delete secret.metadata.annotations![ANNOTATION.updated];
      return { ...base, secret, owner: 'tbot', ageMs: null };
    }
  }
}

function randomApplications(w: Random, facts: Facts[]): ApplicationRef[] {
  const apps: ApplicationRef[] = [];
  const count = Math.floor(w.random() * 7);
  for (let index = 0; index < count; index += 1) {
    const target = facts.length > 0 && w.chance(0.85) ? w.pick(facts) : null;
    const byServer = w.chance(0.5);
    apps.push({
      // The reader already dropped namespaces Argo CD does not reconcile; targets are by server or name.
      namespace: w.pick(['argocd', 'team-a']),
      name: `app-${index}`,
      destinationServer: byServer ? (target ? `${target.server}${w.chance(0.2) ? '/' : ''}` : 'https://elsewhere:443') : null,
      destinationName: byServer ? null : (target?.argoName ?? 'elsewhere'),
    });
  }
  return apps;
}

/** The oracle: is this a dead registration, by the facts the generator recorded? */
function dead(facts: Facts, rules: CleanRules): boolean {
  if (facts.owner !== 'tbot' && facts.owner !== 'kubectl-teleport-argocd') return false;
  if (!rules.owners.has(facts.owner) || !facts.routed || facts.broken || facts.cert !== 'expired' || facts.ageMs === null) return false;
  // tbot and one-shot syncs: --stale-after; sync --watch: three of its refresh intervals (§5.6)
  const limit = facts.intervalMs === null ? rules.staleAfterMs : 3 * facts.intervalMs;
  return facts.ageMs > limit;
}

function targeted(facts: Facts, apps: readonly ApplicationRef[]): string[] {
  return apps
    .filter((app) => app.destinationName === facts.argoName || app.destinationServer?.replace(/\/$/, '') === facts.server)
    .map((app) => `${app.namespace}/${app.name}`)
    .sort();
}

function scenario(seed: number) {
  const w = seeded(seed);
  const facts: Facts[] = [];
  const count = Math.floor(w.random() * 12);
  for (let index = 0; index < count; index += 1) facts.push(randomSecret(w, index));
  const apps = randomApplications(w, facts);
  const selectedKubes = w.chance(0.3) ? new Set(facts.filter(() => w.chance(0.6)).map((fact) => fact.kube)) : null;
  const owners = new Set<CleanOwner>(w.chance(0.6) ? CLEAN_OWNERS : [w.pick(CLEAN_OWNERS)]);
  const rules: CleanRules = {
    now: NOW,
    staleAfterMs: w.pick(STALE_AFTER),
    owners,
    selects: (names) => selectedKubes === null || names.some((name) => name !== null && (selectedKubes.has(name) || selectedKubes.has(name.replace(`${TELEPORT}-`, '')))),
    includeTargeted: w.chance(0.3),
    applications: w.chance(0.1) ? { applications: null, reason: 'forbidden' } : { applications: apps },
  };
  return { w, facts, apps, rules, selectedKubes, plan: planClean(facts.map((fact) => fact.secret), rules) };
}

describe('clean safety (property: random namespaces, Applications and flags)', () => {
  it(`plans exactly the dead registrations, for ${ITERATIONS} seeded scenarios`, () => {
    let deletes = 0;
    let skippedTargeted = 0;
    let refusals = 0;
    for (let seed = 1; seed <= ITERATIONS; seed += 1) {
      const { facts, apps, rules, selectedKubes, plan } = scenario(seed);
      const where = `seed ${seed}`;
      const factsByName = new Map(facts.map((fact) => [fact.secret.metadata.name, fact]));
      const unknownApps = rules.applications.applications === null;

      for (const item of plan.items) {
        const fact = factsByName.get(item.secret.metadata.name);
        expect(fact, `${where}: planned ${item.secret.metadata.name}, which was not listed`).toBeDefined();
        expect(item.secret, `${where}: the plan carries the listed object (its resourceVersion)`).toBe(fact!.secret);
        expect(dead(fact!, rules), `${where}: planned ${fact!.kube} (${fact!.owner}, ${fact!.cert}), which is not a dead registration`).toBe(true);
        expect(selectedKubes === null || selectedKubes.has(fact!.kube), `${where}: planned ${fact!.kube} outside the GLOB`).toBe(true);
        const targets = unknownApps ? null : targeted(fact!, apps);
        expect(item.item.applications, `${where}: applications[] of ${fact!.kube}`).toEqual(targets);
        if (item.action === 'delete' && !rules.includeTargeted) expect(targets, `${where}: deletes ${fact!.kube}, still targeted`).toEqual(unknownApps ? null : []);
        if (item.action === 'skip') expect(targets!.length > 0 && !rules.includeTargeted, `${where}: skipped ${fact!.kube}`).toBe(true);
      }
      // Unknown Applications and no --include-targeted: nothing may be deleted.
      const planned = plan.items.filter((item) => item.action === 'delete');
      if (unknownApps && !rules.includeTargeted) expect(planned.length === 0 || plan.refusal !== null, `${where}: deletes without knowing the Applications`).toBe(true);
      else expect(plan.refusal, `${where}: refused`).toBeNull();

      // Completeness: every dead registration the GLOB selects is planned.
      const expected = facts.filter((fact) => dead(fact, rules) && (selectedKubes === null || selectedKubes.has(fact.kube)));
      expect(plan.items.map((item) => item.secret.metadata.name).sort(), `${where}: planned`).toEqual(expected.map((fact) => fact.secret.metadata.name).sort());

      deletes += plan.refusal === null ? planned.length : 0;
      skippedTargeted += plan.items.filter((item) => item.action === 'skip').length;
      if (plan.refusal !== null) refusals += 1;
    }
    // The generator reaches every case the property is about.
    expect(deletes).toBeGreaterThan(ITERATIONS / 3);
    expect(skippedTargeted).toBeGreaterThan(100);
    expect(refusals).toBeGreaterThan(20);
  });

  it('judges a secret that changed between the LIST and the DELETE again, by the same rules', () => {
    let renewed = 0;
    let touched = 0;
    for (let seed = 1; seed <= 400; seed += 1) {
      const { w, facts, rules, plan } = scenario(seed);
      for (const item of plan.items.filter((planned) => planned.action === 'delete')) {
        const fact = facts.find((candidate) => candidate.secret === item.secret)!;
        const where = `seed ${seed}, ${fact.kube}`;
        if (w.chance(0.5)) {
          // Its writer refreshed it: a new certificate and a new update time.
          const live = fact.owner === 'tbot' ? tbot(fact.kube, certificates.valid, NOW) : ours(fact.kube, certificates.valid, NOW, '5m');
          expect(stillDead(live, rules), `${where}: renewed`).not.toBeNull();
          renewed += 1;
        } else {
          // Someone added a label: still the same dead registration.
          const live = structuredClone(fact.secret);
          live.metadata.labels = { ...live.metadata.labels, touched: 'yes' };
          expect(stillDead(live, rules), `${where}: touched`).toBeNull();
          touched += 1;
        }
      }
    }
    expect(renewed).toBeGreaterThan(20);
    expect(touched).toBeGreaterThan(20);
  });
});
