// Dependents (product.md §5.2): which namespaces count (Argo CD's IsNamespaceEnabled), and
// which Applications target a cluster by `server` or by `name` — and how `list` shows them.
import { describe, expect, it } from 'vitest';
import {
  ApplicationIndex,
  applicationNamespaceEnabled,
  applicationRef,
  parseApplicationNamespaces,
  type ApplicationRef,
} from '../../src/argocd/applications.js';
import { auditClusterSecrets, buildClusterList, clusterColumns } from '../../src/audit/cluster-status.js';
import type { SecretObject } from '../../src/argocd/cluster-secret.js';
import { renderTable } from '../../src/cli/output.js';
import { application, argocdCmdParamsCm, declarativeClusterSecret } from '../world/fixtures/index.js';

const SERVER = 'https://example.teleport.sh:443/v1/teleport/ZXhhbXBsZS50ZWxlcG9ydC5zaA/cHJvZA';
const ref = (namespace: string, name: string, destination: { server: string } | { name: string }) =>
  applicationRef(application({ name, namespace, destination }));

describe('application.namespaces', () => {
  it('splits and trims like Argo CD, and is empty without the key or the configmap', () => {
    expect(parseApplicationNamespaces(argocdCmdParamsCm({ applicationNamespaces: ['team-*', ' apps ', '', '/^ci-[0-9]+$/'] }).data)).toEqual(['team-*', 'apps', '/^ci-[0-9]+$/']);
    expect(parseApplicationNamespaces(argocdCmdParamsCm().data)).toEqual([]);
    expect(parseApplicationNamespaces(undefined)).toEqual([]);
  });

  it.each([
    ['argocd', [], true],
    ['team-a', [], false],
    ['team-a', ['team-*'], true],
    ['team-a', ['team-b', 'apps'], false],
    ['apps', ['team-b', 'apps'], true],
    ['anything', ['*'], true],
    ['ci-42', ['/^ci-[0-9]+$/'], true],
    ['ci-x', ['/^ci-[0-9]+$/'], false],
    // unanchored, as regexp2's MatchString
    ['my-ci-7-ns', ['/ci-[0-9]/'], true],
    // a regexp that does not compile matches nothing; a glob that does not compile neither
    ['x', ['/(/'], false],
    ['x', ['[x'], false],
    ['team-b', ['team-{a,b}'], true],
  ] as const)('namespace %s with %j → %s', (namespace, patterns, enabled) => {
    expect(applicationNamespaceEnabled(namespace, 'argocd', patterns)).toBe(enabled);
  });
});

describe('ApplicationIndex', () => {
  const apps: ApplicationRef[] = [
    ref('argocd', 'guestbook', { server: SERVER }),
    ref('team-a', 'billing', { name: 'example.teleport.sh-prod' }),
    ref('argocd', 'slash', { server: `${SERVER}/` }),
    ref('argocd', 'elsewhere', { server: 'https://kubernetes.default.svc' }),
    applicationRef({ metadata: { namespace: 'argocd', name: 'broken' }, spec: { destination: 'not an object' } }),
  ];
  const index = new ApplicationIndex(apps);

  it('finds Applications by server (trailing slash ignored) or by name, once each, sorted', () => {
    expect(index.targeting({ server: SERVER, name: 'example.teleport.sh-prod' })).toEqual(['argocd/guestbook', 'argocd/slash', 'team-a/billing']);
    expect(index.targeting({ server: SERVER, name: null })).toEqual(['argocd/guestbook', 'argocd/slash']);
    expect(index.targeting({ server: null, name: 'example.teleport.sh-prod' })).toEqual(['team-a/billing']);
    expect(index.targeting({ server: 'https://other:443', name: 'other' })).toEqual([]);
  });

  it('reads a malformed Application as targeting nothing', () => {
    expect(apps.at(-1)).toEqual({ namespace: 'argocd', name: 'broken', destinationServer: null, destinationName: null });
  });
});

describe('dependents in list rows', () => {
  const secret = declarativeClusterSecret({ secretName: 'prod', server: SERVER, name: 'example.teleport.sh-prod', config: {} }) as SecretObject;
  const audit = (applications: ApplicationRef[] | null) =>
    auditClusterSecrets([secret], { now: new Date(), staleAfterMs: 3_600_000, expiringWithinMs: 600_000, applications });

  it('lists them in applications[] and counts them in the wide APPS column', () => {
    const [row] = audit([ref('team-a', 'billing', { name: 'example.teleport.sh-prod' }), ref('argocd', 'guestbook', { server: SERVER })]);
    expect(buildClusterList([row!]).items[0]!.applications).toEqual(['argocd/guestbook', 'team-a/billing']);
    const wide = renderTable([row!.item], clusterColumns(new Date(), false), { wide: true }).split('\n');
    expect(wide[0]).toMatch(/\s{3,}APPS$/);
    expect(wide[1]).toMatch(/\s{3,}2$/);
    expect(renderTable([row!.item], clusterColumns(new Date(), false))).not.toContain('APPS');
  });

  it('is [] and 0 when nothing targets the cluster, null and <unknown> when Applications could not be read', () => {
    const [none] = audit([]);
    expect(none!.item.applications).toEqual([]);
    expect(renderTable([none!.item], clusterColumns(new Date(), false), { wide: true, noHeaders: true })).toMatch(/\s{3,}0\n$/);
    const [unknown] = audit(null);
    expect(unknown!.item.applications).toBeNull();
    expect(renderTable([unknown!.item], clusterColumns(new Date(), false), { wide: true, noHeaders: true })).toMatch(/\s{3,}<unknown>\n$/);
  });
});
