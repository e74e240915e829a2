// `check join` as a function of what was read from the cluster (JoinFacts): every check
// of product.md §5.4 and §7, in a stable order, with stable ids. The I/O lives in
// gather.ts; this file never talks to a cluster.
import type { CheckResult } from '../audit/check-report.js';
import {
  describeJwks,
  judgeProvider,
  judgeServiceAccountToken,
  judgeTokenResource,
  parseJwks,
  tokenName,
  type Jwks,
  type TokenResource,
  type Verdict,
} from '../teleport/join-validation.js';
import { formatServiceAccount, type ServiceAccountRef } from '../teleport/resources.js';

/** A value read from the cluster, or why it could not be. */
export type Fetched<T> = { ok: true; value: T } | { ok: false; error: string };

export interface ParsedTokenFile {
  /** Where it came from, for messages: a path or `stdin`. */
  source: string;
  token: TokenResource | null;
  /** Kinds of the documents found, to explain a file that holds no token. */
  kinds: string[];
}

export interface JoinFacts {
  /** The source context's name: the subject of cluster-level checks. */
  source: string;
  /** `/.well-known/openid-configuration`: its issuer (null when the document has none). */
  discovery: Fetched<string | null>;
  /** `/openid/v1/jwks` as text; `answered` when the server sent a body that did not parse. */
  jwks: Fetched<string> | { ok: false; error: string; answered: true };
  serviceAccount: Fetched<boolean>;
  /** A running pod of the service account (null: none runs), or why pods could not be listed. */
  pod: Fetched<string | null>;
  /** The TokenRequest's token (kept in memory only), or null when the service account does not exist. */
  token: Fetched<string> | null;
  tokenFile: ParsedTokenFile | null;
}

export interface CheckJoinExpectations {
  clusterName: string;
  bot: string;
  serviceAccount: ServiceAccountRef;
  now: Date;
}

export interface JoinJudgement {
  results: CheckResult[];
  /** The live JWKS text and issuer, for `join` to render from. */
  jwksText: string | null;
  issuer: string | null;
}

