import { describe, expect, it } from 'vitest';
import {
  botUserName,
  defaultKubeUser,
  kubernetesGroupsCheck,
  kubernetesUsersCheck,
  NO_KUBE_ACCESS_ERROR,
  parseTeleportRoles,
  principalsFromRoles,
  SEVERAL_USERS_ERROR,
  teleportImpersonationDenial,
  type IdentityUnderCheck,
} from '../../src/teleport/role-rules.js';

// As `tctl get roles` prints them: a `---` stream.
const TCTL_GET_ROLES = `kind: role
metadata:
  name: argocd-kube-access
spec:
  allow:
    kubernetes_labels:
      '*': '*'
    kubernetes_users:
    - '*'
    kubernetes_resources:
    - kind: '*'
      name: '*'
      namespace: '*'
      verbs: ['*']
  deny: {}
version: v7
---
kind: role
metadata:
  name: editor-group
spec:
  allow:
    kubernetes_labels:
      env: prod
    kubernetes_groups:
    - editor
    - system:authenticated
  deny:
    kubernetes_groups:
    - denied-group
version: v7
---
kind: role
metadata:
  name: no-clusters
spec:
  allow:
    kubernetes_groups:
    - ghost
version: v7
---
kind: user
metadata:
  name: alice
spec: {}
version: v2
`;

function identity(users: string[], groups: string[] = []): IdentityUnderCheck {
  return { subject: 'prod', source: 'certificate', users, groups, teleportUser: 'bot-argocd' };
}

describe('Teleport role files', () => {
  it('reads the roles of a tctl get roles stream, skipping other kinds', () => {
    const roles = parseTeleportRoles(TCTL_GET_ROLES);
    expect(roles.map((role) => [role.name, role.allowUsers, role.allowGroups, role.grantsClusters])).toEqual([
      ['argocd-kube-access', ['*'], [], true],
      ['editor-group', [], ['editor', 'system:authenticated'], true],
      ['no-clusters', [], ['ghost'], false],
    ]);
  });

  it('reads a JSON list and a {items} list', () => {
    const role = { kind: 'role', version: 'v7', metadata: { name: 'r' }, spec: { allow: { kubernetes_labels: { '*': '*' }, kubernetes_users: ['u'] } } };
    expect(parseTeleportRoles(JSON.stringify([role]))[0]!.allowUsers).toEqual(['u']);
    expect(parseTeleportRoles(JSON.stringify({ kind: 'List', items: [role] }))[0]!.name).toBe('r');
  });

  it('defaults kubernetes_labels to everything only for role v3', () => {
    const text = (version: string) => `kind: role\nversion: ${version}\nmetadata: {name: r}\nspec: {allow: {kubernetes_users: [u]}}\n`;
    expect(parseTeleportRoles(text('v3'))[0]!.grantsClusters).toBe(true);
    expect(parseTeleportRoles(text('v6'))[0]!.grantsClusters).toBe(false);
  });

  it('refuses files without roles, naming what it found', () => {
    expect(() => parseTeleportRoles('kind: token\nmetadata: {name: t}\n')).toThrow(/no Teleport role in it \(found token\)/);
    expect(() => parseTeleportRoles('a: [')).toThrow(/not YAML/);
  });

  it('unions the named roles that grant a cluster, minus denied values', () => {
    const roles = parseTeleportRoles(TCTL_GET_ROLES);
    const principals = principalsFromRoles(roles, ['argocd-kube-access', 'editor-group', 'no-clusters', 'gone']);
    expect(principals).toEqual({
      users: ['*'],
      groups: ['editor', 'system:authenticated'],
      used: ['argocd-kube-access', 'editor-group'],
      missing: ['gone'],
      ignored: ['no-clusters'],
    });
    expect(principalsFromRoles(roles, ['argocd-kube-access']).groups).toEqual([]);
    const denying = parseTeleportRoles(`kind: role\nversion: v7\nmetadata: {name: d}\nspec: {allow: {kubernetes_labels: {'*': '*'}, kubernetes_users: [a, b]}, deny: {kubernetes_users: [b]}}\n`);
    expect(principalsFromRoles(denying, null).users).toEqual(['a']);
  });
});

