// Filter 5: authorization of the request attributes for the authenticated user. Allow goes on;
// Deny and NoOpinion are 403 Forbidden with kube-apiserver's message.
import { attributesOf, forbiddenMessage, type AuthorizationAttributes, type AuthorizationResult, type Authorizer } from '../authz/authorizer.js';
import { forbidden } from '../errors.js';
import type { RequestFilter } from './chain.js';
import { requestUser } from './request-context.js';

export function authorizationFilter(authorizer: Authorizer): RequestFilter {
  const settle = (attrs: AuthorizationAttributes, result: AuthorizationResult): void => {
    if (result.decision === 'allow') return;
    const message = forbiddenMessage(attrs) + (result.reason ? `: ${result.reason}` : '');
    throw attrs.isResourceRequest
      ? forbidden({ group: attrs.apiGroup, resource: attrs.resource, ...(attrs.name ? { name: attrs.name } : {}) }, message)
      : forbidden({ group: '', resource: '' }, message);
  };
  // No promise and no microtask unless the authorizer answers asynchronously.
  return (req) => {
    const attrs = attributesOf(requestUser(req), req.requestInfo);
    const answer = authorizer.authorize(attrs);
    if (answer instanceof Promise) return answer.then((result) => settle(attrs, result));
    settle(attrs, answer);
    return undefined;
  };
}
