import type { FastifyReply, FastifyRequest } from 'fastify';
import { badRequest } from '../errors.js';
import { negotiate } from '../negotiation.js';
import { listBody, parseIncludeObject, send } from '../response.js';
import { boolParam, listOptions, param, storageListOptions, type ResourceContext, type RouteParams } from './context.js';
import { watchHandler } from './watch.js';

/** GET of a collection: a list, or a watch when `watch=true`. */
export function listHandler(ctx: ResourceContext) {
  const watch = watchHandler(ctx);
  return async (req: FastifyRequest, reply: FastifyReply) => {
    if (boolParam(req, 'watch')) return watch(req, reply);
    if (param(req, 'sendInitialEvents') !== undefined) {
      throw badRequest('sendInitialEvents: Forbidden: sendInitialEvents is forbidden for list');
    }
    const { namespace } = req.params as RouteParams;
    const negotiated = negotiate(req.headers.accept, { list: true });
    const includeObject = parseIncludeObject(param(req, 'includeObject'));
    const result = await ctx.store.list(storageListOptions(ctx, listOptions(req, namespace)));
    const body = listBody(ctx.decl, ctx.version, result.items, result, negotiated, includeObject);
    return send(reply, 200, body, negotiated.encoding);
  };
}
