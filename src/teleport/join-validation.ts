// Judges a Kubernetes join the way Teleport's Auth Service does (teleport.md §6): the
// `static_jwks` validator (signature against the JWKS, `aud` contains the Teleport
// cluster name, exp/nbf/iat with 10 s leeway, pod-bound, exp−iat ≤ 30 min), the allow
// rule against `sub`, and the token resource itself, including drift of its pasted JWKS
// against the cluster's live one. Functions of their inputs only; `now` is passed in.
import { calculateJwkThumbprint, compactVerify, decodeJwt, decodeProtectedHeader, importJWK, type JWK } from 'jose';
import type { CheckStatus } from '../audit/check-report.js';
import { humanDuration } from '../cli/duration.js';
import { formatServiceAccount, type JoinType, type ServiceAccountRef } from './resources.js';
import { kindsOf, parseResourceDocuments } from './resource-documents.js';

/** go-jose's leeway in Teleport's `ValidateWithLeeway` call. */
export const CLAIM_LEEWAY_MS = 10_000;
/** Teleport's `maxAllowedTTL` for static_jwks tokens. */
export const MAX_TOKEN_TTL_MS = 30 * 60_000;

export interface Verdict {
  status: CheckStatus;
  message: string;
}

const pass = (message: string): Verdict => ({ status: 'pass', message });
const warn = (message: string): Verdict => ({ status: 'warn', message });
const fail = (message: string): Verdict => ({ status: 'fail', message });
const skip = (message: string): Verdict => ({ status: 'skip', message });

// ---------------------------------------------------------------------------------------
// JWKS

export interface Jwks {
  keys: JWK[];
}

export type JwksParse = { jwks: Jwks; problem: null } | { jwks: null; problem: string };

