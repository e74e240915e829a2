// `.Labels` come from `tsh kube ls --format=json`, run like the context's own tsh.
import { describe, expect, it } from 'vitest';
import type { CredentialSource, TeleportContext } from '../../src/kubeconfig/teleport-contexts.js';
import { parseKubeClusterListing, tshKubeLsCommand } from '../../src/teleport/kube-labels.js';

function context(credentials: CredentialSource, teleportCluster = 'leaf.example.com'): TeleportContext {
  return {
    contextName: `${teleportCluster}-prod-eu`,
    route: { teleportCluster, kubeCluster: 'prod-eu' },
    detectedBy: 'exec-args',
    proxyBase: 'https://root.example.com:443',
    serverName: 'kube-teleport-proxy-alpn.root.example.com',
    caPem: 'CA',
    credentials,
    source: '/kubeconfig',
  };
}

describe('tshKubeLsCommand', () => {
  it('lists the route’s Teleport cluster with the same tsh, environment and profile flags', () => {
    const env = [{ name: 'TELEPORT_HOME', value: '/home/alice/.tsh' }];
    const exec = {
      command: '/opt/teleport/bin/tsh',
      args: ['kube', 'credentials', '--kube-cluster=prod-eu', '--teleport-cluster=leaf.example.com', '--proxy', 'root.example.com:443', '--user=alice', '--insecure'],
      env,
      installHint: 'install tsh',
    };
    expect(tshKubeLsCommand(context({ kind: 'exec', exec }))).toEqual({
      command: '/opt/teleport/bin/tsh',
      args: ['kube', 'ls', '--format=json', '--cluster=leaf.example.com', '--proxy=root.example.com:443', '--user=alice', '--insecure'],
      env,
      installHint: 'install tsh',
    });
    const minimal = { command: 'tsh.exe', args: ['kube', 'credentials', '--kube-cluster=prod-eu'] };
    expect(tshKubeLsCommand(context({ kind: 'exec', exec: minimal }, 'root.example.com'))).toEqual({
      command: 'tsh.exe',
      args: ['kube', 'ls', '--format=json', '--cluster=root.example.com'],
      env: null,
      installHint: undefined,
    });
  });

  it('has nothing to run for tbot and static credentials', () => {
    expect(tshKubeLsCommand(context({ kind: 'exec', exec: { command: '/usr/local/bin/tbot', args: ['kube', 'credentials', '--destination-dir=/d'] } }))).toBeNull();
    expect(tshKubeLsCommand(context({ kind: 'static', certPem: 'C', keyPem: 'K' }))).toBeNull();
    expect(tshKubeLsCommand(context({ kind: 'missing', reason: 'no key' }))).toBeNull();
  });
});

describe('parseKubeClusterListing', () => {
  it('reads what tsh prints, null labels as none', () => {
    const stdout = `${JSON.stringify(
      [
        { kube_cluster_name: 'prod-eu', labels: { env: 'prod', region: 'eu' }, selected: true },
        { kube_cluster_name: 'staging', labels: null, selected: false },
      ],
      null,
      2,
    )}\n`;
    const listing = parseKubeClusterListing(stdout, '"tsh kube ls"');
    expect([...listing]).toEqual([
      ['prod-eu', { env: 'prod', region: 'eu' }],
      ['staging', {}],
    ]);
    expect(parseKubeClusterListing('[]\n', '"tsh kube ls"').size).toBe(0);
  });

  it.each([['not json'], ['{}'], ['[{"labels":null}]'], ['[{"kube_cluster_name":"a","labels":{"x":1}}]'], ['[{"kube_cluster_name":"a","labels":["x"]}]']])(
    'rejects %s, naming the command',
    (stdout) => {
      expect(() => parseKubeClusterListing(stdout, '"tsh kube ls --format=json --cluster=x"')).toThrow(
        '"tsh kube ls --format=json --cluster=x" did not print a kube cluster list',
      );
    },
  );
});
