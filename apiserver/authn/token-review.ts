// Bearer tokens checked by the host cluster's TokenReview (authentication.k8s.io/v1), with a
// positive and a negative cache keyed by a hash of the token (kube-apiserver caches 10 s).
import { createHash } from 'node:crypto';
import { NOT_MINE, bearerToken, type AuthenticationRequest, type AuthenticationResult, type Authenticator } from './authenticator.js';
import { TtlCache, type Clock } from './ttl-cache.js';
import type { UserInfo } from './user.js';

export interface TokenReviewStatus {
  authenticated?: boolean;
  user?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
  error?: string;
}

/** Sends one TokenReview and returns its status (client-node in production, anything in tests). */
export type TokenReviewer = (token: string, audiences: string[]) => Promise<TokenReviewStatus>;

export interface TokenReviewOptions {
  review: TokenReviewer;
  cacheTtlMs: number;
  /** Failed reviews are cached this long (kube-apiserver: the same TTL). */
  negativeCacheTtlMs?: number;
  audiences?: string[];
  clock?: Clock;
}

export class TokenReviewAuthenticator implements Authenticator {
  readonly name = 'webhook';
  private readonly cache: TtlCache<UserInfo | null>;
  constructor(private readonly options: TokenReviewOptions) {
    this.cache = new TtlCache(options.clock);
  }

  async authenticate(req: AuthenticationRequest): Promise<AuthenticationResult> {
    const token = bearerToken(req.headers);
    if (token === undefined) return NOT_MINE;
    const key = createHash('sha256').update(token).digest('hex');
    let user = this.cache.get(key);
    if (user === undefined) {
      let status: TokenReviewStatus;
      try {
        status = await this.options.review(token, this.options.audiences ?? []);
      } catch (err) {
        // Not cached: the host cluster being unreachable says nothing about the token.
        return { kind: 'error', message: `token review failed: ${(err as Error).message}` };
      }
      user = status.authenticated && status.user?.username ? toUser(status.user) : null;
      this.cache.set(key, user, user ? this.options.cacheTtlMs : (this.options.negativeCacheTtlMs ?? this.options.cacheTtlMs));
    }
    if (!user) return { kind: 'error', message: 'invalid bearer token' };
    return { kind: 'user', authenticator: this.name, user };
  }
}

function toUser(u: NonNullable<TokenReviewStatus['user']>): UserInfo {
  return {
    username: u.username ?? '',
    ...(u.uid ? { uid: u.uid } : {}),
    groups: u.groups ?? [],
    ...(u.extra && Object.keys(u.extra).length > 0 ? { extra: u.extra } : {}),
  };
}
