import { describe, expect, it } from 'vitest';
import { compileGlob, globMatch } from '../../src/util/glob.js';
import {
  accountsToCheck,
  controlPlaneAccessCheck,
  coverageChecks,
  CONTROL_PLANE_SAMPLE,
  impersonatedUser,
  impersonationCheck,
  impersonationSettings,
  matchDestinationServiceAccount,
  projectCoverage,
  projectTargetsCluster,
  projectValidityChecks,
  projectView,
  serviceAccountExistsCheck,
  serviceAccountRef,
  settingsChecks,
  validateDestinationServiceAccounts,
  type KindAnswer,
  type ProjectView,
} from '../../src/argocd/impersonation.js';

const SERVER = 'https://teleport.example.com:443/v1/teleport/ZXhhbXBsZQ/cHJvZA';
const prod = { name: 'prod', server: SERVER };

function project(name: string, entries: Array<[string, string, string]>, destinations = [{ server: '*', name: '', namespace: '*' }]): ProjectView {
  return { name, destinations, destinationServiceAccounts: entries.map(([server, namespace, defaultServiceAccount]) => ({ server, namespace, defaultServiceAccount })) };
}

describe('Argo CD globs (gobwas/glob without separators)', () => {
  const cases: Array<[pattern: string, value: string, matches: boolean]> = [
    ['*', SERVER, true],
    ['*', '', true],
    ['**', 'a/b:c', true],
    ['https://teleport.example.com:443/*', SERVER, true],
    ['https://*.example.com:443/*', SERVER, true],
    ['https://other.example.com/*', SERVER, false],
    ['a?c', 'a/c', true],
    ['a?c', 'ac', false],
    ['?', 'é', true],
    ['?', '😀', true],
    ['[abc]x', 'bx', true],
    ['[abc]x', 'dx', false],
    ['[!abc]x', 'dx', true],
    ['[!abc]x', 'ax', false],
    ['[a-c]', 'b', true],
    ['[a-c]', 'd', false],
    ['[!a-c]', 'd', true],
    // A list of characters: `-` inside it is literal.
    ['[ab-c]', '-', true],
    ['[ab-c]', 'b', true],
    ['[\\]]', ']', true],
    ['{prod,dev}-*', 'dev-eu', true],
    ['{prod,dev}-*', 'test-eu', false],
    ['{a,{b,c}}d', 'cd', true],
    ['{a,}x', 'x', true],
    // A group left open is closed at the end of the pattern.
    ['{a,b', 'b', true],
    // `}` and `,` are literal outside a group.
    ['a}', 'a}', true],
    ['a,b', 'a,b', true],
    ['\\*', '*', true],
    ['\\*', 'x', false],
    // A trailing backslash is dropped.
    ['ab\\', 'ab', true],
    ['', '', true],
    ['', 'x', false],
    ['team-a', 'team-a', true],
    ['team-a', 'team-ab', false],
    ['a.c', 'abc', false],
    ['(x)+', '(x)+', true],
  ];
  it.each(cases)('%j against %j → %s', (pattern, value, matches) => {
    expect(compileGlob(pattern)(value)).toBe(matches);
  });

  it.each(['[a-z0-9]', '[]', '[!]', '[abc', '[a-', '[a-c', '[z-a]', 'x[', '[!'])('%j does not compile', (pattern) => {
    expect(() => compileGlob(pattern)).toThrow();
    expect(globMatch(pattern, 'a')).toBe(false);
  });
});

