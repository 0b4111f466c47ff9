// What the filters hang off each fastify request, typed: the request attributes, the
// authenticated user, and the audit ID. Handlers read them; only the filters write them.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { UserInfo } from '../authn/user.js';
import type { RequestInfo } from '../request-info.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the request-info filter, first of all. */
    requestInfo: RequestInfo;
    /** Set by the authentication filter; undefined only before it ran (or when it failed). */
    user: UserInfo | undefined;
    /** The Audit-ID of this request (also sent as the `Audit-ID` response header). */
    auditID: string;
  }
}

export function decorateRequests(app: FastifyInstance): void {
  app.decorateRequest('requestInfo', null as unknown as RequestInfo);
  app.decorateRequest('user', undefined);
  app.decorateRequest('auditID', '');
}

/** The authenticated user of `req`; throws if the authentication filter did not run. */
export function requestUser(req: FastifyRequest): UserInfo {
  if (!req.user) throw new Error('no authenticated user on the request (authentication filter not installed)');
  return req.user;
}
