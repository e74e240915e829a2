// The proxy stand-in's pure decision functions (no network).
import { describe, expect, it } from 'vitest';
import {
  SEVERAL_USERS_MESSAGE,
  TeleportProxyError,
  allowedKubePrincipals,
  canonicalHeaderName,
  computeImpersonation,
  matchKubernetesLabels,
  parsePathRoute,
  parseTeleportIdentity,
} from '../world/teleport-proxy/index.js';
import { createCA, issueTeleportCertificate } from '../world/pki.js';

function errorOf(fn: () => unknown): TeleportProxyError {
  try {
    fn();
  } catch (err) {
    if (err instanceof TeleportProxyError) return err;
    throw err;
  }
  throw new Error('expected a TeleportProxyError');
}

describe('parsePathRoute', () => {
  it('decodes both names and keeps the rest of the path', () => {
    expect(parsePathRoute('/v1/teleport/dHAxLmZsb3BweS5jbw/Ym94b2ZyYWQ1/api/v1/pods')).toEqual({
      teleportCluster: 'tp1.floppy.co',
      kubeCluster: 'boxofrad5',
      rest: '/api/v1/pods',
    });
    expect(parsePathRoute('/v1/teleport/cm9vdA/YQ')?.rest).toBe('/');
    expect(parsePathRoute('/api/v1/pods')).toBeNull();
  });
});

describe('matchKubernetesLabels', () => {
  it('follows Teleport label selector rules', () => {
    const labels = { env: 'prod', region: 'eu-west-1' };
    expect(matchKubernetesLabels({ '*': '*' }, labels)).toBe(true);
    expect(matchKubernetesLabels({ '*': '*' }, {})).toBe(true);
    expect(matchKubernetesLabels(undefined, labels)).toBe(false);
    expect(matchKubernetesLabels({}, labels)).toBe(false);
    expect(matchKubernetesLabels({ env: 'prod' }, labels)).toBe(true);
    expect(matchKubernetesLabels({ env: ['dev', 'prod'], region: 'eu-*' }, labels)).toBe(true);
    expect(matchKubernetesLabels({ env: 'prod', region: '^us-.*$' }, labels)).toBe(false);
    expect(matchKubernetesLabels({ team: '*' }, labels)).toBe(false);
  });
});

describe('allowedKubePrincipals', () => {
  const roles = {
    users: { kubernetesUsers: ['u1', 'u2'], kubernetesLabels: { '*': '*' } },
    groups: { kubernetesGroups: ['g1', 'system:authenticated'], kubernetesLabels: { env: 'prod' } },
    again: { kubernetesUsers: ['u1'], kubernetesGroups: ['g1'], kubernetesLabels: { '*': '*' } },
  };
  it('unions matching roles, deduplicates, adds defaults', () => {
    expect(allowedKubePrincipals(['users', 'groups', 'again'], roles, { env: 'prod' }, 'bob')).toEqual({
      users: ['u1', 'u2'],
      groups: ['g1', 'system:authenticated'],
    });
    expect(allowedKubePrincipals(['groups'], roles, { env: 'prod' }, 'bob')).toEqual({
      users: ['bob'],
      groups: ['g1', 'system:authenticated'],
    });
    expect(errorOf(() => allowedKubePrincipals(['groups', 'missing', 'toString'], roles, { env: 'dev' }, 'bob')).code).toBe(404);
  });
});

describe('computeImpersonation', () => {
  const allowed = { users: ['u1', 'u2'], groups: ['g1', 'system:authenticated'] };
  it('canonicalizes header names like Go', () => {
    expect(canonicalHeaderName('impersonate-extra-SCOPES')).toBe('Impersonate-Extra-Scopes');
    expect(errorOf(() => computeImpersonation(allowed, [['IMPERSONATE-UID', '1']], 'bob')).message).toBe(
      'impersonation request has been denied, unsupported impersonation header "Impersonate-Uid"',
    );
  });

  it('rejects several Impersonate-User values', () => {
    const err = errorOf(() =>
      computeImpersonation(
        allowed,
        [
          ['Impersonate-User', 'u1'],
          ['impersonate-user', 'u2'],
        ],
        'bob',
      ),
    );
    expect(err.message).toBe('impersonation request has been denied, invalid user header ["u1" "u2"]');
    expect(err.code).toBe(403);
  });

  it('needs a user header with several users, groups default to all allowed', () => {
    expect(errorOf(() => computeImpersonation(allowed, [], 'bob')).message).toBe(SEVERAL_USERS_MESSAGE);
    expect(computeImpersonation(allowed, [['Impersonate-User', 'u2']], 'bob')).toEqual({
      user: 'u2',
      groups: ['g1', 'system:authenticated'],
      requestedUser: 'u2',
      requestedGroups: [],
    });
  });

  it('wildcard: any user allowed, Teleport username without a header', () => {
    const wildcard = { users: ['*', 'u1'], groups: ['system:authenticated'] };
    expect(computeImpersonation(wildcard, [], 'bot-argocd').user).toBe('bot-argocd');
    expect(computeImpersonation(wildcard, [['Impersonate-User', 'system:serviceaccount:a:b']], 'bot-argocd').user).toBe(
      'system:serviceaccount:a:b',
    );
  });
});

describe('parseTeleportIdentity', () => {
  it('reads Teleport subject fields back from a certificate', async () => {
    const ca = await createCA('tp1.floppy.co');
    const pair = await issueTeleportCertificate(ca, {
      user: 'bot-argocd',
      roles: ['r1', 'r2'],
      kubernetesUsers: ['system:serviceaccount:argocd:sync', '*'],
      kubernetesGroups: ['editor'],
      kubernetesCluster: 'boxofrad5',
      routeToCluster: 'leaf.example',
      teleportCluster: 'tp1.floppy.co',
      botName: 'argocd',
    });
    expect(parseTeleportIdentity(pair.certPem)).toMatchObject({
      user: 'bot-argocd',
      roles: ['r1', 'r2'],
      kubernetesUsers: ['system:serviceaccount:argocd:sync', '*'],
      kubernetesGroups: ['editor'],
      kubernetesCluster: 'boxofrad5',
      routeToCluster: 'leaf.example',
      teleportCluster: 'tp1.floppy.co',
      botName: 'argocd',
      issuerCommonName: 'tp1.floppy.co',
    });
  });
});
