import { describe, expect, it } from 'vitest';
import { judgeJoin, type JoinFacts } from '../../src/join/check.js';
import { TokenIssuer } from '../world/apiserver/tokens.js';

const CLUSTER = 'example.teleport.sh';
const ACCOUNT = { namespace: 'argocd', name: 'tbot' };
const expectations = { clusterName: CLUSTER, bot: 'argocd', serviceAccount: ACCOUNT, now: new Date() };

async function healthyFacts(options: { pod?: boolean } = {}): Promise<{ facts: JoinFacts; issuer: TokenIssuer }> {
  const issuer = await TokenIssuer.create();
  const pod = options.pod === false ? undefined : { name: 'tbot-0', uid: 'u' };
  const { token } = await issuer.issue({ namespace: 'argocd', name: 'tbot', serviceAccountUid: 's', audiences: [CLUSTER], expirationSeconds: 600, pod });
  return {
    issuer,
    facts: {
      source: 'source',
      discovery: { ok: true, value: issuer.issuer },
      jwks: { ok: true, value: JSON.stringify(issuer.jwks()) },
      serviceAccount: { ok: true, value: true },
      pod: { ok: true, value: pod?.name ?? null },
      token: { ok: true, value: token },
      tokenFile: null,
    },
  };
}

const statuses = (results: Array<{ id: string; status: string }>) => Object.fromEntries(results.map((result) => [result.id, result.status]));

describe('check join', () => {
  it('passes a healthy cluster, in a stable order of ids', async () => {
    const { facts } = await healthyFacts();
    const judgement = await judgeJoin(facts, expectations);
    expect(judgement.results.map((result) => result.id)).toEqual([
      'issuer.discovery',
      'provider',
      'jwks.fetch',
      'jwks.wellformed',
      'serviceaccount.exists',
      'token.request',
      'token.signature',
      'token.audience',
      'token.time',
      'token.lifetime',
      'token.subject',
      'token.pod-bound',
    ]);
    for (const result of judgement.results) expect(result.status, `${result.id}: ${result.message}`).toBe('pass');
    expect(judgement.jwksText).toBe(facts.jwks.ok ? facts.jwks.value : null);
    expect(judgement.issuer).toBe('https://kubernetes.default.svc.cluster.local');
  });

  it('warns and skips the token checks when the service account does not exist', async () => {
    const { facts } = await healthyFacts();
    const results = (await judgeJoin({ ...facts, serviceAccount: { ok: true, value: false }, token: null }, expectations)).results;
    expect(results.find((result) => result.id === 'serviceaccount.exists')).toMatchObject({ status: 'warn', subject: 'argocd:tbot' });
    for (const id of ['token.request', 'token.signature', 'token.audience', 'token.pod-bound']) expect(statuses(results)[id], id).toBe('skip');
    expect(results.some((result) => result.status === 'fail')).toBe(false);
  });

  it('only warns about pod binding when no pod of the service account runs', async () => {
    const { facts } = await healthyFacts({ pod: false });
    const results = (await judgeJoin(facts, expectations)).results;
    expect(statuses(results)['token.pod-bound']).toBe('warn');
    expect(results.find((result) => result.id === 'token.request')?.message).toBe(`audience ${CLUSTER}, 600s, unbound (no running pod)`);
    expect(statuses(results)['token.signature']).toBe('pass');
  });

  it('fails clearly without issuer discovery, and with a JWKS that is not JSON', async () => {
    const { facts } = await healthyFacts();
    const results = (
      await judgeJoin(
        {
          ...facts,
          discovery: { ok: false, error: 'the API server does not serve /.well-known/openid-configuration' },
          jwks: { ok: false, error: 'the JWKS is not JSON (Unexpected token)', answered: true },
        },
        expectations,
      )
    ).results;
    expect(statuses(results)).toMatchObject({
      'issuer.discovery': 'fail',
      provider: 'skip',
      'jwks.fetch': 'pass',
      'jwks.wellformed': 'fail',
      'token.signature': 'skip',
      'token.audience': 'pass',
    });
    const empty = await judgeJoin({ ...facts, jwks: { ok: true, value: '{"keys":[]}' } }, expectations);
    expect(empty.results.find((result) => result.id === 'jwks.wellformed')).toMatchObject({ status: 'fail', message: 'the JWKS has no keys' });
    expect(empty.jwksText).toBeNull();
  });

  it('reports a failed TokenRequest and skips what depends on it', async () => {
    const { facts } = await healthyFacts();
    const results = (await judgeJoin({ ...facts, token: { ok: false, error: 'forbidden' } }, expectations)).results;
    expect(results.find((result) => result.id === 'token.request')).toMatchObject({ status: 'fail', message: 'TokenRequest failed: forbidden' });
    expect(statuses(results)['token.subject']).toBe('skip');
  });

  it('names the kinds found in a token file that holds no token', async () => {
    const { facts } = await healthyFacts();
    const results = (await judgeJoin({ ...facts, tokenFile: { source: 'role.yaml', token: null, kinds: ['role'] } }, expectations)).results;
    expect(results.find((result) => result.id === 'tokenfile.kind')).toEqual({
      id: 'tokenfile.kind',
      subject: 'role.yaml',
      status: 'fail',
      message: 'no Teleport token (kind: token) in it; found role',
    });
    expect(statuses(results)['tokenfile.jwks-drift']).toBe('skip');
  });
});