describe("Teleport's user selection", () => {
  it('falls back to the bot user with a wildcard or without users', () => {
    expect(defaultKubeUser({ users: ['*', 'x'], groups: [] }, 'bot-argocd')).toEqual({ user: 'bot-argocd' });
    expect(defaultKubeUser({ users: [], groups: ['g'] }, 'bot-argocd')).toEqual({ user: 'bot-argocd' });
    expect(defaultKubeUser({ users: ['only'], groups: [] }, 'bot-argocd')).toEqual({ user: 'only' });
    expect(defaultKubeUser({ users: ['a', 'b'], groups: [] }, 'bot-argocd')).toEqual({ error: SEVERAL_USERS_ERROR });
    expect(defaultKubeUser({ users: [], groups: [] }, 'bot-argocd')).toEqual({ error: NO_KUBE_ACCESS_ERROR });
  });

  it('allows an Impersonate-User only when listed or with a wildcard', () => {
    const sa = 'system:serviceaccount:team-a:deployer';
    expect(teleportImpersonationDenial({ users: ['*'], groups: [] }, sa, 'bot-argocd')).toBeNull();
    expect(teleportImpersonationDenial({ users: [sa, 'x'], groups: [] }, sa, 'bot-argocd')).toBeNull();
    expect(teleportImpersonationDenial({ users: [], groups: ['g'] }, sa, 'bot-argocd')).toBe(
      `impersonation request has been denied, user header "${sa}" is not allowed in roles`,
    );
    expect(teleportImpersonationDenial({ users: [], groups: ['g'] }, 'bot-argocd', 'bot-argocd')).toBeNull();
  });

  it('names the bot user', () => {
    expect(botUserName({ user: 'bot-argocd', botName: 'argocd' })).toBe('bot-argocd');
    expect(botUserName({ user: 'whatever', botName: 'ci' })).toBe('bot-ci');
    expect(botUserName({ user: 'bot-x', botName: null })).toBe('bot-x');
    expect(botUserName({ user: 'alice', botName: null })).toBeNull();
  });
});

describe('kubernetes_users and kubernetes_groups checks', () => {
  it('passes a wildcard, naming the fallback user', () => {
    const result = kubernetesUsersCheck(identity(['*']));
    expect(result).toMatchObject({ id: 'teleport.kubernetes-users', subject: 'prod', status: 'pass' });
    expect(result.message).toContain('run as bot-argocd');
  });

  it("fails several literal users with Teleport's exact error", () => {
    const result = kubernetesUsersCheck(identity(['system:serviceaccount:a:x', 'system:serviceaccount:b:y']));
    expect(result.status).toBe('fail');
    expect(result.message).toContain(SEVERAL_USERS_ERROR);
    expect(result.message).toContain("kubernetes_users: ['*']");
    expect(result.message).toContain('kubectl create clusterrolebinding argocd-edit --clusterrole=edit --user=bot-argocd');
  });

  it('fails one literal user and no users', () => {
    expect(kubernetesUsersCheck(identity(['system:serviceaccount:a:x'])).status).toBe('fail');
    expect(kubernetesUsersCheck(identity([], ['editor'])).message).toContain('is empty');
    expect(kubernetesUsersCheck(identity([], [])).message).toContain(NO_KUBE_ACCESS_ERROR);
  });

  it('fails any group, explaining the lost isolation', () => {
    const result = kubernetesGroupsCheck(identity(['*'], ['editor', 'system:authenticated']));
    expect(result).toMatchObject({ id: 'teleport.kubernetes-groups', status: 'fail' });
    expect(result.message).toContain('"editor"');
    expect(result.message).not.toContain('"system:authenticated"');
    expect(result.message).toContain('project isolation is lost');
  });

  it('passes no groups (system:authenticated is added by Teleport anyway)', () => {
    expect(kubernetesGroupsCheck(identity(['*'], ['system:authenticated'])).status).toBe('pass');
  });
});
