import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import {
  chooseJoinType,
  detectProvider,
  findTokenResource,
  judgeServiceAccountToken,
  judgeTokenResource,
  jwksDrift,
  parseJwks,
  TokenFileError,
  verifyTokenSignature,
  type Jwks,
  type TokenExpectations,
  type TokenResource,
} from '../../src/teleport/join-validation.js';
import { renderBot, renderJoinToken, renderRole, type JoinSetup } from '../../src/teleport/resources.js';
import { TokenIssuer } from '../world/apiserver/tokens.js';

const CLUSTER = 'example.teleport.sh';
const ACCOUNT = { namespace: 'argocd', name: 'tbot' };
const POD = { name: 'tbot-7d9f-abcde', uid: 'pod-uid' };

async function issuer(): Promise<TokenIssuer> {
  return TokenIssuer.create();
}

function mint(from: TokenIssuer, overrides: Partial<Parameters<TokenIssuer['issue']>[0]> = {}): Promise<string> {
  return from
    .issue({ namespace: 'argocd', name: 'tbot', serviceAccountUid: 'sa-uid', audiences: [CLUSTER], expirationSeconds: 600, pod: POD, ...overrides })
    .then((issued) => issued.token);
}

const expect600 = (now = new Date(), podBindingRequested = true): TokenExpectations => ({ clusterName: CLUSTER, serviceAccount: ACCOUNT, now, podBindingRequested });