describe('argocd-cm settings', () => {
  it('only the exact string "true" enables impersonation', () => {
    expect(impersonationSettings({ 'application.sync.impersonation.enabled': 'true' }).enabled).toBe(true);
    for (const value of ['True', 'TRUE', ' true', 'yes', '1', '']) {
      expect(impersonationSettings({ 'application.sync.impersonation.enabled': value }).enabled).toBe(false);
    }
    expect(impersonationSettings({}).enabled).toBe(false);
    expect(impersonationSettings(undefined).enabled).toBe(false);
  });

  it('enforcement is on unless the value is exactly "false"', () => {
    expect(impersonationSettings({}).enforced).toBe(true);
    expect(impersonationSettings({ 'application.sync.impersonation.enforced': 'False' }).enforced).toBe(true);
    expect(impersonationSettings({ 'application.sync.impersonation.enforced': 'false' }).enforced).toBe(false);
  });

  it('reports disabled as a fail with the patch command, and skips enforcement', () => {
    const [enabled, enforced] = settingsChecks(impersonationSettings({ 'application.sync.impersonation.enabled': 'True' }), 'argocd');
    expect(enabled).toMatchObject({ id: 'argocd.impersonation-enabled', status: 'fail' });
    expect(enabled!.message).toContain('"True"');
    expect(enabled!.message).toContain('kubectl -n argocd patch configmap argocd-cm');
    expect(enforced).toMatchObject({ id: 'argocd.impersonation-enforced', status: 'skip' });
  });

  it('warns when enforcement is switched off', () => {
    const results = settingsChecks(impersonationSettings({ 'application.sync.impersonation.enabled': 'true', 'application.sync.impersonation.enforced': 'false' }), 'argocd');
    expect(results.map((result) => result.status)).toEqual(['pass', 'warn']);
  });

  it('fails when argocd-cm is missing', () => {
    expect(settingsChecks(null, 'gitops')[0]).toMatchObject({ status: 'fail' });
    expect(settingsChecks(null, 'gitops')[0]!.message).toContain('namespace gitops');
  });
});

describe('AppProject destinationServiceAccounts', () => {
  it('reads the fields of an AppProject object, tolerating missing ones', () => {
    expect(projectView({ metadata: { name: 'p' }, spec: { destinationServiceAccounts: [{ server: '*', defaultServiceAccount: 'sa' }, 'junk'] } })).toEqual({
      name: 'p',
      destinations: [],
      destinationServiceAccounts: [{ server: '*', namespace: '', defaultServiceAccount: 'sa' }],
    });
    expect(projectView(null)).toEqual({ name: '', destinations: [], destinationServiceAccounts: [] });
  });

  it('accepts what Argo CD accepts', () => {
    expect(validateDestinationServiceAccounts(project('p', [['https://*', '*', 'deployer'], ['*', 'team-{a,b}', 'ns:sa'], ['*', '', 'x']]))).toEqual([]);
  });

  it('rejects what Argo CD rejects, naming each entry', () => {
    const problems = validateDestinationServiceAccounts(
      project('p', [
        ['!https://x', '*', 'a'],
        ['*', '!kube-system', 'a'],
        ['[a-z0-9]*', '*', 'a'],
        ['*', 'team-[', 'a'],
        ['*', 'x', '   '],
        ['*', 'y', 'team/*'],
        ['*', 'z', 'a\\b'],
        ['*', 'z', 'b'],
      ]),
    );
    expect(problems).toHaveLength(8);
    expect(problems[0]).toMatch(/^entry 1: server "!https:\/\/x" contains "!"/);
    expect(problems[1]).toMatch(/^entry 2: namespace "!kube-system" contains "!"/);
    expect(problems[2]).toMatch(/^entry 3: server "\[a-z0-9\]\*" is not a valid glob/);
    expect(problems[3]).toMatch(/^entry 4: namespace "team-\[" is not a valid glob/);
    expect(problems[4]).toBe('entry 5: defaultServiceAccount is blank');
    expect(problems[5]).toMatch(/^entry 6: defaultServiceAccount "team\/\*" contains/);
    expect(problems[6]).toMatch(/^entry 7: defaultServiceAccount/);
    expect(problems[7]).toBe('entry 8: server/namespace pair "*/z" is already used by an earlier entry');
  });

  it('reports validity per project that has entries', () => {
    const results = projectValidityChecks([project('ok', [['*', '*', 'sa']]), project('bad', [['*', '*', '']]), project('none', [])]);
    expect(results.map((result) => [result.subject, result.status])).toEqual([
      ['appproject/ok', 'pass'],
      ['appproject/bad', 'fail'],
    ]);
    expect(results[1]!.message).toContain('defaultServiceAccount is blank');
  });

  it('matches the first entry whose server and namespace both match, in list order', () => {
    const entries = project('p', [
      ['https://other/*', '*', 'other'],
      [`${SERVER.slice(0, 30)}*`, 'team-a', 'a'],
      ['*', '*', 'catch-all'],
      ['*', 'team-a', 'never'],
    ]).destinationServiceAccounts;
    expect(matchDestinationServiceAccount(entries, SERVER, 'team-a')?.entry.defaultServiceAccount).toBe('a');
    expect(matchDestinationServiceAccount(entries, SERVER, 'team-b')?.entry.defaultServiceAccount).toBe('catch-all');
    expect(matchDestinationServiceAccount(entries, SERVER, '')?.index).toBe(2);
    expect(matchDestinationServiceAccount(entries.slice(0, 2), SERVER, 'team-b')).toBeNull();
  });

  it('turns a service account into the impersonated user name', () => {
    expect(impersonatedUser('deployer', 'team-a')).toBe('system:serviceaccount:team-a:deployer');
    expect(impersonatedUser('shared:deployer', 'team-a')).toBe('system:serviceaccount:shared:deployer');
    expect(serviceAccountRef('shared:deployer', 'team-a')).toEqual({ namespace: 'shared', name: 'deployer' });
    expect(serviceAccountRef('deployer', 'team-a')).toEqual({ namespace: 'team-a', name: 'deployer' });
  });

  it('knows which projects may deploy to a cluster', () => {
    expect(projectTargetsCluster(project('p', []), prod)).toBe(true);
    expect(projectTargetsCluster(project('p', [], [{ server: '', name: 'prod', namespace: '*' }]), prod)).toBe(true);
    expect(projectTargetsCluster(project('p', [], [{ server: 'https://kubernetes.default.svc', name: '', namespace: '*' }]), prod)).toBe(false);
    expect(projectTargetsCluster(project('p', [], []), prod)).toBe(false);
  });
});