export async function judgeJoin(facts: JoinFacts, expect: CheckJoinExpectations): Promise<JoinJudgement> {
  const results: CheckResult[] = [];
  const add = (id: string, subject: string, verdict: Verdict) => results.push({ id, subject, ...verdict });
  const account = formatServiceAccount(expect.serviceAccount);

  // The issuer and the provider behind it.
  let issuer: string | null = null;
  if (!facts.discovery.ok) {
    add('issuer.discovery', facts.source, { status: 'fail', message: `service account issuer discovery failed: ${facts.discovery.error}` });
  } else if (!facts.discovery.value) {
    add('issuer.discovery', facts.source, { status: 'fail', message: '/.well-known/openid-configuration names no issuer' });
  } else {
    issuer = facts.discovery.value;
    add('issuer.discovery', facts.source, { status: 'pass', message: `issuer ${issuer}` });
  }
  add('provider', issuer ?? facts.source, issuer ? judgeProvider(issuer) : { status: 'skip', message: 'no issuer' });

  // The JWKS.
  let jwks: Jwks | null = null;
  let jwksText: string | null = null;
  if (!facts.jwks.ok) {
    if ('answered' in facts.jwks) {
      add('jwks.fetch', facts.source, { status: 'pass', message: 'GET /openid/v1/jwks answered' });
      add('jwks.wellformed', facts.source, { status: 'fail', message: facts.jwks.error });
    } else {
      add('jwks.fetch', facts.source, { status: 'fail', message: `GET /openid/v1/jwks failed: ${facts.jwks.error}` });
      add('jwks.wellformed', facts.source, { status: 'skip', message: 'no JWKS' });
    }
  } else {
    add('jwks.fetch', facts.source, { status: 'pass', message: `GET /openid/v1/jwks: ${facts.jwks.value.length} bytes` });
    const parsed = await parseJwks(facts.jwks.value);
    if (parsed.jwks) {
      jwks = parsed.jwks;
      jwksText = facts.jwks.value;
      add('jwks.wellformed', facts.source, { status: 'pass', message: describeJwks(jwks) });
    } else {
      add('jwks.wellformed', facts.source, { status: 'fail', message: parsed.problem });
    }
  }

  // The service account and a token for it, judged as Teleport would.
  if (!facts.serviceAccount.ok) {
    add('serviceaccount.exists', account, { status: 'warn', message: `could not read the service account: ${facts.serviceAccount.error}` });
  } else if (!facts.serviceAccount.value) {
    add('serviceaccount.exists', account, { status: 'warn', message: 'not found (the tbot Helm chart creates it on install)' });
  } else {
    add('serviceaccount.exists', account, { status: 'pass', message: 'exists' });
  }
  const pod = facts.pod.ok ? facts.pod.value : null;
  const tokenIds = ['token.signature', 'token.audience', 'token.time', 'token.lifetime', 'token.subject', 'token.pod-bound'] as const;
  if (facts.token === null) {
    add('token.request', account, { status: 'skip', message: 'the service account does not exist' });
    for (const id of tokenIds) add(id, account, { status: 'skip', message: 'no token' });
  } else if (!facts.token.ok) {
    add('token.request', account, { status: 'fail', message: `TokenRequest failed: ${facts.token.error}` });
    for (const id of tokenIds) add(id, account, { status: 'skip', message: 'no token' });
  } else {
    const binding = pod ? `bound to pod ${pod}` : facts.pod.ok ? 'unbound (no running pod)' : `unbound (pods could not be listed: ${facts.pod.error})`;
    add('token.request', account, { status: 'pass', message: `audience ${expect.clusterName}, 600s, ${binding}` });
    const verdicts = await judgeServiceAccountToken(facts.token.value, jwks ?? { keys: [] }, {
      clusterName: expect.clusterName,
      serviceAccount: expect.serviceAccount,
      now: expect.now,
      podBindingRequested: pod !== null,
    });
    add('token.signature', account, jwks ? verdicts.signature : { status: 'skip', message: 'no usable JWKS' });
    add('token.audience', account, verdicts.audience);
    add('token.time', account, verdicts.time);
    add('token.lifetime', account, verdicts.lifetime);
    add('token.subject', account, verdicts.subject);
    add('token.pod-bound', account, verdicts.podBound);
  }

  // The token resource, when one was given.
  if (facts.tokenFile) {
    const file = facts.tokenFile;
    const fileIds = ['tokenfile.join-method', 'tokenfile.bot-name', 'tokenfile.type', 'tokenfile.allow', 'tokenfile.jwks-drift', 'tokenfile.signature'] as const;
    if (!file.token) {
      add('tokenfile.kind', file.source, { status: 'fail', message: `no Teleport token (kind: token) in it; found ${file.kinds.join(', ')}` });
      for (const id of fileIds) add(id, file.source, { status: 'skip', message: 'no token' });
    } else {
      const subject = `token/${tokenName(file.token)}`;
      const verdicts = await judgeTokenResource(file.token, {
        bot: expect.bot,
        serviceAccount: expect.serviceAccount,
        liveJwks: jwks,
        liveIssuer: issuer,
        serviceAccountToken: facts.token?.ok ? facts.token.value : null,
      });
      add('tokenfile.kind', subject, verdicts.kind);
      add('tokenfile.join-method', subject, verdicts.joinMethod);
      add('tokenfile.bot-name', subject, verdicts.botName);
      add('tokenfile.type', subject, verdicts.type);
      add('tokenfile.allow', subject, verdicts.allow);
      add('tokenfile.jwks-drift', subject, verdicts.jwksDrift);
      add('tokenfile.signature', subject, verdicts.signature);
    }
  }
  return { results, jwksText, issuer };
}
