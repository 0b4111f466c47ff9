import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Store } from '../../registry/store.js';
import { negotiate } from '../negotiation.js';
import { objectBody, parseIncludeObject, send } from '../response.js';
import { param, type ResourceContext, type RouteParams } from './context.js';

/** GET of one object (main resource or `/status`). */
export function getHandler(ctx: ResourceContext, store: Store) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const { namespace, name } = req.params as RouteParams;
    const negotiated = negotiate(req.headers.accept, { list: false });
    const includeObject = parseIncludeObject(param(req, 'includeObject'));
    const obj = await store.get({ namespace, name: name! }, { resourceVersion: param(req, 'resourceVersion') });
    return send(reply, 200, objectBody(ctx.decl, obj, negotiated, includeObject, ctx.version), negotiated.encoding);
  };
}
