import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Store } from '../../registry/store.js';
import { negotiate } from '../negotiation.js';
import { addWarnings, objectBody, parseIncludeObject, send } from '../response.js';
import { dryRun, inRequestVersion, param, type ResourceContext, type RouteParams } from './context.js';
import { decodeObjectBody } from './decode.js';
import { managerOf } from './field-manager.js';

/** PUT of one object (main resource or `/status`): 200, or 201 when it created the object. */
export function updateHandler(ctx: ResourceContext, store: Store) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const { namespace, name } = req.params as RouteParams;
    const negotiated = negotiate(req.headers.accept, { list: false });
    const includeObject = parseIncludeObject(param(req, 'includeObject'));
    const decoded = decodeObjectBody(req, ctx);
    const result = await inRequestVersion(
      ctx,
      store.update({ namespace, name: name! }, () => structuredClone(decoded), {
        dryRun: dryRun(req),
        managedFields: managerOf(req, ctx, 'UpdateOptions'),
      }),
    );
    addWarnings(reply, result.warnings);
    return send(reply, result.created ? 201 : 200, objectBody(ctx.decl, result.object, negotiated, includeObject, ctx.version), negotiated.encoding);
  };
}
