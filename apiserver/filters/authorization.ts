// Filter 5: authorization of the request attributes for the authenticated user. Allow goes on;
// Deny and NoOpinion are 403 Forbidden with kube-apiserver's message.
import type { FastifyInstance } from 'fastify';
import { attributesOf, forbiddenMessage, type AuthorizationAttributes, type AuthorizationResult, type Authorizer } from '../authz/authorizer.js';
import { forbidden, type StatusError } from '../errors.js';
import { requestUser } from './request-context.js';

export function installAuthorizationFilter(app: FastifyInstance, authorizer: Authorizer): void {
  const settle = (attrs: AuthorizationAttributes, result: AuthorizationResult): StatusError | undefined => {
    if (result.decision === 'allow') return undefined;
    const message = forbiddenMessage(attrs) + (result.reason ? `: ${result.reason}` : '');
    return attrs.isResourceRequest
      ? forbidden({ group: attrs.apiGroup, resource: attrs.resource, ...(attrs.name ? { name: attrs.name } : {}) }, message)
      : forbidden({ group: '', resource: '' }, message);
  };
  // Callback style: no promise and no microtask unless the authorizer answers asynchronously.
  app.addHook('onRequest', (req, _reply, done) => {
    const attrs = attributesOf(requestUser(req), req.requestInfo);
    const answer = authorizer.authorize(attrs);
    if (answer instanceof Promise) answer.then((result) => settle(attrs, result)).then(done, done);
    else done(settle(attrs, answer));
  });
}
