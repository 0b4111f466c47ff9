// The authenticator contract and the chain kube-apiserver runs: front proxy → x509 → bearer token
// → anonymous. The first authenticator that recognises the request decides; an error (a bearer
// token that is present but invalid) fails the request with 401 even when anonymous is enabled.
import type { X509Certificate } from 'node:crypto';
import { anonymousUser, withAuthenticatedGroup, type UserInfo } from './user.js';

/** Request headers with every value of a repeated header kept apart (`headersDistinct`). */
export type DistinctHeaders = Record<string, string[] | undefined>;

export interface AuthenticationRequest {
  headers: DistinctHeaders;
  /** The TLS client certificate chain, leaf first; empty without a client certificate. */
  peerCertificates: readonly X509Certificate[];
}

export type AuthenticationResult =
  /** Not this authenticator's kind of credential; the next one tries. */
  | { kind: 'none' }
  | { kind: 'user'; user: UserInfo; authenticator: string }
  /** A credential of this kind that is not valid: the request gets 401. */
  | { kind: 'error'; message: string };

export interface Authenticator {
  readonly name: string;
  authenticate(req: AuthenticationRequest): Promise<AuthenticationResult> | AuthenticationResult;
}

export const NOT_MINE: AuthenticationResult = { kind: 'none' };

export interface AuthenticationChain {
  authenticators: Authenticator[];
  anonymous: boolean;
}

/** The user of `req`, or the reason it gets 401. */
export async function authenticateRequest(
  chain: AuthenticationChain,
  req: AuthenticationRequest,
): Promise<{ user: UserInfo; authenticator: string } | { error: string }> {
  for (const authenticator of chain.authenticators) {
    const result = await authenticator.authenticate(req);
    if (result.kind === 'error') return { error: result.message };
    if (result.kind === 'user') return { user: withAuthenticatedGroup(result.user), authenticator: result.authenticator };
  }
  if (chain.anonymous) return { user: anonymousUser(), authenticator: 'anonymous' };
  return { error: 'no credentials' };
}

/** The token of an `Authorization: Bearer <token>` header, if any. */
export function bearerToken(headers: DistinctHeaders): string | undefined {
  const value = headers.authorization?.[0];
  if (typeof value !== 'string') return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(value);
  return m ? m[1] : undefined;
}
