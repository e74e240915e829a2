// The context handed to client-node as objects (src/kube/client.ts) must be what client-node
// itself makes of the same kubeconfig text: its own loadFromString is the reference.
import { KubeConfig } from '@kubernetes/client-node';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { kubeConfigForContext } from '../../src/kube/client.js';
import type { KubeCluster, KubeUser, ResolvedContext } from '../../src/kubeconfig/load.js';

const dir = mkdtempSync(path.join(tmpdir(), 'tpa-kube-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const target = path.join(dir, name);
  writeFileSync(target, text);
  return target;
}

function resolved(cluster: KubeCluster, user: KubeUser, namespace: string | null = 'argocd', userName = 'someone'): ResolvedContext {
  return { name: 'ctx', context: { cluster: 'the-cluster', user: userName }, cluster, user, clusterName: 'the-cluster', userName, namespace, source: '/kubeconfig' };
}

/** What client-node makes of the same context written as a kubeconfig. */
function reference(context: ResolvedContext): KubeConfig {
  const config = new KubeConfig();
  config.loadFromString(
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: context.clusterName, cluster: context.cluster }],
      users: [{ name: context.userName || 'user', user: context.user }],
      contexts: [{ name: context.name, context: { cluster: context.clusterName, user: context.userName || 'user', namespace: context.namespace ?? undefined } }],
      'current-context': context.name,
    }),
  );
  return config;
}

/** Fields client-node leaves undefined or null alike; compare what is set. */
function defined<T extends object>(entries: T[]): Array<Partial<T>> {
  return entries.map((entry) => Object.fromEntries(Object.entries(entry).filter(([, value]) => value !== undefined && value !== null)) as Partial<T>);
}

const b64 = (text: string): string => Buffer.from(text).toString('base64');

describe('the kubeconfig context as client-node holds it', () => {
  const cases: Array<[string, ResolvedContext]> = [
    ['inline certificate and key, CA data, SNI', resolved({ server: 'https://proxy.example.com:443/v1/teleport/YQ/Yg', 'certificate-authority-data': b64('ca'), 'tls-server-name': 'kube-teleport-proxy-alpn.example.com' }, { 'client-certificate-data': b64('cert'), 'client-key-data': b64('key') })],
    ['files, a trailing slash, no namespace', resolved({ server: 'https://10.0.0.1:6443/', 'certificate-authority': file('ca.crt', 'ca') }, { 'client-certificate': file('tls.crt', 'c'), 'client-key': file('tls.key', 'k') }, null)],
    ['a token, insecure, a proxy', resolved({ server: 'https://api.example.com', 'insecure-skip-tls-verify': true, 'proxy-url': 'http://proxy:3128' }, { token: 'abc' })],
    ['an exec plugin', resolved({ server: 'https://api.example.com' }, { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'tsh', args: ['kube', 'credentials'], env: null } })],
    ['basic auth and impersonation', resolved({ server: 'https://api.example.com' }, { username: 'admin', password: 'secret', as: 'alice' })],
    ['an auth provider', resolved({ server: 'https://api.example.com' }, { 'auth-provider': { name: 'oidc', config: { 'id-token': 'x' } } })],
    ['a context without a user', resolved({ server: 'https://api.example.com' }, {}, 'default', '')],
  ];

  it.each(cases)('%s: clusters, users, contexts and the current context as client-node reads them', (_, context) => {
    const ours = kubeConfigForContext(context);
    const theirs = reference(context);
    expect(defined(ours.clusters)).toEqual(defined(theirs.clusters));
    expect(defined(ours.users)).toEqual(defined(theirs.users));
    expect(defined(ours.contexts)).toEqual(defined(theirs.contexts));
    expect(ours.currentContext).toBe(theirs.currentContext);
  });

  it("reads kubectl's tokenFile (trimmed), which client-node does not know", () => {
    const context = resolved({ server: 'https://api.example.com' }, { tokenFile: file('token', 'from-file\n') });
    expect(kubeConfigForContext(context).getCurrentUser()?.token).toBe('from-file');
    expect(reference(context).getCurrentUser()?.token).toBeUndefined();
  });
});
