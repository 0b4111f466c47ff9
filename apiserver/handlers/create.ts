import type { FastifyReply, FastifyRequest } from 'fastify';
import { negotiate } from '../negotiation.js';
import { addWarnings, objectBody, parseIncludeObject, send } from '../response.js';
import { dryRun, inRequestVersion, param, type ResourceContext, type RouteParams } from './context.js';
import { decodeObjectBody } from './decode.js';
import { managerOf } from './field-manager.js';

/** POST to a collection: 201 Created with the stored object. */
export function createHandler(ctx: ResourceContext) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const { namespace } = req.params as RouteParams;
    const negotiated = negotiate(req.headers.accept, { list: false });
    const includeObject = parseIncludeObject(param(req, 'includeObject'));
    const decoded = decodeObjectBody(req, ctx);
    const result = await inRequestVersion(ctx, ctx.store.create(namespace, decoded, { dryRun: dryRun(req), managedFields: managerOf(req, ctx, 'CreateOptions') }));
    addWarnings(reply, result.warnings);
    return send(reply, 201, objectBody(ctx.decl, result.object, negotiated, includeObject, ctx.version), negotiated.encoding);
  };
}
