// Authentication (client certificates, static bearer tokens, service account JWTs) and
// impersonation, following k8s.io/apiserver's authenticator union and
// filters/impersonation.go (who may impersonate what, which groups result, messages).
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { ApiError, forbidden, internalError, statusBody, unauthorized } from './errors.js';
import { authorize, forbiddenReason, type Attributes, type UserInfo } from './rbac.js';
import { RESOURCE_TYPES } from './resources.js';
import type { ObjectStore } from './store.js';
import type { TokenIssuer, ServiceAccountClaims } from './tokens.js';

export interface StaticToken {
  user: string;
  groups?: string[];
  uid?: string;
}

export const AUTHENTICATED = 'system:authenticated';
export const UNAUTHENTICATED = 'system:unauthenticated';
export const ANONYMOUS = 'system:anonymous';
const CLIENT_AUTH_EKU = '1.3.6.1.5.5.7.3.2';

function asList(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

function withAuthenticated(groups: string[]): string[] {
  return groups.includes(AUTHENTICATED) ? groups : [...groups, AUTHENTICATED];
}

export function serviceAccountGroups(namespace: string): string[] {
  return ['system:serviceaccounts', `system:serviceaccounts:${namespace}`];
}

export interface AuthenticatorOptions {
  store: ObjectStore;
  issuer: TokenIssuer;
  tokens: Map<string, StaticToken>;
  anonymous: () => boolean;
}

export class Authenticator {
  constructor(private readonly o: AuthenticatorOptions) {}

  private fromCertificate(socket: TLSSocket): UserInfo | undefined {
    if (!socket.authorized) return undefined;
    const cert = socket.getPeerCertificate();
    if (!cert || !cert.subject) return undefined;
    const ekus = cert.ext_key_usage;
    if (ekus && ekus.length > 0 && !ekus.includes(CLIENT_AUTH_EKU)) return undefined;
    const cn = asList(cert.subject.CN)[0];
    if (!cn) return undefined;
    return { username: cn, groups: withAuthenticated(asList(cert.subject.O)) };
  }

  /** The user a bearer token stands for, or undefined when the token is not valid here. */
  async fromToken(token: string, audiences?: string[]): Promise<{ user: UserInfo; audiences: string[] } | undefined> {
    const fixed = this.o.tokens.get(token);
    if (fixed) {
      const user: UserInfo = { username: fixed.user, groups: withAuthenticated(fixed.groups ?? []) };
      if (fixed.uid) user.uid = fixed.uid;
      return { user, audiences: audiences ?? this.o.issuer.apiAudiences };
    }
    const claims = await this.o.issuer.verify(token, audiences);
    if (!claims) return undefined;
    const user = this.serviceAccountUser(claims);
    return user ? { user, audiences: audiences ?? this.o.issuer.apiAudiences } : undefined;
  }

  /** Bound-token checks the authenticator makes: the service account (and pod) still exist with the same uid. */
  private serviceAccountUser(claims: ServiceAccountClaims): UserInfo | undefined {
    const k = claims['kubernetes.io'];
    const sa = this.o.store.peek(RESOURCE_TYPES.find((t) => t.resource === 'serviceaccounts')!, k.namespace, k.serviceaccount.name);
    if (!sa || sa.metadata.uid !== k.serviceaccount.uid) return undefined;
    const extra: Record<string, string[]> = {};
    if (k.pod) {
      const pod = this.o.store.peek(RESOURCE_TYPES.find((t) => t.resource === 'pods')!, k.namespace, k.pod.name);
      if (!pod || pod.metadata.uid !== k.pod.uid) return undefined;
      extra['authentication.kubernetes.io/pod-name'] = [k.pod.name];
      extra['authentication.kubernetes.io/pod-uid'] = [k.pod.uid];
    }
    if (k.secret) {
      const secret = this.o.store.peek(RESOURCE_TYPES.find((t) => t.resource === 'secrets')!, k.namespace, k.secret.name);
      if (!secret || secret.metadata.uid !== k.secret.uid) return undefined;
    }
    if (typeof claims.jti === 'string') extra['authentication.kubernetes.io/credential-id'] = [`JTI=${claims.jti}`];
    return {
      username: `system:serviceaccount:${k.namespace}:${k.serviceaccount.name}`,
      uid: k.serviceaccount.uid,
      groups: withAuthenticated(serviceAccountGroups(k.namespace)),
      extra,
    };
  }

  async authenticate(req: IncomingMessage): Promise<UserInfo> {
    const certUser = this.fromCertificate(req.socket as TLSSocket);
    if (certUser) return certUser;
    const header = req.headers.authorization;
    if (header !== undefined) {
      const m = header.match(/^bearer\s+(\S+)\s*$/i);
      const found = m ? await this.fromToken(m[1]!) : undefined;
      if (found) return found.user;
      throw unauthorized();
    }
    if (this.o.anonymous()) return { username: ANONYMOUS, groups: [UNAUTHENTICATED] };
    throw unauthorized();
  }
}

/**
 * Applies `Impersonate-*` headers: each requested identity is authorized as verb
 * `impersonate` for the caller; the result replaces the caller.
 */
export function impersonate(store: ObjectStore, req: IncomingMessage, caller: UserInfo): UserInfo {
  const h = req.headersDistinct;
  const users = h['impersonate-user'] ?? [];
  const groups = h['impersonate-group'] ?? [];
  const uids = h['impersonate-uid'] ?? [];
  const extras: Record<string, string[]> = {};
  for (const [name, values] of Object.entries(h)) {
    if (!name.startsWith('impersonate-extra-') || !values) continue;
    extras[decodeURIComponent(name.slice('impersonate-extra-'.length))] = values;
  }
  if (users.length === 0) {
    if (groups.length || uids.length || Object.keys(extras).length) {
      throw internalError(`requested ${JSON.stringify({ groups, uids, extras })} without impersonating a user`);
    }
    return caller;
  }
  if (users.length > 1) throw new ApiError(statusBody(400, 'BadRequest', 'only one Impersonate-User header may be specified'));
  const username = users[0]!;
  const check = (attrs: Omit<Attributes, 'user' | 'verb' | 'resourceRequest'>) => {
    const a: Attributes = { user: caller, verb: 'impersonate', resourceRequest: true, ...attrs };
    const decision = authorize(store, a);
    if (!decision.allowed) {
      const reason = forbiddenReason(a) + (decision.reason ? `: ${decision.reason}` : '');
      throw forbidden({ group: attrs.apiGroup ?? '', resource: attrs.resource! }, attrs.name, reason);
    }
  };
  const sa = username.match(/^system:serviceaccount:([^:]+):([^:]+)$/);
  if (sa) check({ apiGroup: '', resource: 'serviceaccounts', namespace: sa[1], name: sa[2] });
  else check({ apiGroup: '', resource: 'users', name: username });
  for (const g of groups) check({ apiGroup: '', resource: 'groups', name: g });
  for (const u of uids) check({ apiGroup: 'authentication.k8s.io', resource: 'uids', name: u });
  for (const [key, values] of Object.entries(extras)) {
    for (const v of values) check({ apiGroup: 'authentication.k8s.io', resource: 'userextras', subresource: key, name: v });
  }
  let resultGroups = [...groups];
  if (sa && groups.length === 0) resultGroups = serviceAccountGroups(sa[1]!);
  if (username === ANONYMOUS) {
    if (!resultGroups.includes(UNAUTHENTICATED)) resultGroups.push(UNAUTHENTICATED);
  } else resultGroups = withAuthenticated(resultGroups);
  const user: UserInfo = { username, groups: resultGroups };
  if (uids[0]) user.uid = uids[0];
  if (Object.keys(extras).length) user.extra = extras;
  return user;
}