describe('coverage of a registered cluster', () => {
  it('resolves the service accounts each matching entry impersonates', () => {
    const p = project(
      'team',
      [
        ['https://elsewhere/*', '*', 'ignored'],
        ['*', 'team-a', 'deployer'],
        ['*', '', 'root-apps'],
        ['*', 'team-*', 'team-deployer'],
        ['*', '*', 'ops:syncer'],
      ],
      [
        { server: '*', name: '', namespace: 'team-a' },
        { server: '*', name: '', namespace: 'team-b' },
        { server: '*', name: '', namespace: 'team-*' },
      ],
    );
    const coverage = projectCoverage(p, prod, 'argocd');
    expect(coverage.entries.map((entry) => [entry.index, entry.user, entry.accounts])).toEqual([
      [1, 'system:serviceaccount:team-a:deployer', [{ namespace: 'team-a', name: 'deployer' }]],
      [2, 'system:serviceaccount:argocd:root-apps', [{ namespace: 'argocd', name: 'root-apps' }]],
      // team-a is taken by entry 2, so only team-b resolves here.
      [3, 'system:serviceaccount:<destination namespace>:team-deployer', [{ namespace: 'team-b', name: 'team-deployer' }]],
      [4, 'system:serviceaccount:ops:syncer', [{ namespace: 'ops', name: 'syncer' }]],
    ]);
    expect(accountsToCheck([coverage, coverage])).toHaveLength(4);
    const results = coverageChecks([coverage], prod, impersonationSettings({}));
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ id: 'appproject.coverage', subject: 'team -> prod', status: 'pass' });
    expect(results[0]!.message).toContain('namespace "team-a" → system:serviceaccount:team-a:deployer');
  });

  it('fails a project whose entries miss the server, naming Argo CD\'s error and the fix', () => {
    const coverage = projectCoverage(project('team', [['https://elsewhere/*', '*', 'sa']]), prod, 'argocd');
    const results = coverageChecks([coverage], prod, impersonationSettings({}));
    expect(results.map((result) => [result.subject, result.status])).toEqual([['team -> prod', 'fail']]);
    expect(results[0]!.message).toContain(`no matching service account found for destination server ${SERVER}`);
    expect(results[0]!.message).toContain(`argocd proj add-destination-service-account team '${SERVER}' '*' <service-account>`);
  });

  it('only warns for the miss when enforcement is off', () => {
    const coverage = projectCoverage(project('team', [['https://elsewhere/*', '*', 'sa']]), prod, 'argocd');
    const results = coverageChecks([coverage], prod, impersonationSettings({ 'application.sync.impersonation.enforced': 'false' }));
    expect(results[0]).toMatchObject({ status: 'warn' });
    expect(results[0]!.message).toContain('control-plane credential');
  });

  it('warns for a project without entries when another project covers the cluster', () => {
    const results = coverageChecks(
      [projectCoverage(project('default', []), prod, 'argocd'), projectCoverage(project('team', [['*', '*', 'sa']]), prod, 'argocd')],
      prod,
      impersonationSettings({}),
    );
    expect(results.map((result) => result.status)).toEqual(['warn', 'pass']);
  });

  it('fails a project whose matching entries are invalid, and checks no account for them', () => {
    const coverage = projectCoverage(project('team', [['*', 'team-a', 'team-a/*'], ['*', '*', 'deployer']]), prod, 'argocd');
    expect(coverage.entries.map((entry) => [entry.invalid, entry.accounts.length])).toEqual([
      [true, 0],
      [false, 0],
    ]);
    const [result] = coverageChecks([coverage], prod, impersonationSettings({}));
    expect(result).toMatchObject({ status: 'fail' });
    expect(result!.message).toContain('invalid destinationServiceAccounts entry 1 of project team matches this server');
    expect(result!.message).toContain('valid: namespace "*" → system:serviceaccount:<destination namespace>:deployer');
  });

  it('fails the cluster when only projects without entries may deploy to it', () => {
    const results = coverageChecks([projectCoverage(project('default', []), prod, 'argocd')], prod, impersonationSettings({}));
    expect(results.map((result) => [result.subject, result.status])).toEqual([
      ['default -> prod', 'warn'],
      ['prod', 'fail'],
    ]);
  });

  it('fails when no project may deploy to the cluster', () => {
    expect(coverageChecks([], prod, null)).toEqual([expect.objectContaining({ subject: 'prod', status: 'fail' })]);
  });
});

