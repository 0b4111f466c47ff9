import type { FastifyReply, FastifyRequest } from 'fastify';
import { negotiate } from '../negotiation.js';
import { objectBody, parseIncludeObject, send } from '../response.js';
import { deleteOptions, param, type ResourceContext, type RouteParams } from './context.js';
import { parseDocumentBody, rawBody } from './decode.js';

/**
 * DELETE of one object: 200 with the deleted object, or with the object now carrying a
 * deletionTimestamp when finalizers keep it until they are removed (kube-apiserver answers 200
 * in both cases for clients that do not ask for orphanDependents=false).
 */
export function deleteHandler(ctx: ResourceContext) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const { namespace, name } = req.params as RouteParams;
    const negotiated = negotiate(req.headers.accept, { list: false });
    const includeObject = parseIncludeObject(param(req, 'includeObject'));
    const body = rawBody(req).length > 0 ? (parseDocumentBody(req).value as Record<string, unknown>) : undefined;
    const result = await ctx.store.delete({ namespace, name: name! }, deleteOptions(req, body));
    return send(reply, 200, objectBody(ctx.decl, result.object, negotiated, includeObject, ctx.version), negotiated.encoding);
  };
}
