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
    /**
     * What the filters leave for their `RequestEnd` (chain.ts) to finish when the response is
     * done; only the filter that set a field reads it.
     */
    filterState: FilterState;
  }
}

/** Per-request bookkeeping of the filters (one object, so requests keep one shape). */
export interface FilterState {
  /** metrics: `performance.now()` when the request was first seen. */
  startedAt: number;
  /** metrics: the in-flight gauge series counted up, or the long-running series (watch). */
  inflightKind: 'readOnly' | 'mutating' | undefined;
  longRunningLabels: Record<string, string> | undefined;
  /** timeout: the timer answering 504 when the request takes too long. */
  timeoutTimer: ReturnType<typeof setTimeout> | undefined;
  /** max-in-flight: the budget a slot was taken from (given back once). */
  inflightBudget: { release(): void } | undefined;
}

export function decorateRequests(app: FastifyInstance): void {
  app.decorateRequest('requestInfo', null as unknown as RequestInfo);
  app.decorateRequest('user', undefined);
  app.decorateRequest('auditID', '');
  app.decorateRequest('filterState', null as unknown as FilterState);
}

/** A new request's filter state (set by the first filter of the chain). */
export function newFilterState(): FilterState {
  return { startedAt: 0, inflightKind: undefined, longRunningLabels: undefined, timeoutTimer: undefined, inflightBudget: undefined };
}

/** The authenticated user of `req`; throws if the authentication filter did not run. */
export function requestUser(req: FastifyRequest): UserInfo {
  if (!req.user) throw new Error('no authenticated user on the request (authentication filter not installed)');
  return req.user;
}
