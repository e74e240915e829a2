import { describe, expect, it } from 'vitest';
import type { CommandArgs } from '../../src/cli/commands.js';
import { UsageError } from '../../src/cli/errors.js';
import { parseCheckJoinOptions, parseClusterSelectors, parseJoinOptions, parseKubeLabels, parseServiceAccount } from '../../src/join/options.js';

const args = (values: Record<string, unknown>): CommandArgs => ({ _: ['join'], ...values });
const required = { 'cluster-name': 'example.teleport.sh', proxy: 'example.teleport.sh:443' };

describe('join options', () => {
  it('applies the documented defaults', () => {
    const options = parseJoinOptions(args({ ...required, bot: 'argocd', 'join-type': 'auto', selector: ['env=prod'] }), 'argocd');
    expect(options).toMatchObject({
      clusterName: 'example.teleport.sh',
      proxy: 'example.teleport.sh:443',
      bot: 'argocd',
      role: 'argocd-kube-access',
      token: 'argocd-join',
      serviceAccount: { namespace: 'argocd', name: 'tbot' },
      joinType: 'auto',
      kubernetesGroup: 'editor',
      clusterRole: 'edit',
      kubeLabels: { '*': '*' },
      clusterSelectors: [{ labels: { env: 'prod' } }],
      impersonation: false,
      targetContexts: [],
      applyRbac: false,
      outDir: null,
      skipChecks: false,
    });
    expect(parseJoinOptions(args({ ...required, bot: 'ci', selector: ['a=b'] }), 'gitops')).toMatchObject({
      role: 'ci-kube-access',
      token: 'ci-join',
      serviceAccount: { namespace: 'gitops', name: 'tbot' },
    });
  });

  it('turns --selector and --kube-cluster into tbot cluster selectors', () => {
    expect(parseClusterSelectors(['env=prod,team=a', 'env=staging'], ['kube-1'], { '*': '*' })).toEqual([
      { labels: { env: 'prod', team: 'a' } },
      { labels: { env: 'staging' } },
      { name: 'kube-1' },
    ]);
  });

  it('falls back to exact --kube-labels as the selector, and refuses wildcards', () => {
    expect(parseClusterSelectors([], [], { env: 'prod' })).toEqual([{ labels: { env: 'prod' } }]);
    expect(() => parseClusterSelectors([], [], { '*': '*' })).toThrow(UsageError);
    expect(() => parseClusterSelectors([], [], { env: '^prod-.*$' })).toThrow(/--selector KEY=VALUE or --kube-cluster NAME/);
    expect(() => parseClusterSelectors([], [], { env: ['a', 'b'] })).toThrow(UsageError);
    expect(() => parseClusterSelectors(['env=*'], [], { env: 'prod' })).toThrow(/without wildcards/);
    expect(() => parseClusterSelectors(['env'], [], { env: 'prod' })).toThrow(/KEY=VALUE/);
  });

  it('collects repeated --kube-labels keys into a list of values', () => {
    expect(parseKubeLabels([])).toEqual({ '*': '*' });
    expect(parseKubeLabels(['env=prod', 'env=staging', 'team=a'])).toEqual({ env: ['prod', 'staging'], team: 'a' });
    expect(() => parseKubeLabels(['=x'])).toThrow(UsageError);
  });

  it('parses NS:NAME service accounts', () => {
    expect(parseServiceAccount('argocd:tbot')).toEqual({ namespace: 'argocd', name: 'tbot' });
    for (const bad of ['tbot', 'argocd:', ':tbot', 'a:b:c', 'Argo:tbot', 'argocd:T']) expect(() => parseServiceAccount(bad), bad).toThrow(UsageError);
  });

  it('rejects bad values as usage errors', () => {
    const withSelector = { ...required, selector: ['a=b'] };
    const bad: Array<Record<string, unknown>> = [
      { ...withSelector, proxy: 'example.teleport.sh' },
      { ...withSelector, proxy: 'example.teleport.sh:99999' },
      { ...withSelector, 'join-type': 'jwks' },
      { ...withSelector, bot: 'my bot' },
      { ...withSelector, 'cluster-role': 'a/b' },
      { ...withSelector, 'cluster-name': '  ' },
      { ...withSelector, 'service-account': 'tbot' },
      { ...required }, // no selector, and the default '*': '*' labels cannot be one
    ];
    for (const values of bad) expect(() => parseJoinOptions(args(values), 'argocd'), JSON.stringify(values)).toThrow(UsageError);
  });

  it('dedupes target contexts and accepts IPv6 proxies', () => {
    const options = parseJoinOptions(args({ ...required, proxy: '[::1]:3080', selector: ['a=b'], 'target-context': ['t1', 't1', 't2'] }), 'argocd');
    expect(options.targetContexts).toEqual(['t1', 't2']);
    expect(options.proxy).toBe('[::1]:3080');
  });

  it('parses check join options', () => {
    expect(parseCheckJoinOptions(args({ 'cluster-name': 'c', 'token-file': '-' }), 'argocd')).toEqual({
      clusterName: 'c',
      bot: 'argocd',
      serviceAccount: { namespace: 'argocd', name: 'tbot' },
      tokenFile: '-',
    });
  });
});