/** The algorithm a key verifies with when the JWK does not say (kube-apiserver always says). */
function defaultAlgorithm(key: JWK): string | undefined {
  if (typeof key.alg === 'string') return key.alg;
  if (key.kty === 'RSA') return 'RS256';
  if (key.kty === 'EC') return ({ 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' } as Record<string, string>)[key.crv ?? ''];
  if (key.kty === 'OKP') return 'EdDSA';
  return undefined;
}

function rsaModulusBits(key: JWK): number {
  const modulus = Buffer.from(typeof key.n === 'string' ? key.n : '', 'base64url');
  const first = modulus.findIndex((byte) => byte !== 0);
  return first < 0 ? 0 : (modulus.length - first - 1) * 8 + modulus[first]!.toString(2).length;
}

/** Parses a JWKS document; every key must be a usable public key with a `kid`. */
export async function parseJwks(text: string): Promise<JwksParse> {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    return { jwks: null, problem: `the JWKS is not JSON (${(error as Error).message})` };
  }
  const keys = (document as { keys?: unknown } | null)?.keys;
  if (typeof document !== 'object' || document === null || Array.isArray(document) || !Array.isArray(keys)) {
    return { jwks: null, problem: 'the JWKS has no "keys" list' };
  }
  if (keys.length === 0) return { jwks: null, problem: 'the JWKS has no keys' };
  for (const [index, key] of (keys as unknown[]).entries()) {
    const jwk = key as JWK;
    if (typeof jwk !== 'object' || jwk === null || typeof jwk.kty !== 'string') return { jwks: null, problem: `key ${index} has no "kty"` };
    if (typeof jwk.kid !== 'string' || jwk.kid === '') return { jwks: null, problem: `key ${index} has no "kid", so no token can name it` };
    if (jwk.d !== undefined || jwk.kty === 'oct') return { jwks: null, problem: `key "${jwk.kid}" is not a public key` };
    if (jwk.kty === 'RSA' && rsaModulusBits(jwk) < 2048) return { jwks: null, problem: `key "${jwk.kid}" is an RSA key shorter than 2048 bits` };
    const algorithm = defaultAlgorithm(jwk);
    if (!algorithm) return { jwks: null, problem: `key "${jwk.kid}" has an unsupported type (${jwk.kty})` };
    try {
      await importJWK({ ...jwk }, algorithm);
    } catch (error) {
      return { jwks: null, problem: `key "${jwk.kid}" is not a valid ${jwk.kty} key (${(error as Error).message})` };
    }
  }
  return { jwks: { keys: keys as JWK[] }, problem: null };
}

export function describeJwks(jwks: Jwks): string {
  return `${jwks.keys.length} key${jwks.keys.length === 1 ? '' : 's'} (kid ${jwks.keys.map((key) => key.kid).join(', ')})`;
}

export interface JwksDrift {
  /** Keys of the token's JWKS that the cluster no longer publishes. */
  gone: string[];
  /** Same `kid`, different key material. */
  changed: string[];
  /** Keys the cluster publishes that the token's JWKS lacks. */
  added: string[];
}

/** Compares keys by `kid` and RFC 7638 thumbprint (the public key material). */
export async function jwksDrift(pasted: Jwks, live: Jwks): Promise<JwksDrift> {
  const thumbprints = async (jwks: Jwks) =>
    new Map(await Promise.all(jwks.keys.map(async (key) => [key.kid!, await calculateJwkThumbprint(key)] as const)));
  const [before, now] = await Promise.all([thumbprints(pasted), thumbprints(live)]);
  const drift: JwksDrift = { gone: [], changed: [], added: [] };
  for (const [kid, thumbprint] of before) {
    const current = now.get(kid);
    if (current === undefined) drift.gone.push(kid);
    else if (current !== thumbprint) drift.changed.push(kid);
  }
  for (const kid of now.keys()) if (!before.has(kid)) drift.added.push(kid);
  return drift;
}

// ---------------------------------------------------------------------------------------
// Issuer and provider

export interface ManagedProvider {
  name: 'EKS' | 'GKE' | 'AKS';
  /** Region or location, for messages. */
  location: string;
}

const PROVIDERS: Array<{ name: ManagedProvider['name']; pattern: RegExp }> = [
  // https://oidc.eks.<region>.amazonaws.com/id/<id> (China: amazonaws.com.cn)
  { name: 'EKS', pattern: /^https:\/\/oidc\.eks\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/id\/[A-Za-z0-9]+\/?$/ },
  // https://container.googleapis.com/v1/projects/<p>/locations/<l>/clusters/<c> (older: zones)
  { name: 'GKE', pattern: /^https:\/\/container\.googleapis\.com\/v1\/projects\/[^/]+\/(?:locations|zones)\/([^/]+)\/clusters\/[^/]+\/?$/ },
  // https://<region>.oic.prod-aks.azure.com/<tenant>/<id>/
  { name: 'AKS', pattern: /^https:\/\/([a-z0-9-]+)\.oic\.prod-aks\.azure\.com\/[0-9a-fA-F-]+\/[0-9a-fA-F-]+\/?$/ },
];

export function detectProvider(issuer: string): ManagedProvider | null {
  for (const { name, pattern } of PROVIDERS) {
    const match = pattern.exec(issuer);
    if (match) return { name, location: match[1]! };
  }
  return null;
}

/**
 * `auto`: OIDC when a managed provider publishes the issuer over https (Teleport fetches
 * its keys, so rotation is harmless), else the JWKS pasted into the token.
 */
export function chooseJoinType(requested: 'auto' | JoinType, issuer: string | null): JoinType {
  if (requested !== 'auto') return requested;
  return issuer !== null && detectProvider(issuer) !== null ? 'oidc' : 'static_jwks';
}

export function judgeProvider(issuer: string): Verdict {
  const provider = detectProvider(issuer);
  if (!provider) {
    return pass('self-managed: join type static_jwks');
  }
  const rotation = provider.name === 'EKS' ? '; its signing keys rotate, so static_jwks tokens stop working' : '';
  return pass(`${provider.name} (${provider.location}): join type oidc${rotation}`);
}

// ---------------------------------------------------------------------------------------
// The service account token, as ValidateTokenWithJWKS judges it

export interface TokenExpectations {
  clusterName: string;
  serviceAccount: ServiceAccountRef;
  now: Date;
  /** A running pod was found and the token was requested bound to it. */
  podBindingRequested: boolean;
}

export interface TokenVerdicts {
  signature: Verdict;
  audience: Verdict;
  time: Verdict;
  lifetime: Verdict;
  subject: Verdict;
  podBound: Verdict;
}

interface ServiceAccountClaims {
  aud?: unknown;
  exp?: unknown;
  nbf?: unknown;
  iat?: unknown;
  sub?: unknown;
  'kubernetes.io'?: { namespace?: unknown; pod?: { name?: unknown } | null } | null;
}

/** Verifies the signature as go-jose does with a key set: the key named by the header's `kid`. */
export async function verifyTokenSignature(token: string, jwks: Jwks): Promise<Verdict> {
  let header: { kid?: string; alg?: string };
  try {
    header = decodeProtectedHeader(token);
  } catch {
    return fail('the token is not a JWS');
  }
  if (!header.kid) return fail('the token names no signing key (no "kid" in its header)');
  const key = jwks.keys.find((candidate) => candidate.kid === header.kid);
  if (!key) return fail(`signed with key ${header.kid}, which is not in the JWKS (keys rotated?)`);
  try {
    const publicKey = await importJWK({ ...key }, header.alg ?? defaultAlgorithm(key));
    await compactVerify(token, publicKey, header.alg ? { algorithms: [header.alg] } : {});
  } catch (error) {
    return fail(`signature does not verify with key ${header.kid} (${(error as Error).message})`);
  }
  return pass(`signed with key ${header.kid} (${header.alg ?? 'no alg'})`);
}

function numericDate(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value * 1000 : null;
}

function audiences(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((entry): entry is string => typeof entry === 'string');
  return [];
}

/** go-jose's `ValidateWithLeeway` time rules: nbf/iat not after now+leeway, exp not before now−leeway. */
function judgeTime(claims: ServiceAccountClaims, now: number): Verdict {
  const exp = numericDate(claims.exp);
  const nbf = numericDate(claims.nbf);
  const iat = numericDate(claims.iat);
  if (nbf !== null && now + CLAIM_LEEWAY_MS < nbf) return fail(`not valid yet (nbf in ${humanDuration(nbf - now)}; check clocks)`);
  if (exp !== null && now - CLAIM_LEEWAY_MS > exp) return fail(`expired ${humanDuration(now - exp)} ago`);
  if (iat !== null && now + CLAIM_LEEWAY_MS < iat) return fail(`issued in the future (iat in ${humanDuration(iat - now)}; check clocks)`);
  return pass(exp !== null ? `valid now, expires in ${humanDuration(exp - now)}` : 'valid now');
}

function judgeLifetime(claims: ServiceAccountClaims): Verdict {
  const exp = numericDate(claims.exp);
  const iat = numericDate(claims.iat);
  if (exp === null) return fail('static_jwks joining requires the use of a service account token with `exp`');
  if (iat === null) return fail('static_jwks joining requires the use of a service account token with `iat`');
  const lifetime = exp - iat;
  if (lifetime > MAX_TOKEN_TTL_MS) return fail(`lifetime ${humanDuration(lifetime)} exceeds Teleport's maximum of 30m (the Helm chart projects 600s)`);
  return pass(`lifetime ${humanDuration(lifetime)} (at most 30m)`);
}

/** Every rule of Teleport's static_jwks validator, each as its own verdict. */
export async function judgeServiceAccountToken(token: string, jwks: Jwks, expect: TokenExpectations): Promise<TokenVerdicts> {
  let claims: ServiceAccountClaims;
  try {
    claims = decodeJwt(token) as ServiceAccountClaims;
  } catch {
    const broken = fail('the token is not a JWT');
    return { signature: broken, audience: broken, time: broken, lifetime: broken, subject: broken, podBound: broken };
  }
  const aud = audiences(claims.aud);
  const wantedSubject = `system:serviceaccount:${formatServiceAccount(expect.serviceAccount)}`;
  const pod = claims['kubernetes.io']?.pod?.name;
  let podBound: Verdict;
  if (typeof pod === 'string' && pod !== '') podBound = pass(`bound to pod ${pod}`);
  else if (expect.podBindingRequested) podBound = fail('static_jwks joining requires the use of projected pod bound service account token');
  else podBound = warn("not pod-bound: no running pod of the service account to bind it to (tbot's projected token will be)");
  return {
    signature: await verifyTokenSignature(token, jwks),
    audience: aud.includes(expect.clusterName)
      ? pass(`aud contains ${expect.clusterName}`)
      : fail(`aud [${aud.join(', ')}] does not contain the Teleport cluster name ${expect.clusterName}`),
    time: judgeTime(claims, expect.now.getTime()),
    lifetime: judgeLifetime(claims),
    subject:
      claims.sub === wantedSubject
        ? pass(`sub is ${wantedSubject}`)
        : fail(`sub is ${typeof claims.sub === 'string' ? claims.sub : '<none>'}, the allow rule needs ${wantedSubject}`),
    podBound,
  };
}

// ---------------------------------------------------------------------------------------
// The token resource (`tctl get token/NAME`, or the file `join` renders)

export interface TokenResource {
  kind?: unknown;
  version?: unknown;
  metadata?: { name?: unknown } | null;
  spec?: {
    roles?: unknown;
    bot_name?: unknown;
    join_method?: unknown;
    kubernetes?: {
      type?: unknown;
      static_jwks?: { jwks?: unknown } | null;
      oidc?: { issuer?: unknown; insecure_allow_http_issuer?: unknown } | null;
      allow?: unknown;
    } | null;
  } | null;
}

export class TokenFileError extends Error {}

/**
 * The token among the file's documents: YAML or JSON, one document, a `---` stream, a
 * list (as `tctl get --format=json` prints) or `{items: […]}`. With several tokens, the
 * one for `bot`.
 * Returns the kinds found when there is no token, for the report.
 */
export function findTokenResource(text: string, bot: string): { token: TokenResource | null; kinds: string[] } {
  let objects: Array<Record<string, unknown>>;
  try {
    objects = parseResourceDocuments(text);
  } catch (error) {
    throw new TokenFileError((error as Error).message);
  }
  if (objects.length === 0) throw new TokenFileError('no YAML object in it (expected a Teleport token, as `tctl get token/NAME` prints it)');
  const tokens = objects.filter((object) => object.kind === 'token') as TokenResource[];
  const kinds = kindsOf(objects);
  if (tokens.length <= 1) return { token: tokens[0] ?? null, kinds };
  const forBot = tokens.filter((token) => token.spec?.bot_name === bot);
  if (forBot.length === 1) return { token: forBot[0]!, kinds };
  const names = tokens.map((token) => String(token.metadata?.name ?? '<unnamed>')).join(', ');
  throw new TokenFileError(`${tokens.length} tokens in it (${names}) and ${forBot.length === 0 ? 'none' : 'several'} for bot ${bot}; pass one token`);
}

export function tokenName(token: TokenResource): string {
  return typeof token.metadata?.name === 'string' ? token.metadata.name : '<unnamed>';
}

export interface TokenFileContext {
  bot: string;
  serviceAccount: ServiceAccountRef;
  /** The cluster's JWKS now, when it could be read. */
  liveJwks: Jwks | null;
  /** The cluster's service account issuer, when discovery answered. */
  liveIssuer: string | null;
  /** A fresh service account token, to try against the pasted JWKS. */
  serviceAccountToken: string | null;
}

export interface TokenFileVerdicts {
  kind: Verdict;
  joinMethod: Verdict;
  botName: Verdict;
  type: Verdict;
  allow: Verdict;
  /** static_jwks: pasted keys against the live JWKS; oidc: issuer against the live one. */
  jwksDrift: Verdict;
  /** static_jwks: a fresh token verifies with the pasted JWKS. */
  signature: Verdict;
}

function judgeAllow(allow: unknown, account: ServiceAccountRef): Verdict {
  if (!Array.isArray(allow) || allow.length === 0) return fail('spec.kubernetes.allow is empty (Teleport requires at least one rule)');
  const wanted = formatServiceAccount(account);
  const rules = allow.map((rule) => (rule as { service_account?: unknown } | null)?.service_account);
  const malformed = rules.filter((rule) => typeof rule !== 'string' || rule.split(':').length !== 2);
  if (rules.includes(wanted)) return pass(`allows service_account ${wanted}`);
  const listed = rules.filter((rule): rule is string => typeof rule === 'string').join(', ') || '<none>';
  const extra = malformed.length > 0 ? `; ${malformed.length} rule(s) not of the form NAMESPACE:NAME` : '';
  return fail(`no allow rule matches ${wanted} (rules: ${listed})${extra}: Teleport answers "kubernetes token did not match any allow rules"`);
}

async function judgeStaticJwks(jwksText: unknown, context: TokenFileContext): Promise<Pick<TokenFileVerdicts, 'jwksDrift' | 'signature'>> {
  if (typeof jwksText !== 'string' || jwksText.trim() === '') {
    const missing = fail('spec.kubernetes.static_jwks.jwks is missing');
    return { jwksDrift: missing, signature: missing };
  }
  const parsed = await parseJwks(jwksText);
  if (!parsed.jwks) {
    const broken = fail(`spec.kubernetes.static_jwks.jwks: ${parsed.problem}`);
    return { jwksDrift: broken, signature: broken };
  }
  let driftVerdict: Verdict;
  if (!context.liveJwks) driftVerdict = skip("the cluster's JWKS could not be read");
  else {
    const drift = await jwksDrift(parsed.jwks, context.liveJwks);
    const problems = [
      ...(drift.gone.length > 0 ? [`key ${drift.gone.join(', ')} no longer published by the cluster`] : []),
      ...(drift.changed.length > 0 ? [`key ${drift.changed.join(', ')} changed`] : []),
      ...(drift.added.length > 0 ? [`the cluster also publishes key ${drift.added.join(', ')}, which the token lacks`] : []),
    ];
    if (drift.gone.length > 0 || drift.changed.length > 0) {
      driftVerdict = fail(`the JWKS drifted: ${problems.join('; ')}; re-render the token (join) and tctl create -f it again, or use join type oidc`);
    } else if (drift.added.length > 0) {
      driftVerdict = warn(`${problems.join('; ')}: tokens signed with it will be rejected; re-render the token`);
    } else {
      driftVerdict = pass(`matches the cluster's JWKS: ${describeJwks(parsed.jwks)}`);
    }
  }
  let signature = skip('no service account token to verify');
  if (context.serviceAccountToken) {
    const verified = await verifyTokenSignature(context.serviceAccountToken, parsed.jwks);
    const lead = verified.status === 'pass' ? "a fresh token verifies with the token's JWKS" : "Teleport would reject tbot's token";
    signature = { status: verified.status, message: `${lead}: ${verified.message}` };
  }
  return { jwksDrift: driftVerdict, signature };
}

function judgeOidcIssuer(oidc: NonNullable<NonNullable<TokenResource['spec']>['kubernetes']>['oidc'], liveIssuer: string | null): Verdict {
  const issuer = oidc?.issuer;
  if (typeof issuer !== 'string' || issuer === '') return fail('spec.kubernetes.oidc.issuer is missing');
  if (!issuer.startsWith('https://') && oidc?.insecure_allow_http_issuer !== true) {
    return fail('oidc.issuer must be https:// unless insecure_allow_http_issuer is set');
  }
  if (liveIssuer === null) return skip("the cluster's issuer could not be read");
  if (issuer !== liveIssuer) return fail(`oidc.issuer ${issuer} differs from the cluster's issuer ${liveIssuer}`);
  return pass(`oidc.issuer matches the cluster's issuer ${issuer}`);
}

/** Judges a token resource against the expected bot and service account and the live cluster. */
export async function judgeTokenResource(token: TokenResource, context: TokenFileContext): Promise<TokenFileVerdicts> {
  const spec = token.spec ?? {};
  const kubernetes = spec.kubernetes ?? {};
  const kind = token.version === 'v2' ? pass('kind token, version v2') : warn(`kind token, version ${String(token.version ?? '<none>')} (tctl writes v2)`);
  const joinMethod =
    spec.join_method === 'kubernetes'
      ? pass('join_method kubernetes')
      : fail(`join_method is ${String(spec.join_method ?? '<none>')}, tbot's Helm chart joins with kubernetes`);
  const roles = Array.isArray(spec.roles) ? spec.roles.map(String) : [];
  let botName: Verdict;
  if (spec.bot_name !== context.bot) botName = fail(`bot_name is ${String(spec.bot_name ?? '<none>')}, expected ${context.bot}`);
  else if (!roles.includes('Bot')) botName = fail(`roles [${roles.join(', ')}] lack Bot`);
  else botName = pass(`bot_name ${context.bot}, roles [${roles.join(', ')}]`);
  const allow = judgeAllow(kubernetes.allow, context.serviceAccount);
  const type = typeof kubernetes.type === 'string' && kubernetes.type !== '' ? kubernetes.type : 'in_cluster';
  const provider = context.liveIssuer ? detectProvider(context.liveIssuer) : null;

  if (type === 'static_jwks') {
    const rotating = provider?.name === 'EKS';
    return {
      kind,
      joinMethod,
      botName,
      allow,
      type: rotating ? warn('static_jwks on EKS: its signing keys rotate and the pasted JWKS will go stale; use oidc') : pass('type static_jwks'),
      ...(await judgeStaticJwks(kubernetes.static_jwks?.jwks, context)),
    };
  }
  const notStatic = skip(`type ${type}: no pasted JWKS`);
  if (type === 'oidc') {
    return { kind, joinMethod, botName, allow, type: pass('type oidc'), jwksDrift: judgeOidcIssuer(kubernetes.oidc, context.liveIssuer), signature: notStatic };
  }
  if (type === 'in_cluster') {
    return {
      kind,
      joinMethod,
      botName,
      allow,
      type: warn('type in_cluster: works only when the Teleport Auth Service runs in this cluster; use static_jwks or oidc otherwise'),
      jwksDrift: notStatic,
      signature: notStatic,
    };
  }
  return { kind, joinMethod, botName, allow, type: fail(`unknown type ${type} (in_cluster, static_jwks or oidc)`), jwksDrift: notStatic, signature: notStatic };
}