describe('entries Argo CD never picks (first match wins)', () => {
  const inCluster = { name: 'in-cluster', server: 'https://kubernetes.default.svc' };
  const shadows = (entries: Array<[string, string, string]>, cluster = prod) =>
    projectCoverage(project('p', entries), cluster, 'argocd').entries.map((entry) => entry.shadowedBy);

  // argoproj/argo-cd util/settings/impersonation_test.go (TestDeriveServiceAccountToImpersonate
  // "FirstMatchWins", TestDeriveServiceAccountToImpersonate_UsesDestinationNamespace).
  it("agrees with Argo CD's own test table", () => {
    const server = 'https://cluster-api.example.com';
    const cluster = { name: 'cluster-api', server };
    const firstMatchWins = project('p', [['*', 'dest-ns', 'first-sa'], ['*', '*', 'second-sa']]);
    expect(impersonatedUser(matchDestinationServiceAccount(firstMatchWins.destinationServiceAccounts, server, 'dest-ns')!.entry.defaultServiceAccount, 'dest-ns')).toBe('system:serviceaccount:dest-ns:first-sa');
    // second-sa still serves every other namespace.
    expect(projectCoverage(firstMatchWins, cluster, 'argocd').entries.map((entry) => entry.shadowedBy)).toEqual([null, null]);
    const perNamespace = project('p', [[server, 'primary-ns', 'primary-sa'], [server, 'other-ns', 'other-sa']]);
    const entries = perNamespace.destinationServiceAccounts;
    expect(impersonatedUser(matchDestinationServiceAccount(entries, server, 'primary-ns')!.entry.defaultServiceAccount, 'primary-ns')).toBe('system:serviceaccount:primary-ns:primary-sa');
    expect(impersonatedUser(matchDestinationServiceAccount(entries, server, 'other-ns')!.entry.defaultServiceAccount, 'other-ns')).toBe('system:serviceaccount:other-ns:other-sa');
    expect(matchDestinationServiceAccount(entries, server, 'unmatched-ns')).toBeNull();
    expect(projectCoverage(perNamespace, cluster, 'argocd').entries.map((entry) => entry.shadowedBy)).toEqual([null, null]);
  });

  // argoproj/argo-cd docs/operator-manual/app-sync-using-impersonation.md: the catch-all kept last.
  const DOCS_EXAMPLE: Array<[string, string, string]> = [
    ['https://kubernetes.default.svc', 'guestbook', 'guestbook-deployer'],
    ['https://kubernetes.default.svc', 'guestbook-dev', 'guestbook-dev-deployer'],
    ['https://kubernetes.default.svc', 'guestbook-stage', 'guestbook-stage-deployer'],
    ['https://kubernetes.default.svc', '*', 'default'],
  ];

  it("shadows nothing in Argo CD's documented example, and everything after a catch-all put first", () => {
    expect(shadows(DOCS_EXAMPLE, inCluster)).toEqual([null, null, null, null]);
    const catchAllFirst = [DOCS_EXAMPLE[3]!, ...DOCS_EXAMPLE.slice(0, 3)];
    expect(shadows(catchAllFirst, inCluster)).toEqual([null, 0, 0, 0]);
    const coverage = projectCoverage(project('guestbook', catchAllFirst, [{ server: '*', name: '', namespace: 'guestbook' }]), inCluster, 'argocd');
    // Only what Argo CD can pick is checked on the target.
    expect(accountsToCheck([coverage])).toEqual([{ namespace: 'guestbook', name: 'default' }]);
    const results = coverageChecks([coverage], inCluster, impersonationSettings({}));
    expect(results.map((result) => [result.subject, result.status])).toEqual([
      ['guestbook -> in-cluster', 'pass'],
      ['guestbook -> in-cluster', 'warn'],
      ['guestbook -> in-cluster', 'warn'],
      ['guestbook -> in-cluster', 'warn'],
    ]);
    // The coverage line lists only the entry syncs use.
    expect(results[0]!.message).toBe('syncs impersonate (first match wins): namespace "*" → system:serviceaccount:<destination namespace>:default');
    expect(results[1]!.message).toMatch(/^entry 2 \(namespace "guestbook" → system:serviceaccount:guestbook:guestbook-deployer\) is shadowed by entry 1 \(namespace "\*"\)/);
    expect(results[3]!.message).toContain('move it above entry 1');
  });

  it('judges shadowing per cluster server', () => {
    const entries: Array<[string, string, string]> = [['https://other/*', '*', 'other'], ['*', 'team-a', 'a']];
    expect(shadows(entries)).toEqual([null]);
    expect(shadows(entries, { name: 'other', server: 'https://other/x' })).toEqual([null, 0]);
  });

  it('calls an entry shadowed only when every namespace it matches is matched earlier', () => {
    expect(shadows([['*', '*', 'a'], ['*', '', 'b']])).toEqual([null, 0]);
    expect(shadows([['*', 'team-*', 'a'], ['*', 'team-a', 'b']])).toEqual([null, 0]);
    expect(shadows([['*', 'team-*', 'a'], ['*', 'team-*', 'b']])).toEqual([null, 0]);
    expect(shadows([['*', '*', 'a'], ['*', 'team-*', 'b']])).toEqual([null, 0]);
    // team-* also matches team-ab, which team-? does not: entry 2 still serves it.
    expect(shadows([['*', 'team-?', 'a'], ['*', 'team-*', 'b']])).toEqual([null, null]);
    expect(shadows([['*', 'team-a', 'a'], ['*', 'team-b', 'b'], ['*', '*', 'c']])).toEqual([null, null, null]);
    expect(shadows([['*', 'team-a', 'a'], ['*', 'team-a', 'b'], ['*', 'team-a', 'c']])).toEqual([null, 0, 0]);
  });

  it('does not fail a project for an invalid entry Argo CD never reaches', () => {
    const coverage = projectCoverage(project('team', [['*', '*', 'deployer'], ['*', 'team-a', 'team-a/*']]), prod, 'argocd');
    expect(coverageChecks([coverage], prod, impersonationSettings({})).map((result) => result.status)).toEqual(['pass', 'warn']);
  });
});

