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

export type AuthenticationOutcome = { user: UserInfo; authenticator: string } | { error: string };

/** The user of `req`, or the reason it gets 401. */
export async function authenticateRequest(chain: AuthenticationChain, req: AuthenticationRequest): Promise<AuthenticationOutcome> {
  return authenticateRequestNow(chain, req);
}

/**
 * `authenticateRequest` without a promise when every authenticator that runs answers
 * synchronously (client certificates, token file); a promise only once one answers with one
 * (TokenReview). Same answers, in the same order.
 */
export function authenticateRequestNow(chain: AuthenticationChain, req: AuthenticationRequest, from = 0): AuthenticationOutcome | Promise<AuthenticationOutcome> {
  for (let i = from; i < chain.authenticators.length; i++) {
    const answer = chain.authenticators[i].authenticate(req);
    if (answer instanceof Promise) {
      return answer.then((result) => decided(result) ?? authenticateRequestNow(chain, req, i + 1));
    }
    const outcome = decided(answer);
    if (outcome) return outcome;
  }
  if (chain.anonymous) return { user: anonymousUser(), authenticator: 'anonymous' };
  return { error: 'no credentials' };
}

function decided(result: AuthenticationResult): AuthenticationOutcome | undefined {
  if (result.kind === 'error') return { error: result.message };
  if (result.kind === 'user') return { user: withAuthenticatedGroup(result.user), authenticator: result.authenticator };
  return undefined;
}

/** The token of an `Authorization: Bearer <token>` header, if any. */
export function bearerToken(headers: DistinctHeaders): string | undefined {
  const value = headers.authorization?.[0];
  if (typeof value !== 'string') return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(value);
  return m ? m[1] : undefined;
}
