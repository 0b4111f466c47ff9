// Delegated authorization: a SubjectAccessReview (authorization.k8s.io/v1) to the host cluster
// with every attribute including `subresource`, allowed and denied answers cached separately
// (kube-apiserver: 10 s each).
import { TtlCache, type Clock } from '../authn/ttl-cache.js';
import type { AuthorizationAttributes, AuthorizationResult, Authorizer } from './authorizer.js';

export interface SubjectAccessReviewSpec {
  user: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
  resourceAttributes?: {
    namespace: string;
    verb: string;
    group: string;
    version: string;
    resource: string;
    subresource: string;
    name: string;
  };
  nonResourceAttributes?: { path: string; verb: string };
}

export interface SubjectAccessReviewStatus {
  allowed: boolean;
  denied?: boolean;
  reason?: string;
  evaluationError?: string;
}

export type SubjectAccessReviewer = (spec: SubjectAccessReviewSpec) => Promise<SubjectAccessReviewStatus>;

export interface SubjectAccessReviewOptions {
  review: SubjectAccessReviewer;
  allowedTtlMs: number;
  deniedTtlMs: number;
  clock?: Clock;
}

export function subjectAccessReviewSpec(attrs: AuthorizationAttributes): SubjectAccessReviewSpec {
  const spec: SubjectAccessReviewSpec = {
    user: attrs.user.username,
    groups: attrs.user.groups,
    ...(attrs.user.uid ? { uid: attrs.user.uid } : {}),
    ...(attrs.user.extra ? { extra: attrs.user.extra } : {}),
  };
  if (attrs.isResourceRequest) {
    spec.resourceAttributes = {
      namespace: attrs.namespace,
      verb: attrs.verb,
      group: attrs.apiGroup,
      version: attrs.apiVersion,
      resource: attrs.resource,
      subresource: attrs.subresource,
      name: attrs.name,
    };
  } else {
    spec.nonResourceAttributes = { path: attrs.path, verb: attrs.verb };
  }
  return spec;
}

export class SubjectAccessReviewAuthorizer implements Authorizer {
  readonly name = 'webhook';
  private readonly cache: TtlCache<AuthorizationResult>;
  constructor(private readonly options: SubjectAccessReviewOptions) {
    this.cache = new TtlCache(options.clock);
  }

  async authorize(attrs: AuthorizationAttributes): Promise<AuthorizationResult> {
    const spec = subjectAccessReviewSpec(attrs);
    const key = JSON.stringify(spec);
    const cached = this.cache.get(key);
    if (cached) return cached;
    let status: SubjectAccessReviewStatus;
    try {
      status = await this.options.review(spec);
    } catch (err) {
      // Not cached; the request is refused with the reason (kube-apiserver answers 403 too).
      return { decision: 'no-opinion', reason: `authorization webhook failed: ${(err as Error).message}` };
    }
    const reason = status.reason || undefined;
    if (status.allowed) {
      const result: AuthorizationResult = { decision: 'allow', ...(reason ? { reason } : {}) };
      this.cache.set(key, result, this.options.allowedTtlMs);
      return result;
    }
    const result: AuthorizationResult = { decision: status.denied ? 'deny' : 'no-opinion', ...(reason ? { reason } : {}) };
    this.cache.set(key, result, this.options.deniedTtlMs);
    return result;
  }
}
