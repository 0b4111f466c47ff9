// The stand-in host cluster's delegated authentication and authorization: `POST` TokenReview and
// SubjectAccessReview, answered from what the test configured (`HostAuth`), every request body
// recorded in order. The wire shapes are authentication.k8s.io/v1 and authorization.k8s.io/v1.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { parseJsonBody } from '../../apiserver/body.js';
import { badRequest, invalid, type FieldError } from '../../apiserver/errors.js';
import { rawBody } from '../../apiserver/handlers/decode.js';
import { send } from '../../apiserver/response.js';

export interface TokenUser {
  username: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

export interface AuthorizationDecision {
  allowed: boolean;
  denied?: boolean;
  reason?: string;
}

/** What the routes answer from; the test host cluster exposes these fields to tests. */
export interface HostAuth {
  /** Bearer token → user; an unknown token is not authenticated. */
  tokens: Map<string, TokenUser>;
  /** The decision for a SubjectAccessReview's spec. */
  authorize: (spec: Record<string, any>) => AuthorizationDecision;
  tokenReviews: Record<string, any>[];
  subjectAccessReviews: Record<string, any>[];
}

export const TOKEN_REVIEW_PATH = '/apis/authentication.k8s.io/v1/tokenreviews';
export const SUBJECT_ACCESS_REVIEW_PATH = '/apis/authorization.k8s.io/v1/subjectaccessreviews';

/** The body as a review object of `kind` in `apiVersion`; 400 for anything else. */
function reviewBody(req: FastifyRequest, apiVersion: string, kind: string): Record<string, any> {
  const { value } = parseJsonBody(rawBody(req));
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw badRequest(`the body must be a ${kind} object`);
  const body = value as Record<string, any>;
  if (body.apiVersion !== undefined && body.apiVersion !== apiVersion) {
    throw badRequest(`the API version in the data (${String(body.apiVersion)}) does not match the expected API version (${apiVersion})`);
  }
  if (body.kind !== undefined && body.kind !== kind) throw badRequest(`the kind in the data (${String(body.kind)}) does not match the expected kind (${kind})`);
  return body;
}

/** kube-apiserver's SubjectAccessReview validation (`ValidateSubjectAccessReviewSpec`). */
function subjectAccessReviewErrors(spec: Record<string, any>): FieldError[] {
  const errors: FieldError[] = [];
  const hasResource = spec.resourceAttributes !== undefined && spec.resourceAttributes !== null;
  const hasNonResource = spec.nonResourceAttributes !== undefined && spec.nonResourceAttributes !== null;
  if (hasResource === hasNonResource) {
    errors.push({
      type: 'FieldValueInvalid',
      field: 'spec.resourceAttributes',
      value: spec.resourceAttributes ?? null,
      detail: 'exactly one of nonResourceAttributes or resourceAttributes must be specified',
    });
  }
  if (!spec.user && !(Array.isArray(spec.groups) && spec.groups.length > 0)) {
    errors.push({ type: 'FieldValueInvalid', field: 'spec.user', value: spec.user ?? '', detail: 'at least one of user or group must be specified' });
  }
  return errors;
}

export function installAuthRoutes(app: FastifyInstance, auth: HostAuth): void {
  app.post(TOKEN_REVIEW_PATH, async (req, reply) => {
    const body = reviewBody(req, 'authentication.k8s.io/v1', 'TokenReview');
    auth.tokenReviews.push(structuredClone(body));
    const spec = (body.spec ?? {}) as Record<string, any>;
    if (typeof spec.token !== 'string' || spec.token === '') throw badRequest('token is required for TokenReview in authentication');
    const user = auth.tokens.get(spec.token);
    const status: Record<string, unknown> = user
      ? { authenticated: true, user: structuredClone(user), ...(Array.isArray(spec.audiences) ? { audiences: spec.audiences } : {}) }
      : { authenticated: false, user: {} };
    return send(reply, 201, { kind: 'TokenReview', apiVersion: 'authentication.k8s.io/v1', metadata: { creationTimestamp: null }, spec, status });
  });

  app.post(SUBJECT_ACCESS_REVIEW_PATH, async (req, reply) => {
    const body = reviewBody(req, 'authorization.k8s.io/v1', 'SubjectAccessReview');
    auth.subjectAccessReviews.push(structuredClone(body));
    const spec = (body.spec ?? {}) as Record<string, any>;
    const errors = subjectAccessReviewErrors(spec);
    if (errors.length > 0) throw invalid({ group: 'authorization.k8s.io', resource: 'subjectaccessreviews', kind: 'SubjectAccessReview', name: '' }, errors);
    const decision = auth.authorize(structuredClone(spec));
    const status: Record<string, unknown> = { allowed: decision.allowed };
    if (decision.denied) status.denied = true;
    if (decision.reason) status.reason = decision.reason;
    return send(reply, 201, {
      kind: 'SubjectAccessReview',
      apiVersion: 'authorization.k8s.io/v1',
      metadata: { creationTimestamp: null },
      spec,
      status,
    });
  });
}
