import type { FastifyReply, FastifyRequest } from 'fastify';
import { negotiate } from '../negotiation.js';
import { listBody, parseIncludeObject, send } from '../response.js';
import { deleteOptions, listOptions, param, storageListOptions, type ResourceContext, type RouteParams } from './context.js';
import { parseDocumentBody, rawBody } from './decode.js';

/** DELETE of a collection (optionally label/field selected): the list of deleted objects. */
export function deleteCollectionHandler(ctx: ResourceContext) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const { namespace } = req.params as RouteParams;
    const negotiated = negotiate(req.headers.accept, { list: true });
    const includeObject = parseIncludeObject(param(req, 'includeObject'));
    const body = rawBody(req).length > 0 ? (parseDocumentBody(req).value as Record<string, unknown>) : undefined;
    const deleted = await ctx.store.deleteCollection(storageListOptions(ctx, listOptions(req, namespace)), deleteOptions(req, body));
    const revision = await ctx.store.backend.currentRevision();
    return send(reply, 200, listBody(ctx.decl, ctx.version, deleted, { resourceVersion: String(revision) }, negotiated, includeObject), negotiated.encoding);
  };
}
