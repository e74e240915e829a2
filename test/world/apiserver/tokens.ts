// Service account token issuer: RS256 keys (kid = base64url SHA-256 of the SPKI DER, as
// kube-apiserver computes it), bound tokens with the real claim set, the JWKS and the
// OIDC discovery document, key rotation and issuer changes for drift tests.
import { createHash, randomUUID, webcrypto } from 'node:crypto';
import { SignJWT, exportJWK, jwtVerify, createLocalJWKSet, type JWTPayload, type JWK } from 'jose';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

export const DEFAULT_ISSUER = 'https://kubernetes.default.svc.cluster.local';

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export interface ServiceAccountClaims extends JWTPayload {
  'kubernetes.io': {
    namespace: string;
    serviceaccount: { name: string; uid: string };
    pod?: { name: string; uid: string };
    secret?: { name: string; uid: string };
  };
}

export interface IssueTokenOptions {
  namespace: string;
  name: string;
  serviceAccountUid: string;
  audiences: string[];
  expirationSeconds: number;
  pod?: { name: string; uid: string };
  secret?: { name: string; uid: string };
  /** Issue time (default now); lets tests mint already-expired tokens. */
  now?: Date;
}

async function generateSigningKey(): Promise<SigningKey> {
  const keys = (await webcrypto.subtle.generateKey(
    { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
    true,
    ['sign', 'verify'],
  )) as CryptoKeyPair;
  const spki = Buffer.from(await webcrypto.subtle.exportKey('spki', keys.publicKey));
  const kid = createHash('sha256').update(spki).digest('base64url');
  const jwk = await exportJWK(keys.publicKey);
  return { kid, privateKey: keys.privateKey, publicJwk: { use: 'sig', kty: 'RSA', kid, alg: 'RS256', n: jwk.n, e: jwk.e } };
}

export class TokenIssuer {
  /** Signing key first; older keys after it (still published and still accepted). */
  private keys: SigningKey[];

  private constructor(
    public issuer: string,
    first: SigningKey,
  ) {
    this.keys = [first];
  }

  static async create(issuer = DEFAULT_ISSUER): Promise<TokenIssuer> {
    return new TokenIssuer(issuer, await generateSigningKey());
  }

  get currentKid(): string {
    return this.keys[0]!.kid;
  }

  get kids(): string[] {
    return this.keys.map((k) => k.kid);
  }

  /** Audiences the API server accepts tokens for (`--api-audiences` defaults to the issuer). */
  get apiAudiences(): string[] {
    return [this.issuer];
  }

  /** New signing key; the old ones stay in the JWKS only when `keepOld`. */
  async rotate(options: { keepOld?: boolean } = {}): Promise<string> {
    const key = await generateSigningKey();
    this.keys = options.keepOld ? [key, ...this.keys] : [key];
    return key.kid;
  }

  jwks(): { keys: JWK[] } {
    return { keys: this.keys.map((k) => ({ ...k.publicJwk })) };
  }

  discovery(jwksUri: string): Record<string, unknown> {
    return {
      issuer: this.issuer,
      jwks_uri: jwksUri,
      response_types_supported: ['id_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
    };
  }

  async issue(o: IssueTokenOptions): Promise<{ token: string; expiresAt: Date; claims: ServiceAccountClaims }> {
    const iat = Math.floor((o.now ?? new Date()).getTime() / 1000);
    const exp = iat + o.expirationSeconds;
    const k8s: ServiceAccountClaims['kubernetes.io'] = {
      namespace: o.namespace,
      serviceaccount: { name: o.name, uid: o.serviceAccountUid },
    };
    if (o.pod) k8s.pod = o.pod;
    if (o.secret) k8s.secret = o.secret;
    // claim order as kube-apiserver marshals them (alphabetical)
    const claims: ServiceAccountClaims = {
      aud: o.audiences,
      exp,
      iat,
      iss: this.issuer,
      jti: randomUUID(),
      'kubernetes.io': k8s,
      nbf: iat,
      sub: `system:serviceaccount:${o.namespace}:${o.name}`,
    };
    const key = this.keys[0]!;
    const token = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: key.kid }).sign(key.privateKey);
    return { token, expiresAt: new Date(exp * 1000), claims };
  }

  /** Claims of a valid token of ours for the audiences (default: the API server's), else undefined. */
  async verify(token: string, audiences: string[] = this.apiAudiences): Promise<ServiceAccountClaims | undefined> {
    if (token.split('.').length !== 3) return undefined;
    try {
      const { payload } = await jwtVerify(token, createLocalJWKSet(this.jwks()), {
        issuer: this.issuer,
        audience: audiences,
        algorithms: ['RS256'],
      });
      const claims = payload as ServiceAccountClaims;
      if (!claims['kubernetes.io']?.serviceaccount || typeof claims.sub !== 'string') return undefined;
      return claims;
    } catch {
      return undefined;
    }
  }
}
