// What every server allows before asking RBAC or the host cluster: the `system:masters` group,
// health and version for everyone, discovery, OpenAPI and SelfSubjectAccessReview for
// authenticated users (kube's system:public-info-viewer, system:discovery, system:basic-user),
// and the `--authorization-always-allow-paths`.
import { AUTHENTICATED_GROUP, MASTERS_GROUP } from '../authn/user.js';
import type { AuthorizationAttributes, AuthorizationResult, Authorizer } from './authorizer.js';

export const DEFAULT_ALWAYS_ALLOW_PATHS = ['/healthz', '/readyz', '/livez'];
const PUBLIC_PATHS = ['/healthz', '/healthz/*', '/livez', '/livez/*', '/readyz', '/readyz/*', '/version', '/version/'];
const DISCOVERY_PATHS = ['/api', '/api/*', '/apis', '/apis/*', '/openapi/*', '/openapi/v2'];

/** `pattern` matches `path` exactly, or as a prefix when it ends in `*` (RBAC non-resource URL rules). */
export function pathMatches(pattern: string, path: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('*')) return path.startsWith(pattern.slice(0, -1));
  return pattern === path;
}

export class AlwaysAllowAuthorizer implements Authorizer {
  readonly name = 'always-allow';
  constructor(private readonly alwaysAllowPaths: string[] = DEFAULT_ALWAYS_ALLOW_PATHS) {}

  authorize(attrs: AuthorizationAttributes): AuthorizationResult {
    if (attrs.user.groups.includes(MASTERS_GROUP)) return { decision: 'allow', reason: 'system:masters' };
    if (!attrs.isResourceRequest) {
      if (this.alwaysAllowPaths.some((p) => pathMatches(p, attrs.path))) return { decision: 'allow' };
      if (attrs.verb !== 'get' && attrs.verb !== 'head') return { decision: 'no-opinion' };
      if (PUBLIC_PATHS.some((p) => pathMatches(p, attrs.path))) return { decision: 'allow' };
      const authenticated = attrs.user.groups.includes(AUTHENTICATED_GROUP);
      if (authenticated && DISCOVERY_PATHS.some((p) => pathMatches(p, attrs.path))) return { decision: 'allow' };
      return { decision: 'no-opinion' };
    }
    if (
      attrs.user.groups.includes(AUTHENTICATED_GROUP) &&
      attrs.verb === 'create' &&
      attrs.apiGroup === 'authorization.k8s.io' &&
      attrs.resource === 'selfsubjectaccessreviews' &&
      attrs.subresource === ''
    ) {
      return { decision: 'allow' };
    }
    return { decision: 'no-opinion' };
  }
}
