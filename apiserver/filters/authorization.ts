// Filter 5: authorization of the request attributes for the authenticated user. Allow goes on;
// Deny and NoOpinion are 403 Forbidden with kube-apiserver's message.
import type { FastifyInstance } from 'fastify';
import { attributesOf, forbiddenMessage, type Authorizer } from '../authz/authorizer.js';
import { forbidden } from '../errors.js';
import { requestUser } from './request-context.js';

export function installAuthorizationFilter(app: FastifyInstance, authorizer: Authorizer): void {
  app.addHook('onRequest', async (req) => {
    const attrs = attributesOf(requestUser(req), req.requestInfo);
    const result = await authorizer.authorize(attrs);
    if (result.decision === 'allow') return;
    const message = forbiddenMessage(attrs) + (result.reason ? `: ${result.reason}` : '');
    throw attrs.isResourceRequest
      ? forbidden({ group: attrs.apiGroup, resource: attrs.resource, ...(attrs.name ? { name: attrs.name } : {}) }, message)
      : forbidden({ group: '', resource: '' }, message);
  });
}
