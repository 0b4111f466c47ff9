// Filter 1: request attributes, computed once from method + URL.
import type { FastifyInstance } from 'fastify';
import { resolveRequestInfo } from '../request-info.js';

export function installRequestInfoFilter(app: FastifyInstance): void {
  app.addHook('onRequest', (req, _reply, done) => {
    req.requestInfo = resolveRequestInfo(req.method, req.url);
    done();
  });
}