describe('the static_jwks validator', () => {
  it('passes a token as tbot would present it', async () => {
    const cluster = await issuer();
    const verdicts = await judgeServiceAccountToken(await mint(cluster), cluster.jwks() as Jwks, expect600());
    for (const [rule, verdict] of Object.entries(verdicts)) expect(verdict.status, `${rule}: ${verdict.message}`).toBe('pass');
    expect(verdicts.podBound.message).toContain(POD.name);
    expect(verdicts.lifetime.message).toBe('lifetime 10m (at most 30m)');
  });

  it('fails the signature of a token signed by a key that was rotated away', async () => {
    const cluster = await issuer();
    const token = await mint(cluster);
    const oldKid = cluster.currentKid;
    await cluster.rotate();
    const verdicts = await judgeServiceAccountToken(token, cluster.jwks() as Jwks, expect600());
    expect(verdicts.signature).toEqual({ status: 'fail', message: `signed with key ${oldKid}, which is not in the JWKS (keys rotated?)` });
    expect(verdicts.audience.status).toBe('pass');
  });

  it('fails the signature when the key under the same kid changed', async () => {
    const [cluster, other] = await Promise.all([issuer(), issuer()]);
    const forged = { keys: [{ ...other.jwks().keys[0]!, kid: cluster.currentKid }] };
    const verdict = await verifyTokenSignature(await mint(cluster), forged);
    expect(verdict.status).toBe('fail');
    expect(verdict.message).toMatch(/^signature does not verify with key/);
  });

  it('fails a token without the Teleport cluster in aud', async () => {
    const cluster = await issuer();
    const token = await mint(cluster, { audiences: ['https://kubernetes.default.svc.cluster.local'] });
    const verdicts = await judgeServiceAccountToken(token, cluster.jwks() as Jwks, expect600());
    expect(verdicts.audience).toEqual({
      status: 'fail',
      message: `aud [https://kubernetes.default.svc.cluster.local] does not contain the Teleport cluster name ${CLUSTER}`,
    });
    expect(verdicts.signature.status).toBe('pass');
  });

  it('applies exp, nbf and iat with 10 s of leeway', async () => {
    const cluster = await issuer();
    const issuedAt = new Date('2025-01-01T00:00:00Z');
    const token = await mint(cluster, { now: issuedAt });
    const at = (seconds: number) => new Date(issuedAt.getTime() + seconds * 1000);
    const time = async (seconds: number) => (await judgeServiceAccountToken(token, cluster.jwks() as Jwks, expect600(at(seconds)))).time;
    expect((await time(600 + 9)).status).toBe('pass');
    expect(await time(600 + 11)).toEqual({ status: 'fail', message: 'expired 11s ago' });
    expect((await time(-9)).status).toBe('pass');
    expect((await time(-11)).status).toBe('fail');
    expect((await time(-11)).message).toMatch(/^not valid yet/);
  });

  it('allows a lifetime of at most 30 minutes', async () => {
    const cluster = await issuer();
    const lifetime = async (seconds: number) =>
      (await judgeServiceAccountToken(await mint(cluster, { expirationSeconds: seconds }), cluster.jwks() as Jwks, expect600())).lifetime;
    expect((await lifetime(1800)).status).toBe('pass');
    expect((await lifetime(1801)).status).toBe('fail');
    expect((await lifetime(3600)).message).toMatch(/lifetime 60m exceeds Teleport's maximum of 30m/);
  });

  it('requires the subject of the allowed service account', async () => {
    const cluster = await issuer();
    const token = await mint(cluster, { name: 'default' });
    const verdicts = await judgeServiceAccountToken(token, cluster.jwks() as Jwks, expect600());
    expect(verdicts.subject).toEqual({ status: 'fail', message: 'sub is system:serviceaccount:argocd:default, the allow rule needs system:serviceaccount:argocd:tbot' });
  });

  it('requires a pod-bound token, but only warns when no pod could be bound', async () => {
    const cluster = await issuer();
    const unbound = await mint(cluster, { pod: undefined });
    const requested = await judgeServiceAccountToken(unbound, cluster.jwks() as Jwks, expect600(new Date(), true));
    expect(requested.podBound).toEqual({ status: 'fail', message: 'static_jwks joining requires the use of projected pod bound service account token' });
    const noPod = await judgeServiceAccountToken(unbound, cluster.jwks() as Jwks, expect600(new Date(), false));
    expect(noPod.podBound.status).toBe('warn');
  });

  it('fails every rule for something that is not a JWT', async () => {
    const cluster = await issuer();
    const verdicts = await judgeServiceAccountToken('not-a-jwt', cluster.jwks() as Jwks, expect600());
    for (const verdict of Object.values(verdicts)) expect(verdict.status).toBe('fail');
  });
});

describe('JWKS', () => {
  it('accepts the API server JWKS and says what is wrong with others', async () => {
    const cluster = await issuer();
    const good = await parseJwks(JSON.stringify(cluster.jwks()));
    expect(good.problem).toBeNull();
    expect(good.jwks?.keys[0]?.kid).toBe(cluster.currentKid);
    const key = cluster.jwks().keys[0]!;
    const cases: Array<[string, RegExp]> = [
      ['<html>not found</html>', /^the JWKS is not JSON/],
      ['[]', /no "keys" list/],
      ['{"keys":[]}', /^the JWKS has no keys$/],
      [JSON.stringify({ keys: [{ ...key, kid: undefined }] }), /has no "kid"/],
      [JSON.stringify({ keys: [{ ...key, d: 'secret' }] }), /is not a public key/],
      [JSON.stringify({ keys: [{ ...key, n: 'AA' }] }), /is an RSA key shorter than 2048 bits/],
      [JSON.stringify({ keys: [{ ...key, kty: 'EC', alg: 'ES256' }] }), /is not a valid EC key/],
      [JSON.stringify({ keys: [{ kid: 'x', kty: 'oct', k: 'abc' }] }), /is not a public key/],
    ];
    for (const [text, problem] of cases) expect((await parseJwks(text)).problem, text).toMatch(problem);
  });

  it('reports keys gone, changed and added', async () => {
    const cluster = await issuer();
    const before = cluster.jwks() as Jwks;
    expect(await jwksDrift(before, cluster.jwks() as Jwks)).toEqual({ gone: [], changed: [], added: [] });
    const newKid = await cluster.rotate({ keepOld: true });
    expect(await jwksDrift(before, cluster.jwks() as Jwks)).toEqual({ gone: [], changed: [], added: [newKid] });
    const other = await issuer();
    const replaced = { keys: [{ ...other.jwks().keys[0]!, kid: before.keys[0]!.kid }] };
    expect(await jwksDrift(before, replaced)).toEqual({ gone: [], changed: [before.keys[0]!.kid], added: [] });
    await cluster.rotate();
    expect((await jwksDrift(before, cluster.jwks() as Jwks)).gone).toEqual([before.keys[0]!.kid]);
  });
});

describe('providers', () => {
  it('recognises the managed issuers', () => {
    expect(detectProvider('https://oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B716D3041E')).toEqual({ name: 'EKS', location: 'us-west-2' });
    expect(detectProvider('https://oidc.eks.cn-north-1.amazonaws.com.cn/id/ABC')).toEqual({ name: 'EKS', location: 'cn-north-1' });
    expect(detectProvider('https://container.googleapis.com/v1/projects/my-project/locations/europe-west1/clusters/prod')).toEqual({ name: 'GKE', location: 'europe-west1' });
    expect(detectProvider('https://eastus.oic.prod-aks.azure.com/72f988bf-86f1-41af-91ab-2d7cd011db47/1a2b3c4d-0000-1111-2222-333344445555/')).toEqual({
      name: 'AKS',
      location: 'eastus',
    });
    for (const other of ['https://kubernetes.default.svc.cluster.local', 'http://oidc.eks.us-west-2.amazonaws.com/id/ABC', 'https://oidc.eks.us-west-2.amazonaws.com.evil.example/id/ABC']) {
      expect(detectProvider(other), other).toBeNull();
    }
  });

  it('picks oidc for managed https issuers in auto mode, and honours an explicit choice', () => {
    const eks = 'https://oidc.eks.us-west-2.amazonaws.com/id/ABC';
    expect(chooseJoinType('auto', eks)).toBe('oidc');
    expect(chooseJoinType('auto', 'https://kubernetes.default.svc.cluster.local')).toBe('static_jwks');
    expect(chooseJoinType('auto', null)).toBe('static_jwks');
    expect(chooseJoinType('static_jwks', eks)).toBe('static_jwks');
    expect(chooseJoinType('oidc', 'https://kubernetes.default.svc')).toBe('oidc');
  });
});

describe('token files', () => {
  const setup = (jwks: string, overrides: Partial<JoinSetup> = {}): JoinSetup => ({
    clusterName: CLUSTER,
    proxy: `${CLUSTER}:443`,
    bot: 'argocd',
    role: 'argocd-kube-access',
    token: 'argocd-join',
    serviceAccount: ACCOUNT,
    joinType: 'static_jwks',
    jwks,
    issuer: 'https://kubernetes.default.svc.cluster.local',
    kubernetesGroup: 'editor',
    clusterRole: 'edit',
    kubeLabels: { '*': '*' },
    clusterSelectors: [{ name: 'kube-1' }],
    impersonation: false,
    ...overrides,
  });

  it('finds the token in a single document, a stream, a JSON list and among several tokens', () => {
    const token = renderJoinToken(setup('{"keys":[]}'));
    expect(findTokenResource(stringify(token), 'argocd').token).toEqual(token);
    const stream = [renderRole(setup('{}')), renderBot(setup('{}')), token].map((doc) => `---\n${stringify(doc)}`).join('');
    expect(findTokenResource(stream, 'argocd')).toEqual({ token, kinds: ['role', 'bot', 'token'] });
    expect(findTokenResource(JSON.stringify([token]), 'argocd').token).toEqual(token);
    expect(findTokenResource(JSON.stringify({ items: [token] }), 'argocd').token).toEqual(token);
    const other = { ...token, metadata: { name: 'other' }, spec: { ...token.spec, bot_name: 'other' } };
    expect(findTokenResource(`${stringify(other)}---\n${stringify(token)}`, 'argocd').token).toEqual(token);
    expect(() => findTokenResource(`${stringify(other)}---\n${stringify(other)}`, 'argocd')).toThrow(/2 tokens in it \(other, other\) and none for bot argocd/);
  });

  it('reports what a file holds when it is not a token, and refuses what is not YAML', () => {
    expect(findTokenResource(stringify(renderRole(setup('{}'))), 'argocd')).toEqual({ token: null, kinds: ['role'] });
    expect(() => findTokenResource('kind: [token', 'argocd')).toThrow(TokenFileError);
    expect(() => findTokenResource('', 'argocd')).toThrow(/no YAML object/);
    expect(() => findTokenResource('just a string', 'argocd')).toThrow(/no YAML object/);
  });

  it('passes the rendered token against the live cluster, and detects drift after a rotation', async () => {
    const cluster = await issuer();
    const token = renderJoinToken(setup(JSON.stringify(cluster.jwks()))) as TokenResource;
    const context = async () => ({
      bot: 'argocd',
      serviceAccount: ACCOUNT,
      liveJwks: cluster.jwks() as Jwks,
      liveIssuer: cluster.issuer,
      serviceAccountToken: await mint(cluster),
    });
    const fresh = await judgeTokenResource(token, await context());
    for (const [rule, verdict] of Object.entries(fresh)) expect(verdict.status, `${rule}: ${verdict.message}`).toBe('pass');

    const oldKid = cluster.currentKid;
    await cluster.rotate();
    const rotated = await judgeTokenResource(token, await context());
    expect(rotated.jwksDrift.status).toBe('fail');
    expect(rotated.jwksDrift.message).toContain(`key ${oldKid} no longer published by the cluster`);
    expect(rotated.signature.status).toBe('fail');
  });

  it('warns when the cluster added a key the token lacks', async () => {
    const cluster = await issuer();
    const token = renderJoinToken(setup(JSON.stringify(cluster.jwks()))) as TokenResource;
    await cluster.rotate({ keepOld: true });
    const verdicts = await judgeTokenResource(token, { bot: 'argocd', serviceAccount: ACCOUNT, liveJwks: cluster.jwks() as Jwks, liveIssuer: null, serviceAccountToken: await mint(cluster) });
    expect(verdicts.jwksDrift.status).toBe('warn');
    // The fresh token is signed with the new key, which the pasted JWKS lacks: Teleport would reject it.
    expect(verdicts.signature.status).toBe('fail');
  });

  it('checks join method, bot, roles, allow rules and type', async () => {
    const base = renderJoinToken(setup('{"keys":[]}')) as TokenResource;
    const judge = (token: TokenResource, liveIssuer: string | null = null) =>
      judgeTokenResource(token, { bot: 'argocd', serviceAccount: ACCOUNT, liveJwks: null, liveIssuer, serviceAccountToken: null });
    const spec = base.spec!;
    expect((await judge({ ...base, spec: { ...spec, join_method: 'token' } })).joinMethod.status).toBe('fail');
    expect((await judge({ ...base, spec: { ...spec, bot_name: 'other' } })).botName.message).toBe('bot_name is other, expected argocd');
    expect((await judge({ ...base, spec: { ...spec, roles: ['Node'] } })).botName.message).toBe('roles [Node] lack Bot');
    const allow = (rules: unknown) => judge({ ...base, spec: { ...spec, kubernetes: { ...spec.kubernetes, allow: rules } } });
    expect((await allow([{ service_account: 'argocd:default' }])).allow.message).toMatch(/no allow rule matches argocd:tbot \(rules: argocd:default\)/);
    expect((await allow([])).allow.status).toBe('fail');
    expect((await allow([{ service_account: 'argocd:default' }, { service_account: 'argocd:tbot' }])).allow.status).toBe('pass');
    expect((await judge({ ...base, version: 'v1' })).kind.status).toBe('warn');
    const inCluster = await judge({ ...base, spec: { ...spec, kubernetes: { allow: spec.kubernetes!.allow } } });
    expect(inCluster.type.status).toBe('warn');
    expect(inCluster.jwksDrift.status).toBe('skip');
    expect((await judge({ ...base, spec: { ...spec, kubernetes: { ...spec.kubernetes, static_jwks: { jwks: 'nope' } } } })).jwksDrift.message).toMatch(/not JSON/);
    const eks = 'https://oidc.eks.us-west-2.amazonaws.com/id/ABC';
    expect((await judge(base, eks)).type.status).toBe('warn');
  });

  it('compares an oidc token with the live issuer', async () => {
    const eks = 'https://oidc.eks.us-west-2.amazonaws.com/id/ABC';
    const token = renderJoinToken(setup('', { joinType: 'oidc', issuer: eks })) as TokenResource;
    const judge = (liveIssuer: string | null) => judgeTokenResource(token, { bot: 'argocd', serviceAccount: ACCOUNT, liveJwks: null, liveIssuer, serviceAccountToken: null });
    expect((await judge(eks)).jwksDrift).toEqual({ status: 'pass', message: `oidc.issuer matches the cluster's issuer ${eks}` });
    expect((await judge('https://oidc.eks.us-west-2.amazonaws.com/id/DEF')).jwksDrift.status).toBe('fail');
    expect((await judge(eks)).signature.status).toBe('skip');
    const http = { ...token, spec: { ...token.spec!, kubernetes: { ...token.spec!.kubernetes, oidc: { issuer: 'http://issuer.example' } } } };
    expect((await judgeTokenResource(http, { bot: 'argocd', serviceAccount: ACCOUNT, liveJwks: null, liveIssuer: 'http://issuer.example', serviceAccountToken: null })).jwksDrift.message).toBe(
      'oidc.issuer must be https:// unless insecure_allow_http_issuer is set',
    );
  });
});
