import type { FastifyReply, FastifyRequest } from 'fastify';
import jsonPatch from 'fast-json-patch';
import { decodeObject } from '../../registry/codec.js';
import type { KubeObject } from '../../registry/meta.js';
import type { Store } from '../../registry/store.js';
import { parseJsonBody } from '../body.js';
import { badRequest, invalid, notFound, unsupportedMediaType } from '../errors.js';
import { bodyType, negotiate } from '../negotiation.js';
import { addWarnings, objectBody, parseIncludeObject, send } from '../response.js';
import { dryRun, fieldValidation, param, type ResourceContext, type RouteParams } from './context.js';
import { rawBody } from './decode.js';

export const PATCH_TYPES = ['application/json-patch+json', 'application/merge-patch+json'];

/** RFC 7386 JSON merge patch: objects merge recursively, `null` deletes, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [key, value] of Object.entries(patch as Record<string, unknown>)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

/**
 * PATCH of one object (main resource or `/status`). The patch is applied to the current object
 * inside the Store's update loop, so a concurrent write makes it re-apply to the newer object;
 * a `metadata.resourceVersion` set by the patch itself is a precondition (409 when stale).
 */
export function patchHandler(ctx: ResourceContext, store: Store) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const { namespace, name } = req.params as RouteParams;
    const negotiated = negotiate(req.headers.accept, { list: false });
    const includeObject = parseIncludeObject(param(req, 'includeObject'));
    const type = bodyType(req.headers['content-type']);
    if (type !== 'json-patch' && type !== 'merge-patch') {
      throw unsupportedMediaType(req.headers['content-type'] ?? '', PATCH_TYPES);
    }
    const { value: patch, duplicates } = parseJsonBody(rawBody(req));
    if (type === 'json-patch') {
      if (!Array.isArray(patch)) throw badRequest('json patch must be a JSON array of operations');
      const problem = jsonPatch.validate(patch as jsonPatch.Operation[]);
      if (problem) throw badRequest(`invalid JSON patch: ${problem.message}`);
    } else if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) {
      throw badRequest('merge patch must be a JSON object');
    }
    const validation = fieldValidation(req);
    const ref = { group: ctx.decl.group, resource: ctx.decl.plural, kind: ctx.decl.kind, name: name! };
    const result = await store.update(
      { namespace, name: name! },
      (current: KubeObject | undefined) => {
        if (!current) throw notFound(ref);
        let patched: unknown;
        if (type === 'merge-patch') {
          patched = mergePatch(current, patch);
        } else {
          try {
            patched = jsonPatch.applyPatch(current, structuredClone(patch) as jsonPatch.Operation[], true, false).newDocument;
          } catch (err) {
            throw invalid(ref, [{ type: 'FieldValueInvalid', field: 'patch', value: JSON.stringify(patch), detail: (err as Error).message.split('\n')[0] }]);
          }
        }
        const decoded = decodeObject(ctx.decl, ctx.version, patched, validation, duplicates);
        const meta = decoded.object.metadata;
        if (meta.uid !== undefined && meta.uid !== current.metadata.uid) {
          throw invalid(ref, [{ type: 'FieldValueInvalid', field: 'metadata.uid', value: meta.uid, detail: 'field is immutable' }]);
        }
        // A resourceVersion the patch inherited from the current object is no precondition: the
        // patch re-applies to the newer object on a conflict. One the patch sets itself is.
        if (meta.resourceVersion === current.metadata.resourceVersion) delete meta.resourceVersion;
        return decoded;
      },
      { dryRun: dryRun(req) },
    );
    addWarnings(reply, result.warnings);
    return send(reply, 200, objectBody(ctx.decl, result.object, negotiated, includeObject), negotiated.encoding);
  };
}
