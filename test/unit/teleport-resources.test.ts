import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  bindingMismatch,
  botUserName,
  renderBot,
  renderClusterRoleBinding,
  renderHelmValues,
  renderJoinToken,
  renderRole,
  type JoinSetup,
} from '../../src/teleport/resources.js';

const JWKS = '{"keys":[{"use":"sig","kty":"RSA","kid":"abc","alg":"RS256","n":"xyz","e":"AQAB"}]}';

// The guide's examples (argocd-machine-workload-identity-guide.md, steps 1–4), verbatim
// apart from comments; the JWKS placeholder is filled with JWKS above.
const GUIDE_ROLE = `
kind: role
version: v7
metadata:
  name: example-role
spec:
  allow:
    kubernetes_labels:
      '*': '*'
    kubernetes_groups:
    - editor
    kubernetes_resources:
    - kind: "*"
      namespace: "*"
      name: "*"
      verbs: ["*"]
`;
const GUIDE_BOT = `
kind: bot
version: v1
metadata:
  name: example-bot
spec:
  roles: [example-role]
`;
const GUIDE_TOKEN = `
kind: token
version: v2
metadata:
  name: example-join-token
spec:
  roles: [Bot]
  bot_name: example-bot
  join_method: kubernetes
  kubernetes:
    type: static_jwks
    static_jwks:
      jwks: '${JWKS}'
    allow:
    - service_account: "argocd:tbot"
`;
const GUIDE_VALUES = `
clusterName: "test.teleport.sh"
teleportProxyAddress: "test.teleport.sh:443"
token: "example-join-token"
defaultOutput:
  enabled: false
argocd:
  enabled: true
  clusterSelectors:
    - labels:
        environment: production
`;
const GUIDE_IMPERSONATION_ROLE = `
kind: role
version: v7
metadata:
  name: kube-wildcard-access
spec:
  allow:
    kubernetes_users:
    - '*'
`;

function guideSetup(overrides: Partial<JoinSetup> = {}): JoinSetup {
  return {
    clusterName: 'test.teleport.sh',
    proxy: 'test.teleport.sh:443',
    bot: 'example-bot',
    role: 'example-role',
    token: 'example-join-token',
    serviceAccount: { namespace: 'argocd', name: 'tbot' },
    joinType: 'static_jwks',
    jwks: JWKS,
    issuer: 'https://kubernetes.default.svc.cluster.local',
    kubernetesGroup: 'editor',
    clusterRole: 'edit',
    kubeLabels: { '*': '*' },
    clusterSelectors: [{ labels: { environment: 'production' } }],
    impersonation: false,
    ...overrides,
  };
}

describe('Teleport resources', () => {
  it("renders the guide's role, bot, token and Helm values", () => {
    const setup = guideSetup();
    expect(renderRole(setup)).toEqual(parse(GUIDE_ROLE));
    expect(renderBot(setup)).toEqual(parse(GUIDE_BOT));
    expect(renderJoinToken(setup)).toEqual(parse(GUIDE_TOKEN));
    expect(renderHelmValues(setup)).toEqual(parse(GUIDE_VALUES));
  });

  it('keeps the JWKS text verbatim in the token', () => {
    const jwks = '{"keys":[{"kid":"a b","n":"x"}]}\n';
    expect(renderJoinToken(guideSetup({ jwks })).spec.kubernetes.static_jwks?.jwks).toBe(jwks);
  });

  it('renders an oidc token with the issuer and no JWKS', () => {
    const issuer = 'https://oidc.eks.eu-west-1.amazonaws.com/id/ABCDEF0123456789';
    const token = renderJoinToken(guideSetup({ joinType: 'oidc', issuer }));
    expect(token.spec.kubernetes).toEqual({ type: 'oidc', oidc: { issuer }, allow: [{ service_account: 'argocd:tbot' }] });
    expect(() => renderJoinToken(guideSetup({ joinType: 'oidc', issuer: null }))).toThrow(/issuer/);
    expect(() => renderJoinToken(guideSetup({ jwks: null }))).toThrow(/JWKS/);
  });

  it('renders the impersonation role: kubernetes_users * and no groups at all', () => {
    const role = renderRole(guideSetup({ impersonation: true, role: 'kube-wildcard-access' }));
    const guide = parse(GUIDE_IMPERSONATION_ROLE) as { spec: { allow: { kubernetes_users: string[] } } };
    expect(role.spec.allow.kubernetes_users).toEqual(guide.spec.allow.kubernetes_users);
    expect('kubernetes_groups' in role.spec.allow).toBe(false);
    expect(role.spec.allow.kubernetes_labels).toEqual({ '*': '*' });
  });

  it('binds the group as `kubectl create clusterrolebinding teleport-editor-edit --clusterrole=edit --group=editor` does', () => {
    const binding = renderClusterRoleBinding(guideSetup());
    expect(binding.metadata.name).toBe('teleport-editor-edit');
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' });
    expect(binding.subjects).toEqual([{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'editor' }]);
  });

  it('binds the bot user with impersonation (guide: --user=bot-example-bot)', () => {
    const binding = renderClusterRoleBinding(guideSetup({ impersonation: true }));
    expect(binding.metadata.name).toBe('teleport-bot-example-bot-edit');
    expect(binding.subjects).toEqual([{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'bot-example-bot' }]);
  });

  it('names the chart service account only when it is not the release name', () => {
    expect(renderHelmValues(guideSetup()).serviceAccount).toBeUndefined();
    expect(renderHelmValues(guideSetup({ serviceAccount: { namespace: 'argocd', name: 'machine-id' } })).serviceAccount).toEqual({ name: 'machine-id' });
  });

  it("names bot users as Teleport's BotResourceName does", () => {
    expect(botUserName('argocd')).toBe('bot-argocd');
    expect(botUserName('my bot')).toBe('bot-my-bot');
  });

  it('accepts an existing binding only when it grants the same', () => {
    const wanted = renderClusterRoleBinding(guideSetup());
    expect(bindingMismatch(structuredClone(wanted), wanted)).toBeNull();
    const wider = { ...structuredClone(wanted), subjects: [{ kind: 'User', name: 'alice' }, ...wanted.subjects] };
    expect(bindingMismatch(wider, wanted)).toBeNull();
    expect(bindingMismatch({ ...wanted, roleRef: { ...wanted.roleRef, name: 'view' } }, wanted)).toMatch(/binds ClusterRole view, not ClusterRole edit/);
    expect(bindingMismatch({ ...wanted, subjects: [{ kind: 'User', name: 'editor' }] }, wanted)).toMatch(/lack Group editor/);
    expect(bindingMismatch({ roleRef: wanted.roleRef, subjects: null }, wanted)).toMatch(/lack Group editor/);
  });
});