describe('target-side judgements', () => {
  const answer = (allowed: boolean) => ({ allowed });
  const wildcard = (allowed: boolean): KindAnswer[] => ['list', 'watch'].map((verb) => ({ group: '*', resource: '*', verb, answer: answer(allowed) }));
  const sample = (denied: string[] = []): KindAnswer[] =>
    CONTROL_PLANE_SAMPLE.flatMap((kind) => ['list', 'watch'].map((verb) => ({ ...kind, verb, answer: answer(!denied.includes(`${verb} ${kind.resource}`)) })));

  it('passes when everything may be listed and watched', () => {
    expect(controlPlaneAccessCheck('prod', 'bot-argocd', wildcard(true), [])).toMatchObject({ id: 'target.control-plane-access', status: 'pass' });
  });

  it('warns when common kinds are readable but not every kind', () => {
    const result = controlPlaneAccessCheck('prod', 'bot-argocd', wildcard(false), sample());
    expect(result.status).toBe('warn');
    expect(result.message).toContain('resource.respectRBAC');
  });

  it('fails when common kinds are forbidden, with the binding the guide creates', () => {
    const result = controlPlaneAccessCheck('prod', 'bot-argocd', wildcard(false), sample(['watch pods', 'list deployments']));
    expect(result.status).toBe('fail');
    expect(result.message).toContain('cannot watch pods, list deployments.apps cluster-wide');
    const none = controlPlaneAccessCheck('prod', 'bot-argocd', wildcard(false), sample(['list namespaces', 'watch namespaces', 'list pods', 'watch pods', 'list secrets']));
    expect(none.message).toContain('cannot list/watch namespaces, pods, list secrets cluster-wide');
    expect(result.message).toContain('kubectl create clusterrolebinding argocd-edit --clusterrole=edit --user=bot-argocd');
  });

  it('fails with the refusal when the review itself is refused', () => {
    const refused: KindAnswer[] = [{ group: '*', resource: '*', verb: 'list', answer: { error: 'please select a user to impersonate' } }];
    const result = controlPlaneAccessCheck('prod', 'bot-argocd', refused, []);
    expect(result.status).toBe('fail');
    expect(result.message).toContain('please select a user to impersonate');
  });

  it('judges service account existence', () => {
    const account = { namespace: 'team-a', name: 'deployer' };
    expect(serviceAccountExistsCheck('s', account, { found: true }, 'bot-argocd').status).toBe('pass');
    const missing = serviceAccountExistsCheck('s', account, { found: false }, 'bot-argocd');
    expect(missing.status).toBe('fail');
    expect(missing.message).toContain('kubectl create serviceaccount deployer -n team-a');
    const forbidden = serviceAccountExistsCheck('s', account, { error: 'forbidden', forbidden: true }, 'bot-argocd');
    expect(forbidden.status).toBe('warn');
    expect(forbidden.message).toContain('reading it as bot-argocd was refused (forbidden)');
  });

  it('judges impersonation, pointing at the Teleport role when Teleport refused', () => {
    const user = 'system:serviceaccount:team-a:deployer';
    expect(impersonationCheck('s', user, null).status).toBe('pass');
    const denied = impersonationCheck('s', user, `impersonation request has been denied, user header "${user}" is not allowed in roles`);
    expect(denied.status).toBe('fail');
    expect(denied.message).toContain("kubernetes_users: ['*']");
    expect(impersonationCheck('s', user, 'request timed out').message).not.toContain('kubernetes_users');
  });
});
