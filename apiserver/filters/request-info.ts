// Filter 1: request attributes, computed once from method + URL (and remembered: the same method
// and URL always resolve alike, and most requests repeat a recent URL). Also gives the request
// its filter state. RequestInfo objects are shared between requests: read-only (frozen).
import type { FastifyRequest } from 'fastify';
import { resolveRequestInfo, type RequestInfo } from '../request-info.js';
import type { RequestFilter } from './chain.js';
import { newFilterState } from './request-context.js';

/** URLs longer than this are resolved every time (they are rarely repeated). */
const MAX_REMEMBERED_URL_LENGTH = 512;
/** Resolved URLs kept; all forgotten at once when full. */
const MAX_REMEMBERED = 2048;

export class RequestInfoResolver {
  private readonly known = new Map<string, RequestInfo>();

  resolve(method: string, url: string): RequestInfo {
    if (url.length > MAX_REMEMBERED_URL_LENGTH) return resolveRequestInfo(method, url);
    const key = `${method} ${url}`;
    let info = this.known.get(key);
    if (info === undefined) {
      info = Object.freeze(resolveRequestInfo(method, url));
      if (this.known.size >= MAX_REMEMBERED) this.known.clear();
      this.known.set(key, info);
    }
    return info;
  }
}

export function requestInfoFilter(): RequestFilter {
  const resolver = new RequestInfoResolver();
  return (req: FastifyRequest) => {
    req.filterState = newFilterState();
    req.requestInfo = resolver.resolve(req.method, req.url);
  };
}
